/* container.c — see container.h. */
#include "config.h"

#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "console.h"
#include "file.h"
#include "hooks.h"
#include "init.h"
#include "seccomp.h"
#include "namespaces.h"
#include "oci_config.h"
#include "state.h"

#define EXEC_FIFO "exec.fifo"

static int
pidfd_open_checked (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

static void
warn_cgroup (void *data, const char *msg)
{
  struct al_log *log = data;
  if (log)
    al_log_warn (log, "%s", msg);
}

/* The layout is detected once per airlock process: `run` creates and
 * deletes, and the host does not change in between. */
static struct al_cgroup_host *host_cache;

static int
open_cgroup_host (struct al_log *log, struct al_cgroup_host **ret, struct al_error *err)
{
  if (host_cache == NULL)
    {
      int r = al_cgroup_host_detect (AL_CGROUP_DEFAULT_PARENT, &host_cache, err);
      if (r < 0)
        return r;
    }
  al_cgroup_host_set_warn (host_cache, warn_cgroup, log);
  *ret = host_cache;
  return 0;
}

void
al_container_release_cgroup_host (struct al_cgroup_host *host)
{
  if (host != host_cache)
    al_container_release_cgroup_host (host);
}

/* Reap (or wait for) a process we signalled: a child of ours is reaped,
 * anything else is polled through its pidfd. */
static void
wait_gone (pid_t pid, int pidfd)
{
  if (waitpid (pid, NULL, 0) == pid)
    return;
  if (pidfd >= 0)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      poll (&p, 1, 5000);
    }
}

/* The devices cgroup rules in force: the config's, then what every
 * container needs (the nodes airlock makes in /dev, mknod of anything, as
 * runc allows), then the config's linux.devices.  Later rules win. */
static int
apply_resources (struct al_cgroup *cg, const struct al_config *c, struct al_error *err)
{
  static const struct al_device_rule defaults[] = {
#define RWM (AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE | AL_DEVICE_ACCESS_MKNOD)
    { true, AL_DEVICE_RULE_CHAR, -1, -1, true, AL_DEVICE_ACCESS_MKNOD },
    { true, AL_DEVICE_RULE_BLOCK, -1, -1, true, AL_DEVICE_ACCESS_MKNOD },
    { true, AL_DEVICE_RULE_CHAR, 1, 3, true, RWM },   /* null */
    { true, AL_DEVICE_RULE_CHAR, 1, 5, true, RWM },   /* zero */
    { true, AL_DEVICE_RULE_CHAR, 1, 7, true, RWM },   /* full */
    { true, AL_DEVICE_RULE_CHAR, 1, 8, true, RWM },   /* random */
    { true, AL_DEVICE_RULE_CHAR, 1, 9, true, RWM },   /* urandom */
    { true, AL_DEVICE_RULE_CHAR, 5, 0, true, RWM },   /* tty */
    { true, AL_DEVICE_RULE_CHAR, 5, 1, true, RWM },   /* console */
    { true, AL_DEVICE_RULE_CHAR, 5, 2, true, RWM },   /* ptmx */
    { true, AL_DEVICE_RULE_CHAR, 136, -1, true, RWM }, /* pts */
#undef RWM
  };
  const struct al_linux *l = c->linux_spec;
  struct al_resources empty = { 0 };
  const struct al_resources *res = l && l->resources ? l->resources : &empty;
  size_t n_defaults = sizeof defaults / sizeof defaults[0];
  size_t n_linux = l ? l->n_devices : 0;
  cleanup_free struct al_device_rule *rules
      = calloc (res->n_devices + n_defaults + n_linux, sizeof *rules);
  if (rules == NULL)
    return al_error_set (err, ENOMEM, "linux.resources.devices");
  if (res->n_devices)
    memcpy (rules, res->devices, res->n_devices * sizeof *rules);
  memcpy (rules + res->n_devices, defaults, sizeof defaults);
  size_t n = res->n_devices + n_defaults;
  for (size_t i = 0; i < n_linux; i++)
    {
      const struct al_device *d = &l->devices[i];
      if (d->type == AL_DEVICE_FIFO)
        continue;
      rules[n++] = (struct al_device_rule){
        .allow = true,
        .type = d->type == AL_DEVICE_BLOCK ? AL_DEVICE_RULE_BLOCK : AL_DEVICE_RULE_CHAR,
        .major = d->major,
        .minor = d->minor,
        .has_access = true,
        .access = AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE | AL_DEVICE_ACCESS_MKNOD,
      };
    }
  struct al_resources eff = *res;
  /* Only when the config restricts devices at all: no rules, no filter. */
  if (res->n_devices > 0)
    {
      eff.devices = rules;
      eff.n_devices = n;
    }
  return al_cgroup_apply (cg, &eff, err);
}

