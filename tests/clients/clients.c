/* clients.c — see clients.h. */
#define _GNU_SOURCE
#include "clients.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct buf
{
  char *p;
  size_t len, cap;
};

static void
buf_read (struct buf *b, int *fd)
{
  char tmp[4096];
  ssize_t n = read (*fd, tmp, sizeof tmp);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return;
    }
  if (b->len + n + 1 > b->cap)
    {
      b->cap = (b->len + n + 1) * 2;
      b->p = realloc (b->p, b->cap);
      if (b->p == NULL)
        abort ();
    }
  memcpy (b->p + b->len, tmp, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static char *
buf_take (struct buf *b)
{
  if (b->p == NULL)
    return strdup ("");
  return b->p;
}

static int
decode_status (int st)
{
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return -1;
}

int
c_run (struct c_result *r, const char *stdin_data, int timeout_s, int extra_fd,
       const char *const *argv)
{
  int in[2], out[2], err[2];
  memset (r, 0, sizeof *r);
  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      dup2 (in[0], 0);
      dup2 (out[1], 1);
      dup2 (err[1], 2);
      if (extra_fd >= 0)
        {
          if (extra_fd == 3)
            fcntl (3, F_SETFD, 0);
          else
            dup2 (extra_fd, 3);
        }
      /* Nothing else of the test process leaks into the client. */
      for (int fd = extra_fd >= 0 ? 4 : 3; fd < 1024; fd++)
        close (fd);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      execvp (argv[0], (char *const *) argv);
      fprintf (stderr, "exec %s: %s\n", argv[0], strerror (errno));
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  close (err[1]);
  if (stdin_data)
    {
      size_t len = strlen (stdin_data), off = 0;
      signal (SIGPIPE, SIG_IGN);
      while (off < len)
        {
          ssize_t n = write (in[1], stdin_data + off, len - off);
          if (n <= 0)
            break;
          off += n;
        }
    }
  close (in[1]);

  struct buf bo = { 0 }, be = { 0 };
  int fo = out[0], fe = err[0];
  double deadline = now () + timeout_s, exited_at = 0;
  int st = 0;
  bool done = false, timed_out = false;
  while (fo >= 0 || fe >= 0 || !done)
    {
      if (!done)
        {
          pid_t w = waitpid (pid, &st, WNOHANG);
          if (w == pid)
            {
              done = true;
              exited_at = now ();
            }
        }
      /* A grandchild (conmon, a shim) may hold the pipes open: stop
         reading a second after the client itself exited. */
      if (done && now () - exited_at > 1.0)
        break;
      if (!done && now () > deadline)
        {
          kill (pid, SIGKILL); /* our own child, by its pid */
          waitpid (pid, &st, 0);
          done = true;
          timed_out = true;
          exited_at = now ();
          continue;
        }
      struct pollfd pf[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
      if (poll (pf, 2, 100) > 0)
        {
          if (fo >= 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
            buf_read (&bo, &fo);
          if (fe >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
            buf_read (&be, &fe);
        }
    }
  if (fo >= 0)
    close (fo);
  if (fe >= 0)
    close (fe);
  r->out = buf_take (&bo);
  r->err = buf_take (&be);
  r->status = timed_out ? -1 : decode_status (st);
  return r->status;
}

int
c_runf (struct c_result *r, int timeout_s, const char *fmt, ...)
{
  char *line = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&line, fmt, ap) < 0)
    abort ();
  va_end (ap);
  const char *argv[128];
  size_t n = 0;
  char *save = NULL;
  for (char *tok = strtok_r (line, " ", &save); tok && n < 127; tok = strtok_r (NULL, " ", &save))
    argv[n++] = tok;
  argv[n] = NULL;
  int ret = c_run (r, NULL, timeout_s, -1, argv);
  free (line);
  return ret;
}

void
c_result_free (struct c_result *r)
{
  free (r->out);
  free (r->err);
  r->out = r->err = NULL;
}

pid_t
c_spawn (const char *log_path, const char *const *argv)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      int nul = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0 || nul < 0)
        _exit (127);
      dup2 (nul, 0);
      dup2 (fd, 1);
      dup2 (fd, 2);
      for (int i = 3; i < 1024; i++)
        close (i);
      /* If the test runner dies, the daemon goes with it. */
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      execvp (argv[0], (char *const *) argv);
      _exit (127);
    }
  return pid;
}

