/* snap_testlib.h — checks of snapshot.h that hold for every backend.
 *
 * Include it in a Criterion test file (one per backend): the functions
 * take the backend and a directory on a filesystem it can use ("area",
 * made and removed by the caller), and assert with cr_assert.  They make
 * mounts, so the test process must stand in a private mount namespace of
 * its own (snap_test_enter_namespace(), from a suite's .init): whatever a
 * failed check leaves mounted goes with the process.
 *
 * A view is compared with a saved plain copy of an earlier view
 * (al_tree_copy) through al_tree_diff: type, mode, owner, size, mtime,
 * symlink target, xattrs and content must all match.
 */
#ifndef AL_SNAP_TESTLIB_H
#define AL_SNAP_TESTLIB_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snap_backend.h"
#include "snapshot.h"
#include "tree.h"

/* snprintf into an array, asserting it fits. */
#define SNAPF(buf, ...)                                                                            \
  cr_assert_lt ((size_t) snprintf (buf, sizeof buf, __VA_ARGS__), sizeof buf, "path too long")

#define SNAP_UID 1000
#define SNAP_GID 1000

static inline void
snap_test_enter_namespace (void)
{
  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "rprivate: %s",
                strerror (errno));
  alarm (600); /* a hung case fails instead of blocking the run */
}

/* path = area + "/" + name */
static inline char *
snap_path (const char *area, const char *name)
{
  char *p;
  cr_assert_neq (asprintf (&p, "%s/%s", area, name), -1);
  return p;
}

static inline void
snap_write (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  cr_assert_geq (fd, 0, "create %s: %s", path, strerror (errno));
  cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text), "write %s", path);
  close (fd);
}

static inline void
snap_writef (const char *root, const char *rel, const char *text)
{
  char *p = snap_path (root, rel);
  snap_write (p, text);
  free (p);
}

static inline char *
snap_read (const char *root, const char *rel)
{
  char *p = snap_path (root, rel);
  FILE *f = fopen (p, "re");
  free (p);
  if (f == NULL)
    return NULL;
  char *buf = calloc (1, 4096);
  size_t n = fread (buf, 1, 4095, f);
  buf[n] = '\0';
  fclose (f);
  return buf;
}

static inline bool
snap_exists (const char *root, const char *rel)
{
  char p[PATH_MAX];
  struct stat st;
  SNAPF (p, "%s/%s", root, rel);
  return lstat (p, &st) == 0;
}

static inline void
snap_mkdir (const char *root, const char *rel, mode_t mode)
{
  char p[PATH_MAX];
  SNAPF (p, "%s/%s", root, rel);
  cr_assert_eq (mkdir (p, mode), 0, "mkdir %s: %s", p, strerror (errno));
}

static inline void
snap_rm_rf (const char *root, const char *rel)
{
  struct al_error err = { 0 };
  int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  int r = al_tree_remove (fd, rel, &err);
  close (fd);
  cr_assert_eq (r, 0, "rm -rf %s/%s: %s", root, rel, err.msg);
}

/* A small image: files, a dir tree, a symlink, a setuid file, owners,
 * xattrs, a hard link pair, a fifo. */
