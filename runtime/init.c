/* init.c — the container init and the process setup it shares with
 * exec; see init.h for the protocol.
 *
 * Order matters and follows runc/crun: namespaces joined, hostname, root
 * filesystem (mounts, devices), createRuntime/createContainer hooks,
 * pivot_root, sysctl, masked and read-only paths; then the process:
 * terminal, cwd, rlimits, oom/personality/ioprio/scheduler, seccomp when
 * no_new_privs is off (it needs CAP_SYS_ADMIN, so before the capabilities
 * go), user and groups (keeping capabilities), capabilities, no_new_privs,
 * seccomp when no_new_privs is on, the fd sweep.
 */
#include "config.h"

#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <linux/keyctl.h>

#include "capabilities.h"
#include "cleanup.h"
#include "console.h"
#include "file.h"
#include "hooks.h"
#include "identity.h"
#include "namespaces.h"
#include "process.h"
#include "rlimits.h"
#include "rootfs.h"
#include "safepath.h"
#include "seccomp.h"
#include "state.h"

int
al_sync_send (int fd, int type, const struct al_error *err)
{
  struct al_sync_msg m = { .type = type };
  if (err)
    {
      m.errnum = err->errnum;
      memcpy (m.msg, err->msg, sizeof m.msg);
    }
  ssize_t w;
  do
    w = send (fd, &m, sizeof m, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  return w == (ssize_t) sizeof m ? 0 : -errno;
}

int
al_sync_send_fd (int fd, int type, int pass_fd)
{
  struct al_sync_msg m = { .type = type };
  return al_send_with_fd (fd, &m, sizeof m, pass_fd);
}

int
al_sync_recv (int fd, struct al_sync_msg *m, int *ret_fd, struct al_error *err)
{
  if (ret_fd)
    *ret_fd = -1;
  struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  ssize_t r;
  do
    r = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return al_error_set (err, errno, "read from the container process");
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        int got;
        memcpy (&got, CMSG_DATA (c), sizeof got);
        if (ret_fd)
          *ret_fd = got;
        else
          close (got);
      }
  if (r == 0)
    return al_error_reason (err, EPIPE, "container init exited during setup");
  if (r != (ssize_t) sizeof *m)
    return al_error_reason (err, EPROTO, "container init sent a short message");
  m->msg[sizeof m->msg - 1] = '\0';
  return 0;
}

char *
al_init_state_json (const struct al_config *c, const char *id, const char *bundle,
                    const char *status, pid_t pid)
{
  json_t *o = json_pack ("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", AL_OCI_VERSION, "id", id,
                         "status", status, "pid", (int) pid, "bundle", bundle);
  if (o == NULL)
    return NULL;
  if (c->annotations_json)
    json_object_set (o, "annotations", c->annotations_json);
  char *text = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  return text;
}

