/* harness.c — see harness.h.
 *
 * Children are started with fork + execv (never a shell), with stdout and
 * stderr on pipes read through poll(2) and a deadline after which the
 * child — and only the child, by its pid — is killed.  The capture ends
 * when the child exits, not at EOF: `run --detach` leaves the container
 * holding the write ends. */
#include "config.h"

#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define H_MAX_ARGS 64
#define H_OUTPUT_MAX (16 * 1024 * 1024)

const char *
h_airlock_path (void)
{
  const char *p = getenv ("AIRLOCK");
  return p && *p ? p : "./airlock";
}

static const char *
srcdir (void)
{
  const char *p = getenv ("AL_SRCDIR");
  return p && *p ? p : ".";
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct buf
{
  char *data;
  size_t len, cap;
};

static void
buf_append (struct buf *b, const char *p, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + n + 1)
        cap *= 2;
      char *d = realloc (b->data, cap);
      cr_assert_not_null (d, "out of memory");
      b->data = d;
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static char *
buf_take (struct buf *b)
{
  if (b->data == NULL)
    buf_append (b, "", 0);
  return b->data;
}

/* Read what is there; returns false at EOF or error. */
static bool
drain (int fd, struct buf *b)
{
  char chunk[8192];
  ssize_t n = read (fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  if (b->len < H_OUTPUT_MAX)
    buf_append (b, chunk, (size_t) n);
  return true;
}

static int
dup_high (int fd)
{
  return fcntl (fd, F_DUPFD, 512);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__ ((noreturn))
child_exec (const struct h_spawn *s, const char *const *argv, int in_fd, int out_fd, int err_fd)
{
  int hi_in = dup_high (in_fd), hi_out = dup_high (out_fd), hi_err = dup_high (err_fd);
  int hi_extra[16];
  int n_extra = s->n_fds < 16 ? s->n_fds : 16;
  for (int i = 0; i < n_extra; i++)
    hi_extra[i] = dup_high (s->fds[i]);
  if (hi_in < 0 || hi_out < 0 || hi_err < 0)
    _exit (126);
  if (dup2 (hi_in, 0) < 0 || dup2 (hi_out, 1) < 0 || dup2 (hi_err, 2) < 0)
    _exit (126);
  for (int i = 0; i < n_extra; i++)
    if (hi_extra[i] < 0 || dup2 (hi_extra[i], 3 + i) < 0)
      _exit (126);
  /* Nothing else of the test process (Criterion's pipes) leaks in. */
  if (syscall (SYS_close_range, 3 + n_extra, ~0U, 0) < 0)
    for (int fd = 3 + n_extra; fd < 4096; fd++)
      close (fd);

  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  if (s->cwd && chdir (s->cwd) < 0)
    _exit (126);
  execv (argv[0], (char *const *) argv);
  _exit (127);
}

int
h_spawn (struct h_result *r, const struct h_spawn *s, const char *const *argv)
{
  static bool sigpipe_ignored;
  if (!sigpipe_ignored)
    {
      signal (SIGPIPE, SIG_IGN);
      sigpipe_ignored = true;
    }

  memset (r, 0, sizeof *r);
  int out[2], errp[2], in[2] = { -1, -1 };
  cr_assert_eq (pipe2 (out, O_CLOEXEC), 0, "pipe: %s", strerror (errno));
  cr_assert_eq (pipe2 (errp, O_CLOEXEC), 0, "pipe: %s", strerror (errno));
  if (s->stdin_data)
    cr_assert_eq (pipe2 (in, O_CLOEXEC), 0, "pipe: %s", strerror (errno));
  else
    {
      in[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      cr_assert_geq (in[0], 0, "open /dev/null: %s", strerror (errno));
    }

  fflush (NULL);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0, "fork: %s", strerror (errno));
  if (pid == 0)
    child_exec (s, argv, in[0], out[1], errp[1]);

  close (in[0]);
  close (out[1]);
  close (errp[1]);
  int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  cr_assert_geq (pidfd, 0, "pidfd_open: %s", strerror (errno));

  struct buf ob = { 0 }, eb = { 0 };
  const char *in_data = s->stdin_data;
  size_t in_left = in_data ? strlen (in_data) : 0;
  if (in[1] >= 0 && in_left == 0)
    {
      close (in[1]);
      in[1] = -1;
    }
  if (in[1] >= 0)
    fcntl (in[1], F_SETFL, O_NONBLOCK);

  int timeout_s = s->timeout_s > 0 ? s->timeout_s : 30;
  long long deadline = now_ms () + (long long) timeout_s * 1000;
  bool timed_out = false, exited = false;
  int out_fd = out[0], err_fd = errp[0];
  while (!exited)
    {
      struct pollfd p[4] = {
        { .fd = pidfd, .events = POLLIN },
        { .fd = out_fd, .events = POLLIN },
        { .fd = err_fd, .events = POLLIN },
        { .fd = in[1], .events = POLLOUT },
      };
      long long left = deadline - now_ms ();
      if (left <= 0)
        {
          /* Only our own child, by its pid. */
          kill (pid, SIGKILL);
          timed_out = true;
          break;
        }
      int n = poll (p, 4, (int) (left > 1000 ? 1000 : left));
      if (n < 0 && errno != EINTR)
        cr_assert_fail ("poll: %s", strerror (errno));
      if (n <= 0)
        continue;
      if (p[1].revents && !drain (out_fd, &ob))
        out_fd = -1;
      if (p[2].revents && !drain (err_fd, &eb))
        err_fd = -1;
      if (p[3].revents)
        {
          ssize_t w = (p[3].revents & POLLOUT) ? write (in[1], in_data, in_left) : -1;
          if (w > 0)
            {
              in_data += w;
              in_left -= (size_t) w;
            }
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_left == 0)
            {
              close (in[1]);
              in[1] = -1;
            }
        }
      if (p[0].revents)
        exited = true;
    }

  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  /* What the child wrote before it exited is in the pipes; whoever else
   * still holds the write ends (a detached container) is not waited for. */
  if (out_fd >= 0)
    fcntl (out_fd, F_SETFL, O_NONBLOCK);
  if (err_fd >= 0)
    fcntl (err_fd, F_SETFL, O_NONBLOCK);
  for (bool more = true; more;)
    {
      more = false;
      if (out_fd >= 0)
        {
          size_t before = ob.len;
          if (!drain (out_fd, &ob))
            out_fd = -1;
          else
            more |= ob.len != before;
        }
      if (err_fd >= 0)
        {
          size_t before = eb.len;
          if (!drain (err_fd, &eb))
            err_fd = -1;
          else
            more |= eb.len != before;
        }
    }
  close (out[0]);
  close (errp[0]);
  if (in[1] >= 0)
    close (in[1]);
  close (pidfd);

  r->out = buf_take (&ob);
  r->err = buf_take (&eb);
  if (timed_out)
    r->status = -1;
  else if (WIFEXITED (status))
    r->status = WEXITSTATUS (status);
  else
    r->status = 128 + WTERMSIG (status);
  return r->status;
}

void
h_result_free (struct h_result *r)
{
  free (r->out);
  free (r->err);
  r->out = r->err = NULL;
}

const char *
h_id (const char *tag)
{
  static char ring[16][128];
  static unsigned n;
  char *buf = ring[n % 16];
  snprintf (buf, sizeof ring[0], "%s-%d-%u", tag, (int) getpid (), n);
  n++;
  return buf;
}

static int remove_entry (const char *path, const struct stat *sb, int type, struct FTW *ftw);

void
h_remove_tree (const char *dir)
{
  /* Depth first, never following a symlink nor crossing into another
   * mount (a leaked bind mount must not take a host directory with it). */
  nftw (dir, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* make-bundle.sh forks once per busybox applet, seconds on a busy machine,
 * so it runs once per test run: into a template named after the Criterion
 * runner (the parent of every test process) and the airlock binary, which
 * each test copies.  The runner removes it at exit; a template whose
 * runner is gone is removed by the next run. */
#define TEMPLATE_PREFIX "al-itest-tmpl-"

static char template_dir[PATH_MAX];

/* Removes the templates of the owners for which keep() is false. */
static void
remove_templates (bool (*keep) (pid_t owner))
{
  DIR *d = opendir ("/tmp");
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (strncmp (e->d_name, TEMPLATE_PREFIX, strlen (TEMPLATE_PREFIX)) != 0)
        continue;
      long owner = strtol (e->d_name + strlen (TEMPLATE_PREFIX), NULL, 10);
      if (owner <= 0 || keep ((pid_t) owner))
        continue;
      char path[PATH_MAX];
      snprintf (path, sizeof path, "/tmp/%s", e->d_name);
      h_remove_tree (path);
      unlink (path);
    }
  closedir (d);
}

static bool
owner_alive (pid_t owner)
{
  return kill (owner, 0) == 0 || errno != ESRCH;
}

static bool
owner_not_me (pid_t owner)
{
  return owner != getpid ();
}

/* In the runner, at exit: its template goes. */
static void __attribute__ ((destructor)) remove_own_template (void)
{
  remove_templates (owner_not_me);
}

static void
make_bundle (const char *dir)
{
  char script[PATH_MAX];
  snprintf (script, sizeof script, "%s/tests/fixtures/make-bundle.sh", srcdir ());
  const char *argv[] = { "/bin/sh", script, dir, NULL };
  /* make-bundle.sh finds airlock through $AIRLOCK. */
  setenv ("AIRLOCK", h_airlock_path (), 1);
  struct h_result r;
  struct h_spawn s = { .timeout_s = 120 };
  h_spawn (&r, &s, argv);
  cr_assert_eq (r.status, 0, "make-bundle.sh %s failed (%d): %s", dir, r.status, r.err);
  h_result_free (&r);
}

static const char *
bundle_template (void)
{
  char script[PATH_MAX];
  struct stat a, sc;
  snprintf (script, sizeof script, "%s/tests/fixtures/make-bundle.sh", srcdir ());
  cr_assert_eq (stat (h_airlock_path (), &a), 0, "airlock `%s`: %s", h_airlock_path (),
                strerror (errno));
  cr_assert_eq (stat (script, &sc), 0, "%s: %s", script, strerror (errno));
  pid_t owner = getppid ();
  snprintf (template_dir, sizeof template_dir, "/tmp/" TEMPLATE_PREFIX "%d-%lx-%lx-%lx",
            (int) owner, (unsigned long) a.st_ino, (unsigned long) a.st_mtime,
            (unsigned long) sc.st_mtime);

  char lock[PATH_MAX + 8], ready[PATH_MAX + 32];
  snprintf (lock, sizeof lock, "%s.lock", template_dir);
  snprintf (ready, sizeof ready, "%s/config.json", template_dir);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  cr_assert_geq (fd, 0, "%s: %s", lock, strerror (errno));
  while (flock (fd, LOCK_EX) < 0 && errno == EINTR)
    ;
  if (access (ready, F_OK) != 0)
    {
      remove_templates (owner_alive);
      char tmp[PATH_MAX + 8];
      snprintf (tmp, sizeof tmp, "%s.tmp", template_dir);
      h_remove_tree (tmp);
      make_bundle (tmp);
      cr_assert_eq (rename (tmp, template_dir), 0, "rename %s: %s", tmp, strerror (errno));
    }
  close (fd);
  return template_dir;
}

void
h_bundle_init (struct h_bundle *b, const char *const *args)
{
  memset (b, 0, sizeof *b);
  char tmpl[] = "/tmp/al-itest-bundle-XXXXXX";
  cr_assert_not_null (mkdtemp (tmpl), "mkdtemp: %s", strerror (errno));
  snprintf (b->dir, sizeof b->dir, "%s", tmpl);
  snprintf (b->root, sizeof b->root, "%s/state", tmpl);

  const char *tdir = bundle_template ();
  char from[PATH_MAX + 8];
  snprintf (from, sizeof from, "%s/.", tdir);
  const char *cp[] = { "/bin/cp", "-a", from, b->dir, NULL };
  struct h_result r;
  struct h_spawn s = { .timeout_s = 120 };
  h_spawn (&r, &s, cp);
  cr_assert_eq (r.status, 0, "cp %s %s failed (%d): %s", from, b->dir, r.status, r.err);
  h_result_free (&r);

  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/config.json", b->dir);
  json_error_t jerr;
  b->config = json_load_file (path, 0, &jerr);
  cr_assert_not_null (b->config, "%s: %s", path, jerr.text);
  /* What make-bundle.sh does with its ARG...: process.args (default sh). */
  static const char *const sh[] = { "sh", NULL };
  h_set_args (b, args && *args ? args : sh);
  h_bundle_save (b);
}

void
h_bundle_save (struct h_bundle *b)
{
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/config.json", b->dir);
  cr_assert_eq (json_dump_file (b->config, path, JSON_INDENT (2)), 0, "write %s", path);
}

static int
remove_entry (const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
  (void) sb;
  (void) ftw;
  if (type == FTW_DP)
    rmdir (path);
  else
    unlink (path);
  return 0;
}

void
h_bundle_fini (struct h_bundle *b)
{
  if (b->dir[0] == '\0')
    return;
  DIR *d = opendir (b->root);
  if (d)
    {
      struct dirent *e;
      char ids[64][256];
      int n = 0;
      while ((e = readdir (d)) != NULL && n < 64)
        if (e->d_name[0] != '.')
          snprintf (ids[n++], sizeof ids[0], "%s", e->d_name);
      closedir (d);
      for (int i = 0; i < n; i++)
        {
          struct h_result r;
          const char *argv[] = { "delete", "--force", ids[i], NULL };
          h_airlock (&r, b, NULL, 30, argv);
          h_result_free (&r);
        }
    }
  h_remove_tree (b->dir);
  json_decref (b->config);
  b->config = NULL;
}

int
h_airlock_ex (struct h_result *r, struct h_bundle *b, const struct h_spawn *opts,
              const char *const *argv)
{
  const char *full[H_MAX_ARGS + 4] = { h_airlock_path (), "--root", b->root };
  int argc = 3;
  for (const char *const *a = argv; *a && argc < H_MAX_ARGS; a++)
    full[argc++] = *a;
  full[argc] = NULL;
  struct h_spawn s = *opts;
  if (s.cwd == NULL)
    s.cwd = b->dir;
  return h_spawn (r, &s, full);
}

int
h_airlock (struct h_result *r, struct h_bundle *b, const char *stdin_data, int timeout_s,
           const char *const *argv)
{
  struct h_spawn s = { .stdin_data = stdin_data, .timeout_s = timeout_s };
  return h_airlock_ex (r, b, &s, argv);
}

int
h_airlockf (struct h_result *r, struct h_bundle *b, const char *fmt, ...)
{
  char *line = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&line, fmt, ap);
  va_end (ap);
  cr_assert_geq (n, 0, "vasprintf");
  const char *argv[H_MAX_ARGS + 1];
  int argc = 0;
  char *save = NULL;
  for (char *tok = strtok_r (line, " ", &save); tok && argc < H_MAX_ARGS;
       tok = strtok_r (NULL, " ", &save))
    argv[argc++] = tok;
  argv[argc] = NULL;
  int ret = h_airlock (r, b, NULL, 30, argv);
  free (line);
  return ret;
}

json_t *
h_state (struct h_bundle *b, const char *id)
{
  struct h_result r;
  const char *argv[] = { "state", id, NULL };
  h_airlock (&r, b, NULL, 30, argv);
  json_t *j = NULL;
  if (r.status == 0)
    j = json_loads (r.out, 0, NULL);
  h_result_free (&r);
  return j;
}

/* ---------------------------------------------------------------- clean */

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (char *p = s; *p;)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0'
          && p[3] <= '7')
        {
          *w++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
          p += 4;
        }
      else
        *w++ = *p++;
    }
  *w = '\0';
}