/* Create the container's cgroup and apply its resources; on failure
 * nothing of it is left. */
static int
make_cgroup (struct al_cgroup_host *host, const char *path, const struct al_config *c,
             bool minimal, struct al_cgroup **ret_cg, struct al_error *err)
{
  const struct al_resources *res = c->linux_spec ? c->linux_spec->resources : NULL;
  int ret = minimal ? al_cgroup_create_minimal (host, path, res, ret_cg, err)
                    : al_cgroup_create_for (host, path, res, ret_cg, err);
  if (ret < 0)
    return ret;
  ret = apply_resources (*ret_cg, c, err);
  if (ret < 0)
    {
      struct al_error ignored = { 0 };
      al_cgroup_remove (*ret_cg, &ignored);
      al_cgroup_free (*ret_cg);
      *ret_cg = NULL;
    }
  return ret;
}

static int
al_sync_go (int sync_fd, pid_t pid, struct al_error *err)
{
  struct al_sync_msg m = { .type = AL_SYNC_GO, .pid = pid };
  if (send (sync_fd, &m, sizeof m, MSG_NOSIGNAL) != (ssize_t) sizeof m)
    return al_error_set (err, errno, "resume the container init");
  return 0;
}

/* Serve the init until it is READY: run prestart and createRuntime hooks
 * when it asks, forward a seccomp notify fd to the listener. */
static int
wait_ready (const struct al_config *c, const char *id, const char *bundle, pid_t pid, int sync_fd,
            struct al_error *err)
{
  for (;;)
    {
      struct al_sync_msg msg;
      cleanup_close int fd = -1;
      int ret = al_sync_recv (sync_fd, &msg, &fd, err);
      if (ret < 0)
        return ret;
      switch (msg.type)
        {
        case AL_SYNC_READY:
          return 0;
        case AL_SYNC_ERROR:
          return al_error_reason (err, msg.errnum ? msg.errnum : EINVAL, "%s", msg.msg);
        case AL_SYNC_HOOKS:
          {
            cleanup_free char *state = al_init_state_json (c, id, bundle, "creating", pid);
            if (state == NULL)
              return al_error_set (err, ENOMEM, "hook state");
            if ((ret = al_hooks_run (c, AL_HOOK_PRESTART, state, err)) < 0
                || (ret = al_hooks_run (c, AL_HOOK_CREATE_RUNTIME, state, err)) < 0)
              return ret;
            if ((ret = al_sync_go (sync_fd, pid, err)) < 0)
              return ret;
            break;
          }
        case AL_SYNC_SECCOMP:
          ret = al_sync_forward_seccomp (c, fd, id, bundle, "creating", pid, err);
          if (ret < 0)
            return ret;
          break;
        default:
          return al_error_reason (err, EPROTO, "container init sent message %d", msg.type);
        }
    }
}

static void run_hooks_warn (const struct al_config *c, enum al_hook_kind kind, const char *id,
                            const char *bundle, const char *status, pid_t pid, struct al_log *log);