int
al_sync_forward_seccomp (const struct al_config *c, int notify_fd, const char *id,
                         const char *bundle, const char *status, pid_t pid, struct al_error *err)
{
  const struct al_seccomp *sc = c->linux_spec ? c->linux_spec->seccomp : NULL;
  if (notify_fd < 0)
    return al_error_reason (err, EPROTO, "seccomp: no notify fd received");
  if (sc == NULL || sc->listener_path == NULL)
    return al_error_reason (err, EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY needs a listenerPath");
  cleanup_free char *state = al_init_state_json (c, id, bundle, status, pid);
  if (state == NULL)
    return al_error_set (err, ENOMEM, "seccomp listener state");
  int ret = al_seccomp_send_listener (sc->listener_path, notify_fd, pid, sc->listener_metadata,
                                      state, err);
  return ret < 0 ? al_error_wrap (err, "linux.seccomp.listenerPath") : 0;
}

/* Find args[0] the way execvp would, in the container's PATH, so a missing
 * program is reported by create (podman maps these words to 127 and 126). */
static int
find_executable (const char *name, char *const *env, char *ret_path, size_t size,
                 struct al_error *err)
{
  if (strchr (name, '/'))
    {
      if (access (name, X_OK) < 0)
        {
          if (errno == ENOENT)
            return al_error_reason (err, ENOENT, "exec: \"%s\": stat %s: no such file or directory", name, name);
          return al_error_reason (err, EACCES, "exec: \"%s\": permission denied", name);
        }
      snprintf (ret_path, size, "%s", name);
      return 0;
    }

  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char *const *e = env; e && *e; e++)
    if (strncmp (*e, "PATH=", 5) == 0)
      path = *e + 5;

  bool denied = false;
  for (const char *p = path; *p;)
    {
      const char *colon = strchrnul (p, ':');
      int n = snprintf (ret_path, size, "%.*s/%s", (int) (colon - p), p, name);
      if (colon == p)
        n = snprintf (ret_path, size, "./%s", name);
      if (n > 0 && (size_t) n < size)
        {
          struct stat st;
          if (stat (ret_path, &st) == 0 && S_ISREG (st.st_mode))
            {
              if (access (ret_path, X_OK) == 0)
                return 0;
              denied = true;
            }
        }
      p = *colon ? colon + 1 : colon;
    }
  if (denied)
    return al_error_reason (err, EACCES, "exec: \"%s\": permission denied", name);
  return al_error_reason (err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* The terminal: a pty from the container's devpts; its master goes to the
 * console socket, its slave becomes the controlling terminal and 0-2. */
static int
setup_terminal (const struct al_proc_setup *s, struct al_error *err)
{
  const struct al_process *p = s->process;
  char slave[64];
  cleanup_close int master = -1;
  int ret = al_console_open (&master, slave, sizeof slave, err);
  if (ret < 0)
    return ret;
  if (p->has_console_size
      && (ret = al_console_set_size (master, p->console_height, p->console_width, err)) < 0)
    return ret;
  if (s->bind_console && (ret = al_console_bind_dev_console (slave, err)) < 0)
    return ret;
  if ((ret = al_console_send (s->console_sock, master, err)) < 0)
    return ret;
  return al_console_attach (slave, err);
}

/* chdir into process.cwd (made inside the root when missing) and check the
 * result is still inside the root: a cwd is never left outside it. */
static int
enter_cwd (const char *cwd, struct al_error *err)
{
  if (chdir (cwd) < 0)
    {
      if (errno != ENOENT)
        return al_error_set (err, errno, "process.cwd: chdir `%s`", cwd);
      cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (rootfd < 0)
        return al_error_set (err, errno, "open /");
      int fd = al_safe_mkdir_p (rootfd, cwd, 0755, 0, err);
      if (fd < 0)
        return al_error_wrap (err, "process.cwd");
      close (fd);
      if (chdir (cwd) < 0)
        return al_error_set (err, errno, "process.cwd: chdir `%s`", cwd);
    }
  char buf[4096];
  if (getcwd (buf, sizeof buf) == NULL)
    return al_error_set (err, errno, "process.cwd `%s`: is not inside the container", cwd);
  return 0;
}

/* Load the filter; a notify fd goes to the parent, which forwards it to
 * the listener (its path is the host's, out of reach from in here). */
static int
load_seccomp (const struct al_proc_setup *s, scmp_filter_ctx ctx, struct al_error *err)
{
  int notify_fd = -1;
  int ret = al_seccomp_load (ctx, &notify_fd, err);
  if (ret < 0)
    return ret;
  if (notify_fd >= 0)
    {
      ret = al_sync_send_fd (s->sync_fd, AL_SYNC_SECCOMP, notify_fd);
      close (notify_fd);
      if (ret < 0)
        return al_error_set (err, -ret, "send the seccomp notify fd");
    }
  return 0;
}

int
al_proc_setup (const struct al_proc_setup *s, char *exe, size_t exe_size, char ***ret_env,
               struct al_error *err)
{
  const struct al_config *c = s->config;
  const struct al_process *p = s->process;
  int ret;

  if (p->terminal && (ret = setup_terminal (s, err)) < 0)
    return ret;
  if ((ret = enter_cwd (p->cwd, err)) < 0)
    return ret;

  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return al_error_set (err, errno, "open /");
  size_t n_env = 0;
  ret = al_env_with_home (p->env, p->n_env, rootfd, p->user.uid, ret_env, &n_env, err);
  if (ret < 0)
    return ret;

  ret = al_rlimits_apply (p->rlimits, p->n_rlimits, err);
  if (ret < 0)
    return ret;
  ret = al_process_apply_attributes (p, c->linux_spec ? c->linux_spec->personality : NULL, err);
  if (ret < 0)
    return ret;

  cleanup_seccomp scmp_filter_ctx filter = NULL;
  const struct al_seccomp *sc = c->linux_spec ? c->linux_spec->seccomp : NULL;
  if (sc)
    {
      ret = al_seccomp_compile (sc, &filter, err);
      if (ret < 0)
        return ret;
      if (!p->no_new_privileges && (ret = load_seccomp (s, filter, err)) < 0)
        return ret;
    }

  ret = al_identity_apply (&p->user, true, err);
  if (ret < 0)
    return ret;
  ret = al_caps_apply (p->has_capabilities ? &p->capabilities : NULL, err);
  if (ret < 0)
    return ret;
  if (p->no_new_privileges)
    {
      ret = al_process_set_no_new_privs (err);
      if (ret < 0)
        return ret;
    }

  ret = find_executable (p->args[0], *ret_env, exe, exe_size, err);
  if (ret < 0)
    return ret;

  /* The caller's compiled filter (sandbox run) is borrowed, not released. */
  scmp_filter_ctx load = filter ? filter : sc == NULL ? s->filter : NULL;
  if (load && (p->no_new_privileges || !sc) && (ret = load_seccomp (s, load, err)) < 0)
    return ret;
  if (!sc && !load && s->bpf && (ret = al_seccomp_load_bpf (s->bpf, err)) < 0)
    return ret;

  /* CVE-2024-21626: nothing of the host survives the execve but 0-2 and
   * the fds the caller asked to preserve. */
  int keep[2] = { s->sync_fd, s->keep_fd };
  return al_cloexec_fds_from (3 + s->preserve_fds, keep, 2, err);
}

/* The init's own part: namespaces, names, root filesystem with the
 * create-time hooks around it, keyring. */
static int
setup_container (const struct al_init_ctx *ctx, pid_t host_pid, struct al_error *err)
{
  const struct al_config *c = ctx->config;
  int ret;

  if (ctx->new_userns)
    {
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        return al_error_set (err, errno, "become root in the user namespace (is uid 0 mapped?)");
    }

  int fds[AL_NS__COUNT];
  ret = al_ns_open_joined (c, fds, err);
  if (ret < 0)
    return ret;
  ret = al_ns_join (fds, err);
  if (ret < 0)
    return ret;

  ret = al_ns_set_names (c, err);
  if (ret < 0)
    return ret;

  if (al_config_find_namespace (c, AL_NS_MOUNT) == NULL)
    return al_error_reason (err, EINVAL, "linux.namespaces: a mount namespace is required");

  if (!ctx->no_new_keyring)
    {
      char name[300];
      snprintf (name, sizeof name, "_ses.%s", ctx->id);
      if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS
          && errno != EACCES && errno != EPERM)
        return al_error_set (err, errno, "join a new session keyring");
    }

  struct al_rootfs_opts ropts = { .no_pivot = ctx->no_pivot };
  /* Reopen the bundle here: an fd opened before clone3 points into the
   * host's mount namespace, and mount(2) refuses sources from another one. */
  cleanup_close int bundle_fd
      = open (ctx->bundle_is_cwd ? "." : ctx->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundle_fd < 0)
    return al_error_set (err, errno, "bundle `%s`", ctx->bundle);
  cleanup_close int root_fd = -1;
  ret = al_rootfs_prepare (c, bundle_fd, &ropts, &root_fd, err);
  if (ret < 0)
    return ret;

  if (c->hooks[AL_HOOK_PRESTART].n > 0 || c->hooks[AL_HOOK_CREATE_RUNTIME].n > 0)
    {
      struct al_sync_msg m;
      if (al_sync_send (ctx->sync_fd, AL_SYNC_HOOKS, NULL) < 0
          || al_sync_recv (ctx->sync_fd, &m, NULL, err) < 0 || m.type != AL_SYNC_GO)
        _exit (1); /* the parent reports why */
    }
  if (c->hooks[AL_HOOK_CREATE_CONTAINER].n > 0)
    {
      cleanup_free char *state = al_init_state_json (c, ctx->id, ctx->bundle, "created", host_pid);
      if (state == NULL)
        return al_error_set (err, ENOMEM, "hook state");
      ret = al_hooks_run (c, AL_HOOK_CREATE_CONTAINER, state, err);
      if (ret < 0)
        return ret;
    }

  ret = al_rootfs_pivot (c, root_fd, &ropts, err);
  if (ret < 0)
    return ret;
  /* A missing cwd is made before root.readonly applies, as runc does. */
  if (c->process != NULL && (ret = enter_cwd (c->process->cwd, err)) < 0)
    return ret;
  return al_rootfs_finalize (c, err);
}

/* The process's last step: what the runtime blocked or ignored goes back
 * to normal, then execve.  A failure goes to the sync socket (the parent
 * reports it) and becomes 127 or 126.  No stdio, no allocation: it also
 * runs as the reaper's vfork child, on memory it shares. */
struct exec_args
{
  const char *exe;
  char *const *argv;
  char *const *envp;
  int sync_fd;
  int close_fd; /* closed first, or -1 */
};

static int __attribute__ ((noreturn))
exec_process (void *arg)
{
  const struct exec_args *a = arg;
  if (a->close_fd >= 0)
    close (a->close_fd);
  /* Nothing the runtime blocked (sandbox run blocks what it forwards)
   * stays blocked in the process. */
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL); /* sandbox run ignores it */
  execve (a->exe, a->argv, a->envp);
  int saved = errno;
  struct al_error err = { 0 };
  al_error_set (&err, saved, "exec `%s`", a->exe);
  dprintf (STDERR_FILENO, "airlock: %s\n", err.msg);
  al_sync_send (a->sync_fd, AL_SYNC_ERROR, &err);
  _exit (saved == ENOENT ? 127 : 126);
}