static bool
path_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Calls fn for each mount of /proc/self/mountinfo: point and fstype. */
static void
each_mount (void (*fn) (const char *point, const char *fstype, void *data), void *data)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  cr_assert_not_null (f, "open /proc/self/mountinfo: %s", strerror (errno));
  char *line = NULL;
  size_t cap = 0;
  while (getline (&line, &cap, f) > 0)
    {
      /* id parent major:minor root point options [optional...] - fstype source super */
      char *fields[8] = { 0 };
      char *save = NULL;
      int i = 0;
      for (char *t = strtok_r (line, " \n", &save); t && i < 5; t = strtok_r (NULL, " \n", &save))
        fields[i++] = t;
      if (i < 5)
        continue;
      char *fstype = NULL;
      for (char *t = strtok_r (NULL, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
        if (strcmp (t, "-") == 0)
          {
            fstype = strtok_r (NULL, " \n", &save);
            break;
          }
      unescape_octal (fields[4]);
      fn (fields[4], fstype ? fstype : "", data);
    }
  free (line);
  fclose (f);
}

struct mount_check
{
  const char *dir;
  char found[1024];
};

static void
check_mount (const char *point, const char *fstype, void *data)
{
  struct mount_check *m = data;
  if (m->found[0] == '\0' && path_under (point, m->dir))
    snprintf (m->found, sizeof m->found, "%s (%s)", point, fstype);
}

struct cgroup_check
{
  const char *id;
  char found[PATH_MAX];
};

static void
check_cgroup_at (const char *mountpoint, struct cgroup_check *c)
{
  char path[PATH_MAX];
  struct stat st;
  if (c->found[0])
    return;
  snprintf (path, sizeof path, "%s/airlock/%s", mountpoint, c->id);
  if (stat (path, &st) == 0)
    snprintf (c->found, sizeof c->found, "%s", path);
}

static void
check_cgroup_mount (const char *point, const char *fstype, void *data)
{
  if (strcmp (fstype, "cgroup") == 0 || strcmp (fstype, "cgroup2") == 0)
    check_cgroup_at (point, data);
}

/* dev/ino of every directory of the bundle (rootfs included), to find a
 * process whose root or cwd is there even where readlink shows "/". */
struct dirset
{
  dev_t dev[4096];
  ino_t ino[4096];
  size_t n;
};

static struct dirset *walk_set;

static int
collect_dir (const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (type == FTW_D && walk_set->n < 4096)
    {
      walk_set->dev[walk_set->n] = sb->st_dev;
      walk_set->ino[walk_set->n] = sb->st_ino;
      walk_set->n++;
    }
  return 0;
}

static bool
in_dirset (const struct dirset *s, const struct stat *st)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->dev[i] == st->st_dev && s->ino[i] == st->st_ino)
      return true;
  return false;
}

