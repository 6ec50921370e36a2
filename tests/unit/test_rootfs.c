/* test_rootfs.c — isolation/safepath.h and isolation/rootfs.h, for real.
 *
 * Every case runs its body in a forked child that first unshares a mount
 * namespace (plus pid/net/ipc/uts/cgroup/user ones where a case needs them)
 * and makes / rprivate; with a pid namespace the body runs as its pid 1.
 * The body builds a container root from a busybox rootfs in a temp dir and
 * checks the result from inside (/proc/self/mountinfo, stat, writes that
 * must fail with EROFS).  The test process compares its own mountinfo before
 * and after every child: the host's mount table never changes.
 *
 * In the child, CHECK() reports the first failure through a pipe and exits;
 * Criterion asserts only in the test process.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "oci_config.h"
#include "rootfs.h"
#include "safepath.h"

/* Each Criterion test runs in its own process: these are per test. */
static char tmpdir[64];
static char rootfs[96];
static char tag[64]; /* unique per test: names probed for on the host */
static int report_fd = -1;
static bool had_evil, had_evil2;   /* a broken resolver makes these on the host */
static char join_cgroup[PATH_MAX]; /* the child enters this v1 memory cgroup first */

/* ------------------------------------------------------------- helpers */

static void
write_text (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  cr_assert_geq (fd, 0, "create %s: %s", path, strerror (errno));
  cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
}

/* Whole file, NUL-terminated, malloc'd; NULL on error (errno set). */
static char *
read_all_fd (int fd)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc (cap);
  for (;;)
    {
      if (len + 1 >= cap)
        buf = realloc (buf, cap *= 2);
      ssize_t n = read (fd, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          free (buf);
          errno = e;
          return NULL;
        }
      if (n == 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  return buf;
}

static char *
read_all (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char *s = read_all_fd (fd);
  int e = errno;
  close (fd);
  errno = e;
  return s;
}

static void
copy_file (const char *from, const char *to, mode_t mode)
{
  int in = open (from, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (in, 0, "open %s", from);
  int out = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  cr_assert_geq (out, 0, "create %s", to);
  char buf[65536];
  ssize_t n;
  while ((n = read (in, buf, sizeof buf)) > 0)
    cr_assert_eq (write (out, buf, (size_t) n), n);
  close (in);
  close (out);
}

static void
mkdirs (const char *base, const char *const *dirs)
{
  char p[PATH_MAX];
  for (; *dirs; dirs++)
    {
      snprintf (p, sizeof p, "%s/%s", base, *dirs);
      cr_assert (mkdir (p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror (errno));
    }
}

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

/* A busybox rootfs as tests/fixtures/make-bundle.sh makes it (fewer
 * applets), plus the traps the symlink tests walk into. */
static void
setup (void)
{
  if (geteuid () != 0)
    cr_skip_test ("needs root: mount namespaces, mknod, pivot_root");
  had_evil = access ("/evil", F_OK) == 0;
  had_evil2 = access ("/evil2", F_OK) == 0;
  snprintf (tmpdir, sizeof tmpdir, "/tmp/al-rootfs-XXXXXX");
  cr_assert_not_null (mkdtemp (tmpdir));
  snprintf (tag, sizeof tag, "al-probe-%s", tmpdir + strlen ("/tmp/al-rootfs-"));
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", tmpdir);
  static const char *const dirs[]
      = { "rootfs",         "rootfs/bin", "rootfs/sbin", "rootfs/etc",  "rootfs/proc",
          "rootfs/sys",     "rootfs/dev", "rootfs/tmp",  "rootfs/root", "rootfs/usr",
          "rootfs/usr/bin", "data",       "data/sub",    NULL };
  mkdirs (tmpdir, dirs);
  char p[PATH_MAX], q[PATH_MAX];
  snprintf (p, sizeof p, "%s/bin/busybox", rootfs);
  copy_file ("/bin/busybox", p, 0755);
  static const char *const applets[] = { "sh", "cat", "ls", "test", "echo", "mount", "true", NULL };
  for (const char *const *a = applets; *a; a++)
    {
      snprintf (p, sizeof p, "%s/bin/%s", rootfs, *a);
      cr_assert_eq (symlink ("busybox", p), 0);
    }
  snprintf (p, sizeof p, "%s/etc/hostname", rootfs);
  write_text (p, "airlock-fixture\n");
  snprintf (p, sizeof p, "%s/etc/passwd", rootfs);
  write_text (p, "root:x:0:0:root:/root:/bin/sh\n");
  snprintf (p, sizeof p, "%s/data/file.txt", tmpdir);
  write_text (p, "host data\n");
  snprintf (p, sizeof p, "%s/data/sub/inner.txt", tmpdir);
  write_text (p, "inner\n");

  /* Traps: every one of these must resolve inside the rootfs. */
  snprintf (p, sizeof p, "%s/evil", rootfs);
  cr_assert_eq (symlink ("/etc", p), 0);
  snprintf (p, sizeof p, "%s/evil2", rootfs);
  cr_assert_eq (symlink ("../../../../../../../../../etc", p), 0);
  snprintf (p, sizeof p, "%s/dangling", rootfs);
  snprintf (q, sizeof q, "/%s-dangling/dir", tag);
  cr_assert_eq (symlink (q, p), 0);
  snprintf (p, sizeof p, "%s/loop", rootfs);
  cr_assert_eq (symlink ("loop", p), 0);
}

/* Names the symlink tests aim at the host: "/etc/" TAG SUFFIX. */
static const char *const probe_suffixes[]
    = { ".file", ".fifo", ".lnk", "/sub", "", "-a", "-b", "-c", NULL };

static void
remove_host_probes (void)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "/evil/%s-a", tag);
  remove (p);
  snprintf (p, sizeof p, "/evil2/%s-b", tag);
  remove (p);
  snprintf (p, sizeof p, "/evil2/%s-c", tag);
  remove (p);
  if (!had_evil)
    rmdir ("/evil");
  if (!had_evil2)
    rmdir ("/evil2");
  for (const char *const *f = probe_suffixes; *f; f++)
    {
      snprintf (p, sizeof p, "/etc/%s%s", tag, *f);
      remove (p);
    }
  snprintf (p, sizeof p, "/%s-dangling/dir", tag);
  remove (p);
  snprintf (p, sizeof p, "/%s-dangling", tag);
  remove (p);
}

static void
teardown (void)
{
  if (join_cgroup[0])
    rmdir (join_cgroup);
  remove_host_probes ();
  /* FTW_MOUNT: never walk into a mount, should a test have leaked one. */
  nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

TestSuite (rootfs, .init = setup, .fini = teardown, .timeout = 60);

/* Whether the host has DIR TAG SUFFIX, a name a symlink test aims at. */
static bool
host_probe_exists (const char *dir, const char *suffix)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s%s%s", dir, tag, suffix);
  struct stat st;
  return lstat (p, &st) == 0;
}

/* ---------------------------------------------------- the child side */

static void report (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void
report (const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  size_t n = strlen (buf);
  if (n + 1 < sizeof buf)
    buf[n++] = '\n';
  if (write (report_fd, buf, n) < 0)
    _exit (3);
}

static void fail_at (int line, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 2, 3)));
static void
fail_at (int line, const char *fmt, ...)
{
  char buf[3072];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  report ("FAIL line %d: %s", line, buf);
  _exit (1);
}

#define CHECK(cond, ...) ((cond) ? (void) 0 : fail_at (__LINE__, __VA_ARGS__))

/* One mount as /proc/self/mountinfo shows it. */
struct mnt
{
  unsigned long id, parent;
  char root[PATH_MAX];
  char point[PATH_MAX];
  char opts[512];     /* per-mount */
  char optional[256]; /* shared:N master:N unbindable */
  char fstype[64];
  char super[1024];
};

static bool
parse_mnt (char *line, struct mnt *m)
{
  char *save = NULL;
  char *f[6];
  for (int i = 0; i < 6; i++)
    if ((f[i] = strtok_r (i ? NULL : line, " \n", &save)) == NULL)
      return false;
  m->id = strtoul (f[0], NULL, 10);
  m->parent = strtoul (f[1], NULL, 10);
  snprintf (m->root, sizeof m->root, "%s", f[3]);
  snprintf (m->point, sizeof m->point, "%s", f[4]);
  snprintf (m->opts, sizeof m->opts, "%s", f[5]);
  m->optional[0] = '\0';
  char *t;
  while ((t = strtok_r (NULL, " \n", &save)) && strcmp (t, "-") != 0)
    {
      strncat (m->optional, t, sizeof m->optional - strlen (m->optional) - 2);
      strcat (m->optional, " ");
    }
  char *type = strtok_r (NULL, " \n", &save);
  char *source = strtok_r (NULL, " \n", &save);
  char *super = strtok_r (NULL, " \n", &save);
  if (!type || !source || !super)
    return false;
  snprintf (m->fstype, sizeof m->fstype, "%s", type);
  snprintf (m->super, sizeof m->super, "%s", super);
  return true;
}