int
al_container_create (const struct al_create_opts *o, pid_t *ret_pid, struct al_error *err)
{
  int ret;
  struct al_config *c = NULL;
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  cleanup_free char *cg_path = NULL;
  cleanup_free char *bundle = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_close int bundle_fd = -1;
  cleanup_close int fifo_fd = -1; /* we write to it to let the init go */
  int init_go_fd = -1;              /* it reads: fifo_fd, or go_pipe */
  cleanup_close int go_pipe = -1;   /* the read end of a start pipe */
  cleanup_close int pidfd = -1;
  cleanup_close int console_sock = -1;
  cleanup_close int parent_pidfd = -1;
  cleanup_close int saved_cwd = -1;
  int sync[2] = { -1, -1 };
  pid_t pid = 0;

  bundle = realpath (o->bundle ? o->bundle : ".", NULL);
  if (bundle == NULL)
    return al_error_set (err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
  bundle_fd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundle_fd < 0)
    return al_error_set (err, errno, "bundle `%s`", bundle);

  if (o->config)
    c = (struct al_config *) o->config;
  else if ((ret = al_config_load (bundle_fd, "config.json", &c, err)) < 0)
    return ret;

  if (o->start && c->process == NULL)
    {
      ret = al_error_reason (err, EINVAL, "process: the config has no process to start");
      goto out_config;
    }
  if (c->process && c->process->terminal && o->console_socket == NULL)
    {
      ret = al_error_reason (err, EINVAL, "process.terminal: a terminal needs --console-socket");
      goto out_config;
    }
  ret = al_hooks_check (c, err);
  if (ret < 0)
    goto out_config;
  if (c->process && c->process->terminal)
    {
      console_sock = al_console_connect (o->console_socket, err);
      if (console_sock < 0)
        {
          ret = console_sock;
          goto out_config;
        }
    }

  if (c->root_path[0] == '/')
    rootfs = strdup (c->root_path);
  else if (asprintf (&rootfs, "%s/%s", bundle, c->root_path) < 0)
    rootfs = NULL;
  if (rootfs == NULL)
    {
      ret = al_error_set (err, ENOMEM, "root.path");
      goto out_config;
    }
  struct stat sb;
  /* bundle_is_cwd: the root is mounted by before_go, in the init's namespace. */
  if (!o->bundle_is_cwd && (stat (rootfs, &sb) < 0 || !S_ISDIR (sb.st_mode)))
    {
      ret = al_error_set (err, errno ? errno : ENOTDIR, "root.path: `%s`", rootfs);
      goto out_config;
    }

  ret = al_state_open (o->root, o->id, AL_STATE_CREATE, &h, err);
  if (ret < 0)
    goto out_config;

  /* The init waits on it for `start`; create and start in one go (`run`,
     `sandbox run`) need no file for that: a pipe (its read end the
     init's). */
  int dirfd = al_state_dir_fd (h);
  if (o->start && c->process != NULL)
    {
      int p[2];
      if (pipe2 (p, O_CLOEXEC) < 0)
        {
          ret = al_error_set (err, errno, "create the start pipe");
          goto out_state;
        }
      fifo_fd = p[1];
      init_go_fd = go_pipe = p[0];
    }
  else if (mkfifoat (dirfd, EXEC_FIFO, 0600) < 0)
    {
      ret = al_error_set (err, errno, "create exec fifo");
      goto out_state;
    }
  else if ((fifo_fd = init_go_fd = openat (dirfd, EXEC_FIFO, O_RDWR | O_CLOEXEC)) < 0)
    {
      ret = al_error_set (err, errno, "open exec fifo");
      goto out_state;
    }

  /* The cgroup comes first: on cgroup v2 the init is born in it
   * (CLONE_INTO_CGROUP), on v1 it enters before it unshares its cgroup
   * namespace (which is rooted where the init stands then). */
  if (!o->cgroups_disabled)
    {
      ret = open_cgroup_host (o->log, &host, err);
      if (ret < 0)
        goto out_state;
      ret = al_cgroup_resolve_path (host, c->linux_spec ? c->linux_spec->cgroups_path : NULL, o->id,
                                    &cg_path, err);
      if (ret < 0)
        goto out_state;
      ret = make_cgroup (host, cg_path, c, o->minimal_cgroup, &cg, err);
      if (ret < 0)
        goto out_state;
    }

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
    {
      ret = al_error_set (err, errno, "socketpair");
      goto out_cgroup;
    }
  if (o->die_with_parent && (parent_pidfd = pidfd_open_checked (getpid ())) < 0)
    {
      ret = al_error_set (err, errno, "pidfd_open");
      goto out_sync;
    }
  if (o->bundle_is_cwd)
    {
      saved_cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (saved_cwd < 0 || fchdir (bundle_fd) < 0)
        {
          ret = al_error_set (err, errno, "chdir to the bundle");
          goto out_sync;
        }
    }

  uint64_t ns_flags = al_ns_clone_flags (c);
  struct clone_args args = {
    .flags = ns_flags | CLONE_PIDFD,
    .pidfd = (uint64_t) (uintptr_t) &pidfd,
    .exit_signal = SIGCHLD,
  };
  int cg_fd = cg ? al_cgroup_clone_fd (cg) : -1;
  if (cg_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cg_fd;
    }

  fflush (NULL);
  pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == EAGAIN && cg_fd >= 0)
    {
      /* v2: a fork into the cgroup counts against its pids.max (0, or
       * already reached); joining through cgroup.procs does not, as on v1. */
      args.flags &= ~(uint64_t) CLONE_INTO_CGROUP;
      args.cgroup = 0;
      cg_fd = -1;
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
    }
  int clone_errno = errno;
  /* The init keeps the bundle as its cwd; we go back to ours. */
  if (saved_cwd >= 0 && pid != 0 && fchdir (saved_cwd) < 0 && pid > 0)
    {
      ret = al_error_set (err, errno, "chdir back");
      goto out_child;
    }
  if (pid < 0)
    {
      ret = al_error_set (err, clone_errno, "clone3 container init");
      pid = 0;
      goto out_sync;
    }
  if (pid == 0)
    {
      close (sync[0]);
      if (go_pipe >= 0)
        close (fifo_fd); /* the write end is ours */
      struct al_init_ctx ctx = {
        .config = c,
        .id = o->id,
        .sync_fd = sync[1],
        .fifo_fd = init_go_fd,
        .console_sock = console_sock,
        .bundle = bundle,
        .no_pivot = o->no_pivot,
        .no_new_keyring = o->no_new_keyring,
        .preserve_fds = o->preserve_fds,
        .new_userns = (ns_flags & CLONE_NEWUSER) != 0,
        .bundle_is_cwd = o->bundle_is_cwd,
        .stdio = o->stdio,
        .filter = o->filter,
        .bpf = o->bpf,
        .new_session = o->new_session,
        .report_fd = o->report_fd > 0 ? o->report_fd : -1,
        .parent_pidfd = parent_pidfd,
      };
      al_init_run (&ctx);
    }
  close (sync[1]);
  sync[1] = -1;
  if (go_pipe >= 0)
    close (al_steal_fd (&go_pipe)); /* the init's end */
  if (parent_pidfd >= 0)
    close (al_steal_fd (&parent_pidfd));

  if (cg && cg_fd < 0)
    {
      ret = al_cgroup_enter (cg, pid, err);
      if (ret < 0)
        goto out_child;
    }
  if (ns_flags & CLONE_NEWUSER)
    {
      ret = al_ns_write_id_maps (pid, c, err);
      if (ret < 0)
        goto out_child;
    }
  if (o->before_go && (ret = o->before_go (o->data, pid, err)) < 0)
    goto out_child;
  ret = al_sync_go (sync[0], pid, err);
  if (ret < 0)
    goto out_child;
  ret = wait_ready (c, o->id, bundle, pid, sync[0], err);
  if (ret < 0)
    goto out_child;

  st = al_state_new ();
  if (st == NULL)
    {
      ret = al_error_set (err, ENOMEM, "state");
      goto out_child;
    }
  /* run: started at once (one state write, no second open of it). */
  bool start_now = o->start && c->process != NULL;
  st->status = start_now ? AL_STATUS_RUNNING : AL_STATUS_CREATED;
  st->pid = pid;
  ret = al_state_pid_start_time (pid, &st->pid_start_time, err);
  if (ret < 0)
    goto out_child;
  st->bundle = al_steal_ptr (&bundle);
  st->rootfs = al_steal_ptr (&rootfs);
  st->cgroup_path = cg ? strdup (al_cgroup_path (cg)) : NULL;
  if (c->annotations_json)
    st->annotations = json_incref (c->annotations_json);
  st->extra = json_pack ("{s:b, s:b, s:b, s:b}", "cgroupOwned", cg ? al_cgroup_owned (cg) : 0,
                         "hasProcess", c->process != NULL, "poststart",
                         c->hooks[AL_HOOK_POSTSTART].n > 0, "poststop",
                         c->hooks[AL_HOOK_POSTSTOP].n > 0);
  /* sandbox run: the init may go on (fork, exec) while the state is
   * written; it is there before create returns all the same. */
  bool released = false;
  if (start_now && o->die_with_parent)
    {
      if (write (fifo_fd, "0", 1) != 1)
        {
          ret = al_error_set (err, errno, "%s: release container init", o->id);
          goto out_child;
        }
      released = true;
    }
  ret = al_state_write (h, st, err);
  if (ret < 0)
    goto out_child;

  if (o->pid_file)
    {
      ret = al_write_pid_file (o->pid_file, pid, err);
      if (ret < 0)
        goto out_child;
    }
  if (start_now)
    {
      if (!released && write (fifo_fd, "0", 1) != 1)
        {
          ret = al_error_set (err, errno, "%s: release container init", o->id);
          goto out_child;
        }
      /* Until the execve closes the init's end of the sync socket. */
      struct al_sync_msg m;
      ret = al_sync_recv (sync[0], &m, NULL, err);
      if (ret == 0 && m.type == AL_SYNC_ERROR && o->ret_exec_errno
          && strncmp (m.msg, "exec ", 5) == 0)
        {
          /* The process could not be exec'd: the init exits 126 or 127
           * and the caller reaps that as the process's status. */
          *o->ret_exec_errno = m.errnum ? m.errnum : EIO;
          ret = 0;
        }
      else if (ret == 0)
        ret = m.type == AL_SYNC_ERROR
                  ? al_error_reason (err, m.errnum ? m.errnum : EIO, "%s", m.msg)
                  : al_error_reason (err, EPROTO, "container init sent message %d", m.type);
      else if (ret == -EPIPE)
        ret = 0;
      if (ret < 0)
        goto out_child;
      run_hooks_warn (c, AL_HOOK_POSTSTART, o->id, st->bundle, "running", pid, o->log);
    }

  *ret_pid = pid;
  pid = 0;
  ret = 0;
  if (o->ret_cgroup)
    *o->ret_cgroup = al_steal_ptr (&cg);
  goto out_sync;

