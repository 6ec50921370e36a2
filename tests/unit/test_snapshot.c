/* test_snapshot.c — snapshot/tree.h and snapshot.h with the overlay
 * backend, for real (as root).
 *
 * Each case runs in its own process (Criterion's fork), which first
 * unshares a mount namespace and makes / rprivate: every mount a case
 * makes, even one a failed assertion leaves, vanishes with it.  Temp dirs
 * are mktemp'd under /tmp and removed by the suite's .fini.  The checks
 * any backend must pass live in snap_testlib.h (test_snapshot_btrfs.c
 * runs them on btrfs); the ones here are overlay's own or cost more.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <sys/file.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snap_testlib.h"

static char area[64];

static void
setup (void)
{
  snap_test_enter_namespace ();
  snprintf (area, sizeof area, "/tmp/al-snap1-XXXXXX");
  cr_assert_neq (mkdtemp (area), NULL, "mkdtemp: %s", strerror (errno));
}

static void
teardown (void)
{
  char p[PATH_MAX];
  SNAPF (p, "%s/mnt", area);
  while (umount2 (p, MNT_DETACH) == 0)
    ;
  SNAPF (p, "%s/small", area);
  while (umount2 (p, MNT_DETACH) == 0)
    ;
  struct al_error err = { 0 };
  al_tree_remove (AT_FDCWD, area, &err);
}

TestSuite (tree, .init = setup, .fini = teardown);
TestSuite (snapshot, .init = setup, .fini = teardown);
TestSuite (crash, .init = setup, .fini = teardown);

/* ------------------------------------------------------------- tree.h */

static int
open_dir (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0, "open %s: %s", path, strerror (errno));
  return fd;
}

static void
node (const char *root, const char *rel, mode_t mode, dev_t dev)
{
  char p[PATH_MAX];
  SNAPF (p, "%s/%s", root, rel);
  cr_assert_eq (mknod (p, mode, dev), 0, "mknod %s: %s", p, strerror (errno));
}

static struct stat
lst (const char *root, const char *rel)
{
  char p[PATH_MAX];
  struct stat st;
  SNAPF (p, "%s/%s", root, rel);
  cr_assert_eq (lstat (p, &st), 0, "lstat %s: %s", p, strerror (errno));
  return st;
}

static bool
has_xattr (const char *root, const char *rel, const char *name)
{
  char p[PATH_MAX], v[16];
  SNAPF (p, "%s/%s", root, rel);
  return lgetxattr (p, name, v, sizeof v) >= 0;
}

/* Every kind of entry a root holds. */
static void
make_rich_tree (const char *src)
{
  char p[PATH_MAX];
  snap_make_image (src);
  node (src, "null", S_IFCHR | 0666, makedev (1, 3));
  node (src, "whiteout", S_IFCHR | 0000, makedev (0, 0));
  node (src, "loop", S_IFBLK | 0660, makedev (7, 0));
  node (src, "sock", S_IFSOCK | 0755, 0);
  SNAPF (p, "%s/sparse", src);
  int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  cr_assert_geq (fd, 0);
  cr_assert_eq (pwrite (fd, "end", 3, 64 << 20), 3);
  close (fd);
  SNAPF (p, "%s/suid", src);
  snap_write (p, "#!/bin/sh\n");
  cr_assert_eq (chown (p, 1000, 1000), 0);
  cr_assert_eq (chmod (p, 06755), 0);
  SNAPF (p, "%s/d", src);
  cr_assert_eq (lsetxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
  cr_assert_eq (lsetxattr (p, "user.dir", "x", 1, 0), 0);
  SNAPF (p, "%s/link", src);
  cr_assert_eq (lchown (p, 33, 44), 0);
  SNAPF (p, "%s/d/sub", src);
  struct timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
  cr_assert_eq (utimensat (AT_FDCWD, p, ts, 0), 0);
}

Test (tree, copy_keeps_everything)
{
  char *src = snap_path (area, "src"), *dst = snap_path (area, "dst");
  make_rich_tree (src);
  cr_assert_eq (mkdir (dst, 0700), 0);
  int a = open_dir (src), b = open_dir (dst);
  struct al_error err = { 0 };
  snap_ok (al_tree_copy (a, b, &err), &err, "copy");
  struct snap_diffs d;
  snap_tree_diff (src, dst, &d);
  cr_assert_eq (d.n, 0, "copy differs:\n%s", d.text);
  struct stat st = lst (dst, "whiteout");
  cr_assert (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0), "whiteout kept");
  cr_assert (S_ISSOCK (lst (dst, "sock").st_mode));
  cr_assert (S_ISBLK (lst (dst, "loop").st_mode));
  cr_assert (S_ISFIFO (lst (dst, "fifo").st_mode));
  st = lst (dst, "suid");
  cr_assert_eq (st.st_mode & 07777, 06755, "setuid/setgid after chown: %o", st.st_mode & 07777);
  cr_assert_eq (lst (dst, "link").st_uid, 33, "symlink owner");
  cr_assert_eq (lst (dst, "d/sub").st_mtim.tv_sec, 2000, "dir mtime set after its contents");
  cr_assert_eq (lst (dst, "hl1").st_ino, lst (dst, "hl2").st_ino, "hard links kept");
  st = lst (dst, "sparse");
  cr_assert_eq (st.st_size, (64 << 20) + 3);
  cr_assert_lt (st.st_blocks, 1024, "holes kept: %ld blocks", (long) st.st_blocks);
  cr_assert (has_xattr (dst, "d", "trusted.overlay.opaque"), "all xattrs copied");
  cr_assert (has_xattr (dst, "d", "user.dir"));

  /* The option that leaves overlay's own xattrs behind. */
  char *dst2 = snap_path (area, "dst2");
  cr_assert_eq (mkdir (dst2, 0700), 0);
  int c = open_dir (dst2);
  snap_ok (al_tree_copy_opts (a, c, AL_TREE_SKIP_OVERLAY_XATTRS, &err), &err, "copy");
  cr_assert (!has_xattr (dst2, "d", "trusted.overlay.opaque"));
  cr_assert (has_xattr (dst2, "d", "user.dir"));
  close (a);
  close (b);
  close (c);
  free (src);
  free (dst);
  free (dst2);
}

