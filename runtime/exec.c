/* exec.c — see exec.h. */
#include "config.h"

#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capabilities.h"
#include "cgroup.h"
#include "container.h"
#include "cleanup.h"
#include "console.h"
#include "file.h"
#include "init.h"
#include "process.h"
#include "seccomp.h"
#include "state.h"

/* ------------------------------------------------------------- the process */

static int
read_stdin (char **ret_buf, size_t *ret_len, struct al_error *err)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc (cap);
  if (buf == NULL)
    return al_error_set (err, ENOMEM, "--process -");
  for (;;)
    {
      if (len + 1 >= cap)
        {
          if (cap >= AL_CONFIG_MAX_BYTES)
            {
              free (buf);
              return al_error_reason (err, EFBIG, "--process -: larger than %u MiB",
                                      AL_CONFIG_MAX_BYTES >> 20);
            }
          char *n = realloc (buf, cap * 2);
          if (n == NULL)
            {
              free (buf);
              return al_error_set (err, ENOMEM, "--process -");
            }
          buf = n;
          cap *= 2;
        }
      ssize_t r = read (STDIN_FILENO, buf + len, cap - len - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          free (buf);
          return al_error_set (err, e, "--process -: read stdin");
        }
      if (r == 0)
        break;
      len += (size_t) r;
    }
  buf[len] = '\0';
  *ret_buf = buf;
  *ret_len = len;
  return 0;
}

static int
load_process_file (const char *path, struct al_process **ret, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  int ret_code;
  if (strcmp (path, "-") == 0)
    ret_code = read_stdin (&buf, &len, err);
  else
    ret_code = al_read_file (AT_FDCWD, path, AL_CONFIG_MAX_BYTES, &buf, &len, err);
  if (ret_code < 0)
    return ret_code == -EFBIG ? al_error_reason (err, EFBIG, "--process %s: too large", path)
                              : al_error_wrap (err, "--process");
  const char *slash = strrchr (path, '/');
  const char *source = strcmp (path, "-") == 0 ? "process.json (stdin)"
                       : slash && slash[1] ? slash + 1
                                           : path;
  return al_config_parse_process (buf, len, source, ret, err);
}

static int
strv_dup (char *const *src, size_t n, char ***ret, struct al_error *err)
{
  char **v = calloc (n + 1, sizeof *v);
  if (v == NULL)
    return al_error_set (err, ENOMEM, "process.args");
  for (size_t i = 0; i < n; i++)
    if ((v[i] = strdup (src[i])) == NULL)
      {
        for (size_t j = 0; j < i; j++)
          free (v[j]);
        free (v);
        return al_error_set (err, ENOMEM, "process.args");
      }
  *ret = v;
  return 0;
}

/* --env K=V: replace the entry setting K, or append. */
static int
set_env (struct al_process *p, const char *kv, struct al_error *err)
{
  const char *eq = strchr (kv, '=');
  if (eq == NULL || eq == kv)
    return al_error_reason (err, EINVAL, "--env `%s`: expected KEY=VALUE", kv);
  size_t klen = (size_t) (eq - kv) + 1;
  char *copy = strdup (kv);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "--env");
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp (p->env[i], kv, klen) == 0)
      {
        free (p->env[i]);
        p->env[i] = copy;
        return 0;
      }
  /* Keep the array NULL-terminated, as the parser leaves it. */
  char **n = realloc (p->env, (p->n_env + 2) * sizeof *n);
  if (n == NULL)
    {
      free (copy);
      return al_error_set (err, ENOMEM, "--env");
    }
  n[p->n_env++] = copy;
  n[p->n_env] = NULL;
  p->env = n;
  return 0;
}

static int
cap_list_add (struct al_cap_list *l, int cap, struct al_error *err)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->caps[i] == cap)
      return 0;
  int *n = realloc (l->caps, (l->n + 1) * sizeof *n);
  if (n == NULL)
    return al_error_set (err, ENOMEM, "--cap");
  n[l->n++] = cap;
  l->caps = n;
  return 0;
}