out_child:
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  pid = 0;
out_sync:
  if (sync[0] >= 0)
    close (sync[0]);
  if (sync[1] >= 0)
    close (sync[1]);
out_cgroup:
  if (ret < 0 && cg)
    {
      struct al_error ignored = { 0 };
      al_cgroup_remove (cg, &ignored);
    }
out_state:
  if (ret < 0 && h)
    {
      struct al_error ignored = { 0 };
      al_state_remove (h, &ignored);
    }
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  al_state_close (h);
out_config:
  if (c != o->config)
    al_config_free (c);
  return ret;
}

/* poststart and poststop: the config is read again from the bundle; a
 * failing hook is a warning, as the spec asks. */
static void
run_hooks_warn (const struct al_config *c, enum al_hook_kind kind, const char *id,
                const char *bundle, const char *status, pid_t pid, struct al_log *log)
{
  if (c->hooks[kind].n == 0)
    return;
  struct al_error err = { 0 };
  cleanup_free char *state = al_init_state_json (c, id, bundle, status, pid);
  if (state == NULL)
    al_error_set (&err, ENOMEM, "hooks.%s: state", al_hook_kind_name (kind));
  if ((state == NULL || al_hooks_run (c, kind, state, &err) < 0) && log)
    al_log_warn (log, "%s", err.msg);
}