Test (tree, copy_never_follows_symlinks)
{
  char *src = snap_path (area, "src"), *dst = snap_path (area, "dst");
  char *outside = snap_path (area, "outside");
  cr_assert_eq (mkdir (src, 0755), 0);
  cr_assert_eq (mkdir (outside, 0755), 0);
  snap_writef (outside, "secret", "secret\n");
  char p[PATH_MAX];
  SNAPF (p, "%s/evil", src);
  cr_assert_eq (symlink (outside, p), 0);
  cr_assert_eq (mkdir (dst, 0700), 0);
  int a = open_dir (src), b = open_dir (dst);
  struct al_error err = { 0 };
  snap_ok (al_tree_copy (a, b, &err), &err, "copy");
  cr_assert (S_ISLNK (lst (dst, "evil").st_mode));
  /* rm -rf of a tree with a link out of it leaves the outside alone. */
  snap_ok (al_tree_remove (AT_FDCWD, src, &err), &err, "remove");
  cr_assert (snap_exists (outside, "secret"));
  cr_assert (!snap_exists (area, "src"));
  cr_assert_eq (al_tree_remove (AT_FDCWD, src, &err), -ENOENT);
  close (a);
  close (b);
  free (src);
  free (dst);
  free (outside);
}

Test (tree, apply_upper_and_link_clone)
{
  char *base = snap_path (area, "base"), *upper = snap_path (area, "upper");
  char *farm = snap_path (area, "farm");
  snap_make_image (base);
  /* An upper as overlay writes it. */
  cr_assert_eq (mkdir (upper, 0755), 0);
  node (upper, "b", S_IFCHR, makedev (0, 0)); /* delete a file */
  node (upper, "e", S_IFCHR, makedev (0, 0)); /* delete a dir */
  snap_mkdir (upper, "d", 0700);              /* replace a dir */
  char p[PATH_MAX];
  SNAPF (p, "%s/d", upper);
  cr_assert_eq (lsetxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
  snap_writef (upper, "d/only", "only\n");
  snap_mkdir (upper, "etc", 0700); /* merge a dir, new mode */
  snap_writef (upper, "etc/new", "new\n");
  snap_writef (upper, "a", "replaced\n"); /* replace a file */
  snap_mkdir (upper, "link", 0755);       /* a dir where a symlink was */

  cr_assert_eq (mkdir (farm, 0755), 0);
  int b = open_dir (base), f = open_dir (farm), u = open_dir (upper);
  struct al_error err = { 0 };
  snap_ok (al_tree_link_clone (b, f, &err), &err, "link clone");
  cr_assert_eq (lst (farm, "a").st_ino, lst (base, "a").st_ino, "files shared");
  cr_assert_neq (lst (farm, "d").st_ino, lst (base, "d").st_ino, "dirs made anew");
  cr_assert_eq (lst (farm, "d/sub").st_mode & 07777, 0750);

  snap_ok (al_tree_apply_upper (u, f, &err), &err, "apply");
  cr_assert (!snap_exists (farm, "b") && !snap_exists (farm, "e"));
  cr_assert (!snap_exists (farm, "d/one") && snap_exists (farm, "d/only"));
  cr_assert (!has_xattr (farm, "d", "trusted.overlay.opaque"), "no overlay xattrs in the tree");
  cr_assert (snap_exists (farm, "etc/passwd") && snap_exists (farm, "etc/new"));
  cr_assert_eq (lst (farm, "etc").st_mode & 07777, 0700);
  cr_assert (S_ISDIR (lst (farm, "link").st_mode));
  char *text = snap_read (farm, "a");
  cr_assert_str_eq (text, "replaced\n");
  free (text);
  /* The base it shares inodes with is untouched. */
  text = snap_read (base, "a");
  cr_assert_str_eq (text, "alpha\n", "apply wrote into a shared file");
  free (text);
  cr_assert (snap_exists (base, "b") && snap_exists (base, "d/one"));

  /* sync makes the farm equal to another tree, replacing what differs. */
  snap_ok (al_tree_sync (b, f, &err), &err, "sync");
  struct snap_diffs d;
  snap_tree_diff (base, farm, &d);
  cr_assert_eq (d.n, 0, "sync left:\n%s", d.text);
  close (b);
  close (f);
  close (u);
  free (base);
  free (upper);
  free (farm);
}

Test (tree, diff_kinds)
{
  char *x = snap_path (area, "x"), *y = snap_path (area, "y");
  snap_make_image (x);
  snap_make_image (y);
  snap_rm_rf (y, "d");
  snap_writef (y, "new", "n\n");
  snap_mkdir (y, "newdir", 0755);
  snap_writef (y, "newdir/f", "f\n");
  /* Same size and mtime, other bytes: found by content. */
  struct stat st = lst (x, "a");
  snap_writef (y, "a", "ALPHA\n");
  char p[PATH_MAX];
  SNAPF (p, "%s/a", y);
  struct timespec ts[2] = { st.st_atim, st.st_mtim };
  cr_assert_eq (utimensat (AT_FDCWD, p, ts, 0), 0);
  struct timespec ts2[2] = { lst (x, "b").st_atim, lst (x, "b").st_mtim };
  SNAPF (p, "%s/b", y);
  cr_assert_eq (utimensat (AT_FDCWD, p, ts2, 0), 0);
  cr_assert_eq (lsetxattr (p, "user.img", "2", 1, 0), 0); /* xattr only */
  struct snap_diffs d;
  snap_tree_diff (x, y, &d);
  /* Directory mtimes differ too: "/" is not reported, the others are. */
  cr_assert (strstr (d.text, "D /d\n") && strstr (d.text, "A /new\n")
                 && strstr (d.text, "A /newdir\n") && strstr (d.text, "A /newdir/f\n")
                 && strstr (d.text, "M /a\n") && strstr (d.text, "M /b\n"),
             "diff:\n%s", d.text);
  cr_assert (strstr (d.text, "/d/") == NULL, "a deleted dir's contents are not listed:\n%s",
             d.text);
  free (x);
  free (y);
}

/* ------------------------------------------------------------- stores */

Test (snapshot, roundtrip_image_base) { snap_check_roundtrip (AL_SNAP_OVERLAY, area); }

Test (snapshot, delete_middle) { snap_check_delete_middle (AL_SNAP_OVERLAY, area); }

Test (snapshot, diff) { snap_check_diff (AL_SNAP_OVERLAY, area); }

Test (snapshot, commit) { snap_check_commit (AL_SNAP_OVERLAY, area); }

Test (snapshot, clone) { snap_check_clone (AL_SNAP_OVERLAY, area); }

Test (snapshot, tags)
{
  struct al_error err = { 0 };
  const char *bad[] = { "", ".", "..", "a/b", "/", "a b", "x\n" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq (al_snap_check_tag (bad[i], &err), -EINVAL, "tag `%s` accepted", bad[i]);
  char long_tag[AL_SNAP_TAG_MAX + 2];
  memset (long_tag, 'x', sizeof long_tag - 1);
  long_tag[AL_SNAP_TAG_MAX + 1] = '\0';
  cr_assert_eq (al_snap_check_tag (long_tag, &err), -EINVAL);
  long_tag[AL_SNAP_TAG_MAX] = '\0';
  cr_assert_eq (al_snap_check_tag (long_tag, &err), 0, "%s", err.msg);
  cr_assert_eq (al_snap_check_tag ("v1.2_rc+3-x", &err), 0);

  char *image = snap_path (area, "image");
  snap_make_image (image);
  char *dir = snap_path (area, "ci1/store");
  char *parent = snap_path (area, "ci1");
  cr_assert_eq (mkdir (parent, 0755), 0);
  struct al_snap *s = NULL;
  snap_ok (al_snap_create (dir, image, AL_SNAP_OVERLAY, 0, 0, &s, &err), &err, "create");
  cr_assert_eq (al_snap_rollback (s, NULL, false, &err), -ENOENT);
  cr_assert (strstr (err.msg, "sandbox `ci1`") != NULL, "names the sandbox: %s", err.msg);
  cr_assert_eq (al_snap_snapshot (s, "a/b", &err), -EINVAL);
  cr_assert (strstr (err.msg, "a/b") != NULL, "%s", err.msg);
  cr_assert_eq (al_snap_snapshot (s, "..", &err), -EINVAL);
  cr_assert_eq (al_snap_snapshot (s, "", &err), -EINVAL);
  snap_do_snapshot (s, "v1");
  cr_assert_eq (al_snap_snapshot (s, "v1", &err), -EEXIST);
  cr_assert (strstr (err.msg, "v1") != NULL, "%s", err.msg);
  snap_do_snapshot (s, NULL);
  cr_assert (snap_has_tag (s, "snap-2"));
  cr_assert_eq (al_snap_rollback (s, "v9", false, &err), -ENOENT);
  cr_assert (strstr (err.msg, "v9") && strstr (err.msg, "ci1"), "%s", err.msg);
  struct al_snap_info *info;
  size_t n;
  snap_ok (al_snap_list (s, &info, &n, &err), &err, "list");
  cr_assert_eq (n, 2);
  cr_assert_str_eq (info[0].tag, "v1");
  cr_assert_str_eq (info[0].parent, "");
  cr_assert_str_eq (info[1].parent, "v1");
  cr_assert_gt (info[1].created.tv_sec, 1600000000);
  free (info);
  cr_assert_eq (al_snap_backend (s), AL_SNAP_OVERLAY);
  struct al_snap *t = NULL;
  cr_assert_eq (al_snap_create (dir, image, AL_SNAP_OVERLAY, 0, 0, &t, &err), -EEXIST);
  uint64_t bytes = 0;
  snap_ok (al_snap_usage (s, &bytes, &err), &err, "usage");
  cr_assert_gt (bytes, 0);
  snap_ok (al_snap_destroy (s, &err), &err, "destroy");
  al_snap_close (s);
  cr_assert (!snap_exists (parent, "store"));
  /* Not btrfs here: refused with a clear error, nothing left. */
  cr_assert_eq (al_snap_create (dir, image, AL_SNAP_BTRFS, 0, 0, &t, &err), -EINVAL);
  cr_assert (!snap_exists (parent, "store"));
  DIR *dd = opendir (parent);
  struct dirent *e;
  while ((e = readdir (dd)) != NULL)
    cr_assert (e->d_name[0] == '.' && (e->d_name[1] == '\0' || e->d_name[1] == '.'), "left: %s",
               e->d_name);
  closedir (dd);
  free (image);
  free (dir);
  free (parent);
}

Test (snapshot, squash_past_the_layer_limit)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, AL_SNAP_OVERLAY);
  const int total = AL_SNAP_MAX_LAYERS + 5;
  for (int i = 1; i <= total; i++)
    {
      char *mnt = snap_mount (s, area);
      char name[32], text[32];
      snprintf (name, sizeof name, "f%d", i);
      snprintf (text, sizeof text, "%d\n", i);
      snap_writef (mnt, name, text);
      snap_writef (mnt, "counter", text);
      if (i == 3)
        snap_rm_rf (mnt, "d"); /* a whiteout in an old layer */
      snap_umount (mnt);
      snprintf (name, sizeof name, "t%d", i);
      snap_do_snapshot (s, name);
    }
  size_t n = snap_count (s);
  cr_assert_leq (n + 1, AL_SNAP_MAX_LAYERS, "%zu snapshots", n);
  cr_assert (!snap_has_tag (s, "t1") && snap_has_tag (s, "t105"));
  struct al_snap_info *info;
  struct al_error err = { 0 };
  snap_ok (al_snap_list (s, &info, &n, &err), &err, "list");
  char oldest[AL_SNAP_TAG_MAX + 1];
  strcpy (oldest, info[0].tag);
  free (info);
  int k = atoi (oldest + 1);
  cr_assert_gt (k, 1);

  char *mnt = snap_mount (s, area);
  for (int i = 1; i <= total; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "f%d", i);
      cr_assert (snap_exists (mnt, name), "%s lost by the squash", name);
    }
  cr_assert (!snap_exists (mnt, "d"));
  snap_umount (mnt);
  snap_do_rollback (s, oldest, false);
  mnt = snap_mount (s, area);
  char *text = snap_read (mnt, "counter");
  char want[32];
  snprintf (want, sizeof want, "%d\n", k);
  cr_assert_str_eq (text, want);
  free (text);
  char name[32];
  snprintf (name, sizeof name, "f%d", k + 1);
  cr_assert (!snap_exists (mnt, name));
  cr_assert (snap_exists (mnt, "f1") && !snap_exists (mnt, "d"));
  snap_umount (mnt);
  al_snap_close (s);
  free (image);
}