static void
check_procs (const char *dir, char *found, size_t size)
{
  struct dirset *set = calloc (1, sizeof *set);
  cr_assert_not_null (set);
  walk_set = set;
  nftw (dir, collect_dir, 32, FTW_PHYS | FTW_MOUNT);
  walk_set = NULL;

  DIR *d = opendir ("/proc");
  cr_assert_not_null (d, "open /proc: %s", strerror (errno));
  struct dirent *e;
  pid_t self = getpid ();
  while (found[0] == '\0' && (e = readdir (d)) != NULL)
    {
      char *end;
      long pid = strtol (e->d_name, &end, 10);
      if (*end || pid <= 0 || pid == self)
        continue;
      static const char *const links[] = { "root", "cwd" };
      for (int i = 0; i < 2 && found[0] == '\0'; i++)
        {
          char path[64], target[PATH_MAX];
          snprintf (path, sizeof path, "/proc/%ld/%s", pid, links[i]);
          ssize_t n = readlink (path, target, sizeof target - 1);
          if (n < 0)
            continue; /* gone, or a zombie */
          target[n] = '\0';
          struct stat st;
          bool hit = path_under (target, dir);
          if (!hit && stat (path, &st) == 0)
            hit = in_dirset (set, &st);
          if (hit)
            {
              char comm[64] = "?";
              char cpath[64];
              snprintf (cpath, sizeof cpath, "/proc/%ld/comm", pid);
              FILE *f = fopen (cpath, "re");
              if (f)
                {
                  if (fgets (comm, sizeof comm, f))
                    comm[strcspn (comm, "\n")] = '\0';
                  fclose (f);
                }
              snprintf (found, size, "process %ld (%s) has its %s at %s", pid, comm, links[i],
                        target);
            }
        }
    }
  closedir (d);
  free (set);
}