/* Calls fn for every mount; counts them. */
static size_t
each_mount (void (*fn) (const struct mnt *, void *), void *arg)
{
  char *text = read_all ("/proc/self/mountinfo");
  CHECK (text != NULL, "read mountinfo: %s", strerror (errno));
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      struct mnt m;
      if (!parse_mnt (line, &m))
        continue;
      n++;
      if (fn)
        fn (&m, arg);
    }
  free (text);
  return n;
}

struct find_arg
{
  const char *point;
  struct mnt *out;
  bool found;
};

static void
find_cb (const struct mnt *m, void *arg)
{
  struct find_arg *a = arg;
  if (strcmp (m->point, a->point) == 0)
    {
      *a->out = *m; /* the last one listed is on top */
      a->found = true;
    }
}

static struct mnt
must_find_mount (const char *point, int line)
{
  struct mnt m;
  struct find_arg a = { point, &m, false };
  each_mount (find_cb, &a);
  if (!a.found)
    fail_at (line, "no mount at %s", point);
  return m;
}
#define MOUNT_AT(p) must_find_mount ((p), __LINE__)

static bool
has_opt (const char *list, const char *opt)
{
  size_t n = strlen (opt);
  for (const char *p = list; p && *p;)
    {
      if (strncmp (p, opt, n) == 0 && (p[n] == ',' || p[n] == ' ' || p[n] == '\0'))
        return true;
      p = strpbrk (p, ", ");
      if (p)
        p++;
    }
  return false;
}

static bool
is_mounted (const char *point)
{
  struct mnt m;
  struct find_arg a = { point, &m, false };
  each_mount (find_cb, &a);
  return a.found;
}

static long
fs_type (const char *path)
{
  struct statfs s;
  CHECK (statfs (path, &s) == 0, "statfs %s: %s", path, strerror (errno));
  return (long) s.f_type;
}

/* errno of creating a file at path (0 if it worked). */
static int
create_errno (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno;
  close (fd);
  return 0;
}

static void
check_text (const char *path, const char *want, int line)
{
  char *got = read_all (path);
  if (got == NULL)
    fail_at (line, "read %s: %s", path, strerror (errno));
  if (strcmp (got, want) != 0)
    fail_at (line, "%s holds `%s`, expected `%s`", path, got, want);
  free (got);
}
#define CHECK_TEXT(p, w) check_text ((p), (w), __LINE__)

static void
check_chr (const char *path, unsigned maj, unsigned min, int line)
{
  struct stat st;
  if (stat (path, &st) < 0)
    fail_at (line, "stat %s: %s", path, strerror (errno));
  if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != maj || minor (st.st_rdev) != min)
    fail_at (line, "%s is not the char device %u:%u (mode %o, %u:%u)", path, maj, min, st.st_mode,
             major (st.st_rdev), minor (st.st_rdev));
}
#define CHECK_CHR(p, a, b) check_chr ((p), (a), (b), __LINE__)

static void
check_link (const char *path, const char *want, int line)
{
  char buf[PATH_MAX];
  ssize_t n = readlink (path, buf, sizeof buf - 1);
  if (n < 0)
    fail_at (line, "readlink %s: %s", path, strerror (errno));
  buf[n] = '\0';
  if (strcmp (buf, want) != 0)
    fail_at (line, "%s -> %s, expected -> %s", path, buf, want);
}
#define CHECK_LINK(p, w) check_link ((p), (w), __LINE__)

/* Make syscalls fail with errnum: ENOSYS as on an older kernel, EINVAL for
 * pivot_root as on a ramfs root. */
static void
deny_syscalls (const int *syscalls, size_t n, int errnum)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  CHECK (ctx != NULL, "seccomp_init");
  for (size_t i = 0; i < n; i++)
    CHECK (seccomp_rule_add (ctx, SCMP_ACT_ERRNO ((unsigned) errnum), syscalls[i], 0) == 0,
           "seccomp rule");
  CHECK (seccomp_load (ctx) == 0, "seccomp_load");
  seccomp_release (ctx);
}

/* --------------------------------------------------- the parent side */

static void
write_map (const char *file, const char *text)
{
  int fd = open (file, O_WRONLY | O_CLOEXEC);
  CHECK (fd >= 0, "open %s: %s", file, strerror (errno));
  CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text), "write %s: %s", file,
         strerror (errno));
  close (fd);
}

/* Run fn(arg) in a child with a private mount namespace and the other
 * namespaces in flags (CLONE_NEWUSER maps root to root, one id).  Returns
 * what the child reported (malloc'd) and its wait status. */
static char *
run_contained (int flags, void (*fn) (void *), void *arg, int *ret_status)
{
  cleanup_free char *before = read_all ("/proc/self/mountinfo");
  cr_assert_not_null (before);
  int fds[2];
  cr_assert_eq (pipe2 (fds, O_CLOEXEC), 0);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      /* Best effort against an orphan when the worker times out. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (fds[0]);
      report_fd = fds[1];
      if (join_cgroup[0])
        {
          /* As clone3 (CLONE_INTO_CGROUP) puts a container init there. */
          char procs[PATH_MAX + 16];
          snprintf (procs, sizeof procs, "%s/cgroup.procs", join_cgroup);
          write_map (procs, "0");
        }
      CHECK (unshare (CLONE_NEWNS | flags) == 0, "unshare: %s", strerror (errno));
      if (flags & CLONE_NEWUSER)
        {
          write_map ("/proc/self/setgroups", "deny");
          write_map ("/proc/self/uid_map", "0 0 1");
          write_map ("/proc/self/gid_map", "0 0 1");
        }
      CHECK (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / rprivate: %s",
             strerror (errno));
      if (flags & CLONE_NEWPID)
        {
          pid_t inner = fork ();
          CHECK (inner >= 0, "fork: %s", strerror (errno));
          if (inner == 0)
            {
              prctl (PR_SET_PDEATHSIG, SIGKILL);
              fn (arg);
              _exit (0);
            }
          int st;
          CHECK (waitpid (inner, &st, 0) == inner, "waitpid");
          _exit (WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st));
        }
      fn (arg);
      _exit (0);
    }
  close (fds[1]);
  char *msg = read_all_fd (fds[0]);
  close (fds[0]);
  int status;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cleanup_free char *after = read_all ("/proc/self/mountinfo");
  cr_assert_not_null (after);
  cr_assert_str_eq (before, after, "the host's mount table changed");
  *ret_status = status;
  return msg ? msg : strdup ("");
}

/* A v1 memory cgroup of the test's own for the child (none on a cgroup2
 * host); removed by leave_test_cgroup once the child is gone. */
static void
enter_test_cgroup (void)
{
  struct statfs s;
  if (statfs ("/sys/fs/cgroup/memory", &s) < 0 || s.f_type != CGROUP_SUPER_MAGIC)
    return;
  snprintf (join_cgroup, sizeof join_cgroup, "/sys/fs/cgroup/memory/%s", tag);
  cr_assert_eq (mkdir (join_cgroup, 0755), 0, "mkdir %s: %s", join_cgroup, strerror (errno));
}

static void
leave_test_cgroup (void)
{
  if (join_cgroup[0])
    rmdir (join_cgroup);
  join_cgroup[0] = '\0';
}

#define RUN_OK(flags, fn, arg)                                                                     \
  do                                                                                               \
    {                                                                                              \
      int st_;                                                                                     \
      cleanup_free char *msg_ = run_contained ((flags), (fn), (arg), &st_);                        \
      cr_assert (WIFEXITED (st_) && WEXITSTATUS (st_) == 0, "child failed (status %#x):\n%s", st_, \
                 msg_);                                                                            \
    }                                                                                              \
  while (0)

#define ALL_NS (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* A config around the given "mounts" and "linux" members. */
static struct al_config *
make_config (const char *mounts, const char *linux_extra, const char *root_extra)
{
  cleanup_free char *json = NULL;
  cr_assert_geq (asprintf (&json,
                           "{\"ociVersion\": \"1.2.0\",\n"
                           " \"root\": {\"path\": \"rootfs\"%s},\n"
                           " \"mounts\": [%s],\n"
                           " \"linux\": {%s}}\n",
                           root_extra ? root_extra : "", mounts ? mounts : "",
                           linux_extra ? linux_extra : ""),
                 0);
  struct al_config *c = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_config_parse (json, strlen (json), "config.json", &c, &err), 0, "%s\n%s",
                err.msg, json);
  return c;
}