static int
parse_u32 (const char *s, const char *what, uint32_t *ret, struct al_error *err)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull (s, &end, 10);
  if (*s < '0' || *s > '9' || *end || errno || v > UINT32_MAX)
    return al_error_reason (err, EINVAL, "%s: `%s` is not a numeric id", what, s);
  *ret = (uint32_t) v;
  return 0;
}

static int
apply_overrides (const struct al_exec_opts *o, struct al_process *p, struct al_error *err)
{
  int ret;
  if (o->n_args > 0)
    {
      char **args = NULL;
      if ((ret = strv_dup (o->args, o->n_args, &args, err)) < 0)
        return ret;
      for (size_t i = 0; i < p->n_args; i++)
        free (p->args[i]);
      free (p->args);
      p->args = args;
      p->n_args = o->n_args;
    }
  if (o->cwd)
    {
      if (o->cwd[0] != '/')
        return al_error_reason (err, EINVAL, "--cwd `%s`: must be an absolute path", o->cwd);
      char *cwd = strdup (o->cwd);
      if (cwd == NULL)
        return al_error_set (err, ENOMEM, "--cwd");
      free (p->cwd);
      p->cwd = cwd;
    }
  for (size_t i = 0; i < o->n_env; i++)
    if ((ret = set_env (p, o->env[i], err)) < 0)
      return ret;
  p->terminal = o->tty_set ? o->tty : false;
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->user)
    {
      cleanup_free char *copy = strdup (o->user);
      if (copy == NULL)
        return al_error_set (err, ENOMEM, "--user");
      char *colon = strchr (copy, ':');
      if (colon)
        {
          *colon = '\0';
          if ((ret = parse_u32 (colon + 1, "--user", &p->user.gid, err)) < 0)
            return ret;
        }
      if ((ret = parse_u32 (copy, "--user", &p->user.uid, err)) < 0)
        return ret;
    }
  if (o->n_additional_gids > 0)
    {
      size_t n = p->user.n_additional_gids + o->n_additional_gids;
      uint32_t *g = realloc (p->user.additional_gids, n * sizeof *g);
      if (g == NULL)
        return al_error_set (err, ENOMEM, "--additional-gids");
      memcpy (g + p->user.n_additional_gids, o->additional_gids,
              o->n_additional_gids * sizeof *g);
      p->user.additional_gids = g;
      p->user.n_additional_gids = n;
    }
  if (o->n_caps > 0)
    {
      /* As runc: ambient only when inheritable ones exist, since an
       * ambient capability must also be inheritable. */
      bool ambient = p->has_capabilities && p->capabilities.inheritable.n > 0;
      p->has_capabilities = true;
      struct al_capabilities *c = &p->capabilities;
      for (size_t i = 0; i < o->n_caps; i++)
        {
          int cap;
          if ((ret = al_cap_from_name (o->caps[i], &cap, err)) < 0)
            return al_error_wrap (err, "--cap");
          if ((ret = cap_list_add (&c->bounding, cap, err)) < 0
              || (ret = cap_list_add (&c->effective, cap, err)) < 0
              || (ret = cap_list_add (&c->permitted, cap, err)) < 0
              || (ambient && (ret = cap_list_add (&c->ambient, cap, err)) < 0))
            return ret;
        }
    }
  return 0;
}

int
al_exec_prepare_process (const struct al_exec_opts *o, struct al_config *c, struct al_error *err)
{
  if (o->process_path)
    {
      struct al_process *p = NULL;
      int ret = load_process_file (o->process_path, &p, err);
      if (ret < 0)
        return ret;
      al_process_free (c->process);
      c->process = p;
      return 0;
    }
  if (o->n_args == 0)
    return al_error_reason (err, EINVAL, "exec: a command or --process is required");
  if (c->process == NULL)
    {
      c->process = calloc (1, sizeof *c->process);
      if (c->process == NULL || (c->process->cwd = strdup ("/")) == NULL)
        return al_error_set (err, ENOMEM, "process");
    }
  return apply_overrides (o, c->process, err);
}