static inline void
snap_make_image (const char *image)
{
  cr_assert_eq (mkdir (image, 0755), 0, "mkdir %s: %s", image, strerror (errno));
  snap_writef (image, "a", "alpha\n");
  snap_writef (image, "b", "bravo\n");
  snap_mkdir (image, "d", 0755);
  snap_writef (image, "d/one", "one\n");
  snap_mkdir (image, "d/sub", 0750);
  snap_writef (image, "d/sub/deep", "deep\n");
  snap_mkdir (image, "e", 0755);
  snap_writef (image, "e/old", "old\n");
  snap_mkdir (image, "etc", 0755);
  snap_writef (image, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  char p[PATH_MAX];
  SNAPF (p, "%s/link", image);
  cr_assert_eq (symlink ("a", p), 0);
  SNAPF (p, "%s/hl1", image);
  snap_write (p, "linked\n");
  char q[PATH_MAX];
  SNAPF (q, "%s/hl2", image);
  cr_assert_eq (link (p, q), 0);
  SNAPF (p, "%s/fifo", image);
  cr_assert_eq (mkfifo (p, 0600), 0);
  SNAPF (p, "%s/b", image);
  cr_assert_eq (chown (p, 7, 8), 0);
  cr_assert_eq (setxattr (p, "user.img", "1", 1, 0), 0, "user xattrs on %s: %s", p,
                strerror (errno));
}

static inline struct al_snap *
snap_create (const char *area, const char *name, const char *base, enum al_snap_backend b)
{
  char *dir = snap_path (area, name);
  struct al_snap *s = NULL;
  struct al_error err = { 0 };
  int r = al_snap_create (dir, base, b, SNAP_UID, SNAP_GID, &s, &err);
  cr_assert_eq (r, 0, "create %s: %s", dir, err.msg);
  free (dir);
  return s;
}

static inline struct al_snap *
snap_open (const char *area, const char *name)
{
  char *dir = snap_path (area, name);
  struct al_snap *s = NULL;
  struct al_error err = { 0 };
  int r = al_snap_open (dir, &s, &err);
  cr_assert_eq (r, 0, "open %s: %s", dir, err.msg);
  free (dir);
  return s;
}

/* The root mounted on area/mnt (made if missing). */
static inline char *
snap_mount (struct al_snap *s, const char *area)
{
  char *mnt = snap_path (area, "mnt");
  mkdir (mnt, 0755);
  struct al_error err = { 0 };
  int r = al_snap_mount (s, mnt, &err);
  cr_assert_eq (r, 0, "mount: %s", err.msg);
  return mnt;
}

static inline void
snap_umount (char *mnt)
{
  cr_assert_eq (umount2 (mnt, MNT_DETACH), 0, "umount %s: %s", mnt, strerror (errno));
  free (mnt);
}

static inline void
snap_ok (int r, const struct al_error *err, const char *what)
{
  cr_assert_eq (r, 0, "%s: %s", what, err->msg);
}

static inline void
snap_do_snapshot (struct al_snap *s, const char *tag)
{
  struct al_error err = { 0 };
  snap_ok (al_snap_snapshot (s, tag, &err), &err, "snapshot");
}

static inline void
snap_do_rollback (struct al_snap *s, const char *tag, bool to_base)
{
  struct al_error err = { 0 };
  snap_ok (al_snap_rollback (s, tag, to_base, &err), &err, "rollback");
}

/* A plain copy of the current view in area/name. */
static inline char *
snap_save_view (struct al_snap *s, const char *area, const char *name)
{
  char *mnt = snap_mount (s, area);
  char *dst = snap_path (area, name);
  cr_assert_eq (mkdir (dst, 0755), 0, "mkdir %s: %s", dst, strerror (errno));
  int src = open (mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int dfd = open (dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert (src >= 0 && dfd >= 0);
  struct al_error err = { 0 };
  snap_ok (al_tree_copy (src, dfd, &err), &err, "copy the view");
  close (src);
  close (dfd);
  snap_umount (mnt);
  return dst;
}

struct snap_diffs
{
  char text[8192];
  size_t n;
};

static inline int
snap_collect (void *data, char kind, const char *path)
{
  struct snap_diffs *d = data;
  size_t len = strlen (d->text);
  snprintf (d->text + len, sizeof d->text - len, "%c %s\n", kind, path);
  d->n++;
  return 0;
}

/* The differences between two trees, "K /path\n" each. */
static inline void
snap_tree_diff (const char *old_dir, const char *new_dir, struct snap_diffs *d)
{
  memset (d, 0, sizeof *d);
  int a = open (old_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int b = open (new_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert (a >= 0 && b >= 0, "open %s, %s", old_dir, new_dir);
  struct al_error err = { 0 };
  snap_ok (al_tree_diff (a, b, snap_collect, d, &err), &err, "diff");
  close (a);
  close (b);
}

/* Whether the current view equals the saved tree expect. */
static inline bool
snap_view_is (struct al_snap *s, const char *area, const char *expect, struct snap_diffs *d)
{
  char *mnt = snap_mount (s, area);
  snap_tree_diff (expect, mnt, d);
  snap_umount (mnt);
  return d->n == 0;
}

static inline void
snap_assert_view (struct al_snap *s, const char *area, const char *expect, const char *when)
{
  struct snap_diffs d;
  cr_assert (snap_view_is (s, area, expect, &d), "%s: the view differs from %s:\n%s", when, expect,
             d.text);
}

static inline size_t
snap_count (struct al_snap *s)
{
  struct al_snap_info *info = NULL;
  size_t n = 0;
  struct al_error err = { 0 };
  snap_ok (al_snap_list (s, &info, &n, &err), &err, "list");
  free (info);
  return n;
}

static inline bool
snap_has_tag (struct al_snap *s, const char *tag)
{
  struct al_snap_info *info = NULL;
  size_t n = 0;
  struct al_error err = { 0 };
  snap_ok (al_snap_list (s, &info, &n, &err), &err, "list");
  bool found = false;
  for (size_t i = 0; i < n; i++)
    found |= strcmp (info[i].tag, tag) == 0;
  free (info);
  return found;
}

/* Changes of every kind a layer holds, made in the view at mnt. */
static inline void
snap_change_set_a (const char *mnt)
{
  char p[PATH_MAX], q[PATH_MAX];
  snap_writef (mnt, "a", "alpha changed\n"); /* modified base file */
  snap_writef (mnt, "new", "new file\n");    /* added */
  SNAPF (p, "%s/new", mnt);
  cr_assert_eq (chmod (p, 04755), 0); /* setuid */
  snap_writef (mnt, "owned", "owned\n");
  SNAPF (p, "%s/owned", mnt);
  cr_assert_eq (chown (p, 4321, 5678), 0); /* owner */
  cr_assert_eq (setxattr (p, "user.k", "value", 5, 0), 0, "setxattr: %s", strerror (errno));
  SNAPF (p, "%s/sym", mnt);
  cr_assert_eq (symlink ("/etc/passwd", p), 0); /* symlink */
  SNAPF (p, "%s/b", mnt);
  cr_assert_eq (unlink (p), 0); /* whiteout of a file */
  snap_rm_rf (mnt, "e");        /* whiteout of a dir */
  snap_rm_rf (mnt, "d");        /* opaque dir */
  snap_mkdir (mnt, "d", 0700);
  snap_writef (mnt, "d/fresh", "fresh\n");
  SNAPF (p, "%s/h1", mnt); /* hard links */
  snap_write (p, "two names\n");
  SNAPF (q, "%s/h2", mnt);
  cr_assert_eq (link (p, q), 0);
}

static inline void
snap_change_set_b (const char *mnt)
{
  char p[PATH_MAX];
  snap_writef (mnt, "a", "alpha changed again\n");
  snap_writef (mnt, "d/fresh", "fresher\n");
  snap_writef (mnt, "etc/passwd", "root:x:0:0::/root:/bin/bash\n");
  SNAPF (p, "%s/new", mnt);
  cr_assert_eq (unlink (p), 0);
  snap_mkdir (mnt, "e", 0711); /* a dir where a deleted one was */
  snap_writef (mnt, "e/again", "again\n");
}

static inline void
snap_assert_same_inode (const char *mnt, const char *x, const char *y)
{
  char p[PATH_MAX], q[PATH_MAX];
  struct stat a, b;
  SNAPF (p, "%s/%s", mnt, x);
  SNAPF (q, "%s/%s", mnt, y);
  cr_assert (stat (p, &a) == 0 && stat (q, &b) == 0, "stat %s, %s", p, q);
  cr_assert_eq (a.st_ino, b.st_ino, "%s and %s are not one inode", x, y);
  cr_assert_eq (a.st_nlink, 2, "%s: %lu links", x, (unsigned long) a.st_nlink);
}

/* snapshot / rollback round trips restore every kind of change exactly. */
static inline void
snap_check_roundtrip (enum al_snap_backend b, const char *area)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, b);

  char *base_view = snap_save_view (s, area, "view0");
  struct snap_diffs d;
  snap_tree_diff (image, base_view, &d);
  cr_assert_eq (d.n, 0, "a new store shows its image:\n%s", d.text);

  char *mnt = snap_mount (s, area);
  snap_change_set_a (mnt);
  snap_umount (mnt);
  char *view_a = snap_save_view (s, area, "viewA");
  snap_do_snapshot (s, "t1");
  snap_assert_view (s, area, view_a, "after snapshot t1");

  mnt = snap_mount (s, area);
  snap_assert_same_inode (mnt, "h1", "h2");
  snap_change_set_b (mnt);
  snap_umount (mnt);
  char *view_b = snap_save_view (s, area, "viewB");
  snap_do_snapshot (s, "t2");

  mnt = snap_mount (s, area);
  snap_writef (mnt, "late", "late\n");
  snap_rm_rf (mnt, "etc");
  snap_umount (mnt);

  snap_do_rollback (s, NULL, false); /* the latest: t2 */
  snap_assert_view (s, area, view_b, "rollback to the latest");
  snap_do_rollback (s, "t1", false);
  snap_assert_view (s, area, view_a, "rollback to t1");
  cr_assert_eq (snap_count (s), 1, "rollback to t1 drops t2");
  cr_assert (!snap_has_tag (s, "t2"));
  mnt = snap_mount (s, area);
  snap_assert_same_inode (mnt, "h1", "h2");
  struct stat st;
  char p[PATH_MAX];
  SNAPF (p, "%s/new", mnt);
  cr_assert_eq (lstat (p, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 04755, "setuid kept: %o", st.st_mode & 07777);
  SNAPF (p, "%s/owned", mnt);
  cr_assert_eq (lstat (p, &st), 0);
  cr_assert (st.st_uid == 4321 && st.st_gid == 5678, "owner kept");
  char v[16] = "";
  cr_assert_eq (getxattr (p, "user.k", v, sizeof v), 5);
  cr_assert_str_eq (v, "value");
  snap_umount (mnt);

  snap_do_rollback (s, NULL, true);
  snap_assert_view (s, area, base_view, "rollback to the base");
  cr_assert_eq (snap_count (s), 0);

  struct al_error err = { 0 };
  cr_assert_eq (al_snap_rollback (s, NULL, false, &err), -ENOENT, "no snapshot: ENOENT");
  cr_assert (strstr (err.msg, "store") != NULL || strstr (err.msg, "sandbox") != NULL, "%s",
             err.msg);
  struct al_error gc_err = { 0 };
  snap_ok (al_snap_gc (s, &gc_err), &gc_err, "gc");
  al_snap_close (s);
  free (image);
  free (base_view);
  free (view_a);
  free (view_b);
}

/* Deleting a middle snapshot keeps the ones above it exact. */
static inline void
snap_check_delete_middle (enum al_snap_backend b, const char *area)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, b);
  char *mnt = snap_mount (s, area);
  snap_writef (mnt, "one", "1\n");
  snap_writef (mnt, "d/one", "changed in t1\n");
  snap_umount (mnt);
  char *v1 = snap_save_view (s, area, "v1");
  snap_do_snapshot (s, "t1");

  mnt = snap_mount (s, area);
  snap_change_set_a (mnt); /* whiteouts, opaque dir, links... in t2 */
  snap_writef (mnt, "one", "1 in t2\n");
  snap_umount (mnt);
  char *v2 = snap_save_view (s, area, "v2");
  snap_do_snapshot (s, "t2");

  mnt = snap_mount (s, area);
  snap_change_set_b (mnt);
  snap_umount (mnt);
  char *v3 = snap_save_view (s, area, "v3");
  snap_do_snapshot (s, "t3");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "cur", "current\n");
  snap_umount (mnt);
  char *vc = snap_save_view (s, area, "vc");

  struct al_error err = { 0 };
  snap_ok (al_snap_delete (s, "t2", &err), &err, "delete t2");
  cr_assert (!snap_has_tag (s, "t2"));
  cr_assert_eq (snap_count (s), 2);
  snap_assert_view (s, area, vc, "after deleting t2, the current view");
  snap_do_rollback (s, "t3", false);
  snap_assert_view (s, area, v3, "t3 after deleting t2");
  mnt = snap_mount (s, area);
  snap_assert_same_inode (mnt, "h1", "h2");
  snap_umount (mnt);

  /* The latest snapshot folds into the writable state. */
  mnt = snap_mount (s, area);
  snap_writef (mnt, "cur2", "current 2\n");
  snap_umount (mnt);
  char *vc2 = snap_save_view (s, area, "vc2");
  snap_ok (al_snap_delete (s, "t3", &err), &err, "delete t3");
  snap_assert_view (s, area, vc2, "after deleting t3, the current view");
  snap_do_rollback (s, "t1", false);
  snap_assert_view (s, area, v1, "t1 after deleting t2 and t3");
  cr_assert_eq (al_snap_delete (s, "t2", &err), -ENOENT);
  (void) v2;
  al_snap_close (s);
  free (image);
  free (v1);
  free (v2);
  free (v3);
  free (vc);
  free (vc2);
}

struct snap_expect
{
  char kind;
  const char *path;
};

static inline void
snap_check_diff (enum al_snap_backend b, const char *area)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, b);
  char *mnt = snap_mount (s, area);
  snap_writef (mnt, "a", "changed before t1\n");
  snap_umount (mnt);
  snap_do_snapshot (s, "t1");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "added", "x\n");
  snap_writef (mnt, "a", "changed after t1\n");
  snap_rm_rf (mnt, "d");
  snap_umount (mnt);

  struct snap_diffs d = { 0 };
  struct al_error err = { 0 };
  snap_ok (al_snap_diff (s, NULL, snap_collect, &d, &err), &err, "diff");
  cr_assert_eq (d.n, 3, "diff since t1:\n%s", d.text);
  cr_assert (strstr (d.text, "A /added\n") && strstr (d.text, "M /a\n")
                 && strstr (d.text, "D /d\n"),
             "diff since t1:\n%s", d.text);

  /* Since a tag below: the same paths plus what t1 held. */
  snap_do_snapshot (s, "t2");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "b", "b changed\n");
  snap_umount (mnt);
  memset (&d, 0, sizeof d);
  snap_ok (al_snap_diff (s, "t1", snap_collect, &d, &err), &err, "diff t1");
  cr_assert_eq (d.n, 4, "diff since t1 with t2 between:\n%s", d.text);
  cr_assert (strstr (d.text, "M /b\n") != NULL, "%s", d.text);
  memset (&d, 0, sizeof d);
  snap_ok (al_snap_diff (s, NULL, snap_collect, &d, &err), &err, "diff t2");
  cr_assert_eq (d.n, 1, "diff since t2:\n%s", d.text);
  cr_assert_eq (al_snap_diff (s, "nope", snap_collect, &d, &err), -ENOENT);
  al_snap_close (s);
  free (image);
}