/* sandbox run: the program must not be pid 1 of its namespace, where the
 * kernel drops the signals it has no handler for (`kill -9 $$`, a
 * forwarded SIGTERM, abort()).  The init starts it (a vfork on a stack of
 * its own: no page tables to copy) and stays pid 1: it forwards every
 * signal it gets to the program, reaps whatever the pid namespace hands
 * it, and when the program ends writes its wait status (an int) to
 * report_fd and exits, which ends the namespace. */
static void __attribute__ ((noreturn))
reaper (const struct al_init_ctx *ctx, struct exec_args *a)
{
  /* Blocked before the program exists, so neither a SIGCHLD nor a signal
   * meant for it can slip by; it unblocks them before exec. */
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  a->close_fd = ctx->report_fd;
  /* Named before the program can look at it (/proc/1/comm); the program
   * takes its own name at exec. */
  prctl (PR_SET_NAME, "airlock-init", 0, 0, 0);
  static char stack[64 * 1024] __attribute__ ((aligned (16)));
  pid_t child = clone (exec_process, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
  if (child < 0)
    _exit (1);
  /* The sync socket is the program's: `run` waits for its end of file. */
  close (ctx->sync_fd);
  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (child, sig);
          continue;
        }
      int st;
      pid_t p;
      while ((p = waitpid (-1, &st, WNOHANG)) > 0)
        if (p == child)
          {
            ssize_t w = write (ctx->report_fd, &st, sizeof st);
            _exit (w == (ssize_t) sizeof st ? 0 : WIFEXITED (st) ? WEXITSTATUS (st) : 1);
          }
    }
}