/* ------------------------------------------------------------- namespaces */

static int
pidfd_open_checked (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

/* The namespaces the init is in that airlock is not, as CLONE_NEW* flags:
 * what the exec'd process joins. */
static int
container_ns_flags (pid_t pid, uint64_t *ret_flags, struct al_error *err)
{
  static const struct
  {
    const char *name;
    uint64_t flag;
  } ns[] = {
    { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },     { "net", CLONE_NEWNET },
    { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },    { "cgroup", CLONE_NEWCGROUP },
    { "pid", CLONE_NEWPID },   { "time", CLONE_NEWTIME },
  };
  uint64_t flags = 0;
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    {
      char path[64];
      struct stat theirs, ours;
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns[i].name);
      if (stat (path, &theirs) < 0)
        {
          if (errno == ENOENT && strcmp (ns[i].name, "time") == 0)
            continue; /* kernel without time namespaces */
          return al_error_set (err, errno, "container init: %s", path);
        }
      snprintf (path, sizeof path, "/proc/self/ns/%s", ns[i].name);
      if (stat (path, &ours) < 0)
        return al_error_set (err, errno, "%s", path);
      if (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino)
        flags |= ns[i].flag;
    }
  *ret_flags = flags;
  return 0;
}

/* ------------------------------------------------------------- the child */

struct exec_child
{
  const struct al_config *config;
  int sync_fd;
  int init_pidfd;
  int console_sock;
  int preserve_fds;
  int ns_flags; /* joined with setns(init_pidfd, ...); pid is already */
  const int *stdio;   /* onto 0, 1, 2 (-1: ours), or NULL */
  bool new_session;
  void *filter;
  const struct sock_fprog *bpf;
};

__attribute__ ((noreturn)) static void
exec_child_run (const struct exec_child *x)
{
  struct al_error err = { 0 };
  struct al_sync_msg msg;
  char exe[4096] = "";
  char **env = NULL;

  /* CVE-2019-5736: until the execve this is airlock; nothing in the
   * container may open /proc/PID/exe or ptrace it. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  for (int i = 0; x->stdio && i < 3; i++)
    if (x->stdio[i] >= 0 && dup2 (x->stdio[i], i) < 0)
      {
        al_error_set (&err, errno, "dup2 the exec'd process's fd %d", i);
        goto fail;
      }
  if (x->new_session)
    setsid ();

  /* Nothing of airlock's but the sync socket, the init's pidfd and the
   * console socket (and --preserve-fds) survives. */
  int keep[3] = { x->sync_fd, x->init_pidfd, x->console_sock };
  if (al_close_fds_from (3 + x->preserve_fds, keep, 3, &err) < 0)
    goto fail;

  if (al_sync_recv (x->sync_fd, &msg, NULL, &err) < 0 || msg.type != AL_SYNC_GO)
    _exit (1);

  if (x->ns_flags && setns (x->init_pidfd, x->ns_flags) < 0)
    {
      al_error_set (&err, errno, "join the container's namespaces");
      goto fail;
    }
  close (x->init_pidfd);

  struct al_proc_setup s = {
    .config = x->config,
    .process = x->config->process,
    .sync_fd = x->sync_fd,
    .console_sock = x->console_sock,
    .bind_console = false,
    .preserve_fds = x->preserve_fds,
    .keep_fd = -1,
    .filter = x->filter,
    .bpf = x->bpf,
  };
  if (al_proc_setup (&s, exe, sizeof exe, &env, &err) < 0)
    goto fail;
  if (x->console_sock >= 0)
    close (x->console_sock);

  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (al_sync_send (x->sync_fd, AL_SYNC_READY, NULL) < 0)
    _exit (1);
  /* Nothing airlock blocked or ignored (a sandbox exec blocks what its
   * supervisor forwards, and ignores SIGPIPE) stays so in the process. */
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  /* The sync socket is close-on-exec: its EOF tells the parent the execve
   * happened. */
  execve (exe, x->config->process->args, env);
  int saved = errno;
  al_error_set (&err, saved, "exec `%s`", exe);
  al_sync_send (x->sync_fd, AL_SYNC_ERROR, &err);
  _exit (saved == ENOENT ? 127 : 126);

fail:
  al_sync_send (x->sync_fd, AL_SYNC_ERROR, &err);
  _exit (1);
}