/* commit to a new dir equals the view; to an existing one is atomic and
 * writes none of its old files. */
static inline void
snap_check_commit (enum al_snap_backend b, const char *area)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, b);
  char *mnt = snap_mount (s, area);
  snap_change_set_a (mnt);
  snap_umount (mnt);
  snap_do_snapshot (s, "t1");
  mnt = snap_mount (s, area);
  snap_change_set_b (mnt);
  snap_umount (mnt);

  char *out = snap_path (area, "out");
  struct al_error err = { 0 };
  snap_ok (al_snap_commit (s, out, &err), &err, "commit to a new dir");
  mnt = snap_mount (s, area);
  struct snap_diffs d;
  snap_tree_diff (out, mnt, &d);
  cr_assert_eq (d.n, 0, "commit differs from the view:\n%s", d.text);
  snap_assert_same_inode (out, "h1", "h2");
  char p[PATH_MAX], v[4];
  SNAPF (p, "%s/d", out);
  cr_assert_lt (lgetxattr (p, "trusted.overlay.opaque", v, sizeof v), 0, "no overlay xattrs");
  cr_assert (!snap_exists (out, "b"), "no whiteouts in a commit");

  /* Again into the existing dir: an fd of an old file keeps the old data. */
  SNAPF (p, "%s/a", out);
  int old_a = open (p, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (old_a, 0);
  struct stat unchanged_before, unchanged_after;
  SNAPF (p, "%s/etc/passwd", out);
  cr_assert_eq (stat (p, &unchanged_before), 0);
  snap_writef (mnt, "a", "committed twice\n");
  snap_writef (mnt, "more", "more\n");
  snap_rm_rf (mnt, "link");
  snap_umount (mnt);
  snap_ok (al_snap_commit (s, out, &err), &err, "commit to an existing dir");
  mnt = snap_mount (s, area);
  snap_tree_diff (out, mnt, &d);
  cr_assert_eq (d.n, 0, "second commit differs from the view:\n%s", d.text);
  snap_umount (mnt);
  char buf[64] = "";
  cr_assert_gt (pread (old_a, buf, sizeof buf - 1, 0), 0);
  cr_assert_str_eq (buf, "alpha changed again\n", "the old file was written in place");
  close (old_a);
  cr_assert_eq (stat (p, &unchanged_after), 0);
  cr_assert_eq (unchanged_before.st_ino, unchanged_after.st_ino, "unchanged files are kept");
  /* Nothing left beside it. */
  DIR *dir = opendir (area);
  struct dirent *e;
  while ((e = readdir (dir)) != NULL)
    cr_assert (strstr (e->d_name, ".tmp-") == NULL, "left behind: %s", e->d_name);
  closedir (dir);
  al_snap_close (s);
  free (image);
  free (out);
}