void
h_assert_clean (struct h_bundle *b, const char *id)
{
  /* The state entry, and any hidden entry (a half-built or half-removed
   * directory) naming the id. */
  DIR *d = opendir (b->root);
  if (d)
    {
      struct dirent *e;
      char left[PATH_MAX + 512] = "";
      while ((e = readdir (d)) != NULL)
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..") && strstr (e->d_name, id))
          snprintf (left, sizeof left, "%s/%s", b->root, e->d_name);
      closedir (d);
      cr_assert_eq (left[0], '\0', "%s: state left behind: %s", id, left);
    }
  else
    cr_assert_eq (errno, ENOENT, "open %s: %s", b->root, strerror (errno));

  /* A cgroup airlock/<id> in any hierarchy: every directory under
   * /sys/fs/cgroup (v1 controllers and the unified one) and every mounted
   * cgroup filesystem wherever it is. */
  struct cgroup_check cg = { .id = id };
  d = opendir ("/sys/fs/cgroup");
  if (d)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL && cg.found[0] == '\0')
        {
          if (e->d_name[0] == '.')
            continue;
          char path[PATH_MAX];
          snprintf (path, sizeof path, "/sys/fs/cgroup/%s", e->d_name);
          check_cgroup_at (path, &cg);
        }
      closedir (d);
      check_cgroup_at ("/sys/fs/cgroup", &cg);
    }
  each_mount (check_cgroup_mount, &cg);
  cr_assert_eq (cg.found[0], '\0', "%s: cgroup left behind: %s", id, cg.found);

  struct mount_check m = { .dir = b->dir };
  each_mount (check_mount, &m);
  cr_assert_eq (m.found[0], '\0', "%s: mount left behind under %s: %s", id, b->dir, m.found);

  char proc[PATH_MAX + 128] = "";
  check_procs (b->dir, proc, sizeof proc);
  cr_assert_eq (proc[0], '\0', "%s: %s", id, proc);
}

