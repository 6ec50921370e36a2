/* init.c — the container init; see init.h for the protocol.
 *
 * Order matters and follows runc/crun: namespaces joined, hostname, root
 * filesystem (mounts, devices, pivot_root, masked and read-only paths),
 * then the process: cwd, rlimits, oom/personality/ioprio/scheduler, user
 * and groups (keeping capabilities), capabilities, no_new_privs, fds.
 * The seccomp filter goes last, after the wait for `start`, so the wait
 * itself is not filtered — unless no_new_privs is off, when the filter must
 * be loaded while CAP_SYS_ADMIN is still held, before the capabilities go.
 */
#include "config.h"

#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>

#include "capabilities.h"
#include "cleanup.h"
#include "identity.h"
#include "safepath.h"
#include "namespaces.h"
#include "process.h"
#include "rlimits.h"
#include "rootfs.h"
#include "seccomp.h"

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
al_sync_recv (int fd, struct al_sync_msg *msg, struct al_error *err)
{
  ssize_t r;
  do
    r = recv (fd, msg, sizeof *msg, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return al_error_set (err, errno, "read from container init");
  if (r == 0)
    return al_error_reason (err, EPIPE, "container init exited during setup");
  if (r != (ssize_t) sizeof *msg)
    return al_error_reason (err, EPROTO, "container init sent a short message");
  msg->msg[sizeof msg->msg - 1] = '\0';
  return 0;
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

static int
setup_process (const struct al_init_ctx *ctx, scmp_filter_ctx *seccomp_ctx, char *exe, size_t exe_size,
               char ***ret_env, struct al_error *err)
{
  const struct al_config *c = ctx->config;
  const struct al_process *p = c->process;
  int ret;

  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return al_error_set (err, errno, "open /");

  if (chdir (p->cwd) < 0)
    {
      if (errno != ENOENT)
        return al_error_set (err, errno, "process.cwd: chdir `%s`", p->cwd);
      ret = al_safe_mkdir_p (rootfd, p->cwd, 0755, 0, err);
      if (ret < 0)
        return al_error_wrap (err, "process.cwd");
      close (ret);
      if (chdir (p->cwd) < 0)
        return al_error_set (err, errno, "process.cwd: chdir `%s`", p->cwd);
    }

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

  const struct al_seccomp *sc = c->linux_spec ? c->linux_spec->seccomp : NULL;
  if (sc)
    {
      ret = al_seccomp_compile (sc, seccomp_ctx, err);
      if (ret < 0)
        return ret;
      if (!p->no_new_privileges)
        {
          ret = al_seccomp_load (*seccomp_ctx, NULL, err);
          seccomp_release (*seccomp_ctx);
          *seccomp_ctx = NULL;
          if (ret < 0)
            return ret;
        }
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

  /* CVE-2024-21626: nothing of the host survives the execve but 0-2 and
   * the fds the caller asked to preserve. */
  int keep[2] = { ctx->sync_fd, ctx->fifo_fd };
  return al_cloexec_fds_from (3 + ctx->preserve_fds, keep, 2, err);
}

static int
setup (const struct al_init_ctx *ctx, scmp_filter_ctx *seccomp_ctx, char *exe, size_t exe_size,
       char ***ret_env, struct al_error *err)
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

  struct al_rootfs_opts ropts = { .no_pivot = ctx->no_pivot };
  int root_fd = -1;
  /* Reopen the bundle here: an fd opened before clone3 points into the
   * host's mount namespace, and mount(2) refuses sources from another one. */
  cleanup_close int bundle_fd = open (ctx->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundle_fd < 0)
    return al_error_set (err, errno, "bundle `%s`", ctx->bundle);
  ret = al_rootfs_prepare (c, bundle_fd, &ropts, &root_fd, err);
  if (ret < 0)
    return ret;
  ret = al_rootfs_pivot (c, root_fd, &ropts, err);
  close (root_fd);
  if (ret < 0)
    return ret;
  ret = al_rootfs_finalize (c, err);
  if (ret < 0)
    return ret;

  if (c->process == NULL)
    return 0;
  return setup_process (ctx, seccomp_ctx, exe, exe_size, ret_env, err);
}

void
al_init_run (const struct al_init_ctx *ctx)
{
  struct al_error err = { 0 };
  struct al_sync_msg msg;
  scmp_filter_ctx seccomp_ctx = NULL;
  char exe[4096] = "";
  char **env = NULL;

  /* CVE-2019-5736: until the execve this process is airlock; nothing in the
   * container may open /proc/PID/exe or ptrace it. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);

  /* Drop what clone3 copied from airlock at once: the state directory's
   * flock (held by create until it returns), cgroup directories, the bundle. */
  int keep[2] = { ctx->sync_fd, ctx->fifo_fd };
  if (al_close_fds_from (3 + ctx->preserve_fds, keep, 2, &err) < 0)
    _exit (1);

  if (al_sync_recv (ctx->sync_fd, &msg, &err) < 0 || msg.type != AL_SYNC_GO)
    _exit (1);

  if (setup (ctx, &seccomp_ctx, exe, sizeof exe, &env, &err) < 0)
    {
      al_sync_send (ctx->sync_fd, AL_SYNC_ERROR, &err);
      _exit (1);
    }
  if (al_sync_send (ctx->sync_fd, AL_SYNC_READY, NULL) < 0)
    _exit (1);
  close (ctx->sync_fd);

  char go;
  ssize_t r;
  do
    r = read (ctx->fifo_fd, &go, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    _exit (1);
  close (ctx->fifo_fd);

  if (ctx->config->process == NULL)
    _exit (1);

  if (seccomp_ctx)
    {
      if (al_seccomp_load (seccomp_ctx, NULL, &err) < 0)
        {
          fprintf (stderr, "airlock: init: %s\n", err.msg);
          _exit (1);
        }
    }
  execve (exe, ctx->config->process->args, env);
  int saved = errno;
  fprintf (stderr, "airlock: exec `%s`: %s\n", exe, strerror (saved));
  _exit (saved == ENOENT ? 127 : 126);
}