Test (snapshot, enospc_keeps_the_previous_state)
{
  char *small = snap_path (area, "small");
  char *image = snap_path (area, "image");
  snap_make_image (image);
  cr_assert_eq (mkdir (small, 0755), 0);
  cr_assert_eq (mount ("snaptest", small, "tmpfs", 0, "size=1M"), 0, "tmpfs: %s", strerror (errno));
  struct al_snap *s = snap_create (small, "store", image, AL_SNAP_OVERLAY);
  snap_do_snapshot (s, "t1");
  char *mnt = snap_mount (s, area);
  char p[PATH_MAX];
  SNAPF (p, "%s/big", mnt);
  int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  cr_assert_geq (fd, 0);
  static char chunk[4096];
  memset (chunk, 'z', sizeof chunk);
  ssize_t w;
  off_t total = 0;
  while ((w = write (fd, chunk, sizeof chunk)) > 0)
    total += w;
  cr_assert_eq (errno, ENOSPC);
  close (fd);
  snap_umount (mnt);

  struct al_error err = { 0 };
  int r = al_snap_snapshot (s, "t2", &err);
  cr_assert_eq (r, -ENOSPC, "snapshot on a full store: %d %s", r, err.msg);
  cr_assert (strstr (err.msg, "t2") != NULL && strstr (err.msg, "No space") != NULL, "%s", err.msg);
  cr_log_info ("%s", err.msg);
  cr_assert_eq (snap_count (s), 1);
  mnt = snap_mount (s, area);
  struct stat st;
  cr_assert_eq (stat (p, &st), 0);
  cr_assert_eq (st.st_size, total, "the writable state is intact");
  cr_assert_eq (unlink (p), 0);
  snap_umount (mnt);
  snap_do_snapshot (s, "t2"); /* room again */
  snap_do_rollback (s, "t1", false);
  al_snap_close (s);
  free (small);
  free (image);
}