/* ---------------------------------------------------------------- extras */

json_t *
h_wait_status (struct h_bundle *b, const char *id, const char *status, int timeout_s)
{
  long long deadline = now_ms () + (long long) timeout_s * 1000;
  for (;;)
    {
      json_t *st = h_state (b, id);
      const char *s = st ? json_string_value (json_object_get (st, "status")) : NULL;
      if (s && strcmp (s, status) == 0)
        return st;
      json_decref (st);
      if (now_ms () > deadline)
        return NULL;
      usleep (50 * 1000);
    }
}

char *
h_read_file (const char *path)
{
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return NULL;
  struct buf b = { 0 };
  char chunk[4096];
  size_t n;
  while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
    buf_append (&b, chunk, n);
  fclose (f);
  return buf_take (&b);
}

bool
h_cgroup_v2 (void)
{
  static int v2 = -1;
  if (v2 < 0)
    {
      struct statfs st;
      cr_assert_eq (statfs ("/sys/fs/cgroup", &st), 0, "statfs /sys/fs/cgroup: %s",
                    strerror (errno));
      v2 = st.f_type == CGROUP2_SUPER_MAGIC;
    }
  return v2;
}

char *
h_cgroup_read (const char *id, const char *v1_ctrl, const char *v1_file, const char *v2_file)
{
  char path[PATH_MAX + 128];
  if (h_cgroup_v2 ())
    {
      if (v2_file == NULL)
        return NULL;
      snprintf (path, sizeof path, "/sys/fs/cgroup/airlock/%.255s/%.64s", id, v2_file);
    }
  else
    {
      if (v1_ctrl == NULL || v1_file == NULL)
        return NULL;
      snprintf (path, sizeof path, "/sys/fs/cgroup/%.32s/airlock/%.255s/%.64s", v1_ctrl, id,
                v1_file);
    }
  return h_read_file (path);
}

void
h_write_file (const char *path, const char *content)
{
  FILE *f = fopen (path, "we");
  cr_assert_not_null (f, "open %s: %s", path, strerror (errno));
  fputs (content, f);
  cr_assert_eq (fclose (f), 0, "write %s: %s", path, strerror (errno));
}

json_t *
h_process (struct h_bundle *b)
{
  json_t *p = json_object_get (b->config, "process");
  cr_assert_not_null (p, "config.json has no process");
  return p;
}

void
h_set_args (struct h_bundle *b, const char *const *args)
{
  json_t *a = json_array ();
  for (; *args; args++)
    json_array_append_new (a, json_string (*args));
  json_object_set_new (h_process (b), "args", a);
}