static void
run_post_hooks (const struct al_state *st, enum al_hook_kind kind, const char *status,
                struct al_log *log)
{
  /* create noted whether there are any (no config to read again). */
  json_t *noted = json_object_get (st->extra, al_hook_kind_name (kind));
  if (st->bundle == NULL || json_is_false (noted))
    return;
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  cleanup_close int dir = open (st->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || al_config_load (dir, "config.json", &c, &err) < 0)
    {
      if (log)
        al_log_warn (log, "hooks.%s: %s", al_hook_kind_name (kind),
                     dir < 0 ? "the bundle is gone" : err.msg);
      return;
    }
  run_hooks_warn (c, kind, st->id, st->bundle, status, st->pid, log);
  al_config_free (c);
}

static int
open_and_read (const char *root, const char *id, int flags, struct al_state_handle **ret_h,
               struct al_state **ret_st, struct al_error *err)
{
  int ret = al_state_open (root, id, flags, ret_h, err);
  if (ret < 0)
    return ret;
  ret = al_state_read (*ret_h, ret_st, err);
  if (ret < 0)
    *ret_h = al_state_close (*ret_h);
  return ret;
}

int
al_container_start (const char *root, const char *id, struct al_log *log, struct al_error *err)
{
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  cleanup_close int fifo = -1;
  int ret = open_and_read (root, id, 0, &h, &st, err);
  if (ret < 0)
    return ret;

  if (st->status != AL_STATUS_CREATED)
    {
      ret = al_error_reason (err, EINVAL, "%s: cannot start a container that is %s", id,
                             al_status_to_string (st->status));
      goto out;
    }
  if (json_is_false (json_object_get (st->extra, "hasProcess")))
    {
      ret = al_error_reason (err, EINVAL, "%s: process: the config has no process to start", id);
      goto out;
    }

  fifo = openat (al_state_dir_fd (h), EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0)
    {
      ret = al_error_set (err, errno, "%s: open exec fifo", id);
      goto out;
    }
  if (write (fifo, "0", 1) != 1)
    {
      ret = al_error_set (err, errno, "%s: release container init", id);
      goto out;
    }
  st->status = AL_STATUS_RUNNING;
  ret = al_state_write (h, st, err);
  if (ret == 0)
    run_post_hooks (st, AL_HOOK_POSTSTART, "running", log);
out:
  al_state_free (st);
  al_state_close (h);
  return ret;
}

