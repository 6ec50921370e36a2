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
#include "file.h"
#include "init.h"
#include "namespaces.h"
#include "oci_config.h"
#include "state.h"

#define EXEC_FIFO "exec.fifo"

static int
pidfd_open_checked (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

static int
write_pid_file (const char *path, pid_t pid, struct al_error *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "pid file");
  char *slash = strrchr (copy, '/');
  const char *dir = ".", *base = copy;
  if (slash)
    {
      *slash = '\0';
      dir = slash == copy ? "/" : copy;
      base = slash + 1;
    }
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "pid file `%s`", path);
  return al_write_file_atomic (dfd, base, buf, (size_t) n, 0644, err);
}

static void
warn_cgroup (void *data, const char *msg)
{
  struct al_log *log = data;
  if (log)
    al_log_warn (log, "%s", msg);
}

static int
open_cgroup_host (struct al_log *log, struct al_cgroup_host **ret, struct al_error *err)
{
  int ret_code = al_cgroup_host_detect (AL_CGROUP_DEFAULT_PARENT, ret, err);
  if (ret_code < 0)
    return ret_code;
  al_cgroup_host_set_warn (*ret, warn_cgroup, log);
  return 0;
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
  cleanup_close int fifo_fd = -1;
  cleanup_close int pidfd = -1;
  int sync[2] = { -1, -1 };
  pid_t pid = 0;

  bundle = realpath (o->bundle ? o->bundle : ".", NULL);
  if (bundle == NULL)
    return al_error_set (err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
  bundle_fd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundle_fd < 0)
    return al_error_set (err, errno, "bundle `%s`", bundle);

  ret = al_config_load (bundle_fd, "config.json", &c, err);
  if (ret < 0)
    return ret;

  if (c->process && c->process->terminal && o->console_socket == NULL)
    {
      ret = al_error_reason (err, EINVAL, "process.terminal: a terminal needs --console-socket");
      goto out_config;
    }
  if (c->process && c->process->terminal)
    {
      ret = al_error_reason (err, ENOTSUP, "process.terminal: consoles are not supported yet");
      goto out_config;
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
  if (stat (rootfs, &sb) < 0 || !S_ISDIR (sb.st_mode))
    {
      ret = al_error_set (err, errno ? errno : ENOTDIR, "root.path: `%s`", rootfs);
      goto out_config;
    }

  ret = al_state_open (o->root, o->id, AL_STATE_CREATE, &h, err);
  if (ret < 0)
    goto out_config;

  int dirfd = al_state_dir_fd (h);
  if (mkfifoat (dirfd, EXEC_FIFO, 0600) < 0)
    {
      ret = al_error_set (err, errno, "create exec fifo");
      goto out_state;
    }
  fifo_fd = openat (dirfd, EXEC_FIFO, O_RDWR | O_CLOEXEC);
  if (fifo_fd < 0)
    {
      ret = al_error_set (err, errno, "open exec fifo");
      goto out_state;
    }

  if (!o->cgroups_disabled)
    {
      ret = open_cgroup_host (o->log, &host, err);
      if (ret < 0)
        goto out_state;
      ret = al_cgroup_resolve_path (host, c->linux_spec ? c->linux_spec->cgroups_path : NULL, o->id,
                                    &cg_path, err);
      if (ret < 0)
        goto out_state;
      ret = al_cgroup_create (host, cg_path, &cg, err);
      if (ret < 0)
        goto out_state;
      if (c->linux_spec && c->linux_spec->resources)
        {
          ret = al_cgroup_apply (cg, c->linux_spec->resources, err);
          if (ret < 0)
            goto out_cgroup;
        }
    }

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
    {
      ret = al_error_set (err, errno, "socketpair");
      goto out_cgroup;
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
  if (pid < 0)
    {
      ret = al_error_set (err, errno, "clone3 container init");
      pid = 0;
      goto out_sync;
    }
  if (pid == 0)
    {
      close (sync[0]);
      struct al_init_ctx ctx = {
        .config = c,
        .sync_fd = sync[1],
        .fifo_fd = fifo_fd,
        .bundle = bundle,
        .no_pivot = o->no_pivot,
        .preserve_fds = o->preserve_fds,
        .new_userns = (ns_flags & CLONE_NEWUSER) != 0,
      };
      al_init_run (&ctx);
    }
  close (sync[1]);
  sync[1] = -1;

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
  if (al_sync_send (sync[0], AL_SYNC_GO, NULL) < 0)
    {
      ret = al_error_set (err, errno, "start container init");
      goto out_child;
    }

  struct al_sync_msg msg;
  ret = al_sync_recv (sync[0], &msg, err);
  if (ret < 0)
    goto out_child;
  if (msg.type == AL_SYNC_ERROR)
    {
      ret = al_error_reason (err, msg.errnum ? msg.errnum : EINVAL, "%s", msg.msg);
      goto out_child;
    }
  if (msg.type != AL_SYNC_READY)
    {
      ret = al_error_reason (err, EPROTO, "container init sent message %d", msg.type);
      goto out_child;
    }

  st = al_state_new ();
  if (st == NULL)
    {
      ret = al_error_set (err, ENOMEM, "state");
      goto out_child;
    }
  st->status = AL_STATUS_CREATED;
  st->pid = pid;
  ret = al_state_pid_start_time (pid, &st->pid_start_time, err);
  if (ret < 0)
    goto out_child;
  st->bundle = al_steal_ptr (&bundle);
  st->rootfs = al_steal_ptr (&rootfs);
  st->cgroup_path = cg ? strdup (al_cgroup_path (cg)) : NULL;
  if (c->annotations_json)
    st->annotations = json_incref (c->annotations_json);
  st->extra = json_pack ("{s:b, s:b}", "cgroupOwned", cg ? al_cgroup_owned (cg) : 0,
                         "hasProcess", c->process != NULL);
  ret = al_state_write (h, st, err);
  if (ret < 0)
    goto out_child;

  if (o->pid_file)
    {
      ret = write_pid_file (o->pid_file, pid, err);
      if (ret < 0)
        goto out_child;
    }

  *ret_pid = pid;
  pid = 0;
  ret = 0;
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
  al_cgroup_host_free (host);
  al_state_free (st);
  al_state_close (h);
out_config:
  al_config_free (c);
  return ret;
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

static int
open_container_cgroup (const struct al_state *st, struct al_cgroup_host **ret_host,
                       struct al_cgroup **ret_cg, struct al_error *err)
{
  *ret_host = NULL;
  *ret_cg = NULL;
  if (st->cgroup_path == NULL)
    return 0;
  int ret = open_cgroup_host (NULL, ret_host, err);
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
  int ret = open_container_cgroup (st, &host, &cg, err);
  if (ret < 0 || cg == NULL)
    goto out;
  pid_t *pids = NULL;
  size_t n = 0;
  ret = al_cgroup_pids (cg, &pids, &n, err);
  if (ret < 0)
    goto out;
  /* Only a cgroup that holds this container's init is this container's. */
  bool has_init = false;
  for (size_t i = 0; i < n; i++)
    has_init |= pids[i] == st->pid;
  if (!has_init && st->pid > 0)
    ret = al_error_reason (err, EPERM, "%s: cgroup `%s` does not hold the container's init", st->id,
                           st->cgroup_path);
  for (size_t i = 0; ret == 0 && i < n; i++)
    kill (pids[i], sig);
  free (pids);
out:
  al_cgroup_free (cg);
  al_cgroup_host_free (host);
  return ret;
}

int
al_container_kill (const char *root, const char *id, int sig, bool all, struct al_error *err)
{
  struct al_state_handle *h = NULL;
  struct al_state *st = NULL;
  int ret = open_and_read (root, id, AL_STATE_SHARED, &h, &st, err);
  if (ret < 0)
    return ret;
  h = al_state_close (h);

  if (st->status == AL_STATUS_STOPPED)
    ret = al_error_reason (err, ESRCH, "%s: container is not running", id);
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

  ret = open_container_cgroup (st, &host, &cg, err);
  if (ret < 0)
    goto out;
  if (cg)
    {
      /* Stragglers of a container whose init is gone die with it. */
      if (al_cgroup_check_killable (cg, err) == 0)
        al_cgroup_kill_all (cg, err);
      ret = al_cgroup_remove (cg, err);
      if (ret < 0)
        goto out;
    }
  ret = al_state_remove (h, err);
out:
  al_cgroup_free (cg);
  al_cgroup_host_free (host);
  al_state_free (st);
  al_state_close (h);
  return ret;
}