void
c_stop (pid_t pid, int timeout_s)
{
  if (pid <= 0)
    return;
  int st;
  kill (pid, SIGTERM);
  double deadline = now () + timeout_s;
  while (now () < deadline)
    {
      if (waitpid (pid, &st, WNOHANG) == pid)
        return;
      usleep (50000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &st, 0);
}

const char *
c_tempdir (const char *tag)
{
  static char path[PATH_MAX];
  snprintf (path, sizeof path, "/tmp/al-clients-%s-XXXXXX", tag);
  if (mkdtemp (path) == NULL)
    return NULL;
  return path;
}

int
c_setup_env (struct c_result *r, const char *dir, const char *what)
{
  const char *src = getenv ("AL_SRCDIR");
  char script[PATH_MAX];
  snprintf (script, sizeof script, "%s/tests/clients/setup-env.sh", src ? src : ".");
  const char *argv[] = { "sh", script, dir, what, NULL };
  return c_run (r, NULL, 300, -1, argv);
}

const char *
c_name (const char *tag)
{
  static char names[8][128];
  static unsigned n;
  char *s = names[n % 8];
  snprintf (s, sizeof names[0], "clients-%s-%d-%u", tag, (int) getpid (), n);
  n++;
  return s;
}

bool
c_mounted_under (const char *dir)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return false;
  char line[8192];
  size_t len = strlen (dir);
  bool found = false;
  while (!found && fgets (line, sizeof line, f))
    {
      char mnt[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strncmp (mnt, dir, len) == 0
          && (mnt[len] == '/' || mnt[len] == '\0'))
        found = true;
    }
  fclose (f);
  return found;
}

int
c_rmtree (const char *dir)
{
  if (dir == NULL || strncmp (dir, "/tmp/al-clients-", 16) != 0)
    return -1;
  if (c_mounted_under (dir))
    {
      fprintf (stderr, "clients: leaving %s: something is still mounted under it\n", dir);
      return -1;
    }
  const char *argv[] = { "rm", "-rf", "--one-file-system", dir, NULL };
  struct c_result r;
  int st = c_run (&r, NULL, 120, -1, argv);
  c_result_free (&r);
  return st == 0 ? 0 : -1;
}

static void
each_hierarchy (const char *rel, void (*fn) (const char *path, void *data), void *data)
{
  DIR *d = opendir ("/sys/fs/cgroup");
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        continue;
      char path[PATH_MAX];
      snprintf (path, sizeof path, "/sys/fs/cgroup/%s/%s", e->d_name, rel);
      fn (path, data);
    }
  closedir (d);
}

static void
rmdir_one (const char *path, void *data)
{
  (void) data;
  rmdir (path);
}

void
c_rmdir_cgroup (const char *rel)
{
  /* Only below airlock/, only rmdir (which fails unless empty). */
  if (strncmp (rel, "airlock/", 8) != 0 || strstr (rel, ".."))
    return;
  each_hierarchy (rel, rmdir_one, NULL);
}

static void
exists_one (const char *path, void *data)
{
  struct stat st;
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    *(bool *) data = true;
}

bool
c_cgroup_exists (const char *rel)
{
  bool found = false;
  each_hierarchy (rel, exists_one, &found);
  return found;
}

const char *
c_airlock (void)
{
  const char *a = getenv ("AIRLOCK");
  return a && *a ? a : "airlock";
}
