/* btrfs_testlib.c — see btrfs_testlib.h. */
#include "config.h"

#include "btrfs_testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/loop.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

extern char **environ;

static void die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2), noreturn));
static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "btrfs_testlib: ");
  vfprintf (stderr, fmt, ap);
  fprintf (stderr, "\n");
  va_end (ap);
  exit (2);
}

int
al_btrfs_run (char *const argv[], bool verbose)
{
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  if (!verbose)
    {
      posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
    }
  pid_t pid;
  int r = posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    return -r;
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -ECHILD;
}

/* A free loop device backed by fd (autoclear); its fd. */
static int
attach_loop (int fd, char dev[32])
{
  int ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0)
    die ("open /dev/loop-control: %s", strerror (errno));
  for (int attempt = 0; attempt < 50; attempt++)
    {
      int n = ioctl (ctl, LOOP_CTL_GET_FREE);
      if (n < 0)
        die ("LOOP_CTL_GET_FREE: %s", strerror (errno));
      snprintf (dev, 32, "/dev/loop%d", n);
      int loop = open (dev, O_RDWR | O_CLOEXEC);
      if (loop < 0)
        {
          if (errno == ENOENT)
            continue;
          die ("open %s: %s", dev, strerror (errno));
        }
      struct loop_config cfg = { .fd = (uint32_t) fd };
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (ioctl (loop, LOOP_CONFIGURE, &cfg) == 0)
        {
          close (ctl);
          return loop;
        }
      int e = errno;
      close (loop);
      if (e != EBUSY) /* another process took it first */
        die ("LOOP_CONFIGURE %s: %s", dev, strerror (e));
    }
  die ("no free loop device");
}

