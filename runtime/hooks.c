/* hooks.c — see hooks.h. */
#include "config.h"

#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of data to fd, giving up on EPIPE (the hook does not read). */
static void
feed (int fd, const char *data, size_t len)
{
  sigset_t block, old;
  sigemptyset (&block);
  sigaddset (&block, SIGPIPE);
  sigprocmask (SIG_BLOCK, &block, &old);
  while (len > 0)
    {
      ssize_t w = write (fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      data += w;
      len -= (size_t) w;
    }
  /* Drop a SIGPIPE the write raised while blocked, then restore. */
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&block, NULL, &zero) > 0)
    ;
  sigprocmask (SIG_SETMASK, &old, NULL);
}

static int
run_one (const struct al_hook *h, const char *name, const char *state_json, struct al_error *err)
{
  int in[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return al_error_set (err, errno, "%s: pipe", name);

  pid_t pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (in[0]);
      close (in[1]);
      return al_error_set (err, e, "%s: fork", name);
    }
  if (pid == 0)
    {
      signal (SIGPIPE, SIG_DFL);
      setpgid (0, 0); /* its own group: a timeout kills what it started too */
      if (dup2 (in[0], 0) < 0)
        _exit (127);
      char *const no_args[] = { h->path, NULL };
      char *const no_env[] = { NULL };
      execve (h->path, h->args ? h->args : no_args, h->env ? h->env : no_env);
      _exit (errno == ENOENT ? 127 : 126);
    }
  close (in[0]);
  feed (in[1], state_json, strlen (state_json));
  close (in[1]);

  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  long long deadline = h->has_timeout ? now_ms () + (long long) h->timeout * 1000 : -1;
  int status = 0;
  for (;;)
    {
      pid_t w = waitpid (pid, &status, WNOHANG);
      if (w == pid)
        break;
      if (w < 0 && errno != EINTR)
        return al_error_set (err, errno, "%s: wait", name);
      int wait_ms = -1;
      if (deadline >= 0)
        {
          long long left = deadline - now_ms ();
          if (left <= 0)
            {
              /* The group is the one the hook's child made for itself
               * (pgid == its pid): only the hook and its descendants. */
              if (pid > 1 && getpgid (pid) == pid)
                kill (-pid, SIGKILL);
              kill (pid, SIGKILL);
              waitpid (pid, NULL, 0);
              return al_error_reason (err, ETIMEDOUT, "%s `%s`: timed out after %d s", name, h->path,
                                      h->timeout);
            }
          wait_ms = left > 1000 ? 1000 : (int) left;
        }
      if (pidfd >= 0)
        {
          struct pollfd p = { .fd = pidfd, .events = POLLIN };
          poll (&p, 1, wait_ms);
        }
      else
        usleep (1000);
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127 && access (h->path, F_OK) < 0)
    return al_error_reason (err, ENOENT, "%s `%s`: no such file or directory", name, h->path);
  if (WIFEXITED (status))
    return al_error_reason (err, EIO, "%s `%s`: exited with status %d", name, h->path,
                            WEXITSTATUS (status));
  return al_error_reason (err, EIO, "%s `%s`: killed by signal %d", name, h->path, WTERMSIG (status));
}

int
al_hooks_run (const struct al_config *c, enum al_hook_kind kind, const char *state_json,
              struct al_error *err)
{
  const struct al_hook_list *l = &c->hooks[kind];
  for (size_t i = 0; i < l->n; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "hooks.%s[%zu]", al_hook_kind_name (kind), i);
      int ret = run_one (&l->hooks[i], name, state_json, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
al_hooks_check (const struct al_config *c, struct al_error *err)
{
  for (int kind = 0; kind < AL_HOOK__COUNT; kind++)
    {
      if (kind == AL_HOOK_CREATE_CONTAINER || kind == AL_HOOK_START_CONTAINER)
        continue;
      const struct al_hook_list *l = &c->hooks[kind];
      for (size_t i = 0; i < l->n; i++)
        {
          struct stat st;
          const char *path = l->hooks[i].path;
          if (stat (path, &st) < 0)
            return al_error_set (err, errno, "hooks.%s[%zu] `%s`", al_hook_kind_name (kind), i, path);
          if (!S_ISREG (st.st_mode) || access (path, X_OK) < 0)
            return al_error_reason (err, EACCES, "hooks.%s[%zu] `%s`: not an executable file",
                                    al_hook_kind_name (kind), i, path);
        }
    }
  return 0;
}