#define NAMESPACES                                                                                 \
  "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, "           \
  "{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}]"

/* runc's default mounts, as `airlock spec` writes them. */
#define STD_MOUNTS                                                                                 \
  "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"                        \
  "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "          \
  "[\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"                                 \
  "{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": "    \
  "[\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"       \
  "{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": "        \
  "[\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"                          \
  "{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": " \
  "[\"nosuid\", \"noexec\", \"nodev\"]},"                                                          \
  "{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": "          \
  "[\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"                                                  \
  "{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", "           \
  "\"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}"

struct env
{
  struct al_config *c;
  struct al_rootfs_opts opts;
  bool expect_failure; /* prepare (or a later step) must fail: report err */
  void (*check) (struct env *);
  void *data;
};

/* prepare, pivot, finalize; then e->check inside the new root. */
static void
build_root (void *arg)
{
  struct env *e = arg;
  struct al_error err = { 0 };
  umask (077); /* modes must be set, not left to the umask */
  int bundle = open (tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (bundle >= 0, "open bundle: %s", strerror (errno));
  int root = -1;
  int r = al_rootfs_prepare (e->c, bundle, &e->opts, &root, &err);
  if (r >= 0)
    r = al_rootfs_pivot (e->c, root, &e->opts, &err);
  if (r >= 0)
    r = al_rootfs_finalize (e->c, &err);
  if (e->expect_failure)
    {
      CHECK (r < 0, "expected a failure, but the root was built");
      CHECK (r == -err.errnum || err.errnum == 0, "return %d but errnum %d", r, err.errnum);
      report ("ERROR %s", err.msg);
      _exit (0);
    }
  CHECK (r >= 0, "%s", err.msg);
  CHECK (root >= 0, "no root fd");
  if (e->check)
    e->check (e);
}

/* The child's report after "ERROR ", for the cases that must fail. */
static char *
run_expect_error (int flags, struct env *e)
{
  e->expect_failure = true;
  int st;
  char *msg = run_contained (flags, build_root, e, &st);
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0, "child failed (status %#x):\n%s", st, msg);
  char *at = strstr (msg, "ERROR ");
  cr_assert_not_null (at, "no error reported: %s", msg);
  memmove (msg, at + 6, strlen (at + 6) + 1);
  msg[strcspn (msg, "\n")] = '\0';
  return msg;
}

/* ====================================================== safepath.h */

static void
symlink_attacks (unsigned flags)
{
  struct al_error err = { 0 };
  int root = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (root >= 0, "open rootfs");
  char p[PATH_MAX], q[PATH_MAX];

  /* Reads through absolute and climbing symlinks stay in the rootfs. */
  static const char *const reads[] = { "/evil/hostname", "evil2/hostname", "../../../etc/hostname",
                                       "/evil2/../evil/../etc/hostname", NULL };
  for (const char *const *r = reads; *r; r++)
    {
      int fd = al_safe_open (root, *r, O_RDONLY, flags, &err);
      CHECK (fd >= 0, "open %s: %s", *r, err.msg);
      char *s = read_all_fd (fd);
      close (fd);
      CHECK (s && strcmp (s, "airlock-fixture\n") == 0, "%s read `%s` (the host's?)", *r, s);
      free (s);
    }

  /* Creations land inside. */
  snprintf (p, sizeof p, "/evil/%s/sub", tag);
  int fd = al_safe_mkdir_p (root, p, 0755, flags, &err);
  CHECK (fd >= 0, "mkdir -p %s: %s", p, err.msg);
  close (fd);
  snprintf (q, sizeof q, "%s/etc/%s/sub", rootfs, tag);
  struct stat st;
  CHECK (stat (q, &st) == 0 && S_ISDIR (st.st_mode), "%s was not made", q);

  snprintf (p, sizeof p, "evil2/%s.file", tag);
  fd = al_safe_create_file (root, p, 0600, flags, &err);
  CHECK (fd >= 0, "create %s: %s", p, err.msg);
  close (fd);
  snprintf (q, sizeof q, "%s/etc/%s.file", rootfs, tag);
  CHECK (lstat (q, &st) == 0 && S_ISREG (st.st_mode), "%s was not made", q);

  snprintf (p, sizeof p, "/evil/%s.fifo", tag);
  fd = al_safe_mknod (root, p, S_IFIFO | 0600, 0, flags, &err);
  CHECK (fd >= 0, "mknod %s: %s", p, err.msg);
  close (fd);
  snprintf (q, sizeof q, "%s/etc/%s.fifo", rootfs, tag);
  CHECK (lstat (q, &st) == 0 && S_ISFIFO (st.st_mode), "%s was not made", q);

  snprintf (p, sizeof p, "/evil2/%s.lnk", tag);
  CHECK (al_safe_symlink (root, "/etc/passwd", p, flags, &err) == 0, "symlink: %s", err.msg);
  snprintf (q, sizeof q, "%s/etc/%s.lnk", rootfs, tag);
  CHECK (lstat (q, &st) == 0 && S_ISLNK (st.st_mode), "%s was not made", q);
  /* ...and following it reads the rootfs's passwd. */
  fd = al_safe_open (root, p, O_RDONLY, flags, &err);
  CHECK (fd >= 0, "open %s: %s", p, err.msg);
  char *s = read_all_fd (fd);
  close (fd);
  CHECK (s && strcmp (s, "root:x:0:0:root:/root:/bin/sh\n") == 0, "read the host's passwd?");
  free (s);

  /* A dangling symlink does not decide where a directory appears. */
  CHECK (al_safe_mkdir_p (root, "/dangling/x", 0755, flags, &err) == -ENOENT, "dangling: %s",
         err.msg);
  CHECK (strstr (err.msg, "dangling") != NULL, "message: %s", err.msg);

  /* Loops, files in the middle, directories where a file is wanted. */
  CHECK (al_safe_open (root, "/loop", O_PATH, flags, &err) == -ELOOP, "loop: %s", err.msg);
  CHECK (al_safe_mkdir_p (root, "/etc/hostname/x", 0755, flags, &err) == -ENOTDIR, "%s", err.msg);
  CHECK (al_safe_create_file (root, "/etc", 0644, flags, &err) == -EISDIR, "%s", err.msg);
  CHECK (al_safe_open (root, "/etc/hostname", O_PATH | O_DIRECTORY, flags, &err) == -ENOTDIR, "%s",
         err.msg);
  CHECK (al_safe_open (root, "/nope", O_PATH, flags, &err) == -ENOENT, "%s", err.msg);
  CHECK (strstr (err.msg, "`/nope`") != NULL, "message names the path: %s", err.msg);

  /* NOFOLLOW opens the link itself. */
  fd = al_safe_open (root, "/evil", O_PATH, flags | AL_SAFE_NOFOLLOW, &err);
  CHECK (fd >= 0, "nofollow: %s", err.msg);
  CHECK (fstat (fd, &st) == 0 && S_ISLNK (st.st_mode), "not the symlink");
  close (fd);

  /* The root itself, however spelled. */
  static const char *const roots[] = { "/", "", ".", "..", "/../..", NULL };
  for (const char *const *r = roots; *r; r++)
    {
      struct stat a, b;
      fd = al_safe_open (root, *r, O_PATH | O_DIRECTORY, flags, &err);
      CHECK (fd >= 0, "open `%s`: %s", *r, err.msg);
      CHECK (fstat (fd, &a) == 0 && fstat (root, &b) == 0 && a.st_ino == b.st_ino,
             "`%s` is not the root", *r);
      close (fd);
    }
  close (root);
}

static void
symlink_attacks_openat2 (void *arg)
{
  symlink_attacks (0);
}

static void
symlink_attacks_walk (void *arg)
{
  symlink_attacks (AL_SAFE_NO_OPENAT2);
}

static void
symlink_attacks_enosys (void *arg)
{
  static const int calls[] = { SCMP_SYS (openat2) };
  deny_syscalls (calls, 1, ENOSYS);
  struct open_how how = { .flags = O_PATH };
  CHECK (syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how) < 0 && errno == ENOSYS,
         "openat2 still works");
  symlink_attacks (0);
}

static void
check_host_probes_absent (void)
{
  cr_assert_not (host_probe_exists ("/etc/", ""), "host /etc got a directory");
  cr_assert_not (host_probe_exists ("/etc/", ".file"), "host /etc got a file");
  cr_assert_not (host_probe_exists ("/etc/", ".fifo"), "host /etc got a fifo");
  cr_assert_not (host_probe_exists ("/etc/", ".lnk"), "host /etc got a symlink");
  cr_assert_not (host_probe_exists ("/", "-dangling"), "a dangling symlink made a host directory");
}

Test (rootfs, safepath_openat2_stays_in_root)
{
  RUN_OK (0, symlink_attacks_openat2, NULL);
  check_host_probes_absent ();
}

Test (rootfs, safepath_walk_stays_in_root)
{
  RUN_OK (0, symlink_attacks_walk, NULL);
  check_host_probes_absent ();
}

Test (rootfs, safepath_falls_back_when_openat2_is_enosys)
{
  RUN_OK (0, symlink_attacks_enosys, NULL);
  check_host_probes_absent ();
}

Test (rootfs, safepath_refuses_magic_links)
{
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (root, 0);
  struct al_error err = { 0 };
  int fd = al_safe_open (root, "/proc/self/root/etc", O_PATH, 0, &err);
  cr_assert_eq (fd, -ELOOP, "got %d: %s", fd, err.msg);
  /* /proc/self itself is an ordinary symlink. */
  fd = al_safe_open (root, "/proc/self/status", O_RDONLY, 0, &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  close (fd);
  close (root);
}

Test (rootfs, path_escapes_is_lexical)
{
  cr_assert (al_path_escapes ("/.."));
  cr_assert (al_path_escapes ("../etc"));
  cr_assert (al_path_escapes ("/a/../../etc"));
  cr_assert (al_path_escapes ("/./a/./../.."));
  cr_assert_not (al_path_escapes ("/a/../b"));
  cr_assert_not (al_path_escapes ("/a/b/../.."));
  cr_assert_not (al_path_escapes ("/..a/b.."));
  cr_assert_not (al_path_escapes ("/"));
  cr_assert_not (al_path_escapes (""));
}

/* ======================================================== rootfs.h */

/* ------------------------------------------- runc's default mounts */

static const char *const expected_points[] = {
  "/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", NULL,
};

static void
only_container_mounts (const struct mnt *m, void *arg)
{
  for (const char *const *p = expected_points; *p; p++)
    if (strcmp (m->point, *p) == 0)
      return;
  if (strncmp (m->point, "/sys/fs/cgroup/", 15) == 0)
    return;
  fail_at (__LINE__, "unexpected mount at %s (%s)", m->point, m->fstype);
}

static void
check_default_mounts (struct env *e)
{
  /* Only the container's mounts, exactly one /, no trace of the host. */
  each_mount (only_container_mounts, NULL);
  CHECK (access ("/bin/busybox", X_OK) == 0, "no busybox at /bin");
  CHECK (access (tmpdir, F_OK) < 0, "the host path %s is visible", tmpdir);
  char cwd[PATH_MAX];
  CHECK (getcwd (cwd, sizeof cwd) && strcmp (cwd, "/") == 0, "cwd is %s", cwd);

  /* proc, of our pid namespace */
  CHECK (fs_type ("/proc") == PROC_SUPER_MAGIC, "/proc is not procfs");
  char *self = read_all ("/proc/self/stat");
  CHECK (self && strncmp (self, "1 ", 2) == 0, "/proc/self/stat: %s", self);
  free (self);

  /* sysfs read-only */
  struct mnt m = MOUNT_AT ("/sys");
  CHECK (strcmp (m.fstype, "sysfs") == 0, "/sys is %s", m.fstype);
  CHECK (has_opt (m.opts, "ro") && has_opt (m.opts, "nosuid") && has_opt (m.opts, "nodev")
             && has_opt (m.opts, "noexec"),
         "/sys options %s", m.opts);
  CHECK (mkdir ("/sys/al-test", 0755) < 0 && errno == EROFS, "mkdir in /sys: %s", strerror (errno));

  /* /dev: our tmpfs, its nodes, links, devpts instance, shm, mqueue */
  m = MOUNT_AT ("/dev");
  CHECK (strcmp (m.fstype, "tmpfs") == 0 && has_opt (m.opts, "nosuid")
             && !has_opt (m.opts, "noexec"),
         "/dev: %s %s", m.fstype, m.opts);
  CHECK_CHR ("/dev/null", 1, 3);
  CHECK_CHR ("/dev/zero", 1, 5);
  CHECK_CHR ("/dev/full", 1, 7);
  CHECK_CHR ("/dev/random", 1, 8);
  CHECK_CHR ("/dev/urandom", 1, 9);
  CHECK_CHR ("/dev/tty", 5, 0);
  struct stat st;
  CHECK (stat ("/dev/null", &st) == 0 && (st.st_mode & 07777) == 0666, "/dev/null mode %o",
         st.st_mode);
  CHECK_LINK ("/dev/ptmx", "pts/ptmx");
  CHECK_LINK ("/dev/fd", "/proc/self/fd");
  CHECK_LINK ("/dev/stdin", "/proc/self/fd/0");
  CHECK_LINK ("/dev/stdout", "/proc/self/fd/1");
  CHECK_LINK ("/dev/stderr", "/proc/self/fd/2");
  CHECK (stat ("/dev/fd/0", &st) == 0, "/dev/fd/0 does not resolve");

  m = MOUNT_AT ("/dev/pts");
  CHECK (strcmp (m.fstype, "devpts") == 0, "/dev/pts is %s", m.fstype);
  CHECK (has_opt (m.super, "ptmxmode=666") && has_opt (m.super, "gid=5"), "devpts: %s", m.super);
  int ptm = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (ptm >= 0, "open /dev/ptmx: %s", strerror (errno));
  char name[64];
  CHECK (ptsname_r (ptm, name, sizeof name) == 0, "ptsname");
  /* A new instance counts from 0 whatever the host has open. */
  CHECK (strcmp (name, "/dev/pts/0") == 0, "first pty is %s", name);
  close (ptm);

  m = MOUNT_AT ("/dev/shm");
  CHECK (strcmp (m.fstype, "tmpfs") == 0 && has_opt (m.opts, "nosuid") && has_opt (m.opts, "nodev")
             && has_opt (m.opts, "noexec"),
         "/dev/shm: %s %s", m.fstype, m.opts);
  CHECK (stat ("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777, "/dev/shm mode %o",
         st.st_mode);
  m = MOUNT_AT ("/dev/mqueue");
  CHECK (strcmp (m.fstype, "mqueue") == 0, "/dev/mqueue is %s", m.fstype);

  /* cgroup: tmpfs of hierarchies (v1 host) or cgroup2, read-only either way */
  m = MOUNT_AT ("/sys/fs/cgroup");
  CHECK (has_opt (m.opts, "ro"), "/sys/fs/cgroup is not ro: %s", m.opts);
  if (strcmp (m.fstype, "tmpfs") == 0)
    {
      CHECK (fs_type ("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC, "no memory hierarchy");
      struct mnt mem = MOUNT_AT ("/sys/fs/cgroup/memory");
      /* Our cgroup namespace: its root is our cgroup. */
      CHECK (strcmp (mem.root, "/") == 0, "memory root is %s", mem.root);
      CHECK (has_opt (mem.opts, "ro"), "memory hierarchy not ro: %s", mem.opts);
      CHECK (access ("/sys/fs/cgroup/memory/memory.limit_in_bytes", R_OK) == 0,
             "memory.limit_in_bytes: %s", strerror (errno));
      CHECK (mkdir ("/sys/fs/cgroup/memory/al-test", 0755) < 0 && errno == EROFS,
             "mkdir in a cgroup: %s", strerror (errno));
      CHECK (mkdir ("/sys/fs/cgroup/al-test", 0755) < 0 && errno == EROFS,
             "mkdir in the cgroup tmpfs: %s", strerror (errno));
    }
  else
    CHECK (strcmp (m.fstype, "cgroup2") == 0, "/sys/fs/cgroup is %s", m.fstype);

  /* The old root is gone: nothing but the rootfs is reachable. */
  CHECK (access ("/data", F_OK) < 0, "host data visible");

  /* busybox runs in it. */
  pid_t pid = fork ();
  CHECK (pid >= 0, "fork");
  if (pid == 0)
    {
      execl ("/bin/sh", "sh", "-c", "test -c /dev/null && echo ok > /dev/shm/ok", (char *) NULL);
      _exit (127);
    }
  int status;
  CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "busybox sh failed: %#x", status);
  CHECK_TEXT ("/dev/shm/ok", "ok\n");
}

Test (rootfs, default_mounts_devices_and_pivot)
{
  struct env e = { .c = make_config (STD_MOUNTS, NAMESPACES, NULL), .check = check_default_mounts };
  enter_test_cgroup ();
  RUN_OK (ALL_NS, build_root, &e);
  leave_test_cgroup ();
  al_config_free (e.c);
}

/* ------------------------------------------------------ bind mounts */

/* A noexec submount under the bind source, in our namespace only. */
static void
mount_data_sub (void)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/data/sub", tmpdir);
  CHECK (mount ("tmpfs", p, "tmpfs", MS_NOEXEC, "size=1m") == 0, "mount tmpfs: %s",
         strerror (errno));
}

static void
bind_with_submount (void *arg)
{
  /* A shared source with a peer in another namespace, as on a host: the
     default rslave of / makes the container's copy receive the host's
     mount events and send none back. */
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/data", tmpdir);
  CHECK (mount (p, p, NULL, MS_BIND, NULL) == 0 && mount (NULL, p, NULL, MS_SHARED, NULL) == 0,
         "share %s: %s", p, strerror (errno));
  mount_data_sub ();
  CHECK (unshare (CLONE_NEWNS) == 0, "unshare: %s", strerror (errno));
  build_root (arg);
}

/* A bind with "ro" keeps the flags of its source nobody named. */
static void
check_kept_flags (void)
{
  struct mnt m = MOUNT_AT ("/keep");
  CHECK (has_opt (m.opts, "ro") && has_opt (m.opts, "noexec"), "/keep options: %s", m.opts);
}

static void
check_binds (struct env *e)
{
  struct mnt m = MOUNT_AT ("/data");
  CHECK (has_opt (m.opts, "ro") && has_opt (m.opts, "nosuid") && has_opt (m.opts, "nodev")
             && has_opt (m.opts, "noexec"),
         "/data options: %s", m.opts);
  CHECK (strstr (m.optional, "master:") && !strstr (m.optional, "shared:"),
         "/data is not a slave of the host's: `%s`", m.optional);
  CHECK_TEXT ("/data/file.txt", "host data\n");
  CHECK (create_errno ("/data/new") == EROFS, "write into a ro bind: %s",
         strerror (create_errno ("/data/new")));
  /* "ro" is the top mount's: the submount under an rbind stays writable. */
  CHECK (is_mounted ("/data/sub"), "rbind lost the submount");
  CHECK (create_errno ("/data/sub/new") == 0, "plain ro reached the submount");

  /* rro: the whole tree */
  CHECK (is_mounted ("/rro/sub"), "rbind lost the submount");
  CHECK (create_errno ("/rro/new") == EROFS, "rro top writable");
  CHECK (create_errno ("/rro/sub/new2") == EROFS, "rro submount writable");
  m = MOUNT_AT ("/rro/sub");
  CHECK (has_opt (m.opts, "ro"), "rro submount options: %s", m.opts);

  /* a file, from a path relative to the bundle */
  CHECK_TEXT ("/etc/bound.txt", "host data\n");
  int fd = open ("/etc/bound.txt", O_WRONLY | O_CLOEXEC);
  CHECK (fd < 0 && errno == EROFS, "file bind writable");

  /* rw stays writable, and flags nobody named are kept */
  CHECK (create_errno ("/rw/written") == 0, "rw bind: %s", strerror (create_errno ("/rw/written")));
  m = MOUNT_AT ("/rw");
  CHECK (has_opt (m.opts, "rw") && has_opt (m.opts, "noatime"), "/rw options: %s", m.opts);
  check_kept_flags ();
}

Test (rootfs, bind_mount_flags_really_apply)
{
  cleanup_free char *mounts = NULL;
  cr_assert_geq (
      asprintf (&mounts,
                STD_MOUNTS
                ","
                "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"%s/data\","
                " \"options\": [\"rbind\", \"ro\", \"nosuid\", \"nodev\", \"noexec\"]},"
                "{\"destination\": \"/rro\", \"type\": \"bind\", \"source\": \"%s/data\","
                " \"options\": [\"rbind\", \"rro\"]},"
                "{\"destination\": \"/etc/bound.txt\", \"source\": \"data/file.txt\","
                " \"options\": [\"bind\", \"ro\"]},"
                "{\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"%s/data\","
                " \"options\": [\"bind\", \"rw\", \"noatime\"]},"
                "{\"destination\": \"/keep\", \"source\": \"data/sub\","
                " \"options\": [\"bind\", \"ro\"]}",
                tmpdir, tmpdir, tmpdir),
      0);
  struct env e = { .c = make_config (mounts, NAMESPACES, NULL), .check = check_binds };
  RUN_OK (ALL_NS, bind_with_submount, &e);
  al_config_free (e.c);
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/data/written", tmpdir);
  cr_assert_eq (access (p, F_OK), 0, "the rw bind did not write through to the host dir");
}

/* Older kernels: no mount_setattr, no openat2.  The same binds, the
 * symlink traps, by MS_REMOUNT and the component walk. */
static void
bind_without_new_syscalls (void *arg)
{
  mount_data_sub ();
  static const int calls[] = { SCMP_SYS (openat2), SCMP_SYS (mount_setattr) };
  deny_syscalls (calls, 2, ENOSYS);
  struct mount_attr a = { 0 };
  CHECK (mount_setattr (AT_FDCWD, "/", 0, &a, sizeof a) < 0 && errno == ENOSYS,
         "mount_setattr still works");
  build_root (arg);
}

static void
check_binds_old_kernel (struct env *e)
{
  struct mnt m = MOUNT_AT ("/data");
  CHECK (has_opt (m.opts, "ro") && has_opt (m.opts, "nosuid") && has_opt (m.opts, "noexec"),
         "/data options: %s", m.opts);
  CHECK (create_errno ("/data/new") == EROFS, "ro bind writable");
  CHECK_TEXT ("/etc/hostname", "airlock-fixture\n");
  CHECK (fs_type ("/etc/trap") == TMPFS_MAGIC, "the trap mount is not at /etc/trap");
  m = MOUNT_AT ("/rw");
  CHECK (has_opt (m.opts, "rw") && has_opt (m.opts, "nosuid"), "/rw options: %s", m.opts);
  check_kept_flags ();
}

Test (rootfs, bind_flags_and_traps_without_mount_setattr_or_openat2)
{
  cleanup_free char *fixed = NULL;
  cr_assert_geq (asprintf (&fixed,
                           STD_MOUNTS
                           ","
                           "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"data\","
                           " \"options\": [\"bind\", \"ro\", \"nosuid\", \"noexec\"]},"
                           "{\"destination\": \"/evil2/trap\", \"type\": \"tmpfs\","
                           " \"source\": \"tmpfs\"},"
                           "{\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"%s/data\","
                           " \"options\": [\"bind\", \"rw\", \"nosuid\"]},"
                           "{\"destination\": \"/keep\", \"source\": \"data/sub\","
                           " \"options\": [\"bind\", \"ro\"]}",
                           tmpdir),
                 0);
  struct env e = { .c = make_config (fixed, NAMESPACES, NULL), .check = check_binds_old_kernel };
  RUN_OK (ALL_NS, bind_without_new_syscalls, &e);
  al_config_free (e.c);
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/etc/trap", rootfs);
  cr_assert_eq (access (p, F_OK), 0, "the trap mount point is not in the rootfs");
  cr_assert_neq (access ("/etc/trap", F_OK), 0, "a mount point appeared in the host's /etc");
}

/* ------------------------------------------------------------ tmpfs */

static void
check_tmpfs (struct env *e)
{
  struct statfs s;
  CHECK (statfs ("/scratch", &s) == 0 && s.f_type == TMPFS_MAGIC, "/scratch is not tmpfs");
  CHECK ((unsigned long long) s.f_blocks * (unsigned long long) s.f_bsize == 1024 * 1024,
         "size %llu", (unsigned long long) s.f_blocks * (unsigned long long) s.f_bsize);
  struct stat st;
  CHECK (stat ("/scratch", &st) == 0 && (st.st_mode & 07777) == 0700, "mode %o", st.st_mode);
  struct mnt m = MOUNT_AT ("/scratch");
  CHECK (has_opt (m.opts, "nosuid") && has_opt (m.opts, "nodev") && has_opt (m.opts, "noexec")
             && has_opt (m.opts, "noatime") && has_opt (m.opts, "rw"),
         "/scratch options: %s", m.opts);
  /* propagation options: shared, then unbindable */
  CHECK (strstr (m.optional, "shared:") != NULL, "/scratch not shared: `%s`", m.optional);
  m = MOUNT_AT ("/unbind");
  CHECK (strstr (m.optional, "unbindable") != NULL, "/unbind: `%s`", m.optional);
  m = MOUNT_AT ("/");
  CHECK (strstr (m.optional, "shared:") != NULL, "rootfsPropagation rshared: / is `%s`",
         m.optional);
  m = MOUNT_AT ("/ro");
  CHECK (has_opt (m.opts, "ro"), "/ro options: %s", m.opts);
  CHECK (create_errno ("/ro/x") == EROFS, "ro tmpfs writable");
}

/* The rootfs on a mount of its own, under a shared /: pivot_root needs
 * both its parent and the old root unshared. */
static void
build_root_on_own_mount (void *arg)
{
  CHECK (mount (tmpdir, tmpdir, NULL, MS_BIND, NULL) == 0, "bind %s: %s", tmpdir, strerror (errno));
  CHECK (mount (NULL, "/", NULL, MS_SHARED | MS_REC, NULL) == 0, "rshared: %s", strerror (errno));
  build_root (arg);
}

Test (rootfs, tmpfs_options_and_propagation)
{
  struct env e = {
    .c = make_config (STD_MOUNTS
                      ","
                      "{\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                      " \"options\": [\"size=1m\", \"mode=700\", \"nosuid\", \"nodev\", \"noexec\","
                      " \"noatime\", \"rshared\"]},"
                      "{\"destination\": \"/unbind\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                      " \"options\": [\"unbindable\"]},"
                      "{\"destination\": \"/ro\", \"type\": \"tmpfs\", \"options\": [\"ro\"]}",
                      NAMESPACES ", \"rootfsPropagation\": \"rshared\"", NULL),
    .check = check_tmpfs,
  };
  RUN_OK (ALL_NS, build_root_on_own_mount, &e);
  al_config_free (e.c);
}

static void
check_tmpcopyup (struct env *e)
{
  CHECK (fs_type ("/etc") == TMPFS_MAGIC, "/etc is not a tmpfs");
  CHECK_TEXT ("/etc/hostname", "airlock-fixture\n");
  CHECK_TEXT ("/etc/deep/er/file", "deep\n");
  CHECK_LINK ("/etc/link", "hostname");
  struct stat st;
  CHECK (stat ("/etc/deep", &st) == 0 && (st.st_mode & 07777) == 0710 && st.st_uid == 1234,
         "/etc/deep: mode %o uid %u", st.st_mode, st.st_uid);
  CHECK (stat ("/etc/hostname", &st) == 0 && (st.st_mode & 07777) == 0640, "/etc/hostname mode %o",
         st.st_mode);
  CHECK (create_errno ("/etc/written") == 0, "tmpfs not writable");
  struct mnt m = MOUNT_AT ("/ro-etc");
  CHECK (has_opt (m.opts, "ro"), "ro tmpcopyup is %s", m.opts);
  CHECK_TEXT ("/ro-etc/hostname", "airlock-fixture\n");
}

Test (rootfs, tmpcopyup_copies_what_it_covers)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/etc/deep", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/etc/deep/er", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/etc/deep/er/file", rootfs);
  write_text (p, "deep\n");
  snprintf (p, sizeof p, "%s/etc/deep", rootfs);
  cr_assert_eq (chmod (p, 0710), 0);
  cr_assert_eq (chown (p, 1234, 1234), 0);
  snprintf (p, sizeof p, "%s/etc/hostname", rootfs);
  cr_assert_eq (chmod (p, 0640), 0);
  snprintf (p, sizeof p, "%s/etc/link", rootfs);
  cr_assert_eq (symlink ("hostname", p), 0);
  snprintf (p, sizeof p, "%s/ro-etc", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/ro-etc/hostname", rootfs);
  write_text (p, "airlock-fixture\n");

  struct env e = {
    .c = make_config (STD_MOUNTS
                      ","
                      "{\"destination\": \"/etc\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                      " \"options\": [\"tmpcopyup\", \"nosuid\"]},"
                      "{\"destination\": \"/ro-etc\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                      " \"options\": [\"tmpcopyup\", \"ro\"]}",
                      NAMESPACES, NULL),
    .check = check_tmpcopyup,
  };
  RUN_OK (ALL_NS, build_root, &e);
  al_config_free (e.c);
  snprintf (p, sizeof p, "%s/etc/written", rootfs);
  cr_assert_neq (access (p, F_OK), 0, "the tmpfs wrote through to the rootfs");
}

/* ------------------------------------------------------------ no pivot */

static void
check_no_pivot (struct env *e)
{
  CHECK (access ("/bin/busybox", X_OK) == 0, "no busybox at /bin");
  CHECK_TEXT ("/etc/hostname", "airlock-fixture\n");
  CHECK (access (tmpdir, F_OK) < 0, "the host path %s is visible", tmpdir);
  CHECK (fs_type ("/proc") == PROC_SUPER_MAGIC, "/proc is not procfs");
  CHECK_CHR ("/dev/null", 1, 3);
  struct mnt m = MOUNT_AT ("/");
  CHECK (strstr (m.root, "/rootfs") != NULL, "/ is %s", m.root);
}

/* As on a ramfs root, where pivot_root fails: no_pivot must not need it. */
static void
build_root_without_pivot_root (void *arg)
{
  static const int calls[] = { SCMP_SYS (pivot_root) };
  deny_syscalls (calls, 1, EINVAL);
  CHECK (syscall (SYS_pivot_root, ".", ".") < 0 && errno == EINVAL, "pivot_root still works");
  build_root (arg);
}

Test (rootfs, no_pivot_moves_and_chroots)
{
  struct env e = { .c = make_config (STD_MOUNTS, NAMESPACES, NULL),
                   .opts = { .no_pivot = true },
                   .check = check_no_pivot };
  RUN_OK (ALL_NS, build_root_without_pivot_root, &e);
  al_config_free (e.c);
}

/* ------------------------------------------- masked and readonly paths */

static void
check_masked_readonly (struct env *e)
{
  /* masked files: /dev/null over them (/proc/kcore is missing on some
     kernels: skipped then) */
  char *info = read_all ("/proc/cpuinfo");
  CHECK (info != NULL && info[0] == '\0', "/proc/cpuinfo readable: %.40s", info);
  free (info);
  CHECK_CHR ("/proc/cpuinfo", 1, 3);
  if (*(const bool *) e->data)
    CHECK_CHR ("/proc/kcore", 1, 3);
  /* masked dir: an empty read-only tmpfs */
  DIR *d = opendir ("/etc/secret");
  CHECK (d != NULL, "opendir /etc/secret: %s", strerror (errno));
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    CHECK (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0, "masked dir shows %s",
           de->d_name);
  closedir (d);
  CHECK (create_errno ("/etc/secret/x") == EROFS, "masked dir writable");
  /* readonly: recursive */
  int fd = open ("/proc/sys/kernel/domainname", O_WRONLY | O_CLOEXEC);
  CHECK (fd < 0 && errno == EROFS, "/proc/sys writable");
  CHECK (create_errno ("/etc/rodir/new") == EROFS, "/etc/rodir writable");
  CHECK (create_errno ("/etc/rodir/sub/new") == EROFS, "the submount of /etc/rodir writable");
  /* the rest stays writable */
  CHECK (create_errno ("/etc/other") == 0, "/etc not writable");
}

static void
masked_with_submount (void *arg)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/etc/rodir/sub", rootfs);
  CHECK (mount ("tmpfs", p, "tmpfs", 0, "size=1m") == 0, "mount: %s", strerror (errno));
  build_root (arg);
}

Test (rootfs, masked_and_readonly_paths)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/etc/secret", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/etc/secret/key", rootfs);
  write_text (p, "hush\n");
  snprintf (p, sizeof p, "%s/etc/rodir", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/etc/rodir/sub", rootfs);
  cr_assert_eq (mkdir (p, 0755), 0);
  static bool have_kcore;
  have_kcore = access ("/proc/kcore", F_OK) == 0;
  struct env e = {
    .c = make_config (STD_MOUNTS,
                      NAMESPACES
                      ", \"maskedPaths\": [\"/proc/kcore\", \"/proc/cpuinfo\", \"/etc/secret\","
                      " \"/proc/does-not-exist\", \"/nope/nope\"],"
                      " \"readonlyPaths\": [\"/proc/sys\", \"/etc/rodir\","
                      " \"/not/there\"]",
                      NULL),
    .check = check_masked_readonly,
    .data = &have_kcore,
  };
  RUN_OK (ALL_NS, masked_with_submount, &e);
  al_config_free (e.c);
}

static void
check_root_readonly (struct env *e)
{
  CHECK (create_errno ("/newfile") == EROFS, "/ writable");
  CHECK (create_errno ("/etc/newfile") == EROFS, "/etc writable");
  CHECK (create_errno ("/tmp/newfile") == 0, "the tmpfs on /tmp is not writable");
  struct mnt m = MOUNT_AT ("/");
  CHECK (has_opt (m.opts, "ro"), "/ options %s", m.opts);
}

Test (rootfs, root_readonly)
{
  struct env e = {
    .c = make_config (STD_MOUNTS ", {\"destination\": \"/tmp\", \"type\": \"tmpfs\"}", NAMESPACES,
                      ", \"readonly\": true"),
    .check = check_root_readonly,
  };
  RUN_OK (ALL_NS, build_root, &e);
  al_config_free (e.c);
}

/* --------------------------------------------------------------- sysctl */

static void
check_sysctl (struct env *e)
{
  CHECK_TEXT ("/proc/sys/net/ipv4/ip_forward", "1\n");
  CHECK_TEXT ("/proc/sys/net/ipv4/conf/lo/forwarding", "1\n");
  CHECK_TEXT ("/proc/sys/kernel/shmmni", "1000\n");
}

Test (rootfs, sysctl_in_new_namespaces)
{
  cleanup_free char *host_before = read_all ("/proc/sys/net/ipv4/ip_forward");
  cleanup_free char *host_shm = read_all ("/proc/sys/kernel/shmmni");
  cr_assert_not_null (host_before);
  struct env e = {
    .c = make_config (STD_MOUNTS,
                      NAMESPACES ", \"sysctl\": {\"net.ipv4.ip_forward\": \"1\","
                                 " \"net/ipv4/conf/lo/forwarding\": \"1\","
                                 " \"kernel.shmmni\": \"1000\"},"
                                 " \"readonlyPaths\": [\"/proc/sys\"]",
                      NULL),
    .check = check_sysctl,
  };
  RUN_OK (ALL_NS, build_root, &e);
  al_config_free (e.c);
  cleanup_free char *host_after = read_all ("/proc/sys/net/ipv4/ip_forward");
  cleanup_free char *host_shm_after = read_all ("/proc/sys/kernel/shmmni");
  cr_assert_str_eq (host_before, host_after, "the host's ip_forward changed");
  cr_assert_str_eq (host_shm, host_shm_after, "the host's shmmni changed");
}

static void
expect_sysctl_refused (const char *sysctl, const char *namespaces, const char *want)
{
  cleanup_free char *extra = NULL;
  cr_assert_geq (asprintf (&extra, "%s, \"sysctl\": {%s}", namespaces, sysctl), 0);
  struct env e = { .c = make_config (STD_MOUNTS, extra, NULL) };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert (strstr (msg, want) != NULL, "%s: `%s` lacks `%s`", sysctl, msg, want);
}

/* The keys name files that do not exist: should a check break, the write
 * fails instead of changing the host. */
Test (rootfs, sysctl_refuses_escaping_and_host_keys)
{
  expect_sysctl_refused ("\"net/../kernel/al_nonexistent\": \"x\"", NAMESPACES,
                         "sysctl `net/../kernel/al_nonexistent`: not a sysctl name");
  expect_sysctl_refused ("\"net.ipv4..al_nonexistent\": \"1\"", NAMESPACES, "not a sysctl name");
  expect_sysctl_refused ("\"/net/ipv4/al_nonexistent\": \"1\"", NAMESPACES, "not a sysctl name");
  expect_sysctl_refused ("\"kernel.al_nonexistent\": \"|/evil\"", NAMESPACES,
                         "sysctl `kernel.al_nonexistent`: not namespaced");
  expect_sysctl_refused ("\"net.ipv4.al_nonexistent\": \"1\"",
                         "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]",
                         "needs a network namespace");
}

/* ------------------------------------------------- symlinks and escapes */

static void
check_traps (struct env *e)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "/etc/%s-a", tag);
  CHECK (fs_type (p) == TMPFS_MAGIC, "the tmpfs aimed through evil is not at %s", p);
  snprintf (p, sizeof p, "/etc/%s-b/file.txt", tag);
  CHECK_TEXT (p, "host data\n");
  snprintf (p, sizeof p, "/etc/%s-c", tag);
  CHECK_TEXT (p, "host data\n");
  CHECK_TEXT ("/etc/hostname", "airlock-fixture\n");
}

Test (rootfs, symlinked_destinations_land_inside)
{
  cleanup_free char *mounts = NULL;
  cr_assert_geq (
      asprintf (&mounts,
                STD_MOUNTS
                ","
                "{\"destination\": \"/evil/%s-a\", \"type\": \"tmpfs\"},"
                "{\"destination\": \"/evil2/%s-b\", \"type\": \"bind\", \"source\": \"data\","
                " \"options\": [\"rbind\"]},"
                "{\"destination\": \"/evil/../evil2/%s-c\", \"source\": \"data/file.txt\","
                " \"options\": [\"bind\"]}",
                tag, tag, tag),
      0);
  struct env e = { .c = make_config (mounts, NAMESPACES, NULL), .check = check_traps };
  RUN_OK (ALL_NS, build_root, &e);
  al_config_free (e.c);
  cr_assert_not (host_probe_exists ("/etc/", "-a"), "host /etc got a mount point");
  cr_assert_not (host_probe_exists ("/etc/", "-b"), "host /etc got a mount point");
  cr_assert_not (host_probe_exists ("/etc/", "-c"), "host /etc got a file");
  cr_assert_not (host_probe_exists ("/evil/", "-a"), "the host got /evil");
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/etc/%s-a", rootfs, tag);
  cr_assert_eq (access (p, F_OK), 0, "the mount point is not in the rootfs");
}

Test (rootfs, destination_climbing_out_is_refused)
{
  struct env e = { .c = make_config (STD_MOUNTS ", {\"destination\": \"/tmp/../../etc\","
                                                " \"type\": \"tmpfs\"}",
                                     NAMESPACES, NULL) };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert_str_eq (msg, "mounts[7] /tmp/../../etc: destination climbs out of the root with `..`");
}

Test (rootfs, dangling_symlink_destination_fails)
{
  struct env e = { .c = make_config ("{\"destination\": \"/dangling/x\", \"type\": \"tmpfs\"}",
                                     NAMESPACES, NULL) };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert (strstr (msg, "mounts[0] /dangling/x: ") == msg && strstr (msg, "dangling symlink"),
             "%s", msg);
  cr_assert_not (host_probe_exists ("/", "-dangling"), "a host directory was made");
}

Test (rootfs, missing_bind_source_names_the_mount)
{
  struct env e = { .c = make_config (STD_MOUNTS ", {\"destination\": \"/data\", \"type\": \"bind\","
                                                " \"source\": \"/nonexistent/al-src\","
                                                " \"options\": [\"rbind\"]}",
                                     NAMESPACES, NULL) };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert_str_eq (msg,
                    "mounts[7] /data: source `/nonexistent/al-src`: No such file or directory");
}

Test (rootfs, bad_fs_type_and_options_are_named)
{
  struct env e = { .c = make_config ("{\"destination\": \"/x\", \"type\": \"nosuchfs\"}",
                                     NAMESPACES, NULL) };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert_str_eq (msg, "mounts[0] /x: mount nosuchfs: No such device");

  e = (struct env){ .c = make_config ("{\"destination\": \"/x\", \"type\": \"proc\","
                                      " \"options\": [\"tmpcopyup\"]}",
                                      NAMESPACES, NULL) };
  cleanup_free char *msg2 = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert_str_eq (msg2, "mounts[0] /x: tmpcopyup needs a tmpfs");

  e = (struct env){ .c = make_config ("{\"destination\": \"/\", \"type\": \"tmpfs\"}", NAMESPACES,
                                      NULL) };
  cleanup_free char *msg3 = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert (strstr (msg3, "mounts[0] /: a mount over / is not supported") == msg3, "%s", msg3);
}

/* -------------------------------------------------------------- devices */

static void
check_devices (struct env *e)
{
  CHECK_CHR ("/dev/mine", 1, 5);
  struct stat st;
  CHECK (stat ("/dev/mine", &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_uid == 1000
             && st.st_gid == 1001,
         "/dev/mine: mode %o owner %u:%u", st.st_mode, st.st_uid, st.st_gid);
  CHECK (stat ("/dev/sub/fifo", &st) == 0 && S_ISFIFO (st.st_mode) && (st.st_mode & 07777) == 0600,
         "/dev/sub/fifo: %o", st.st_mode);
  /* A config device wins over a default one at the same path. */
  CHECK (stat ("/dev/null", &st) == 0 && (st.st_mode & 07777) == 0600, "/dev/null: %o", st.st_mode);
  CHECK_CHR ("/dev/zero", 1, 5);
  /* console: the pty slave we were given */
  struct stat cons;
  const struct stat *pty = e->data;
  CHECK (stat ("/dev/console", &cons) == 0, "/dev/console: %s", strerror (errno));
  CHECK (S_ISCHR (cons.st_mode) && cons.st_rdev == pty->st_rdev, "console is %u:%u, not the pty",
         major (cons.st_rdev), minor (cons.st_rdev));
  /* no shm mount: a world-writable directory stands in */
  CHECK (stat ("/dev/shm", &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 01777,
         "/dev/shm: %o", st.st_mode);
  /* /dev was asked read-only: it is, after its nodes were made */
  struct mnt m = MOUNT_AT ("/dev");
  CHECK (has_opt (m.opts, "ro"), "/dev options %s", m.opts);
}

static void
devices_with_console (void *arg)
{
  struct env *e = arg;
  int ptm = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (ptm >= 0 && grantpt (ptm) == 0 && unlockpt (ptm) == 0, "openpt: %s", strerror (errno));
  static char name[64];
  static struct stat pty;
  CHECK (ptsname_r (ptm, name, sizeof name) == 0 && stat (name, &pty) == 0, "ptsname");
  e->opts.console_path = name;
  e->data = &pty;
  build_root (arg);
}

Test (rootfs, linux_devices_console_and_ro_dev)
{
  struct env e = {
    .c
    = make_config ("{\"destination\": \"/proc\", \"type\": \"proc\"},"
                   "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"options\": [\"ro\","
                   " \"nosuid\", \"mode=755\"]}",
                   NAMESPACES ", \"devices\": ["
                              "{\"type\": \"c\", \"path\": \"/dev/mine\", \"major\": 1,"
                              " \"minor\": 5, \"fileMode\": 416, \"uid\": 1000, \"gid\": 1001},"
                              "{\"type\": \"p\", \"path\": \"/dev/sub/fifo\", \"fileMode\": 384},"
                              "{\"type\": \"c\", \"path\": \"/dev/null\", \"major\": 1,"
                              " \"minor\": 3, \"fileMode\": 384}]",
                   NULL),
    .check = check_devices,
  };
  RUN_OK (ALL_NS, devices_with_console, &e);
  al_config_free (e.c);
}

Test (rootfs, device_path_climbing_out_is_refused)
{
  struct env e = {
    .c = make_config ("{\"destination\": \"/dev\", \"type\": \"tmpfs\"}",
                      NAMESPACES ", \"devices\": [{\"type\": \"c\", \"path\": \"/dev/../../x\","
                                 " \"major\": 1, \"minor\": 3}]",
                      NULL),
  };
  cleanup_free char *msg = run_expect_error (ALL_NS, &e);
  al_config_free (e.c);
  cr_assert_str_eq (msg, "linux.devices[0] /dev/../../x: path climbs out of the root with `..`");
}

/* ------------------------------------------------------ user namespace */

static void
check_userns (struct env *e)
{
  /* mknod is refused in a user namespace: the host's nodes are bound. */
  CHECK_CHR ("/dev/null", 1, 3);
  CHECK_CHR ("/dev/urandom", 1, 9);
  struct mnt m = MOUNT_AT ("/dev/null");
  CHECK (strcmp (m.fstype, "devtmpfs") == 0 || strcmp (m.fstype, "tmpfs") == 0, "/dev/null on %s",
         m.fstype);
  int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  CHECK (fd >= 0 && write (fd, "x", 1) == 1, "write /dev/null: %s", strerror (errno));
  close (fd);
  /* sysfs needs our own network namespace: the host's /sys, read-only */
  CHECK (fs_type ("/sys") == SYSFS_MAGIC, "/sys is not sysfs");
  m = MOUNT_AT ("/sys");
  CHECK (has_opt (m.opts, "ro"), "/sys options %s", m.opts);
  CHECK (mkdir ("/sys/al-test", 0755) < 0 && errno == EROFS, "/sys writable: %s", strerror (errno));
  CHECK (fs_type ("/proc") == PROC_SUPER_MAGIC, "/proc is not procfs");
}

Test (rootfs, user_namespace_binds_nodes_and_sys)
{
  struct env e = {
    .c = make_config ("{\"destination\": \"/proc\", \"type\": \"proc\"},"
                      "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"options\": [\"nosuid\","
                      " \"mode=755\"]},"
                      "{\"destination\": \"/sys\", \"type\": \"sysfs\", \"options\": [\"nosuid\","
                      " \"noexec\", \"nodev\", \"ro\"]}",
                      "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"user\"},"
                      " {\"type\": \"mount\"}]",
                      NULL),
    .check = check_userns,
  };
  RUN_OK (CLONE_NEWUSER | CLONE_NEWPID, build_root, &e);
  al_config_free (e.c);
}

/* ------------------------------------------------------------- idmap */

static void
check_idmap (struct env *e)
{
  struct stat st;
  CHECK (stat ("/idmapped/file.txt", &st) == 0, "stat: %s", strerror (errno));
  CHECK (st.st_uid == 1234 && st.st_gid == 4321, "owner through the idmap %u:%u", st.st_uid,
         st.st_gid);
  CHECK (stat ("/idmapped/other", &st) == 0 && st.st_uid == 65534, "an unmapped owner shows as %u",
         st.st_uid);
  CHECK (stat ("/plain/file.txt", &st) == 0 && st.st_uid == 0, "plain bind owner %u", st.st_uid);
  struct mnt m = MOUNT_AT ("/idmapped");
  CHECK (has_opt (m.opts, "idmapped") && has_opt (m.opts, "ro"), "/idmapped options %s", m.opts);
}

Test (rootfs, idmapped_bind_mount)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/data/other", tmpdir);
  write_text (p, "x");
  cr_assert_eq (chown (p, 777, 777), 0);
  cleanup_free char *mounts = NULL;
  cr_assert_geq (
      asprintf (&mounts, STD_MOUNTS
                ","
                "{\"destination\": \"/idmapped\", \"type\": \"bind\", \"source\": \"data\","
                " \"options\": [\"bind\", \"idmap\", \"ro\"],"
                " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1234, \"size\": 1}],"
                " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 4321, \"size\": 1}]},"
                "{\"destination\": \"/plain\", \"type\": \"bind\", \"source\": \"data\","
                " \"options\": [\"bind\"]}"),
      0);
  struct env e = { .c = make_config (mounts, NAMESPACES, NULL), .check = check_idmap };
  RUN_OK (ALL_NS, build_root, &e);
  al_config_free (e.c);
}

/* -------------------------------------------------- cgroup without ns */

static void
check_cgroup_bind (struct env *e)
{
  /* Without a cgroup namespace: our own cgroup directory, bound. */
  char *cg = read_all ("/proc/self/cgroup");
  CHECK (cg != NULL, "read /proc/self/cgroup");
  char *line = strstr (cg, ":memory:");
  if (line == NULL)
    {
      free (cg);
      return; /* a cgroup2 host: covered by the default test */
    }
  char want[PATH_MAX];
  snprintf (want, sizeof want, "%.*s", (int) strcspn (line + 8, "\n"), line + 8);
  free (cg);
  struct mnt m = MOUNT_AT ("/sys/fs/cgroup/memory");
  CHECK (strcmp (m.fstype, "cgroup") == 0 && strcmp (m.root, want) == 0,
         "memory hierarchy: %s root %s, expected root %s", m.fstype, m.root, want);
  CHECK (has_opt (m.opts, "ro"), "memory hierarchy options %s", m.opts);
  CHECK (access ("/sys/fs/cgroup/memory/memory.limit_in_bytes", R_OK) == 0, "no memory files");
}

Test (rootfs, cgroup_v1_without_cgroupns_binds_own_cgroup)
{
  struct env e = {
    .c = make_config (STD_MOUNTS,
                      "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"},"
                      " {\"type\": \"mount\"}]",
                      NULL),
    .check = check_cgroup_bind,
  };
  enter_test_cgroup ();
  RUN_OK (CLONE_NEWPID | CLONE_NEWNET, build_root, &e);
  leave_test_cgroup ();
  al_config_free (e.c);
}
