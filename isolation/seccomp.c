/* seccomp.c — see seccomp.h. */
#include "config.h"

#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

#define FIELD "linux.seccomp"
#define ARG_INDEX_MAX 5      /* syscalls take at most six arguments */
#define ERRNO_MAX 4095       /* the kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO */
#define TRACE_MSG_MAX 0xffff /* SECCOMP_RET_DATA */

#define SCMP_VERSION_AT_LEAST(major, minor)                                                        \
  (SCMP_VER_MAJOR > (major) || (SCMP_VER_MAJOR == (major) && SCMP_VER_MINOR >= (minor)))

/* libseccomp API levels (seccomp_api_get(3)). */
#define API_TSYNC 2
#define API_LOG 3 /* SCMP_ACT_LOG, SCMP_ACT_KILL_PROCESS, SCMP_FLTATR_CTL_LOG */
#define API_SSB 4
#define API_NOTIFY 5
#define API_TSYNC_NOTIFY 6
#define API_WAITKILL 7

/* "2.5.4" of the libseccomp we run with, for messages. */
static void
libseccomp_version (char *buf, size_t size)
{
  const struct scmp_version *v = seccomp_version ();
  if (v)
    snprintf (buf, size, "%u.%u.%u", v->major, v->minor, v->micro);
  else
    snprintf (buf, size, "%d.%d.%d", SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
}

static int
unsupported (struct al_error *err, const char *field, const char *what, unsigned api_needed)
{
  char version[32];
  libseccomp_version (version, sizeof version);
  return al_error_reason (err, EOPNOTSUPP,
                          "%s: %s is not supported by this kernel and libseccomp %s "
                          "(API level %u, needs %u)",
                          field, what, version, seccomp_api_get (), api_needed);
}

/* ------------------------------------------------------------------ actions */

/* The libseccomp action for an OCI action.  where is the JSON path of the
 * object holding it, action_key / errno_key the member names. */
static int
scmp_action (const char *where, const char *action_key, const char *errno_key,
             enum al_seccomp_action action, bool has_errno_ret, uint32_t errno_ret,
             uint32_t *ret_action, struct al_error *err)
{
  const char *name = al_seccomp_action_name (action);
  if (name == NULL)
    return al_error_reason (err, EINVAL, "%s.%s: unknown action %d", where, action_key,
                            (int) action);
  if (has_errno_ret && action != AL_SECCOMP_ACT_ERRNO && action != AL_SECCOMP_ACT_TRACE)
    return al_error_reason (err, EINVAL,
                            "%s.%s: %s takes no errno (only SCMP_ACT_ERRNO and "
                            "SCMP_ACT_TRACE do)",
                            where, errno_key, name);

  char field[256];
  snprintf (field, sizeof field, "%s.%s", where, action_key);
  uint32_t value = has_errno_ret ? errno_ret : EPERM;
  switch (action)
    {
    case AL_SECCOMP_ACT_KILL:
    case AL_SECCOMP_ACT_KILL_THREAD:
      *ret_action = SCMP_ACT_KILL_THREAD;
      return 0;
    case AL_SECCOMP_ACT_KILL_PROCESS:
      if (seccomp_api_get () < API_LOG)
        return unsupported (err, field, name, API_LOG);
      *ret_action = SCMP_ACT_KILL_PROCESS;
      return 0;
    case AL_SECCOMP_ACT_TRAP:
      *ret_action = SCMP_ACT_TRAP;
      return 0;
    case AL_SECCOMP_ACT_ERRNO:
      if (value > ERRNO_MAX)
        return al_error_reason (err, EINVAL, "%s.%s: %u is out of range (0..%u)", where, errno_key,
                                value, ERRNO_MAX);
      *ret_action = SCMP_ACT_ERRNO (value);
      return 0;
    case AL_SECCOMP_ACT_TRACE:
      if (value > TRACE_MSG_MAX)
        return al_error_reason (err, EINVAL, "%s.%s: %u is out of range (0..%u)", where, errno_key,
                                value, TRACE_MSG_MAX);
      *ret_action = SCMP_ACT_TRACE (value);
      return 0;
    case AL_SECCOMP_ACT_ALLOW:
      *ret_action = SCMP_ACT_ALLOW;
      return 0;
    case AL_SECCOMP_ACT_LOG:
      if (seccomp_api_get () < API_LOG)
        return unsupported (err, field, name, API_LOG);
      *ret_action = SCMP_ACT_LOG;
      return 0;
    case AL_SECCOMP_ACT_NOTIFY:
      if (seccomp_api_get () < API_NOTIFY)
        return unsupported (err, field, name, API_NOTIFY);
      *ret_action = SCMP_ACT_NOTIFY;
      return 0;
    }
  return al_error_reason (err, EINVAL, "%s: unknown action %d", field, (int) action);
}

/* ---------------------------------------------------------- architectures */

static int
add_architectures (scmp_filter_ctx ctx, const struct al_seccomp *spec, struct al_error *err)
{
  for (size_t i = 0; i < spec->n_architectures; i++)
    {
      const char *name = al_seccomp_arch_libseccomp_name (spec->architectures[i]);
      if (name == NULL)
        return al_error_reason (err, EINVAL, FIELD ".architectures[%zu]: unknown architecture %d",
                                i, (int) spec->architectures[i]);
      uint32_t token = seccomp_arch_resolve_name (name);
      if (token == 0)
        {
          char version[32];
          libseccomp_version (version, sizeof version);
          return al_error_reason (err, EOPNOTSUPP,
                                  FIELD ".architectures[%zu]: %s is not supported by "
                                        "libseccomp %s",
                                  i, name, version);
        }
      int r = seccomp_arch_add (ctx, token);
      if (r < 0 && r != -EEXIST) /* EEXIST: the native one, or listed twice */
        return al_error_set (err, -r, FIELD ".architectures[%zu]: add %s", i, name);
    }
  return 0;
}

/* ------------------------------------------------------------------ flags */

static const struct
{
  unsigned flag;
  const char *name;
  int attr; /* enum scmp_filter_attr, -1 when this libseccomp has none */
  unsigned api;
} filter_flags[] = {
  { AL_SECCOMP_FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, API_TSYNC },
  { AL_SECCOMP_FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, API_LOG },
  { AL_SECCOMP_FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, API_SSB },
#if SCMP_VERSION_AT_LEAST(2, 6)
  { AL_SECCOMP_FLAG_WAIT_KILLABLE_RECV, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    SCMP_FLTATR_CTL_WAITKILL, API_WAITKILL },
#else
  { AL_SECCOMP_FLAG_WAIT_KILLABLE_RECV, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1,
    API_WAITKILL },
#endif
};
#define N_FILTER_FLAGS (sizeof filter_flags / sizeof filter_flags[0])

static int
set_flags (scmp_filter_ctx ctx, unsigned flags, bool uses_notify, struct al_error *err)
{
  unsigned known = 0;
  for (size_t i = 0; i < N_FILTER_FLAGS; i++)
    known |= filter_flags[i].flag;
  if (flags & ~known)
    return al_error_reason (err, EINVAL, FIELD ".flags: unknown flag bits %#x", flags & ~known);

  for (size_t i = 0; i < N_FILTER_FLAGS; i++)
    {
      if (!(flags & filter_flags[i].flag))
        continue;
      const char *name = filter_flags[i].name;
      if (filter_flags[i].attr < 0 || seccomp_api_get () < filter_flags[i].api)
        return unsupported (err, FIELD ".flags", name, filter_flags[i].api);
      int r = seccomp_attr_set (ctx, (enum scmp_filter_attr) filter_flags[i].attr, 1);
      if (r < 0)
        return al_error_set (err, -r, FIELD ".flags: %s", name);
    }

  if ((flags & AL_SECCOMP_FLAG_TSYNC) && uses_notify && seccomp_api_get () < API_TSYNC_NOTIFY)
    return unsupported (err, FIELD ".flags", "SECCOMP_FILTER_FLAG_TSYNC with SCMP_ACT_NOTIFY",
                        API_TSYNC_NOTIFY);
  return 0;
}

/* ------------------------------------------------------------------ rules */

static const enum scmp_compare scmp_ops[] = {
  [AL_SECCOMP_OP_NE] = SCMP_CMP_NE,
  [AL_SECCOMP_OP_LT] = SCMP_CMP_LT,
  [AL_SECCOMP_OP_LE] = SCMP_CMP_LE,
  [AL_SECCOMP_OP_EQ] = SCMP_CMP_EQ,
  [AL_SECCOMP_OP_GE] = SCMP_CMP_GE,
  [AL_SECCOMP_OP_GT] = SCMP_CMP_GT,
  [AL_SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};
#define N_SCMP_OPS (sizeof scmp_ops / sizeof scmp_ops[0])

static int
arg_cmp (const char *where, size_t k, const struct al_seccomp_arg *a, struct scmp_arg_cmp *ret,
         struct al_error *err)
{
  if (a->index > ARG_INDEX_MAX)
    return al_error_reason (err, EINVAL, "%s.args[%zu].index: %u is out of range (0..%d)", where, k,
                            a->index, ARG_INDEX_MAX);
  if ((unsigned) a->op >= N_SCMP_OPS)
    return al_error_reason (err, EINVAL, "%s.args[%zu].op: unknown operator %d", where, k,
                            (int) a->op);
  /* For MASKED_EQ libseccomp's datum_a is the mask, datum_b the value:
     exactly the spec's value and valueTwo. */
  *ret = (struct scmp_arg_cmp){
    .arg = a->index,
    .op = scmp_ops[a->op],
    .datum_a = a->value,
    .datum_b = a->has_value_two ? a->value_two : 0,
  };
  return 0;
}

static int
add_syscall_rule (scmp_filter_ctx ctx, const char *where, const struct al_seccomp_syscall *s,
                  uint32_t action, uint32_t default_action, struct al_error *err)
{
  struct scmp_arg_cmp cmps[ARG_INDEX_MAX + 1];
  bool seen[ARG_INDEX_MAX + 1] = { false };
  bool same_index = false;
  for (size_t k = 0; k < s->n_args; k++)
    {
      struct scmp_arg_cmp cmp;
      int r = arg_cmp (where, k, &s->args[k], &cmp, err);
      if (r < 0)
        return r;
      same_index |= seen[cmp.arg];
      seen[cmp.arg] = true;
      if (!same_index)
        cmps[k] = cmp;
    }

  if (action == default_action)
    return 0;

  for (size_t j = 0; j < s->n_names; j++)
    {
      const char *name = s->names[j];
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        continue;

      int r = 0;
      if (!same_index)
        r = seccomp_rule_add_array (ctx, action, nr, (unsigned) s->n_args, cmps);
      else
        for (size_t k = 0; k < s->n_args && r == 0; k++)
          {
            struct scmp_arg_cmp cmp;
            arg_cmp (where, k, &s->args[k], &cmp, NULL); /* checked above */
            r = seccomp_rule_add_array (ctx, action, nr, 1, &cmp);
          }
      if (r == -EEXIST)
        return al_error_reason (err, EEXIST,
                                "%s.names[%zu]: `%s` conflicts with an earlier rule for the "
                                "same arguments",
                                where, j, name);
      if (r < 0)
        return al_error_set (err, -r, "%s.names[%zu]: add rule for `%s`", where, j, name);
    }
  return 0;
}

/* Attributes every filter of ours has.  no_new_privs stays the caller's
 * decision (process.noNewPrivileges); load errors should be the kernel's
 * errno, not libseccomp's catch-all ECANCELED. */
static int
set_common_attrs (scmp_filter_ctx ctx, struct al_error *err)
{
  int r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return al_error_set (err, -r, "seccomp: clear no_new_privs attribute");
  r = seccomp_attr_set (ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
  if (r < 0)
    return al_error_set (err, -r, "seccomp: set raw return code attribute");
  return 0;
}

int
al_seccomp_compile (const struct al_seccomp *spec, scmp_filter_ctx *ret_ctx, struct al_error *err)
{
  if (spec == NULL)
    return al_error_reason (err, EINVAL, FIELD ": no profile");

  if (spec->default_action == AL_SECCOMP_ACT_NOTIFY)
    return al_error_reason (err, EINVAL,
                            FIELD ".defaultAction: SCMP_ACT_NOTIFY cannot be the default "
                                  "action");
  uint32_t default_action;
  int r = scmp_action (FIELD, "defaultAction", "defaultErrnoRet", spec->default_action,
                       spec->has_default_errno_ret, spec->default_errno_ret, &default_action, err);
  if (r < 0)
    return r;

  bool uses_notify = false;
  for (size_t i = 0; i < spec->n_syscalls; i++)
    uses_notify |= spec->syscalls[i].action == AL_SECCOMP_ACT_NOTIFY;

  cleanup_seccomp scmp_filter_ctx ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return al_error_reason (err, ENOMEM, FIELD ": libseccomp could not create a filter for %s",
                            al_seccomp_action_name (spec->default_action));
  if ((r = set_common_attrs (ctx, err)) < 0 || (r = add_architectures (ctx, spec, err)) < 0
      || (r = set_flags (ctx, spec->flags, uses_notify, err)) < 0)
    return r;

  for (size_t i = 0; i < spec->n_syscalls; i++)
    {
      const struct al_seccomp_syscall *s = &spec->syscalls[i];
      char where[64];
      snprintf (where, sizeof where, FIELD ".syscalls[%zu]", i);
      uint32_t action;
      if ((r = scmp_action (where, "action", "errnoRet", s->action, s->has_errno_ret, s->errno_ret,
                            &action, err))
              < 0
          || (r = add_syscall_rule (ctx, where, s, action, default_action, err)) < 0)
        return r;
    }

  *ret_ctx = al_steal_ptr (&ctx);
  return 0;
}

/* ------------------------------------------------------------------- load */

int
al_seccomp_load (scmp_filter_ctx ctx, int *ret_notify_fd, struct al_error *err)
{
  if (ctx == NULL)
    return al_error_reason (err, EINVAL, "load seccomp filter: no filter");

  /* libseccomp hands out one listener per process: only one that appears
     with this load belongs to this filter. */
  bool had_listener = seccomp_notify_fd (ctx) >= 0;
  int r = seccomp_load (ctx);
  if (r == -EACCES)
    return al_error_set (err, EACCES,
                         "load seccomp filter (without CAP_SYS_ADMIN, no_new_privs must be set "
                         "first)");
  if (r < 0)
    return al_error_set (err, -r, "load seccomp filter");

  cleanup_close int notify_fd = had_listener ? -1 : seccomp_notify_fd (ctx);
  if (notify_fd < 0)
    notify_fd = -1;
  if (ret_notify_fd)
    *ret_notify_fd = al_steal_fd (&notify_fd);
  return 0;
}

/* --------------------------------------------------------------- listener */

/* Connect fd to the UNIX socket at path.  A path too long for sun_path is
 * reached through an O_PATH fd of its directory (/proc/self/fd/N/name). */
static int
connect_unix (int fd, const char *path, struct al_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int dirfd = -1;
  size_t len = strlen (path);
  if (len == 0)
    return al_error_reason (err, EINVAL, FIELD ".listenerPath: empty");

  if (len < sizeof addr.sun_path)
    memcpy (addr.sun_path, path, len + 1);
  else
    {
      const char *slash = strrchr (path, '/');
      if (slash == NULL || slash[1] == '\0')
        return al_error_set (err, ENAMETOOLONG, "connect to `%s`", path);
      cleanup_free char *dir
          = slash == path ? strdup ("/") : strndup (path, (size_t) (slash - path));
      if (dir == NULL)
        return al_error_set (err, ENOMEM, "connect to `%s`", path);
      dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0)
        return al_error_set (err, errno, "connect to `%s`: open `%s`", path, dir);
      int n
          = snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, slash + 1);
      if (n < 0 || (size_t) n >= sizeof addr.sun_path)
        return al_error_set (err, ENAMETOOLONG, "connect to `%s`", path);
    }

  int r;
  do
    r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return al_error_set (err, errno, "connect to `%s`", path);
  return 0;
}

static char *
listener_message (pid_t pid, const char *metadata, const char *state_json, struct al_error *err)
{
  json_error_t jerr;
  json_auto_t *state = json_loads (state_json ? state_json : "", JSON_REJECT_DUPLICATES, &jerr);
  if (state == NULL)
    {
      al_error_reason (err, EINVAL, "container state: %d:%d: %s", jerr.line, jerr.column,
                       jerr.text);
      return NULL;
    }
  if (!json_is_object (state))
    {
      al_error_reason (err, EINVAL, "container state: expected a JSON object");
      return NULL;
    }

  /* Members in runtime-spec's order; jansson keeps insertion order. */
  json_auto_t *msg = json_object ();
  if (msg == NULL || json_object_set_new (msg, "ociVersion", json_string (AL_OCI_VERSION)) < 0
      || json_object_set_new (msg, "fds", json_pack ("[s]", "seccompFd")) < 0
      || json_object_set_new (msg, "pid", json_integer (pid)) < 0)
    {
      al_error_set (err, ENOMEM, "seccomp listener message");
      return NULL;
    }
  if (metadata && json_object_set_new (msg, "metadata", json_string (metadata)) < 0)
    {
      al_error_reason (err, EINVAL, FIELD ".listenerMetadata: not valid UTF-8");
      return NULL;
    }
  char *buf = NULL;
  if (json_object_set (msg, "state", state) < 0 || (buf = json_dumps (msg, JSON_COMPACT)) == NULL)
    al_error_set (err, ENOMEM, "seccomp listener message");
  return buf;
}

int
al_seccomp_send_listener (const char *listener_path, int notify_fd, pid_t pid, const char *metadata,
                          const char *state_json, struct al_error *err)
{
  if (listener_path == NULL)
    return al_error_reason (err, EINVAL, FIELD ".listenerPath: missing");
  if (notify_fd < 0)
    return al_error_set (err, EBADF, "seccomp listener: notify fd %d", notify_fd);

  cleanup_free char *buf = listener_message (pid, metadata, state_json, err);
  if (buf == NULL)
    return al_error_code (err);

  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return al_error_set (err, errno, "seccomp listener: socket");
  int r = connect_unix (fd, listener_path, err);
  if (r < 0)
    return al_error_wrap (err, "seccomp listener");

  /* The fd rides on the first byte; a stream socket may take the rest in
     several writes. */
  r = al_send_with_fd (fd, buf, strlen (buf), notify_fd);
  if (r < 0)
    return al_error_set (err, -r, "seccomp listener: send to `%s`", listener_path);
  return 0;
}

/* --------------------------------------------------------- default profile */

/* Allowed without conditions.  Names this libseccomp does not know, or that
 * do not exist on an architecture, are skipped there. */
/* clang-format off */
static const char *const default_allowed[] = {
  /* files and directories (chmod, open and mknod are conditional, below) */
  "access", "chdir", "chown", "chown32", "close", "close_range", "copy_file_range",
  "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
  "fallocate", "fchdir", "fchown", "fchown32", "fchownat",
  "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr",
  "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
  "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "getxattrat",
  "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "listxattrat", "llistxattr",
  "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat",
  "name_to_handle_at", "newfstatat", "oldfstat", "oldlstat", "oldstat",
  "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64",
  "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "removexattr",
  "removexattrat", "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64",
  "setxattr", "setxattrat", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
  "symlink", "symlinkat", "sync", "sync_file_range", "sync_file_range2", "syncfs", "tee",
  "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
  "utimensat_time64", "utimes", "vmsplice", "write", "writev",
  "arm_fadvise64_64", "arm_sync_file_range",
  /* file change notification, polling, event fds */
  "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
  "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
  "inotify_init", "inotify_init1", "inotify_rm_watch", "_newselect", "poll", "ppoll",
  "ppoll_time64", "pselect6", "pselect6_time64", "select", "signalfd", "signalfd4",
  "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
  "timerfd_settime64",
  /* asynchronous I/O (io_uring stays out: its operations bypass seccomp) */
  "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
  "io_setup", "io_submit", "ioprio_get", "ioprio_set",
  /* memory */
  "brk", "cachestat", "get_mempolicy", "madvise", "map_shadow_stack", "mbind", "membarrier",
  "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
  "mprotect", "mremap", "mseal", "msync", "munlock", "munlockall", "munmap", "pkey_alloc",
  "pkey_free", "pkey_mprotect", "remap_file_pages", "set_mempolicy",
  "set_mempolicy_home_node",
  /* processes, threads, signals (clone is conditional, below) */
  "arch_prctl", "capget", "capset", "chroot", "execve", "execveat", "exit", "exit_group",
  "fork", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
  "get_robust_list", "get_thread_area", "getcpu", "getegid", "getegid32", "geteuid",
  "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpgid",
  "getpgrp", "getpid", "getppid", "getpriority", "getresgid", "getresgid32", "getresuid",
  "getresuid32", "getrlimit", "getrusage", "getsid", "gettid", "getuid", "getuid32", "kill",
  "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "pause",
  "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease",
  "restart_syscall", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
  "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
  "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
  "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
  "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
  "seccomp", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
  "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
  "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
  "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setuid", "setuid32",
  "sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask", "sigreturn", "sigsuspend",
  "tgkill", "tkill", "ugetrlimit", "uretprobe", "vfork", "wait4", "waitid", "waitpid",
  "breakpoint", "cacheflush", "set_tls",
  /* time (reading it; setting it is denied) */
  "alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
  "clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time",
  "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
  "timer_settime", "timer_settime64", "times",
  /* sockets */
  "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
  "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
  "sendto", "setsockopt", "shutdown", "socket", "socketcall", "socketpair",
  /* System V and POSIX IPC */
  "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
  "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
  "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt",
  "shmget",
  /* system information */
  "getrandom", "sethostname", "setdomainname", "sysinfo", "uname",
};
/* clang-format on */

/* Namespace flags clone() may not carry: the sandbox makes no namespaces of
 * its own (the same mask as Docker's profile). */
#define CLONE_NAMESPACE_FLAGS                                                                      \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET         \
   | CLONE_NEWCGROUP)