/* A clone shares the snapshots and is independent after a write in
 * either, even when one folds a shared layer into its writable state. */
static inline void
snap_check_clone (enum al_snap_backend b, const char *area)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, b);
  char *mnt = snap_mount (s, area);
  snap_writef (mnt, "shared", "shared v1\n");
  snap_umount (mnt);
  snap_do_snapshot (s, "t1");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "cur", "current of A\n");
  snap_umount (mnt);
  char *va = snap_save_view (s, area, "va");

  char *dir = snap_path (area, "clone");
  struct al_snap *c = NULL;
  struct al_error err = { 0 };
  snap_ok (al_snap_clone (s, dir, &c, &err), &err, "clone");
  snap_assert_view (c, area, va, "the clone");
  cr_assert (snap_has_tag (c, "t1"));

  /* A folds t1 into its writable state and writes the shared file. */
  snap_ok (al_snap_delete (s, "t1", &err), &err, "delete t1 in A");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "shared", "A wrote\n");
  snap_writef (mnt, "onlyA", "A\n");
  snap_umount (mnt);
  mnt = snap_mount (c, area);
  char *text = snap_read (mnt, "shared");
  cr_assert_str_eq (text, "shared v1\n", "a write in A reached the clone");
  free (text);
  cr_assert (!snap_exists (mnt, "onlyA"));
  snap_writef (mnt, "onlyB", "B\n");
  snap_writef (mnt, "cur", "B changed cur\n");
  snap_umount (mnt);
  mnt = snap_mount (s, area);
  cr_assert (!snap_exists (mnt, "onlyB"));
  text = snap_read (mnt, "cur");
  cr_assert_str_eq (text, "current of A\n", "a write in the clone reached A");
  free (text);
  snap_umount (mnt);
  snap_do_rollback (c, "t1", false);
  mnt = snap_mount (c, area);
  text = snap_read (mnt, "shared");
  cr_assert_str_eq (text, "shared v1\n");
  free (text);
  snap_umount (mnt);
  snap_ok (al_snap_destroy (c, &err), &err, "destroy the clone");
  al_snap_close (c);
  cr_assert (!snap_exists (area, "clone"));
  al_snap_close (s);
  free (dir);
  free (va);
  free (image);
}