/* ------------------------------------------------------------- the parent */

/* Serve the child until its execve: relay a seccomp notify fd, take READY,
 * then wait for the sync socket's EOF (the execve closed it) or an ERROR
 * (the execve failed). */
static int
serve_child (const struct al_config *c, const struct al_state *st, int sync_fd,
             struct al_error *err)
{
  bool ready = false;
  for (;;)
    {
      struct al_sync_msg msg;
      cleanup_close int fd = -1;
      int ret = al_sync_recv (sync_fd, &msg, &fd, err);
      if (ret == -EPIPE && ready)
        {
          al_error_clear (err);
          return 0;
        }
      if (ret == -EPIPE)
        return al_error_reason (err, EPIPE, "the exec'd process exited during setup");
      if (ret < 0)
        return ret;
      switch (msg.type)
        {
        case AL_SYNC_READY:
          ready = true;
          break;
        case AL_SYNC_ERROR:
          return al_error_reason (err, msg.errnum ? msg.errnum : EINVAL, "%s", msg.msg);
        case AL_SYNC_SECCOMP:
          ret = al_sync_forward_seccomp (c, fd, st->id, st->bundle,
                                         al_status_to_string (st->status), st->pid, err);
          if (ret < 0)
            return ret;
          break;
        default:
          return al_error_reason (err, EPROTO, "the exec'd process sent message %d", msg.type);
        }
    }
}

static int
exit_code (int status)
{
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* Wait for the child, forwarding what a user or supervisor sends airlock
 * to stop or poke its process. */
static int
wait_forwarding (pid_t pid, int pidfd)
{
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                   SIGWINCH, SIGALRM, SIGCONT };
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset (&set, forwarded[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);

  int status = 0;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        return exit_code (status);
      if (r < 0 && errno != EINTR)
        return 255;
      siginfo_t si;
      int sig = sigwaitinfo (&set, &si);
      if (sig > 0 && sig != SIGCHLD)
        syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
    }
}

/* The init recorded in st, pinned by a pidfd: only if its start time
 * still matches once the pidfd holds it. */
static int
open_init (const struct al_state *st, struct al_error *err)
{
  int fd = pidfd_open_checked (st->pid);
  unsigned long long start = 0;
  struct al_error ignored = { 0 };
  if (fd < 0
      || (st->pid_start_time
          && (al_state_pid_start_time (st->pid, &start, &ignored) < 0
              || start != st->pid_start_time)))
    {
      if (fd >= 0)
        close (fd);
      return al_error_reason (err, ESRCH, "%s: cannot exec in a stopped container", st->id);
    }
  return fd;
}

struct spawn
{
  const struct al_state *st;
  const struct al_config *c; /* c->process is what runs */
  int init_pidfd;
  int console_sock;
  int preserve_fds;
  const int *stdio;
  bool new_session;
  void *filter;
  const struct sock_fprog *bpf;
  struct al_log *log;
};

/* Start s->c->process in the container: on return it has exec'd, and it is
 * our child (*ret_pid, *ret_pidfd).  On failure nothing of it is left. */