void
al_init_run (const struct al_init_ctx *ctx)
{
  const struct al_config *c = ctx->config;
  struct al_error err = { 0 };
  struct al_sync_msg msg;
  char exe[4096] = "";
  char **env = NULL;

  /* CVE-2019-5736: until the execve this process is airlock; nothing in the
   * container may open /proc/PID/exe or ptrace it. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* The init dies with the runtime until create hands it over. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  /* Drop what clone3 copied from airlock at once: the state directory's
   * flock (held by create until it returns), cgroup directories, the bundle. */
  for (int i = 0; ctx->stdio && i < 3; i++)
    if (ctx->stdio[i] >= 0 && dup2 (ctx->stdio[i], i) < 0)
      _exit (1);
  int keep[5] = { ctx->sync_fd, ctx->fifo_fd, ctx->console_sock, ctx->parent_pidfd,
                  ctx->report_fd };
  if (al_close_fds_from (3 + ctx->preserve_fds, keep, 5, &err) < 0)
    _exit (1);

  if (al_sync_recv (ctx->sync_fd, &msg, NULL, &err) < 0 || msg.type != AL_SYNC_GO)
    _exit (1);
  pid_t host_pid = msg.pid;
  if (ctx->new_session && setsid () < 0)
    {
      al_error_set (&err, errno, "setsid");
      goto fail;
    }

  if (setup_container (ctx, host_pid, &err) < 0)
    goto fail;
  if (c->process)
    {
      struct al_proc_setup s = {
        .config = c,
        .process = c->process,
        .sync_fd = ctx->sync_fd,
        .console_sock = ctx->console_sock,
        .bind_console = true,
        .preserve_fds = ctx->preserve_fds,
        .keep_fd = ctx->fifo_fd,
        .filter = ctx->filter,
        .bpf = ctx->bpf,
      };
      if (al_proc_setup (&s, exe, sizeof exe, &env, &err) < 0)
        goto fail;
    }
  if (ctx->console_sock >= 0)
    close (ctx->console_sock);
  if (ctx->parent_pidfd >= 0)
    {
      /* sandbox run: the supervisor is the parent for good.  The kernel
       * dropped the death signal at the credential changes; set it again
       * now they are done (execve keeps it: no_new_privs forbids setuid),
       * then make sure the parent did not die in between. */
      struct pollfd p = { .fd = ctx->parent_pidfd, .events = POLLIN };
      if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || poll (&p, 1, 0) != 0)
        _exit (1);
      close (ctx->parent_pidfd);
    }
  else
    prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (al_sync_send (ctx->sync_fd, AL_SYNC_READY, NULL) < 0)
    _exit (1);
  /* The sync socket stays open (close-on-exec) until the execve: `run`
   * waits for its end-of-file, so it returns once the process really runs,
   * and a startContainer hook or execve failure reaches it as an ERROR. */

  char go;
  ssize_t r;
  do
    r = read (ctx->fifo_fd, &go, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    _exit (1);
  close (ctx->fifo_fd);

  if (c->process == NULL)
    _exit (1);

  if (c->hooks[AL_HOOK_START_CONTAINER].n > 0)
    {
      cleanup_free char *state = al_init_state_json (c, ctx->id, ctx->bundle, "running", host_pid);
      if (state == NULL || al_hooks_run (c, AL_HOOK_START_CONTAINER, state, &err) < 0)
        {
          if (state == NULL)
            al_error_set (&err, ENOMEM, "hooks.startContainer: state");
          fprintf (stderr, "airlock: start: %s\n", err.msg);
          al_sync_send (ctx->sync_fd, AL_SYNC_ERROR, &err);
          _exit (1);
        }
    }
  struct exec_args a = {
    .exe = exe, .argv = c->process->args, .envp = env, .sync_fd = ctx->sync_fd, .close_fd = -1,
  };
  if (ctx->report_fd >= 0)
    reaper (ctx, &a);
  exec_process (&a);

fail:
  al_sync_send (ctx->sync_fd, AL_SYNC_ERROR, &err);
  _exit (1);
}