/* ------------------------------------------------------------ crashes */

static int snap_crash_at;     /* the call of the hook that dies */
static int *snap_crash_calls; /* calls so far, shared with children */

static inline void
snap_crash_hook (const char *where)
{
  (void) where;
  if (__atomic_add_fetch (snap_crash_calls, 1, __ATOMIC_SEQ_CST) == snap_crash_at)
    raise (SIGKILL);
}

/* A store directory copied (layers with their whiteouts and xattrs). */
static inline void
snap_copy_dir (const char *src, const char *dst)
{
  cr_assert_eq (mkdir (dst, 0700), 0, "mkdir %s: %s", dst, strerror (errno));
  int a = open (src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int c = open (dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert (a >= 0 && c >= 0);
  struct al_error err = { 0 };
  snap_ok (al_tree_copy (a, c, &err), &err, "copy a store");
  close (a);
  close (c);
}

typedef int (*snap_op) (struct al_snap *s, const char *area, struct al_error *err);

/* For k = 1, 2, ...: a child runs op on a fresh copy of area/pristine
 * (renamed area/store) and dies at the k-th crash point; al_snap_open
 * then repairs, and check (which asserts old-or-new) runs.  Returns the
 * number of crash points hit. */
static inline int
snap_crash_loop (const char *area, snap_op op,
                 void (*check) (struct al_snap *s, const char *area, void *arg), void *arg,
                 void (*reset) (const char *area, void *arg))
{
  char *pristine = snap_path (area, "pristine");
  char *store = snap_path (area, "store");
  int crashes = 0;
  /* Crash points in the store's own children count too. */
  snap_crash_calls
      = mmap (NULL, sizeof (int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (snap_crash_calls, MAP_FAILED);
  for (int k = 1; k < 200; k++)
    {
      struct al_error err = { 0 };
      int fd = open (area, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      int r = al_tree_remove (fd, "store", &err);
      close (fd);
      cr_assert (r == 0 || r == -ENOENT, "remove the store: %s", err.msg);
      snap_copy_dir (pristine, store);
      if (reset)
        reset (area, arg);
      pid_t pid = fork ();
      cr_assert_geq (pid, 0);
      if (pid == 0)
        {
          struct al_snap *s = NULL;
          struct al_error e = { 0 };
          *snap_crash_calls = 0;
          snap_crash_at = k;
          al_snap_crash_point = snap_crash_hook; /* open's repair counts too */
          if (al_snap_open (store, &s, &e) < 0)
            _exit (3);
          int rr = op (s, area, &e);
          _exit (rr == 0 ? 0 : 2);
        }
      int status;
      cr_assert_eq (waitpid (pid, &status, 0), pid);
      /* Killed, or failed because a child of the store was. */
      bool crashed
          = (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL) || *snap_crash_calls >= k;
      cr_assert (crashed || WIFEXITED (status), "child status %d", status);
      cr_assert (crashed || WEXITSTATUS (status) != 3, "open failed in the child");
      struct al_snap *s = snap_open (area, "store");
      /* Nothing left but what meta.json names. */
      DIR *d = opendir (store);
      struct dirent *e;
      size_t states = 0;
      while ((e = readdir (d)) != NULL)
        {
          cr_assert (strncmp (e->d_name, "trash-", 6) != 0 && strncmp (e->d_name, "view-", 5) != 0,
                     "left in the store after crash %d: %s", k, e->d_name);
          states += e->d_name[0] == 's' && e->d_name[1] >= '0' && e->d_name[1] <= '9';
        }
      closedir (d);
      /* The snapshots and the writable state, no unreferenced state. */
      cr_assert_eq (states, snap_count (s) + 1, "after crash %d: %zu states for %zu snapshots", k,
                    states, snap_count (s));
      check (s, area, arg);
      al_snap_close (s);
      if (!crashed)
        {
          cr_assert_eq (WEXITSTATUS (status), 0, "the operation failed without a crash");
          break;
        }
      crashes++;
    }
  free (pristine);
  free (store);
  return crashes;
}

#endif