#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1 /* s390 swaps clone's first two arguments */
#else
#define CLONE_FLAGS_ARG 0
#endif

/* personality(): PER_LINUX, PER_LINUX32, UNAME26 with each, and the query. */
static const uint64_t default_personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

static int
default_rule (scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n_cmps,
              const struct scmp_arg_cmp *cmps, struct al_error *err)
{
  int nr = seccomp_syscall_resolve_name (name);
  if (nr == __NR_SCMP_ERROR)
    return 0;
  int r = seccomp_rule_add_array (ctx, action, nr, n_cmps, cmps);
  if (r < 0)
    return al_error_set (err, -r, "default seccomp profile: add rule for `%s`", name);
  return 0;
}

int
al_seccomp_default_profile (scmp_filter_ctx *ret_ctx, struct al_error *err)
{
  cleanup_seccomp scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  if (ctx == NULL)
    return al_error_set (err, ENOMEM, "default seccomp profile");
  int r = set_common_attrs (ctx, err);
  if (r < 0)
    return r;
  /* A binary tree of syscall numbers rather than a list: the kernel runs
     the filter for every syscall of every architecture when it is loaded
     (its allow cache), so a list of 1,100 instructions cost each sandbox
     1.0 ms to load, the tree 0.55 ms; each syscall then takes log n
     comparisons, not n. */
  if ((r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
    return al_error_set (err, -r, "default seccomp profile: optimize");

  /* 32-bit programs run too, under the same rules. */
  uint32_t compat[2] = { 0, 0 };
  switch (seccomp_arch_native ())
    {
    case SCMP_ARCH_X86_64:
      compat[0] = SCMP_ARCH_X86;
      compat[1] = SCMP_ARCH_X32;
      break;
    case SCMP_ARCH_AARCH64:
      compat[0] = SCMP_ARCH_ARM;
      break;
    default:
      break;
    }
  for (size_t i = 0; i < 2 && compat[i]; i++)
    if ((r = seccomp_arch_add (ctx, compat[i])) < 0 && r != -EEXIST)
      return al_error_set (err, -r, "default seccomp profile: add architecture %#x", compat[i]);

  for (size_t i = 0; i < sizeof default_allowed / sizeof default_allowed[0]; i++)
    if ((r = default_rule (ctx, SCMP_ACT_ALLOW, default_allowed[i], 0, NULL, err)) < 0)
      return r;

  struct scmp_arg_cmp no_namespaces
      = SCMP_CMP64 (CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, CLONE_NAMESPACE_FLAGS, 0);
  if ((r = default_rule (ctx, SCMP_ACT_ALLOW, "clone", 1, &no_namespaces, err)) < 0
      || (r = default_rule (ctx, SCMP_ACT_ERRNO (ENOSYS), "clone3", 0, NULL, err)) < 0)
    return r;

  /* No setuid or setgid file is made in the sandbox (a writable --bind is
     idmapped: the sandbox's root writes as the source's owner there):
     chmod, creat and mknod with those bits fail, and so does open with
     O_CREAT or O_TMPFILE and those bits in its mode.  openat2 hides its
     mode in a struct: ENOSYS, so libc and programs fall back to openat. */
  static const struct
  {
    const char *name;
    int mode_arg;  /* the mode's argument index */
    int flags_arg; /* open's flags, or -1 */
  } mode_calls[] = {
    { "chmod", 1, -1 },  { "fchmod", 1, -1 },  { "fchmodat", 2, -1 }, { "fchmodat2", 2, -1 },
    { "creat", 1, -1 },  { "mknod", 1, -1 },   { "mknodat", 2, -1 },  { "open", 2, 1 },
    { "openat", 3, 2 },
  };
  for (size_t i = 0; i < sizeof mode_calls / sizeof mode_calls[0]; i++)
    {
      struct scmp_arg_cmp plain = SCMP_CMP64 ((unsigned) mode_calls[i].mode_arg,
                                              SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0);
      if ((r = default_rule (ctx, SCMP_ACT_ALLOW, mode_calls[i].name, 1, &plain, err)) < 0)
        return r;
      if (mode_calls[i].flags_arg < 0)
        continue;
      struct scmp_arg_cmp no_create = SCMP_CMP64 ((unsigned) mode_calls[i].flags_arg,
                                                  SCMP_CMP_MASKED_EQ, O_CREAT | O_TMPFILE, 0);
      if ((r = default_rule (ctx, SCMP_ACT_ALLOW, mode_calls[i].name, 1, &no_create, err)) < 0)
        return r;
    }
  if ((r = default_rule (ctx, SCMP_ACT_ERRNO (ENOSYS), "openat2", 0, NULL, err)) < 0)
    return r;

  for (size_t i = 0; i < sizeof default_personas / sizeof default_personas[0]; i++)
    {
      struct scmp_arg_cmp persona = SCMP_CMP64 (0, SCMP_CMP_EQ, default_personas[i]);
      if ((r = default_rule (ctx, SCMP_ACT_ALLOW, "personality", 1, &persona, err)) < 0)
        return r;
    }

  /* ioctl(fd, TIOCSTI) pushes input into a terminal.  The kernel reads the
     request as 32 bits while the filter sees 64, so "request != TIOCSTI"
     would let TIOCSTI | 1ul << 32 through.  Instead: allowed when any of
     the low 32 bits differs from TIOCSTI's, one rule per bit (a single
     argument comparison per rule is all libseccomp allows here). */
  for (unsigned bit = 0; bit < 32; bit++)
    {
      uint64_t mask = UINT64_C (1) << bit;
      struct scmp_arg_cmp differs
          = SCMP_CMP64 (1, SCMP_CMP_MASKED_EQ, mask, ((uint64_t) TIOCSTI & mask) ^ mask);
      if ((r = default_rule (ctx, SCMP_ACT_ALLOW, "ioctl", 1, &differs, err)) < 0)
        return r;
    }

  *ret_ctx = al_steal_ptr (&ctx);
  return 0;
}

#ifndef AL_SECCOMP_GEN
#include "seccomp_default_bpf.h"

const struct sock_fprog *
al_seccomp_default_bpf (void)
{
  static const struct sock_fprog prog = {
    .len = sizeof default_bpf_insns / sizeof default_bpf_insns[0],
    .filter = (struct sock_filter *) default_bpf_insns,
  };
  return &prog;
}
#endif

int
al_seccomp_load_bpf (const struct sock_fprog *prog, struct al_error *err)
{
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
    return al_error_set (err, errno, errno == EACCES ? "load seccomp filter (without "
                                                       "CAP_SYS_ADMIN, no_new_privs must be set "
                                                       "first)"
                                                     : "load seccomp filter");
  return 0;
}