void
al_btrfs_fixture_setup_args (struct al_btrfs_fixture *fx, unsigned mib, const char *mkfs_args)
{
  memset (fx, 0, sizeof *fx);
  if (unshare (CLONE_NEWNS) < 0)
    die ("unshare: %s", strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die ("make / rprivate: %s", strerror (errno));
  snprintf (fx->dir, sizeof fx->dir, "/tmp/al-btrfs-XXXXXX");
  if (mkdtemp (fx->dir) == NULL)
    die ("mkdtemp: %s", strerror (errno));
  if (mount ("al-btrfs-test", fx->dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
    die ("tmpfs on %s: %s", fx->dir, strerror (errno));

  char img[128];
  snprintf (img, sizeof img, "%s/image.btrfs", fx->dir);
  int fd = open (img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate (fd, (off_t) mib << 20) < 0)
    die ("%s: %s", img, strerror (errno));
  char *argv[16] = { "mkfs.btrfs", "-q", "-f" };
  int argc = 3;
  char args[256] = "";
  if (mkfs_args != NULL)
    {
      snprintf (args, sizeof args, "%s", mkfs_args);
      for (char *save = NULL, *a = strtok_r (args, " ", &save); a && argc < 14;
           a = strtok_r (NULL, " ", &save))
        argv[argc++] = a;
    }
  argv[argc++] = img;
  argv[argc] = NULL;
  if (al_btrfs_run (argv, false) < 0)
    die ("mkfs.btrfs %s failed", img);

  int loop = attach_loop (fd, fx->dev);
  close (fd);
  unlink (img); /* the loop device holds it */
  snprintf (fx->mnt, sizeof fx->mnt, "%s/mnt", fx->dir);
  if (mkdir (fx->mnt, 0755) < 0)
    die ("mkdir %s: %s", fx->mnt, strerror (errno));
  if (mount (fx->dev, fx->mnt, "btrfs", 0, NULL) < 0)
    die ("mount %s on %s: %s", fx->dev, fx->mnt, strerror (errno));
  close (loop); /* the mount holds it now: its last close detaches it */
}

void
al_btrfs_fixture_setup (struct al_btrfs_fixture *fx, unsigned mib)
{
  al_btrfs_fixture_setup_args (fx, mib, NULL);
}

void
al_btrfs_fixture_teardown (struct al_btrfs_fixture *fx)
{
  if (fx->dir[0] == '\0')
    return;
  if (fx->mnt[0] != '\0' && umount2 (fx->mnt, 0) < 0 && errno != EINVAL && errno != ENOENT)
    umount2 (fx->mnt, MNT_DETACH);
  /* Whatever a case left mounted inside goes with the tmpfs. */
  umount2 (fx->dir, MNT_DETACH);
  rmdir (fx->dir);
  fx->dir[0] = '\0';
}

/* ------------------------------------------------------------ manifests */

struct strbuf
{
  char *p;
  size_t len, cap;
};

static void sb_printf (struct strbuf *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
sb_printf (struct strbuf *b, const char *fmt, ...)
{
  for (;;)
    {
      va_list ap;
      va_start (ap, fmt);
      int n = vsnprintf (b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
      va_end (ap);
      if (b->p && (size_t) n < b->cap - b->len)
        {
          b->len += (size_t) n;
          return;
        }
      b->cap = (b->cap + (size_t) n + 1) * 2;
      b->p = realloc (b->p, b->cap);
      if (b->p == NULL)
        die ("out of memory");
    }
}

struct inode_seen
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct walk
{
  struct strbuf out;
  struct inode_seen *seen;
  size_t n_seen;
  bool times;
};

static uint64_t
hash_file (const char *path)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    die ("open %s: %s", path, strerror (errno));
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++)
      h = (h ^ buf[i]) * 1099511628211ull;
  if (n < 0)
    die ("read %s: %s", path, strerror (errno));
  close (fd);
  return h;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
xattrs (struct walk *w, const char *path)
{
  char names[8192];
  ssize_t n = llistxattr (path, names, sizeof names);
  if (n < 0)
    die ("llistxattr %s: %s", path, strerror (errno));
  char *list[128];
  size_t k = 0;
  for (char *p = names; p < names + n && k < 128; p += strlen (p) + 1)
    list[k++] = p;
  qsort (list, k, sizeof list[0], cmp_str);
  for (size_t i = 0; i < k; i++)
    {
      unsigned char v[1024];
      ssize_t m = lgetxattr (path, list[i], v, sizeof v);
      if (m < 0)
        die ("lgetxattr %s %s: %s", path, list[i], strerror (errno));
      sb_printf (&w->out, " x:%s=", list[i]);
      for (ssize_t j = 0; j < m; j++)
        sb_printf (&w->out, "%02x", v[j]);
    }
}

static void
walk_entry (struct walk *w, const char *top, const char *rel)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s%s%s", top, *rel ? "/" : "", rel);
  struct stat st;
  if (lstat (path, &st) < 0)
    die ("lstat %s: %s", path, strerror (errno));
  /* A directory's link count is the filesystem's business (btrfs: 1). */
  sb_printf (&w->out, "%s %06o %u:%u n%lu", *rel ? rel : ".", (unsigned) st.st_mode,
             (unsigned) st.st_uid, (unsigned) st.st_gid,
             S_ISDIR (st.st_mode) ? 0ul : (unsigned long) st.st_nlink);
  if (!S_ISDIR (st.st_mode) && st.st_nlink > 1)
    {
      size_t i;
      for (i = 0; i < w->n_seen; i++)
        if (w->seen[i].dev == st.st_dev && w->seen[i].ino == st.st_ino)
          break;
      if (i < w->n_seen)
        sb_printf (&w->out, " =%s", w->seen[i].path);
      else
        {
          w->seen = realloc (w->seen, (w->n_seen + 1) * sizeof *w->seen);
          w->seen[w->n_seen++] = (struct inode_seen){ st.st_dev, st.st_ino, strdup (rel) };
        }
    }
  if (S_ISREG (st.st_mode))
    sb_printf (&w->out, " s%lld h%016llx", (long long) st.st_size,
               (unsigned long long) hash_file (path));
  else if (S_ISLNK (st.st_mode))
    {
      char t[PATH_MAX];
      ssize_t n = readlink (path, t, sizeof t - 1);
      if (n < 0)
        die ("readlink %s: %s", path, strerror (errno));
      t[n] = '\0';
      sb_printf (&w->out, " ->%s", t);
    }
  else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    sb_printf (&w->out, " d%u:%u", major (st.st_rdev), minor (st.st_rdev));
  if (w->times && !S_ISLNK (st.st_mode))
    sb_printf (&w->out, " t%lld.%09ld", (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  xattrs (w, path);
  sb_printf (&w->out, "\n");
  if (!S_ISDIR (st.st_mode))
    return;

  DIR *d = opendir (path);
  if (d == NULL)
    die ("opendir %s: %s", path, strerror (errno));
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      names = realloc (names, (n + 1) * sizeof *names);
      names[n++] = strdup (de->d_name);
    }
  closedir (d);
  if (n > 0)
    qsort (names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      char sub[PATH_MAX];
      snprintf (sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
      walk_entry (w, top, sub);
      free (names[i]);
    }
  free (names);
}

char *
al_btrfs_manifest (const char *path, bool times)
{
  struct walk w = { .times = times };
  sb_printf (&w.out, "%s", "");
  walk_entry (&w, path, "");
  for (size_t i = 0; i < w.n_seen; i++)
    free (w.seen[i].path);
  free (w.seen);
  return w.out.p;
}

/* ------------------------------------------------------------ trees */

static void mk (const char *top, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static char *
at (char buf[PATH_MAX], const char *top, const char *rel)
{
  if (snprintf (buf, PATH_MAX, "%s/%s", top, rel) >= PATH_MAX)
    die ("path too long: %s/%s", top, rel);
  return buf;
}

static void
check (int r, const char *what, const char *path)
{
  if (r < 0)
    die ("%s %s: %s", what, path, strerror (errno));
}

void
al_btrfs_write (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  check (fd, "create", path);
  size_t len = strlen (text);
  if (write (fd, text, len) != (ssize_t) len)
    die ("write %s: %s", path, strerror (errno));
  close (fd);
}

const char *
al_btrfs_read (const char *path)
{
  static char bufs[4][4096];
  static int next;
  char *b = bufs[next++ % 4];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      snprintf (b, 4096, "<%s: %s>", path, strerror (errno));
      return b;
    }
  ssize_t n = read (fd, b, 4095);
  close (fd);
  b[n < 0 ? 0 : n] = '\0';
  return b;
}

/* "D name mode" makes a directory, "F name mode text" a file, "L name
 * target" a symlink, "H name existing" a hard link, "P name mode" a fifo,
 * "C name mode major minor" a char device. */
static void
mk (const char *top, const char *fmt, ...)
{
  char spec[PATH_MAX + 256], p[PATH_MAX], q[PATH_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (spec, sizeof spec, fmt, ap);
  va_end (ap);
  char kind, name[256], a1[PATH_MAX];
  unsigned mode = 0, maj = 0, mnr = 0;
  int n = sscanf (spec, "%c %255s", &kind, name);
  if (n != 2)
    die ("bad spec %s", spec);
  at (p, top, name);
  switch (kind)
    {
    case 'D':
      sscanf (spec, "%*c %*s %o", &mode);
      check (mkdir (p, mode), "mkdir", p);
      check (chmod (p, mode), "chmod", p);
      break;
    case 'F':
      {
        int off = 0;
        sscanf (spec, "%*c %*s %o %n", &mode, &off);
        al_btrfs_write (p, spec + off);
        check (chmod (p, mode), "chmod", p);
        break;
      }
    case 'L':
      sscanf (spec, "%*c %*s %s", a1);
      check (symlink (a1, p), "symlink", p);
      break;
    case 'H':
      sscanf (spec, "%*c %*s %s", a1);
      check (link (at (q, top, a1), p), "link", p);
      break;
    case 'P':
      sscanf (spec, "%*c %*s %o", &mode);
      check (mkfifo (p, mode), "mkfifo", p);
      check (chmod (p, mode), "chmod", p);
      break;
    case 'C':
      sscanf (spec, "%*c %*s %o %u %u", &mode, &maj, &mnr);
      check (mknod (p, S_IFCHR | mode, makedev (maj, mnr)), "mknod", p);
      check (chmod (p, mode), "chmod", p);
      break;
    default:
      die ("bad spec %s", spec);
    }
}

static void
own (const char *top, const char *rel, uid_t uid, gid_t gid)
{
  char p[PATH_MAX];
  check (lchown (at (p, top, rel), uid, gid), "lchown", p);
}

static void
xattr (const char *top, const char *rel, const char *name, const char *value)
{
  char p[PATH_MAX];
  check (lsetxattr (at (p, top, rel), name, value, strlen (value), 0), "lsetxattr", p);
}

static void
set_mtime (const char *top, const char *rel, time_t sec)
{
  char p[PATH_MAX];
  struct timespec ts[2] = { { sec, 123456789 }, { sec, 987654321 } };
  check (utimensat (AT_FDCWD, at (p, top, rel), ts, AT_SYMLINK_NOFOLLOW), "utimensat", p);
}

void
al_btrfs_populate (const char *top)
{
  char p[PATH_MAX];
  if (mkdir (top, 0755) < 0 && errno != EEXIST)
    die ("mkdir %s: %s", top, strerror (errno));
  mk (top, "F a.txt 0640 alpha\n");
  own (top, "a.txt", 1000, 1001);
  xattr (top, "a.txt", "user.k", "v1");
  mk (top, "D d 0750");
  own (top, "d", 1000, 1000);
  xattr (top, "d", "trusted.t", "tv");
  int fd = open (at (p, top, "d/b.bin"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  check (fd, "create", p);
  for (int i = 0; i < 100; i++)
    {
      char block[1024];
      memset (block, 'A' + i % 26, sizeof block);
      if (write (fd, block, sizeof block) != (ssize_t) sizeof block)
        die ("write %s", p);
    }
  close (fd);
  mk (top, "H d/hard a.txt");
  mk (top, "L link a.txt");
  own (top, "link", 1000, 1000);
  mk (top, "L dangle /nowhere/at/all");
  mk (top, "P fifo 0620");
  mk (top, "C null 0666 1 3");
  mk (top, "F suid 04755 #!/bin/sh\n");
  mk (top, "D e 01777");
  mk (top, "D x 0755");
  mk (top, "D x/y 0755");
  mk (top, "D x/y/z 0700");
  mk (top, "F x/y/z/deep 0644 deep");
  fd = open (at (p, top, "sparse"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  check (fd, "create", p);
  if (pwrite (fd, "end", 3, 1 << 20) != 3)
    die ("write %s", p);
  close (fd);
  set_mtime (top, "a.txt", 1000000000);
  set_mtime (top, "x/y/z/deep", 1100000000);
}

void
al_btrfs_mutate (const char *top, int round)
{
  char p[PATH_MAX], q[PATH_MAX];
  if (round == 1)
    {
      al_btrfs_write (at (p, top, "a.txt"), "alpha-1\n"); /* and d/hard */
      check (chmod (at (p, top, "d"), 0700), "chmod", p);
      own (top, "d/b.bin", 2000, 2000);
      check (truncate (at (p, top, "d/b.bin"), 50 * 1024), "truncate", p);
      xattr (top, "a.txt", "user.k", "changed-1");
      check (lremovexattr (at (p, top, "d"), "trusted.t"), "lremovexattr", p);
      check (unlink (at (p, top, "dangle")), "unlink", p);
      check (unlink (at (p, top, "link")), "unlink", p);
      mk (top, "L link d/b.bin");
      mk (top, "F new-1 0604 new one");
      mk (top, "H d/hard2 d/b.bin");
      check (rename (at (p, top, "x/y"), at (q, top, "x/y2")), "rename", p);
      check (unlink (at (p, top, "fifo")), "unlink", p);
      set_mtime (top, "suid", 1200000000);
    }
  else
    {
      check (unlink (at (p, top, "a.txt")), "unlink", p);
      check (rmdir (at (p, top, "e")), "rmdir", p);
      mk (top, "F new-2 0600 two");
      check (chmod (at (p, top, "suid"), 0755), "chmod", p);
      xattr (top, "d/b.bin", "user.r2", "r2");
      mk (top, "D m2 0711");
      al_btrfs_write (at (p, top, "x/y2/z/deep"), "deeper");
    }
}

bool
al_btrfs_dir_empty (const char *path)
{
  return al_btrfs_count_entries (path) == 0;
}

int
al_btrfs_count_entries (const char *path)
{
  DIR *d = opendir (path);
  if (d == NULL)
    die ("opendir %s: %s", path, strerror (errno));
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

void
al_btrfs_remove_tree (const char *path)
{
  nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