Test (snapshot, host_system_dirs)
{
  struct al_snap *s = snap_create (area, "store", NULL, AL_SNAP_OVERLAY);
  char *mnt = snap_mount (s, area);
  cr_assert (snap_exists (mnt, "usr/bin/sh"), "/usr/bin/sh through the view");
  cr_assert (snap_exists (mnt, "etc/passwd"));
  cr_assert (!snap_exists (mnt, "home") && !snap_exists (mnt, "root"), "only system dirs");
  struct stat st;
  char p[PATH_MAX];
  SNAPF (p, "%s", mnt);
  cr_assert_eq (stat (p, &st), 0);
  cr_assert_eq (st.st_uid, SNAP_UID, "/ is the sandbox's");
  snap_writef (mnt, "rootfile", "kept\n");
  snap_umount (mnt);
  snap_do_snapshot (s, "t0");

  char name[64];
  snprintf (name, sizeof name, "al-snap1-%d", (int) getpid ());
  mnt = snap_mount (s, area);
  SNAPF (p, "etc/%s", name);
  snap_writef (mnt, p, "written in the sandbox\n");
  snap_writef (mnt, "usr/share/al-snap1-probe", "x\n");
  snap_rm_rf (mnt, "etc/passwd");
  cr_assert (snap_exists (mnt, "rootfile"));
  snap_umount (mnt);
  cr_assert (!snap_exists ("/etc", name), "the host's /etc was written");
  cr_assert (snap_exists ("/etc", "passwd"));

  struct snap_diffs d = { 0 };
  struct al_error err = { 0 };
  snap_ok (al_snap_diff (s, NULL, snap_collect, &d, &err), &err, "diff");
  char want[128];
  snprintf (want, sizeof want, "A /etc/%s\n", name);
  cr_assert (strstr (d.text, want) && strstr (d.text, "D /etc/passwd\n")
                 && strstr (d.text, "A /usr/share/al-snap1-probe\n"),
             "diff:\n%s", d.text);

  snap_do_rollback (s, "t0", false);
  mnt = snap_mount (s, area);
  cr_assert (!snap_exists (mnt, p), "/etc/x rolled back");
  cr_assert (!snap_exists (mnt, "usr/share/al-snap1-probe"));
  cr_assert (snap_exists (mnt, "etc/passwd"));
  cr_assert (snap_exists (mnt, "rootfile"));
  snap_umount (mnt);
  al_snap_close (s);
}