static int
spawn (const struct spawn *s, pid_t *ret_pid, int *ret_pidfd, struct al_error *err)
{
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  cleanup_close int own_pidns = -1;
  int child_pidfd = -1;
  int sync[2] = { -1, -1 };
  pid_t pid = 0;
  uint64_t ns_flags = 0;
  int ret = container_ns_flags (s->st->pid, &ns_flags, err);
  if (ret < 0)
    return ret;
  ret = al_container_open_cgroup (s->st, s->log, &host, &cg, err);
  if (ret < 0)
    return ret;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
    {
      ret = al_error_set (err, errno, "socketpair");
      goto out;
    }

  /* The next child of airlock is born in the container's pid namespace;
   * right after the clone3 airlock's own pid namespace is its children's
   * again (LeakSanitizer's tracer, for one, must not land in there). */
  if (ns_flags & CLONE_NEWPID)
    {
      own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      if (own_pidns < 0)
        {
          ret = al_error_set (err, errno, "open /proc/self/ns/pid");
          goto out;
        }
      if (setns (s->init_pidfd, CLONE_NEWPID) < 0)
        {
          ret = al_error_set (err, errno, "%s: join the container's pid namespace", s->st->id);
          goto out;
        }
    }

  struct clone_args args = {
    .flags = CLONE_PIDFD,
    .pidfd = (uint64_t) (uintptr_t) &child_pidfd,
    .exit_signal = SIGCHLD,
  };
  int cg_fd = cg ? al_cgroup_clone_fd (cg) : -1;
  if (cg_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cg_fd;
    }

  /* An inherited SIG_IGN would have the kernel reap the child behind
   * the wait's back. */
  signal (SIGCHLD, SIG_DFL);
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
  if (pid != 0 && own_pidns >= 0 && setns (own_pidns, CLONE_NEWPID) < 0)
    {
      ret = al_error_set (err, errno, "return to airlock's pid namespace");
      if (pid > 0)
        goto out_child;
      pid = 0;
      goto out;
    }
  if (pid < 0)
    {
      ret = al_error_set (err, clone_errno, "clone3 the exec'd process");
      pid = 0;
      goto out;
    }
  if (pid == 0)
    {
      close (sync[0]);
      struct exec_child x = {
        .config = s->c,
        .sync_fd = sync[1],
        .init_pidfd = s->init_pidfd,
        .console_sock = s->console_sock,
        .preserve_fds = s->preserve_fds,
        .ns_flags = (int) (ns_flags & ~(uint64_t) CLONE_NEWPID),
        .stdio = s->stdio,
        .new_session = s->new_session,
        .filter = s->filter,
        .bpf = s->bpf,
      };
      exec_child_run (&x);
    }
  close (sync[1]);
  sync[1] = -1;

  if (cg && cg_fd < 0)
    {
      ret = al_cgroup_enter (cg, pid, err);
      if (ret < 0)
        goto out_child;
    }
  struct al_sync_msg go = { .type = AL_SYNC_GO, .pid = pid };
  if (send (sync[0], &go, sizeof go, MSG_NOSIGNAL) != (ssize_t) sizeof go)
    {
      ret = al_error_set (err, errno, "resume the exec'd process");
      goto out_child;
    }
  ret = serve_child (s->c, s->st, sync[0], err);
  if (ret < 0)
    goto out_child;
  *ret_pid = pid;
  *ret_pidfd = child_pidfd;
  child_pidfd = -1;
  goto out;

out_child:
  if (child_pidfd >= 0)
    syscall (SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
  else
    kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
out:
  if (child_pidfd >= 0)
    close (child_pidfd);
  if (sync[0] >= 0)
    close (sync[0]);
  if (sync[1] >= 0)
    close (sync[1]);
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  return ret;
}

int
al_container_exec (const struct al_exec_opts *o, int *ret_status, struct al_error *err)
{
  struct al_state *st = NULL;
  struct al_config *c = NULL;
  cleanup_close int init_pidfd = -1;
  cleanup_close int child_pidfd = -1;
  cleanup_close int console_sock = -1;
  cleanup_close int bundle_fd = -1;
  pid_t pid = 0;
  int ret;

  *ret_status = 0;
  if (o->process_path && o->n_args > 0)
    return al_error_reason (err, EINVAL, "exec: give either --process or a command, not both");

  ret = al_state_load (o->root, o->id, &st, err);
  if (ret < 0)
    return ret;
  if (st->status == AL_STATUS_STOPPED)
    {
      ret = al_error_reason (err, EINVAL, "%s: cannot exec in a stopped container", o->id);
      goto out;
    }
  if (st->status == AL_STATUS_PAUSED && !o->ignore_paused)
    {
      ret = al_error_reason (err, EINVAL,
                             "%s: cannot exec in a paused container (use --ignore-paused to override)",
                             o->id);
      goto out;
    }
  init_pidfd = open_init (st, err);
  if (init_pidfd < 0)
    {
      ret = init_pidfd;
      goto out;
    }

  bundle_fd = open (st->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundle_fd < 0)
    {
      ret = al_error_set (err, errno, "bundle `%s`", st->bundle);
      goto out;
    }
  ret = al_config_load (bundle_fd, "config.json", &c, err);
  if (ret < 0)
    goto out;
  ret = al_exec_prepare_process (o, c, err);
  if (ret < 0)
    goto out;

  if (c->process->terminal && o->console_socket == NULL)
    {
      ret = al_error_reason (err, EINVAL, "exec: a terminal (--tty) needs --console-socket");
      goto out;
    }
  if (c->process->terminal)
    {
      console_sock = al_console_connect (o->console_socket, err);
      if (console_sock < 0)
        {
          ret = console_sock;
          goto out;
        }
    }

  struct spawn sp = {
    .st = st,
    .c = c,
    .init_pidfd = init_pidfd,
    .console_sock = console_sock,
    .preserve_fds = o->preserve_fds,
    .log = o->log,
  };
  ret = spawn (&sp, &pid, &child_pidfd, err);
  if (ret < 0)
    goto out;

  if (o->pid_file)
    {
      ret = al_write_pid_file (o->pid_file, pid, err);
      if (ret < 0)
        {
          syscall (SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
          while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
            ;
          goto out;
        }
    }
  if (o->detach)
    goto out;

  /* Nothing but the wait is left: drop what the wait does not need. */
  al_config_free (c);
  c = NULL;
  *ret_status = wait_forwarding (pid, child_pidfd);

out:
  al_config_free (c);
  al_state_free (st);
  return ret;
}

int
al_container_exec_start (const struct al_exec_start *s, pid_t *ret_pid, int *ret_pidfd,
                         struct al_error *err)
{
  struct al_state *st = NULL;
  int ret = al_state_load (s->root, s->id, &st, err);
  if (ret < 0)
    return ret;
  if (st->status != AL_STATUS_RUNNING)
    {
      ret = al_error_reason (err, ESRCH, "%s: not running", s->id);
      al_state_free (st);
      return ret;
    }
  cleanup_close int init_pidfd = open_init (st, err);
  if (init_pidfd < 0)
    {
      al_state_free (st);
      return init_pidfd;
    }
  struct spawn sp = {
    .st = st,
    .c = s->config,
    .init_pidfd = init_pidfd,
    .console_sock = -1,
    .stdio = s->stdio,
    .new_session = s->new_session,
    .filter = s->filter,
    .bpf = s->bpf,
    .log = s->log,
  };
  ret = spawn (&sp, ret_pid, ret_pidfd, err);
  al_state_free (st);
  return ret;
}

/* ------------------------------------------------------------------- ps */

static int
cmp_pid (const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

int
al_container_pids (const char *root, const char *id, pid_t **ret_pids, size_t *ret_n,
                   struct al_error *err)
{
  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  *ret_pids = NULL;
  *ret_n = 0;
  int ret = al_state_load (root, id, &st, err);
  if (ret < 0)
    return ret;
  if (st->cgroup_path == NULL)
    {
      ret = al_error_reason (err, ENOTSUP, "%s: the container has no cgroup (cgroups disabled)", id);
      goto out;
    }
  ret = al_container_open_cgroup (st, NULL, &host, &cg, err);
  if (ret < 0 || cg == NULL)
    goto out;
  ret = al_cgroup_pids (cg, ret_pids, ret_n, err);
  if (ret == 0 && *ret_n > 1)
    qsort (*ret_pids, *ret_n, sizeof **ret_pids, cmp_pid);
out:
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  return ret;
}