int
al_parse_signal (const char *s, int *ret_sig, struct al_error *err)
{
  char *end;
  errno = 0;
  long n = strtol (s, &end, 10);
  if (*s && *end == '\0' && errno == 0)
    {
      if (n <= 0 || n > SIGRTMAX)
        return al_error_reason (err, EINVAL, "invalid signal `%s`", s);
      *ret_sig = (int) n;
      return 0;
    }
  const char *name = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  for (int i = 1; i < NSIG; i++)
    {
      const char *abbrev = sigabbrev_np (i);
      if (abbrev && strcasecmp (abbrev, name) == 0)
        {
          *ret_sig = i;
          return 0;
        }
    }
  return al_error_reason (err, EINVAL, "invalid signal `%s`", s);
}

int
al_container_open_cgroup (const struct al_state *st, struct al_log *log,
                          struct al_cgroup_host **ret_host, struct al_cgroup **ret_cg,
                          struct al_error *err)
{
  *ret_host = NULL;
  *ret_cg = NULL;
  if (st->cgroup_path == NULL)
    return 0;
  int ret = open_cgroup_host (log, ret_host, err);
  if (ret < 0)
    return ret;
  unsigned flags = json_is_true (json_object_get (st->extra, "cgroupOwned")) ? AL_CGROUP_OWNED : 0;
  ret = al_cgroup_open (*ret_host, st->cgroup_path, flags, ret_cg, err);
  if (ret == -ENOENT)
    return 0;
  return ret;
}