/* The runtime opens a store, then enters the sandbox's new mount
 * namespace and mounts there. */
Test (snapshot, mount_after_unshare)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, AL_SNAP_OVERLAY);
  snap_do_snapshot (s, "t1");
  cr_assert_eq (unshare (CLONE_NEWNS), 0);
  char *mnt = snap_mount (s, area);
  cr_assert (snap_exists (mnt, "etc/passwd"));
  snap_umount (mnt);
  al_snap_close (s);
  free (image);
}

/* Entries of dir not starting with '.' (with prefix: those starting
 * with it). */
static size_t
count_prefixed (const char *dir, const char *prefix)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    n += prefix ? strncmp (e->d_name, prefix, strlen (prefix)) == 0 : e->d_name[0] != '.';
  closedir (d);
  return n;
}

static size_t
count_entries (const char *dir)
{
  return count_prefixed (dir, NULL);
}

/* Rollback renames; deleting the changes is al_snap_gc's. */
Test (snapshot, rollback_leaves_deletion_to_gc)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, AL_SNAP_OVERLAY);
  char *mnt = snap_mount (s, area);
  snap_mkdir (mnt, "many", 0755);
  for (int i = 0; i < 10000; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "many/f%d", i);
      snap_writef (mnt, name, "");
    }
  snap_umount (mnt);
  snap_do_rollback (s, NULL, true);
  /* The old state is in the trash, whole. */
  char *store = snap_path (area, "store");
  DIR *d = opendir (store);
  struct dirent *e;
  char trash[PATH_MAX] = "";
  while ((e = readdir (d)) != NULL)
    if (strncmp (e->d_name, "trash-", 6) == 0)
      snprintf (trash, sizeof trash, "%s/%s/root/upper/many", store, e->d_name);
  closedir (d);
  cr_assert_neq (trash[0], '\0', "no trash after a rollback");
  cr_assert_eq (count_entries (trash), 10000, "rollback touched the files");
  mnt = snap_mount (s, area);
  cr_assert (!snap_exists (mnt, "many"));
  snap_umount (mnt);
  struct al_error err = { 0 };
  snap_ok (al_snap_gc (s, &err), &err, "gc");
  d = opendir (store);
  while ((e = readdir (d)) != NULL)
    cr_assert (strncmp (e->d_name, "trash-", 6) != 0, "gc left %s", e->d_name);
  closedir (d);
  al_snap_close (s);
  free (store);
  free (image);
}

static bool
has_trash (const char *store)
{
  return count_prefixed (store, "trash-") > 0;
}

/* One emptier at a time, outside the store's lock: while another process
 * holds trash.lock (`sandbox rollback`'s background deleter), an open
 * neither waits nor deletes; once it is free, gc empties the trash. */
Test (snapshot, trash_is_emptied_by_one_process_at_a_time)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "store", image, AL_SNAP_OVERLAY);
  char *mnt = snap_mount (s, area);
  snap_writef (mnt, "f", "changed");
  snap_umount (mnt);
  snap_do_rollback (s, NULL, true);
  al_snap_close (s);
  char *store = snap_path (area, "store");
  cr_assert (has_trash (store), "no trash after a rollback");

  char lock_path[PATH_MAX];
  snprintf (lock_path, sizeof lock_path, "%s/trash.lock", store);
  int held[2], go[2];
  cr_assert_eq (pipe (held), 0);
  cr_assert_eq (pipe (go), 0);
  pid_t holder = fork ();
  cr_assert_geq (holder, 0);
  if (holder == 0)
    {
      int fd = open (lock_path, O_RDWR | O_CREAT, 0600);
      if (fd < 0 || flock (fd, LOCK_EX) < 0 || write (held[1], "x", 1) != 1)
        _exit (1);
      char c;
      close (go[1]);
      (void) !read (go[0], &c, 1); /* until the parent says (or is gone) */
      _exit (0);
    }
  close (held[1]);
  close (go[0]);
  char c;
  cr_assert_eq (read (held[0], &c, 1), 1, "the holder never took the lock");
  s = snap_open (area, "store");
  cr_assert (has_trash (store), "an open emptied the trash while another process held it");
  struct al_error err = { 0 };
  snap_ok (al_snap_gc (s, &err), &err, "gc while busy");
  cr_assert (has_trash (store), "gc emptied the trash while another process held it");
  cr_assert_eq (write (go[1], "x", 1), 1);
  int st;
  cr_assert_eq (waitpid (holder, &st, 0), holder);
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  snap_ok (al_snap_gc (s, &err), &err, "gc");
  cr_assert_not (has_trash (store), "gc left the trash");
  /* trash.lock itself is the store's, never trashed. */
  al_snap_close (s);
  s = snap_open (area, "store");
  cr_assert_eq (access (lock_path, F_OK), 0, "trash.lock was removed");
  mnt = snap_mount (s, area);
  cr_assert (!snap_exists (mnt, "trash.lock"));
  snap_umount (mnt);
  al_snap_close (s);
  close (held[0]);
  close (go[1]);
  free (store);
  free (image);
}

/* ------------------------------------------------------------- crashes */

struct crash_views
{
  char *v1, *v2, *v3, *vc; /* after t1, t2, t3, current */
  const char *tag;
  char *out, *out0;
};

/* pristine: t1, t2 (every kind of change), t3, and a current state. */
static void
make_pristine (struct crash_views *cv)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  struct al_snap *s = snap_create (area, "pristine", image, AL_SNAP_OVERLAY);
  char *mnt = snap_mount (s, area);
  snap_writef (mnt, "one", "1\n");
  snap_umount (mnt);
  cv->v1 = snap_save_view (s, area, "v1");
  snap_do_snapshot (s, "t1");
  mnt = snap_mount (s, area);
  snap_change_set_a (mnt);
  snap_umount (mnt);
  cv->v2 = snap_save_view (s, area, "v2");
  snap_do_snapshot (s, "t2");
  mnt = snap_mount (s, area);
  snap_change_set_b (mnt);
  snap_umount (mnt);
  cv->v3 = snap_save_view (s, area, "v3");
  snap_do_snapshot (s, "t3");
  mnt = snap_mount (s, area);
  snap_writef (mnt, "cur", "current\n");
  snap_rm_rf (mnt, "one");
  snap_umount (mnt);
  cv->vc = snap_save_view (s, area, "vc");
  al_snap_close (s);
  free (image);
}

static void
free_views (struct crash_views *cv)
{
  free (cv->v1);
  free (cv->v2);
  free (cv->v3);
  free (cv->vc);
  free (cv->out);
  free (cv->out0);
}

static bool
tags_are (struct al_snap *s, const char *const *tags, size_t n)
{
  struct al_snap_info *info;
  size_t got;
  struct al_error err = { 0 };
  snap_ok (al_snap_list (s, &info, &got, &err), &err, "list");
  bool same = got == n;
  for (size_t i = 0; same && i < n; i++)
    same = strcmp (info[i].tag, tags[i]) == 0;
  free (info);
  return same;
}

static int
op_snapshot (struct al_snap *s, const char *a, struct al_error *err)
{
  (void) a;
  return al_snap_snapshot (s, "t4", err);
}

static void
check_snapshot (struct al_snap *s, const char *a, void *arg)
{
  struct crash_views *cv = arg;
  snap_assert_view (s, a, cv->vc, "after a crash in snapshot");
  bool before = tags_are (s, (const char *[]){ "t1", "t2", "t3" }, 3);
  bool after = tags_are (s, (const char *[]){ "t1", "t2", "t3", "t4" }, 4);
  cr_assert (before || after, "tags neither old nor new");
  if (after)
    {
      snap_do_rollback (s, "t4", false);
      snap_assert_view (s, a, cv->vc, "t4 made in a crash");
    }
  snap_do_rollback (s, "t3", false);
  snap_assert_view (s, a, cv->v3, "t3 after a crash in snapshot");
}

static int
op_rollback (struct al_snap *s, const char *a, struct al_error *err)
{
  (void) a;
  return al_snap_rollback (s, "t1", false, err);
}

static void
check_rollback (struct al_snap *s, const char *a, void *arg)
{
  struct crash_views *cv = arg;
  struct snap_diffs d;
  bool before = tags_are (s, (const char *[]){ "t1", "t2", "t3" }, 3);
  bool after = tags_are (s, (const char *[]){ "t1" }, 1);
  cr_assert (before || after, "tags neither old nor new");
  cr_assert (snap_view_is (s, a, before ? cv->vc : cv->v1, &d),
             "after a crash in rollback (%s), the view:\n%s", before ? "old" : "new", d.text);
}