static int
signal_all (const struct al_state *st, int sig, struct al_error *err)
{
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  int ret = al_container_open_cgroup (st, NULL, &host, &cg, err);
  if (ret < 0 || cg == NULL)
    goto out;
  pid_t *pids = NULL;
  size_t n = 0;
  ret = al_cgroup_pids (cg, &pids, &n, err);
  if (ret < 0)
    goto out;
  /* Only a cgroup that holds this container's init is this container's;
   * once the init is gone, only a sandbox leaf under airlock's parent. */
  bool has_init = false;
  for (size_t i = 0; i < n; i++)
    has_init |= pids[i] == st->pid;
  if (st->pid > 0 && !has_init)
    ret = al_error_reason (err, EPERM, "%s: cgroup `%s` does not hold the container's init", st->id,
                           st->cgroup_path);
  else if (st->pid <= 0 && n > 0)
    ret = al_cgroup_check_killable (cg, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    kill (pids[i], sig);
  free (pids);
out:
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  return ret;
}

int
al_container_kill (const char *root, const char *id, int sig, bool all, struct al_error *err)
{
  struct al_state *st = NULL;
  int ret = al_state_load (root, id, &st, err);
  if (ret < 0)
    return ret;

  /* containerd's shim reads "container not running" as "already done". */
  if (st->status == AL_STATUS_STOPPED && !all)
    ret = al_error_reason (err, ESRCH, "%s: container not running", id);
  else if (all)
    ret = signal_all (st, sig, err);
  else
    {
      cleanup_close int pidfd = pidfd_open_checked (st->pid);
      if (pidfd < 0 || syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        ret = al_error_set (err, errno, "%s: send signal %d", id, sig);
    }
  al_state_free (st);
  return ret;
}

int
al_container_delete (const char *root, const char *id, bool force, struct al_log *log,
                     struct al_error *err)
{
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  int ret = open_and_read (root, id, 0, &h, &st, err);
  if (ret == -ENOENT && force)
    return 0;
  if (ret < 0)
    return ret;

  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  if (st->status != AL_STATUS_STOPPED)
    {
      if (!force)
        {
          ret = al_error_reason (err, EBUSY, "%s: cannot delete a container that is %s (use --force)",
                                 id, al_status_to_string (st->status));
          goto out;
        }
      cleanup_close int pidfd = pidfd_open_checked (st->pid);
      if (pidfd >= 0)
        {
          syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
          wait_gone (st->pid, pidfd);
        }
    }

  ret = al_container_open_cgroup (st, NULL, &host, &cg, err);
  if (ret < 0)
    goto out;
  if (cg)
    {
      /* Stragglers of a container whose init is gone die with it (an
       * empty cgroup, the usual case, needs no kill). */
      pid_t *left = NULL;
      size_t n_left = 0;
      if (al_cgroup_pids (cg, &left, &n_left, err) < 0 || n_left > 0)
        {
          if (al_cgroup_check_killable (cg, err) == 0)
            al_cgroup_kill_all (cg, err);
        }
      free (left);
      ret = al_cgroup_remove (cg, err);
      if (ret < 0)
        goto out;
    }
  ret = al_state_remove (h, err);
  if (ret == 0)
    run_post_hooks (st, AL_HOOK_POSTSTOP, "stopped", log);
out:
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  al_state_close (h);
  return ret;
}

int
al_container_remove_stopped (const char *root, const char *id, struct al_cgroup *cg,
                             struct al_error *err)
{
  struct al_state_handle *h = NULL;
  int ret = al_state_open (root, id, 0, &h, err);
  if (ret < 0)
    return ret;
  if (cg)
    {
      pid_t *left = NULL;
      size_t n_left = 0;
      if (al_cgroup_pids (cg, &left, &n_left, err) < 0 || n_left > 0)
        {
          if (al_cgroup_check_killable (cg, err) == 0)
            al_cgroup_kill_all (cg, err);
        }
      free (left);
      ret = al_cgroup_remove (cg, err);
    }
  if (ret == 0)
    ret = al_state_remove (h, err);
  al_state_close (h);
  return ret;
}

/* Open id locked, check its status is one of want (a bit per status), and
 * open its cgroup (which must exist). */
static int
open_for_cgroup (const char *root, const char *id, unsigned want, const char *verb,
                 struct al_state_handle **h, struct al_state **st, struct al_cgroup_host **host,
                 struct al_cgroup **cg, struct al_error *err)
{
  int ret = open_and_read (root, id, 0, h, st, err);
  if (ret < 0)
    return ret;
  if (!(want & (1u << (*st)->status)))
    return al_error_reason (err, EINVAL, "%s: cannot %s a container that is %s", id, verb,
                            al_status_to_string ((*st)->status));
  if ((*st)->cgroup_path == NULL)
    return al_error_reason (err, ENOTSUP, "%s: cannot %s: the container has no cgroup", id, verb);
  ret = al_container_open_cgroup (*st, NULL, host, cg, err);
  if (ret < 0)
    return ret;
  if (*cg == NULL)
    return al_error_reason (err, ENOENT, "%s: cgroup `%s` is gone", id, (*st)->cgroup_path);
  return 0;
}

static int
set_frozen (const char *root, const char *id, bool freeze, struct al_error *err)
{
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  unsigned want = 1u << (freeze ? AL_STATUS_RUNNING : AL_STATUS_PAUSED);
  int ret = open_for_cgroup (root, id, want, freeze ? "pause" : "resume", &h, &st, &host, &cg, err);
  if (ret == 0)
    ret = freeze ? al_cgroup_freeze (cg, err) : al_cgroup_thaw (cg, err);
  if (ret == 0)
    {
      st->status = freeze ? AL_STATUS_PAUSED : AL_STATUS_RUNNING;
      ret = al_state_write (h, st, err);
    }
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  al_state_close (h);
  return ret;
}

int
al_container_pause (const char *root, const char *id, struct al_error *err)
{
  return set_frozen (root, id, true, err);
}

int
al_container_resume (const char *root, const char *id, struct al_error *err)
{
  return set_frozen (root, id, false, err);
}

int
al_container_update (const char *root, const char *id, const struct al_resources *res,
                     struct al_error *err)
{
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  unsigned want = 1u << AL_STATUS_CREATED | 1u << AL_STATUS_RUNNING | 1u << AL_STATUS_PAUSED;
  int ret = open_for_cgroup (root, id, want, "update", &h, &st, &host, &cg, err);
  if (ret == 0)
    ret = al_cgroup_apply (cg, res, err);
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  al_state_close (h);
  return ret;
}