static int
op_delete (struct al_snap *s, const char *a, struct al_error *err)
{
  (void) a;
  return al_snap_delete (s, "t2", err);
}

static void
check_delete (struct al_snap *s, const char *a, void *arg)
{
  struct crash_views *cv = arg;
  snap_assert_view (s, a, cv->vc, "after a crash in delete");
  bool before = tags_are (s, (const char *[]){ "t1", "t2", "t3" }, 3);
  bool after = tags_are (s, (const char *[]){ "t1", "t3" }, 2);
  cr_assert (before || after, "tags neither old nor new");
  snap_do_rollback (s, "t3", false);
  snap_assert_view (s, a, cv->v3, "t3 after a crash in delete");
  if (before)
    {
      snap_do_rollback (s, "t2", false);
      snap_assert_view (s, a, cv->v2, "t2, not deleted after a crash in delete");
    }
  snap_do_rollback (s, "t1", false);
  snap_assert_view (s, a, cv->v1, "t1 after a crash in delete");
}

static int
op_commit (struct al_snap *s, const char *a, struct al_error *err)
{
  char *out = snap_path (a, "out");
  int r = al_snap_commit (s, out, err);
  free (out);
  return r;
}

static void
reset_out (const char *a, void *arg)
{
  struct crash_views *cv = arg;
  struct al_error err = { 0 };
  int fd = open (a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  al_tree_remove (fd, "out", &err);
  close (fd);
  if (cv->out0)
    snap_copy_dir (cv->out0, cv->out);
}

static void
check_commit (struct al_snap *s, const char *a, void *arg)
{
  struct crash_views *cv = arg;
  (void) s;
  struct snap_diffs d;
  bool done = snap_exists (a, "out");
  if (done)
    snap_tree_diff (cv->vc, cv->out, &d);
  bool is_new = done && d.n == 0;
  bool is_old = false;
  if (cv->out0 && done && !is_new)
    {
      snap_tree_diff (cv->out0, cv->out, &d);
      is_old = d.n == 0;
    }
  else if (!cv->out0)
    is_old = !done;
  cr_assert (is_new || is_old, "after a crash in commit, out is neither old nor new:\n%s", d.text);
  DIR *dir = opendir (a);
  struct dirent *e;
  while ((e = readdir (dir)) != NULL)
    cr_assert (strstr (e->d_name, ".tmp-") == NULL, "left behind: %s", e->d_name);
  closedir (dir);
}

Test (crash, snapshot)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  int n = snap_crash_loop (area, op_snapshot, check_snapshot, &cv, NULL);
  cr_assert_geq (n, 3, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
}

Test (crash, rollback)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  int n = snap_crash_loop (area, op_rollback, check_rollback, &cv, NULL);
  cr_assert_geq (n, 3, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
}

Test (crash, delete)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  int n = snap_crash_loop (area, op_delete, check_delete, &cv, NULL);
  cr_assert_geq (n, 6, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
}

Test (crash, commit_new_dir)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  cv.out = snap_path (area, "out");
  int n = snap_crash_loop (area, op_commit, check_commit, &cv, reset_out);
  cr_assert_geq (n, 3, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
}

Test (crash, commit_existing_dir)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  cv.out = snap_path (area, "out");
  cv.out0 = snap_path (area, "out0");
  snap_copy_dir (cv.v1, cv.out0);
  int n = snap_crash_loop (area, op_commit, check_commit, &cv, reset_out);
  cr_assert_geq (n, 4, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
}

static int
op_gc (struct al_snap *s, const char *a, struct al_error *err)
{
  (void) a;
  return al_snap_gc (s, err);
}

static void
check_gc (struct al_snap *s, const char *a, void *arg)
{
  struct crash_views *cv = arg;
  snap_assert_view (s, a, cv->v1, "after a crash in gc");
  cr_assert (tags_are (s, (const char *[]){ "t1" }, 1));
}

Test (crash, gc)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  /* Trash to empty: what a rollback to t1 dropped. */
  struct al_snap *s = snap_open (area, "pristine");
  struct al_error err = { 0 };
  al_snap_crash_point = NULL;
  snap_ok (al_snap_rollback (s, "t1", false, &err), &err, "rollback");
  al_snap_close (s);
  char *store = snap_path (area, "pristine");
  cr_assert_geq (count_entries (store), 5, "trash to empty");
  int n = snap_crash_loop (area, op_gc, check_gc, &cv, NULL);
  cr_assert_geq (n, 3, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free_views (&cv);
  free (store);
}

/* Layers whose paths do not fit in one page of mount options go to the
 * kernel one by one. */
Test (snapshot, long_layer_paths)
{
  char base[PATH_MAX];
  size_t len = (size_t) snprintf (base, sizeof base, "%s", area);
  char part[201];
  memset (part, 'p', sizeof part - 1);
  part[sizeof part - 1] = '\0';
  while (len + sizeof part + 16 < 3200)
    {
      len += (size_t) snprintf (base + len, sizeof base - len, "/%s", part);
      cr_assert_eq (mkdir (base, 0755), 0, "mkdir: %s", strerror (errno));
    }
  len += (size_t) snprintf (base + len, sizeof base - len, "/image");
  snap_make_image (base);
  struct al_snap *s = snap_create (area, "store", base, AL_SNAP_OVERLAY);
  for (int i = 1; i <= 30; i++)
    {
      char *mnt = snap_mount (s, area);
      char name[32];
      snprintf (name, sizeof name, "f%d", i);
      snap_writef (mnt, name, name);
      snap_umount (mnt);
      snap_do_snapshot (s, NULL);
    }
  char *mnt = snap_mount (s, area);
  cr_assert (snap_exists (mnt, "f1") && snap_exists (mnt, "f30") && snap_exists (mnt, "d/one"));
  snap_umount (mnt);
  snap_do_rollback (s, "snap-2", false);
  mnt = snap_mount (s, area);
  cr_assert (snap_exists (mnt, "f2") && !snap_exists (mnt, "f3"));
  snap_umount (mnt);
  al_snap_close (s);
}

/* The backend alone: more layers than one page of mount options holds
 * (the store squashes before that; the backend copes anyway). */
Test (snapshot, backend_mounts_past_a_page_of_options)
{
  char *image = snap_path (area, "image");
  snap_make_image (image);
  char *store = snap_path (area, "raw");
  cr_assert_eq (mkdir (store, 0700), 0);
  int fd = open_dir (store);
  const struct al_snap_backend_ops *ops = &al_snap_overlay_ops;
  struct al_error err = { 0 };
  snap_ok (ops->init (fd, image, 0, 0, &err), &err, "init");
  enum
  {
    N = 140
  };
  static char names[N][16];
  const char *chain[N];
  for (int i = 0; i < N; i++)
    {
      snprintf (names[i], sizeof names[i], "s%04d", i + 1);
      chain[i] = names[i];
      snap_ok (ops->new_state (fd, image, names[i], i ? names[i - 1] : NULL, 0, 0, &err), &err,
               "new state");
      char rel[64];
      SNAPF (rel, "%s/root/upper/layer%d", names[i], i + 1);
      snap_writef (store, rel, "x");
    }
  char *mnt = snap_path (area, "mnt");
  cr_assert_eq (mkdir (mnt, 0755), 0);
  snap_ok (ops->mount (fd, image, chain, N - 1, names[N - 1], mnt, &err), &err, "mount");
  cr_assert (snap_exists (mnt, "layer1") && snap_exists (mnt, "layer140")
             && snap_exists (mnt, "etc/passwd"));
  snap_writef (mnt, "written", "w");
  cr_assert_eq (umount2 (mnt, MNT_DETACH), 0);
  snap_ok (ops->mount (fd, image, chain, N, NULL, mnt, &err), &err, "read-only mount");
  cr_assert (snap_exists (mnt, "written") && snap_exists (mnt, "layer70"));
  cr_assert_eq (umount2 (mnt, MNT_DETACH), 0);
  close (fd);
  free (mnt);
  free (store);
  free (image);
}

static int
line_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The lines of text, sorted, joined again. */
static char *
sorted_lines (const char *text)
{
  char *copy = strdup (text), *save = NULL;
  char *lines[1024];
  size_t n = 0;
  for (char *l = strtok_r (copy, "\n", &save); l && n < 1024; l = strtok_r (NULL, "\n", &save))
    lines[n++] = l;
  qsort (lines, n, sizeof *lines, line_cmp);
  char *out = calloc (1, strlen (text) + 2);
  for (size_t i = 0; i < n; i++)
    {
      strcat (out, lines[i]);
      strcat (out, "\n");
    }
  free (copy);
  return out;
}

/* al_snap_diff (which looks only where the layers above the tag have
 * entries) finds what a full walk of the two roots finds. */
Test (snapshot, diff_equals_a_full_walk)
{
  struct crash_views cv = { 0 };
  make_pristine (&cv);
  struct al_snap *s = snap_open (area, "pristine");
  char *mnt = snap_mount (s, area);
  snap_rm_rf (mnt, "etc"); /* a dir becomes a file */
  snap_writef (mnt, "etc", "now a file\n");
  snap_rm_rf (mnt, "a"); /* a file becomes a dir */
  snap_mkdir (mnt, "a", 0755);
  snap_writef (mnt, "a/inside", "x\n");
  char p[PATH_MAX];
  SNAPF (p, "%s/d", mnt); /* metadata only */
  cr_assert_eq (chmod (p, 0711), 0);
  snap_umount (mnt);
  char *now = snap_save_view (s, area, "now");
  const char *tags[] = { "t1", "t2", "t3", NULL };
  const char *views[] = { cv.v1, cv.v2, cv.v3, cv.v3 };
  for (size_t i = 0; i < 4; i++)
    {
      struct snap_diffs got = { 0 }, want;
      struct al_error err = { 0 };
      snap_ok (al_snap_diff (s, tags[i], snap_collect, &got, &err), &err, "diff");
      snap_tree_diff (views[i], now, &want);
      char *a = sorted_lines (got.text), *b = sorted_lines (want.text);
      cr_assert_str_eq (a, b, "since %s: al_snap_diff:\n%s\nfull walk:\n%s",
                        tags[i] ? tags[i] : "latest", a, b);
      cr_assert_gt (got.n, 3);
      free (a);
      free (b);
    }
  al_snap_close (s);
  free (now);
  free_views (&cv);
}
