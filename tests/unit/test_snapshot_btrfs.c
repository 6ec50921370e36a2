/* test_snapshot_btrfs.c — the btrfs snapshot backend (snapshot/snap_btrfs.c)
 * on a real btrfs.
 *
 * Every case runs in its own Criterion process, which first unshares its
 * mount namespace and makes / rprivate.  The fixture mounts a tmpfs on a
 * fresh temp dir under /tmp, makes a sparse btrfs image there (mkfs.btrfs),
 * attaches it to a loop device with autoclear and mounts it: however a case
 * ends, the namespace dies with the process, the btrfs and the tmpfs go
 * with it and the kernel detaches the loop device; only the empty temp dir
 * can be left by a crash.
 *
 * The first cases drive the backend's ops directly: make, freeze, remove,
 * share and mount states, and compare trees by a manifest of every entry
 * (type, mode, owner, size and content hash, symlink target, xattrs,
 * hard-link groups, mtimes).  A "rollback" there is what the store does:
 * remove the writable state and make a new one from the snapshot.  The
 * api_* cases go through snapshot.h on the same btrfs (backend choice,
 * snapshot, rollback, delete, diff, commit, clone), and the snap_btrfs_full
 * suite fills the smallest btrfs mkfs makes to see a snapshot fail with
 * ENOSPC and leave everything as it was.
 */
#include "config.h"

#include <btrfsutil.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/loop.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "btrfs_testlib.h"
#include "cleanup.h"
#include "snap_testlib.h"
#include "snap_backend.h"
#include "snapshot.h"

static const struct al_snap_backend_ops *ops = &al_snap_btrfs_ops;

#define UID 100000
#define GID 100000

/* ------------------------------------------------------------ fixture */

static struct al_btrfs_fixture fx;
static int store_fd = -1;
static char store[PATH_MAX], target[PATH_MAX], image[PATH_MAX];

static void
setup (void)
{
  alarm (120);
  al_btrfs_fixture_setup (&fx, 512);
  snprintf (store, sizeof store, "%s/store", fx.mnt);
  snprintf (target, sizeof target, "%s/target", fx.dir);
  snprintf (image, sizeof image, "%s/image", fx.dir);
  cr_assert_eq (mkdir (store, 0700), 0, "mkdir %s: %s", store, strerror (errno));
  cr_assert_eq (mkdir (target, 0755), 0);
  store_fd = open (store, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (store_fd, 0);
}

static void
teardown (void)
{
  if (store_fd >= 0)
    close (store_fd);
  store_fd = -1;
  al_btrfs_fixture_teardown (&fx);
}

TestSuite (snap_btrfs, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static char *path_in (char buf[PATH_MAX], const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static char *
path_in (char buf[PATH_MAX], const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, PATH_MAX, fmt, ap);
  va_end (ap);
  return buf;
}

/* Whether something is mounted on path (mountinfo's 5th field). */
static bool
is_mounted (const char *path)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  cr_assert_not_null (f);
  char line[4096], point[4096];
  bool found = false;
  while (!found && fgets (line, sizeof line, f) != NULL)
    found = sscanf (line, "%*s %*s %*s %*s %4095s", point) == 1 && strcmp (point, path) == 0;
  fclose (f);
  return found;
}

/* The per-mount flags that matter here (ST_RDONLY, ST_NOSUID, ST_NODEV). */
static unsigned long
mount_flags (const char *path)
{
  struct statvfs sv;
  cr_assert_eq (statvfs (path, &sv), 0, "statvfs %s: %s", path, strerror (errno));
  return sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV);
}

static void
umount_target (void)
{
  while (is_mounted (target))
    cr_assert_eq (umount2 (target, MNT_DETACH), 0, "umount %s: %s", target, strerror (errno));
}

static bool
subvol_read_only (const char *path)
{
  bool ro = false;
  enum btrfs_util_error e = btrfs_util_get_subvolume_read_only (path, &ro);
  cr_assert_eq (e, BTRFS_UTIL_OK, "%s: %s", path, btrfs_util_strerror (e));
  return ro;
}

/* Assert an op returned 0, with its message otherwise. */
#define OK(call)                                                                                   \
  do                                                                                               \
    {                                                                                              \
      struct al_error e_ = { 0 };                                                                  \
      struct al_error *err = &e_;                                                                  \
      int r_ = (call);                                                                             \
      cr_assert_eq (r_, 0, "%s: %d %s", #call, r_, e_.msg);                                        \
    }                                                                                              \
  while (0)

static void
rollback (const char *base, const char *current, const char *snap, const char *fresh)
{
  OK (ops->remove (store_fd, current, err));
  OK (ops->new_state (store_fd, base, fresh, snap, UID, GID, err));
}

/* ------------------------------------------------------------ cases: probe */

Test (snap_btrfs, probe_accepts_btrfs_and_refuses_others)
{
  OK (ops->probe (store_fd, err));

  cleanup_close int tmp = open ("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (tmp, 0);
  struct statfs sf;
  cr_assert_eq (fstatfs (tmp, &sf), 0);
  cr_assert_neq (sf.f_type, AL_BTRFS_MAGIC,
                 "/tmp is on btrfs here: the case needs another filesystem");
  struct al_error err = { 0 };
  cr_assert_eq (ops->probe (tmp, &err), -EINVAL);
  cr_assert_eq (err.errnum, EINVAL);
  cr_assert_str_eq (err.msg, "--backend btrfs: `/tmp` is not on btrfs");
}

/* ------------------------------------------------------------ cases: image base */

Test (snap_btrfs, image_base_is_a_read_only_copy)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  char p[PATH_MAX];
  path_in (p, "%s/base", store);
  cr_assert (subvol_read_only (p));
  cleanup_free char *want = al_btrfs_manifest (image, false);
  cleanup_free char *got = al_btrfs_manifest (p, false);
  cr_assert_str_eq (got, want);

  /* A state from the base: the same tree but for its root's owner. */
  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  path_in (p, "%s/s0001", store);
  cr_assert_not (subvol_read_only (p));
  struct stat sb;
  cr_assert_eq (stat (p, &sb), 0);
  cr_assert_eq (sb.st_uid, UID);
  cr_assert_eq (sb.st_gid, GID);
  cr_assert_eq (sb.st_mode & 07777, 0755);
  cleanup_free char *state = al_btrfs_manifest (p, false);
  cr_assert_str_eq (strchr (state, '\n'), strchr (want, '\n'), "all but the root line");
}

static unsigned long long
used_bytes (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert_eq (syncfs (fd), 0);
  struct statfs sf;
  cr_assert_eq (fstatfs (fd, &sf), 0);
  close (fd);
  return (unsigned long long) (sf.f_blocks - sf.f_bfree) * (unsigned long long) sf.f_bsize;
}

Test (snap_btrfs, image_base_on_the_same_btrfs_is_reflinked)
{
  char img[PATH_MAX], p[PATH_MAX];
  path_in (img, "%s/image", fx.mnt);
  al_btrfs_populate (img);
  int fd = open (path_in (p, "%s/big", img), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  cr_assert_geq (fd, 0);
  static char block[1 << 20];
  for (int i = 0; i < 64; i++)
    {
      memset (block, i, sizeof block);
      cr_assert_eq (write (fd, block, sizeof block), (ssize_t) sizeof block);
    }
  close (fd);
  unsigned long long before = used_bytes (fx.mnt);
  OK (ops->init (store_fd, img, UID, GID, err));
  OK (ops->new_state (store_fd, img, "s0001", NULL, UID, GID, err));
  unsigned long long after = used_bytes (fx.mnt);
  cr_assert_lt (after - before, 16ull << 20, "the base took %llu more bytes: copied, not reflinked",
                after - before);
  cleanup_free char *want = al_btrfs_manifest (img, true);
  cleanup_free char *got = al_btrfs_manifest (path_in (p, "%s/base", store), true);
  cr_assert_str_eq (strchr (got, '\n'), strchr (want, '\n'));
}

Test (snap_btrfs, image_base_failure_leaves_nothing)
{
  struct al_error err = { 0 };
  char missing[PATH_MAX];
  path_in (missing, "%s/no-such-image", fx.dir);
  cr_assert_lt (ops->init (store_fd, missing, UID, GID, &err), 0);
  cr_assert (strstr (err.msg, missing) != NULL, "%s", err.msg);
  char p[PATH_MAX];
  cr_assert_eq (access (path_in (p, "%s/base", store), F_OK), -1, "base left behind");
}

Test (snap_btrfs, image_rollback_restores_exactly)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  char s1[PATH_MAX], s2[PATH_MAX], s3[PATH_MAX];
  path_in (s1, "%s/s0001", store);
  path_in (s2, "%s/s0002", store);
  path_in (s3, "%s/s0003", store);
  al_btrfs_mutate (s1, 1);
  cleanup_free char *before = al_btrfs_manifest (s1, true);

  bool in_place = false;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  cr_assert (in_place);
  cr_assert (subvol_read_only (s2));
  cr_assert_not (subvol_read_only (s1));
  cleanup_free char *frozen = al_btrfs_manifest (s2, true);
  cr_assert_str_eq (frozen, before);

  al_btrfs_mutate (s1, 2);
  cleanup_free char *changed = al_btrfs_manifest (s1, true);
  cr_assert_str_neq (changed, before);

  rollback (image, "s0001", "s0002", "s0003");
  cr_assert_eq (access (s1, F_OK), -1);
  cr_assert_not (subvol_read_only (s3));
  cleanup_free char *after = al_btrfs_manifest (s3, true);
  cr_assert_str_eq (after, before);

  /* And a rollback to the base. */
  OK (ops->remove (store_fd, "s0003", err));
  OK (ops->new_state (store_fd, image, "s0004", NULL, UID, GID, err));
  char s4[PATH_MAX];
  cleanup_free char *base = al_btrfs_manifest (image, false);
  cleanup_free char *s4m = al_btrfs_manifest (path_in (s4, "%s/s0004", store), false);
  cr_assert_str_eq (strchr (s4m, '\n'), strchr (base, '\n'));
}

Test (snap_btrfs, image_mount_writable_and_read_only_views)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, image, NULL, 0, "s0001", target, err));
  char p[PATH_MAX];
  al_btrfs_write (path_in (p, "%s/through-mount", target), "m1");
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/s0001/through-mount", store)), "m1");
  cr_assert_eq (mount_flags (target), ST_NOSUID | ST_NODEV);
  umount_target ();

  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  al_btrfs_write (path_in (p, "%s/s0001/after", store), "x");

  /* Read-only view of the snapshot. */
  const char *chain[] = { "s0002" };
  OK (ops->mount (store_fd, image, chain, 1, NULL, target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/through-mount", target)), "m1");
  cr_assert_eq (mount_flags (target), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (access (path_in (p, "%s/after", target), F_OK), -1);
  cr_assert_eq (open (path_in (p, "%s/new", target), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
  cr_assert_eq (errno, EROFS);
  umount_target ();

  /* And of the base. */
  OK (ops->mount (store_fd, image, NULL, 0, NULL, target, err));
  cr_assert_eq (access (path_in (p, "%s/through-mount", target), F_OK), -1);
  cr_assert_eq (access (path_in (p, "%s/a.txt", target), F_OK), 0);
  cr_assert_eq (mount_flags (target), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (mkdir (path_in (p, "%s/new", target), 0755), -1);
  cr_assert_eq (errno, EROFS);
  umount_target ();
}

Test (snap_btrfs, freeze_of_a_mounted_written_state)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, image, NULL, 0, "s0001", target, err));
  char p[PATH_MAX];
  /* Dirty pages only: no sync before the freeze. */
  int fd = open (path_in (p, "%s/big", target), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  cr_assert_geq (fd, 0);
  static char block[1 << 20];
  for (int i = 0; i < 8; i++)
    {
      memset (block, 'a' + i, sizeof block);
      cr_assert_eq (write (fd, block, sizeof block), (ssize_t) sizeof block);
    }
  bool in_place = false;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  cr_assert (in_place);
  /* Still mounted, still writable, and the snapshot does not follow it. */
  cr_assert (is_mounted (target));
  cr_assert_eq (pwrite (fd, "Z", 1, 0), 1);
  close (fd);
  al_btrfs_write (path_in (p, "%s/later", target), "later");
  char snapbig[PATH_MAX];
  path_in (snapbig, "%s/s0002/big", store);
  struct stat sb;
  cr_assert_eq (stat (snapbig, &sb), 0);
  cr_assert_eq (sb.st_size, 8 << 20);
  int sfd = open (snapbig, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (sfd, 0);
  char c;
  cr_assert_eq (pread (sfd, &c, 1, 0), 1);
  cr_assert_eq (c, 'a');
  cr_assert_eq (pread (sfd, &c, 1, (7 << 20) + 5), 1);
  cr_assert_eq (c, 'h');
  close (sfd);
  cr_assert_eq (access (path_in (p, "%s/s0002/later", store), F_OK), -1);
  umount_target ();
}

/* ------------------------------------------------------------ cases: host system dirs */

Test (snap_btrfs, host_state_skeleton)
{
  OK (ops->init (store_fd, NULL, UID, GID, err));
  char p[PATH_MAX];
  cr_assert_eq (access (path_in (p, "%s/base", store), F_OK), -1);
  OK (ops->new_state (store_fd, NULL, "s0001", NULL, UID, GID, err));
  struct stat sb;
  cr_assert_eq (stat (path_in (p, "%s/s0001/root", store), &sb), 0);
  cr_assert_eq (sb.st_uid, UID);
  cr_assert_eq (sb.st_mode & 07777, 0755);
  const char *dirs[] = { "usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
  int overlays = 0;
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    {
      char host[PATH_MAX], link[PATH_MAX], got[PATH_MAX];
      struct stat hs;
      snprintf (host, sizeof host, "/%s", dirs[i]);
      path_in (p, "%s/s0001/root/%s", store, dirs[i]);
      if (lstat (host, &hs) < 0)
        {
          cr_assert_eq (lstat (p, &sb), -1, "%s", p);
          continue;
        }
      cr_assert_eq (lstat (p, &sb), 0, "%s", p);
      if (S_ISLNK (hs.st_mode))
        {
          ssize_t n = readlink (host, link, sizeof link - 1), m = readlink (p, got, sizeof got - 1);
          cr_assert (n > 0 && m == n && memcmp (link, got, (size_t) n) == 0, "%s", p);
          continue;
        }
      overlays++;
      cr_assert (S_ISDIR (sb.st_mode), "%s", p);
      cr_assert_eq (stat (path_in (p, "%s/s0001/upper/%s", store, dirs[i]), &sb), 0);
      cr_assert_eq (sb.st_uid, 0);
      cr_assert_eq (stat (path_in (p, "%s/s0001/work/%s", store, dirs[i]), &sb), 0);
      cr_assert_eq (sb.st_mode & 07777, 0700);
    }
  cr_assert_geq (overlays, 2, "at least /usr and /etc");
}

Test (snap_btrfs, host_state_mount_freeze_rollback)
{
  char hostname_probe[PATH_MAX];
  snprintf (hostname_probe, sizeof hostname_probe, "/etc/al-snap2-%d", getpid ());
  OK (ops->init (store_fd, NULL, UID, GID, err));
  OK (ops->new_state (store_fd, NULL, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0001", target, err));
  char p[PATH_MAX];
  /* The host's files show through; writes land in the state. */
  cr_assert_eq (access (path_in (p, "%s/usr/bin/env", target), X_OK), 0);
  cr_assert_eq (access (path_in (p, "%s/etc/passwd", target), R_OK), 0);
  al_btrfs_write (path_in (p, "%s/etc/al-snap2-%d", target, getpid ()), "kept");
  al_btrfs_write (path_in (p, "%s/top-level", target), "top");
  cr_assert_eq (mkdir (path_in (p, "%s/usr/local/al-dir", target), 0750), 0);
  cr_assert_eq (access (hostname_probe, F_OK), -1, "a write reached the host");
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/s0001/upper/etc/al-snap2-%d", store, getpid ())),
                    "kept");
  umount_target ();

  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  cr_assert (subvol_read_only (path_in (p, "%s/s0002", store)));
  cr_assert (al_btrfs_dir_empty (path_in (p, "%s/s0002/work/etc", store)));
  cleanup_free char *frozen = al_btrfs_manifest (path_in (p, "%s/s0002/upper", store), true);
  cleanup_free char *frozen_root = al_btrfs_manifest (path_in (p, "%s/s0002/root", store), true);

  /* More changes after the snapshot, deletions of host files among them. */
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0001", target, err));
  cr_assert_eq (unlink (path_in (p, "%s/etc/passwd", target)), 0);
  cr_assert_eq (unlink (path_in (p, "%s/etc/al-snap2-%d", target, getpid ())), 0);
  cr_assert_eq (rmdir (path_in (p, "%s/usr/local/al-dir", target)), 0);
  al_btrfs_write (path_in (p, "%s/etc/later", target), "later");
  al_btrfs_write (path_in (p, "%s/top-level", target), "changed");
  umount_target ();
  cr_assert_eq (access ("/etc/passwd", F_OK), 0);

  rollback (NULL, "s0001", "s0002", "s0003");
  cleanup_free char *after = al_btrfs_manifest (path_in (p, "%s/s0003/upper", store), true);
  cleanup_free char *after_root = al_btrfs_manifest (path_in (p, "%s/s0003/root", store), true);
  cr_assert_str_eq (after, frozen);
  cr_assert_str_eq (after_root, frozen_root);
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0003", target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-snap2-%d", target, getpid ())), "kept");
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/top-level", target)), "top");
  cr_assert_eq (access (path_in (p, "%s/etc/passwd", target), R_OK), 0);
  cr_assert_eq (access (path_in (p, "%s/etc/later", target), F_OK), -1);
  struct stat sb;
  cr_assert_eq (stat (path_in (p, "%s/usr/local/al-dir", target), &sb), 0);
  cr_assert_eq (sb.st_mode & 07777, 0750);
  /* Writable again after the rollback. */
  al_btrfs_write (path_in (p, "%s/etc/again", target), "again");
  umount_target ();
  cr_assert_eq (access (hostname_probe, F_OK), -1);
}

Test (snap_btrfs, host_state_freeze_while_mounted)
{
  OK (ops->init (store_fd, NULL, UID, GID, err));
  OK (ops->new_state (store_fd, NULL, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0001", target, err));
  char p[PATH_MAX];
  al_btrfs_write (path_in (p, "%s/etc/al-live", target), "live");
  /* overlay keeps its scratch dir in the work dir while mounted */
  cr_assert_not (al_btrfs_dir_empty (path_in (p, "%s/s0001/work/etc", store)));
  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  cr_assert (in_place);
  cr_assert (al_btrfs_dir_empty (path_in (p, "%s/s0002/work/etc", store)));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/s0002/upper/etc/al-live", store)), "live");
  al_btrfs_write (path_in (p, "%s/etc/al-live", target), "after");
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/s0002/upper/etc/al-live", store)), "live");
  umount_target ();

  /* A state made from that snapshot mounts (its work dirs are usable). */
  OK (ops->new_state (store_fd, NULL, "s0003", "s0002", UID, GID, err));
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0003", target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-live", target)), "live");
  al_btrfs_write (path_in (p, "%s/etc/al-live", target), "s3");
  umount_target ();
}

Test (snap_btrfs, host_read_only_views)
{
  OK (ops->init (store_fd, NULL, UID, GID, err));
  char p[PATH_MAX];

  /* No snapshot yet: the host's directories alone, read-only. */
  OK (ops->mount (store_fd, NULL, NULL, 0, NULL, target, err));
  cr_assert_eq (access (path_in (p, "%s/usr/bin/env", target), X_OK), 0);
  cr_assert_eq (access (path_in (p, "%s/etc/passwd", target), R_OK), 0);
  cr_assert_eq (access (path_in (p, "%s/home", target), F_OK), -1, "only system dirs");
  cr_assert_eq (mount_flags (target), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (mount_flags (path_in (p, "%s/etc", target)), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (mkdir (path_in (p, "%s/x", target), 0755), -1);
  cr_assert_eq (errno, EROFS);
  cr_assert_eq (mkdir (path_in (p, "%s/etc/x", target), 0755), -1);
  cr_assert_eq (errno, EROFS);
  umount_target ();

  OK (ops->new_state (store_fd, NULL, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0001", target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-ro", target), "ro");
  cr_assert_eq (unlink (path_in (p, "%s/etc/passwd", target)), 0);
  umount_target ();
  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  const char *chain[] = { "s0002" };
  OK (ops->mount (store_fd, NULL, chain, 1, NULL, target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-ro", target)), "ro");
  cr_assert_eq (mount_flags (target), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (mount_flags (path_in (p, "%s/usr", target)), ST_RDONLY | ST_NOSUID | ST_NODEV);
  cr_assert_eq (access (path_in (p, "%s/etc/passwd", target), F_OK), -1, "whiteout honoured");
  cr_assert_eq (access (path_in (p, "%s/etc/group", target), F_OK), 0);
  cr_assert_eq (open (path_in (p, "%s/etc/y", target), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
  cr_assert_eq (errno, EROFS);
  umount_target ();
}

/* ------------------------------------------------------------ cases: share (clone) */

static int
second_store (const char *name)
{
  char p[PATH_MAX];
  cr_assert_eq (mkdir (path_in (p, "%s/%s", fx.mnt, name), 0700), 0);
  int fd = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  return fd;
}

static void
check_share (const char *base)
{
  OK (ops->init (store_fd, base, UID, GID, err));
  OK (ops->new_state (store_fd, base, "s0001", NULL, UID, GID, err));
  char p[PATH_MAX], q[PATH_MAX];
  const char *tree = base != NULL ? "" : "/root";
  al_btrfs_populate (path_in (p, "%s/s0001%s/pop", store, tree));
  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  al_btrfs_mutate (path_in (p, "%s/s0001%s/pop", store, tree), 1);
  if (base == NULL)
    {
      /* Mounted: the writable state's work dirs are in use. */
      OK (ops->mount (store_fd, base, NULL, 0, "s0001", target, err));
      al_btrfs_write (path_in (p, "%s/etc/al-share", target), "w");
    }

  cleanup_close int dst = second_store ("clone");
  OK (ops->init (dst, base, UID, GID, err));
  OK (ops->share (store_fd, "s0002", dst, "s0002", false, err));
  OK (ops->share (store_fd, "s0001", dst, "s0003", true, err));
  umount_target ();
  cr_assert (subvol_read_only (path_in (p, "%s/clone/s0002", fx.mnt)));
  cr_assert_not (subvol_read_only (path_in (p, "%s/clone/s0003", fx.mnt)));
  cleanup_free char *a = al_btrfs_manifest (path_in (p, "%s/s0002", store), true);
  cleanup_free char *b = al_btrfs_manifest (path_in (q, "%s/clone/s0002", fx.mnt), true);
  cr_assert_str_eq (b, a);
  cleanup_free char *c = al_btrfs_manifest (path_in (p, "%s/s0001%s/pop", store, tree), true);
  cleanup_free char *d
      = al_btrfs_manifest (path_in (q, "%s/clone/s0003%s/pop", fx.mnt, tree), true);
  cr_assert_str_eq (d, c);

  /* The clone's states are its own. */
  al_btrfs_write (path_in (p, "%s/clone/s0003%s/pop/only-in-clone", fx.mnt, tree), "c");
  cr_assert_eq (access (path_in (p, "%s/s0001%s/pop/only-in-clone", store, tree), F_OK), -1);
  OK (ops->mount (dst, base, NULL, 0, "s0003", target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/pop/only-in-clone", target)), "c");
  umount_target ();
}

Test (snap_btrfs, share_image_states_into_another_store)
{
  al_btrfs_populate (image);
  check_share (image);
}

Test (snap_btrfs, share_host_states_into_another_store)
{
  check_share (NULL);
  char p[PATH_MAX];
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/clone/s0003/upper/etc/al-share", fx.mnt)), "w");
}

/* ------------------------------------------------------------ cases: remove, errors */

Test (snap_btrfs, remove_whatever_a_state_is)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  bool in_place;
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  char p[PATH_MAX];

  /* A read-only snapshot. */
  OK (ops->remove (store_fd, "s0002", err));
  cr_assert_eq (access (path_in (p, "%s/s0002", store), F_OK), -1);

  /* A state holding a subvolume the sandbox made, with a file in it. */
  enum btrfs_util_error e
      = btrfs_util_create_subvolume (path_in (p, "%s/s0001/nested", store), 0, NULL, NULL);
  cr_assert_eq (e, BTRFS_UTIL_OK, "%s", btrfs_util_strerror (e));
  al_btrfs_write (path_in (p, "%s/s0001/nested/f", store), "f");
  OK (ops->remove (store_fd, "s0001", err));
  cr_assert_eq (access (path_in (p, "%s/s0001", store), F_OK), -1);

  /* Garbage that is not a subvolume: a plain tree, and a file. */
  cr_assert_eq (mkdir (path_in (p, "%s/trash-x", store), 0700), 0);
  cr_assert_eq (mkdir (path_in (p, "%s/trash-x/d", store), 0), 0);
  al_btrfs_write (path_in (p, "%s/trash-x/d/f", store), "f");
  OK (ops->remove (store_fd, "trash-x", err));
  cr_assert_eq (access (path_in (p, "%s/trash-x", store), F_OK), -1);
  al_btrfs_write (path_in (p, "%s/trash-y", store), "y");
  OK (ops->remove (store_fd, "trash-y", err));
  cr_assert_eq (access (path_in (p, "%s/trash-y", store), F_OK), -1);

  /* Gone already (a repeated repair): fine. */
  OK (ops->remove (store_fd, "s0001", err));

  /* Everything deleted: only the base is left. */
  cr_assert_eq (al_btrfs_count_entries (store), 1);
}

Test (snap_btrfs, errors_name_the_state_and_leave_nothing)
{
  al_btrfs_populate (image);
  OK (ops->init (store_fd, image, UID, GID, err));
  struct al_error e = { 0 };
  cr_assert_eq (ops->new_state (store_fd, image, "s0002", "s0001", UID, GID, &e), -ENOENT);
  cr_assert (strstr (e.msg, "`s0001`") != NULL, "%s", e.msg);
  cr_assert_eq (al_btrfs_count_entries (store), 1, "only the base");

  OK (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, err));
  memset (&e, 0, sizeof e);
  cr_assert_eq (ops->new_state (store_fd, image, "s0001", NULL, UID, GID, &e), -EEXIST);
  cr_assert (strstr (e.msg, "`s0001`") != NULL, "%s", e.msg);
  bool in_place;
  memset (&e, 0, sizeof e);
  cr_assert_eq (ops->freeze (store_fd, "s0009", "s0010", &in_place, &e), -ENOENT);
  cr_assert (strstr (e.msg, "`s0009`") != NULL, "%s", e.msg);

  memset (&e, 0, sizeof e);
  cr_assert_eq (ops->mount (store_fd, image, NULL, 0, "s0009", target, &e), -ENOENT);
  cr_assert (strstr (e.msg, "`s0009`") != NULL, "%s", e.msg);
  cr_assert_not (is_mounted (target));

  /* host layout: a mount that fails half-way leaves nothing mounted */
  char p[PATH_MAX];
  cr_assert_eq (mkdir (path_in (p, "%s/hoststore", fx.mnt), 0700), 0);
  cleanup_close int hs = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  OK (ops->new_state (hs, NULL, "s0001", NULL, UID, GID, err));
  cr_assert_eq (rmdir (path_in (p, "%s/hoststore/s0001/work/etc", fx.mnt)), 0);
  cr_assert_eq (chmod (path_in (p, "%s/hoststore/s0001/work", fx.mnt), 0500), 0);
  cr_assert_eq (
      btrfs_util_set_subvolume_read_only (path_in (p, "%s/hoststore/s0001", fx.mnt), true),
      BTRFS_UTIL_OK);
  memset (&e, 0, sizeof e);
  cr_assert_lt (ops->mount (hs, NULL, NULL, 0, "s0001", target, &e), 0);
  cr_assert (strstr (e.msg, "`s0001`") != NULL, "%s", e.msg);
  cr_assert_not (is_mounted (target), "%s", e.msg);
}

/* ------------------------------------------------------------ cases: the public API */

/* The store's tags, oldest first, as "t1 t2". */
static const char *
tags (struct al_snap *s)
{
  static char out[1024];
  struct al_snap_info *info = NULL;
  size_t n = 0;
  struct al_error e = { 0 };
  cr_assert_eq (al_snap_list (s, &info, &n, &e), 0, "%s", e.msg);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++)
    snprintf (out + strlen (out), sizeof out - strlen (out), "%s%s", i ? " " : "", info[i].tag);
  free (info);
  return out;
}

/* The mounted root's manifest. */
static char *
root_manifest (struct al_snap *s)
{
  OK (al_snap_mount (s, target, err));
  char *m = al_btrfs_manifest (target, true);
  umount_target ();
  return m;
}

static void
mutate_root (struct al_snap *s, int round)
{
  OK (al_snap_mount (s, target, err));
  char p[PATH_MAX];
  al_btrfs_mutate (path_in (p, "%s/pop", target), round);
  umount_target ();
}

static struct al_snap *
image_store (void)
{
  char p[PATH_MAX];
  cr_assert_eq (mkdir (image, 0755), 0);
  al_btrfs_populate (path_in (p, "%s/pop", image));
  struct al_snap *s = NULL;
  OK (al_snap_create (path_in (p, "%s/api", fx.mnt), image, AL_SNAP_AUTO, UID, GID, &s, err));
  cr_assert_eq (al_snap_backend (s), AL_SNAP_BTRFS);
  cr_assert_str_eq (al_snap_backend_name (al_snap_backend (s)), "btrfs");
  return s;
}

Test (snap_btrfs, api_backend_choice)
{
  struct al_snap *s = image_store ();
  al_snap_close (s);

  /* A directory on /tmp's own filesystem (not the fixture's tmpfs). */
  char dir[] = "/tmp/al-snap2-api-XXXXXX", p[PATH_MAX];
  cr_assert_not_null (mkdtemp (dir));
  struct al_error e = { 0 };
  s = NULL;
  int r = al_snap_create (path_in (p, "%s/store", dir), image, AL_SNAP_BTRFS, UID, GID, &s, &e);
  bool left = access (p, F_OK) == 0;
  struct al_snap *o = NULL;
  struct al_error e2 = { 0 };
  int r2 = al_snap_create (p, image, AL_SNAP_AUTO, UID, GID, &o, &e2);
  enum al_snap_backend b = o ? al_snap_backend (o) : AL_SNAP_AUTO;
  if (o)
    al_snap_destroy (o, &e2);
  al_snap_close (o);
  al_btrfs_remove_tree (dir);
  cr_assert_eq (r, -EINVAL, "%s", e.msg);
  cr_assert (strstr (e.msg, "--backend btrfs: `") != NULL && strstr (e.msg, "` is not on btrfs"),
             "%s", e.msg);
  cr_assert_not (left, "a failed create left its directory");
  cr_assert_eq (r2, 0, "%s", e2.msg);
  cr_assert_eq (b, AL_SNAP_OVERLAY);
}

Test (snap_btrfs, api_snapshot_rollback_delete)
{
  struct al_snap *s = image_store ();
  cleanup_free char *base = root_manifest (s);
  mutate_root (s, 1);
  cleanup_free char *one = root_manifest (s);
  OK (al_snap_snapshot (s, "t1", err));
  cr_assert_str_eq (tags (s), "t1");
  cleanup_free char *t1 = root_manifest (s);
  cr_assert_str_eq (t1, one, "a snapshot changes nothing");

  mutate_root (s, 2);
  cleanup_free char *two = root_manifest (s);
  cr_assert_str_neq (two, one);
  OK (al_snap_rollback (s, NULL, false, err));
  cleanup_free char *back = root_manifest (s);
  cr_assert_str_eq (back, one);

  mutate_root (s, 2);
  OK (al_snap_snapshot (s, "t2", err));
  OK (al_snap_snapshot (s, NULL, err));
  cr_assert_str_eq (tags (s), "t1 t2 snap-3");
  OK (al_snap_rollback (s, "t1", false, err));
  cr_assert_str_eq (tags (s), "t1");
  cleanup_free char *again = root_manifest (s);
  cr_assert_str_eq (again, one);

  /* Deleting a snapshot keeps the ones above it whole. */
  mutate_root (s, 2);
  OK (al_snap_snapshot (s, "t2", err));
  char p[PATH_MAX];
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/pop/t3-file", target), "t3");
  umount_target ();
  OK (al_snap_snapshot (s, "t3", err));
  cleanup_free char *three = root_manifest (s);
  OK (al_snap_delete (s, "t2", err));
  cr_assert_str_eq (tags (s), "t1 t3");
  struct al_error e = { 0 };
  cr_assert_eq (al_snap_rollback (s, "t2", false, &e), -ENOENT);
  cr_assert (strstr (e.msg, "`t2`") != NULL, "%s", e.msg);
  OK (al_snap_rollback (s, "t3", false, err));
  cleanup_free char *t3 = root_manifest (s);
  cr_assert_str_eq (t3, three);

  OK (al_snap_rollback (s, NULL, true, err));
  cr_assert_str_eq (tags (s), "");
  cleanup_free char *b2 = root_manifest (s);
  cr_assert_str_eq (b2, base);

  /* Reopened, it is the same store. */
  al_snap_close (s);
  s = NULL;
  OK (al_snap_open (path_in (p, "%s/api", fx.mnt), &s, err));
  cr_assert_eq (al_snap_backend (s), AL_SNAP_BTRFS);
  OK (al_snap_gc (s, err));
  OK (al_snap_destroy (s, err));
  al_snap_close (s);
  cr_assert_eq (access (p, F_OK), -1);
}

struct seen
{
  char text[4096];
};

static int
collect (void *data, char kind, const char *path)
{
  struct seen *s = data;
  snprintf (s->text + strlen (s->text), sizeof s->text - strlen (s->text), "%c %s\n", kind, path);
  return 0;
}

/* Whether text (lines) holds line. */
static bool
has_line (const char *text, const char *line)
{
  size_t n = strlen (line);
  for (const char *p = text; (p = strstr (p, line)) != NULL; p += n)
    if ((p == text || p[-1] == '\n') && p[n] == '\n')
      return true;
  return false;
}

Test (snap_btrfs, api_diff_and_commit)
{
  struct al_snap *s = image_store ();
  OK (al_snap_snapshot (s, "t1", err));
  char p[PATH_MAX];
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/pop/added", target), "new");
  al_btrfs_write (path_in (p, "%s/pop/a.txt", target), "modified");
  cr_assert_eq (unlink (path_in (p, "%s/pop/dangle", target)), 0);
  umount_target ();

  struct seen seen = { "" };
  OK (al_snap_diff (s, "t1", collect, &seen, err));
  cr_assert (has_line (seen.text, "A /pop/added"), "%s", seen.text);
  cr_assert (has_line (seen.text, "M /pop/a.txt"), "%s", seen.text);
  cr_assert (has_line (seen.text, "D /pop/dangle"), "%s", seen.text);
  cr_assert_not (strstr (seen.text, "/pop/d/b.bin"), "%s", seen.text);

  /* commit: the current root as a plain tree. */
  cleanup_free char *root = root_manifest (s);
  OK (al_snap_commit (s, path_in (p, "%s/committed", fx.mnt), err));
  cleanup_free char *committed = al_btrfs_manifest (p, true);
  cr_assert_str_eq (strchr (committed, '\n'), strchr (root, '\n'));
  OK (al_snap_destroy (s, err));
  al_snap_close (s);
}

Test (snap_btrfs, api_clone)
{
  struct al_snap *s = image_store ();
  mutate_root (s, 1);
  OK (al_snap_snapshot (s, "t1", err));
  char p[PATH_MAX];
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/pop/after-t1", target), "w");
  umount_target ();
  cleanup_free char *root = root_manifest (s);

  /* The same snapshots and root, changed independently after. */
  struct al_snap *c = NULL;
  OK (al_snap_clone (s, path_in (p, "%s/api-clone", fx.mnt), &c, err));
  cr_assert_eq (al_snap_backend (c), AL_SNAP_BTRFS);
  cr_assert_str_eq (tags (c), "t1");
  cleanup_free char *croot = root_manifest (c);
  cr_assert_str_eq (croot, root);
  OK (al_snap_mount (c, target, err));
  al_btrfs_write (path_in (p, "%s/pop/clone-only", target), "c");
  al_btrfs_write (path_in (p, "%s/pop/d/hard", target), "through the clone");
  umount_target ();
  cleanup_free char *root2 = root_manifest (s);
  cr_assert_str_eq (root2, root, "the clone wrote into the original");
  OK (al_snap_rollback (c, "t1", false, err));
  OK (al_snap_rollback (s, "t1", false, err));
  cleanup_free char *ct1 = root_manifest (c);
  cleanup_free char *st1 = root_manifest (s);
  cr_assert_str_eq (ct1, st1);
  OK (al_snap_destroy (c, err));
  al_snap_close (c);
  OK (al_snap_destroy (s, err));
  al_snap_close (s);
}

Test (snap_btrfs, api_host_dirs_round_trip)
{
  char p[PATH_MAX];
  struct al_snap *s = NULL;
  OK (al_snap_create (path_in (p, "%s/host", fx.mnt), NULL, AL_SNAP_BTRFS, UID, GID, &s, err));
  OK (al_snap_mount (s, target, err));
  cr_assert_eq (access (path_in (p, "%s/usr/bin/env", target), X_OK), 0);
  al_btrfs_write (path_in (p, "%s/etc/al-api", target), "v1");
  umount_target ();
  OK (al_snap_snapshot (s, "t1", err));
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-api", target), "v2");
  cr_assert_eq (unlink (path_in (p, "%s/etc/passwd", target)), 0);
  umount_target ();
  OK (al_snap_rollback (s, NULL, false, err));
  OK (al_snap_mount (s, target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-api", target)), "v1");
  cr_assert_eq (access (path_in (p, "%s/etc/passwd", target), R_OK), 0);
  umount_target ();
  cr_assert_eq (access ("/etc/al-api", F_OK), -1);
  OK (al_snap_destroy (s, err));
  al_snap_close (s);
}

Test (snap_btrfs, api_host_dirs_diff)
{
  char p[PATH_MAX];
  struct al_snap *s = NULL;
  OK (al_snap_create (path_in (p, "%s/host", fx.mnt), NULL, AL_SNAP_BTRFS, UID, GID, &s, err));
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-api", target), "v1");
  umount_target ();
  OK (al_snap_snapshot (s, "t1", err));
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-api", target), "v2 longer");
  al_btrfs_write (path_in (p, "%s/top", target), "top");
  cr_assert_eq (unlink (path_in (p, "%s/etc/passwd", target)), 0);
  umount_target ();
  struct seen seen = { "" };
  OK (al_snap_diff (s, NULL, collect, &seen, err));
  cr_assert (has_line (seen.text, "M /etc/al-api"), "%s", seen.text);
  cr_assert (has_line (seen.text, "A /top"), "%s", seen.text);
  cr_assert (has_line (seen.text, "D /etc/passwd"), "%s", seen.text);
  cr_assert_not (strstr (seen.text, "/usr/"), "%s", seen.text);
  OK (al_snap_destroy (s, err));
  al_snap_close (s);
}

/* ------------------------------------------------------------ cases: the shared checks */

/* snap_testlib.h's checks, which every backend passes, on the btrfs. */
static char *
shared_area (void)
{
  char *area = snap_path (fx.mnt, "area");
  cr_assert_eq (mkdir (area, 0755), 0);
  return area;
}

Test (snap_btrfs, shared_roundtrip)
{
  cleanup_free char *area = shared_area ();
  snap_check_roundtrip (AL_SNAP_BTRFS, area);
}

Test (snap_btrfs, shared_delete_middle)
{
  cleanup_free char *area = shared_area ();
  snap_check_delete_middle (AL_SNAP_BTRFS, area);
}

Test (snap_btrfs, shared_diff)
{
  cleanup_free char *area = shared_area ();
  snap_check_diff (AL_SNAP_BTRFS, area);
}

Test (snap_btrfs, shared_commit)
{
  cleanup_free char *area = shared_area ();
  snap_check_commit (AL_SNAP_BTRFS, area);
}

Test (snap_btrfs, shared_clone)
{
  cleanup_free char *area = shared_area ();
  snap_check_clone (AL_SNAP_BTRFS, area);
}

/* ------------------------------------------------------------ cases: crashes */

/* snap_testlib.h's crash loop copies a store with al_tree_copy, which
 * would turn subvolumes into plain directories: this one copies a btrfs
 * store as btrfs keeps it (a subvolume snapshot per state, read-only where
 * the state is) and removes it through the backend. */
static void
copy_store (const char *src, const char *dst)
{
  cr_assert_eq (mkdir (dst, 0700), 0, "mkdir %s: %s", dst, strerror (errno));
  DIR *d = opendir (src);
  cr_assert_not_null (d);
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      char sp[PATH_MAX], dp[PATH_MAX];
      struct stat st;
      cr_assert_eq (lstat (path_in (sp, "%s/%s", src, e->d_name), &st), 0);
      path_in (dp, "%s/%s", dst, e->d_name);
      if (S_ISDIR (st.st_mode) && st.st_ino == 256)
        {
          bool ro = subvol_read_only (sp);
          enum btrfs_util_error be = btrfs_util_create_snapshot (
              sp, dp, ro ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0, NULL, NULL);
          cr_assert_eq (be, BTRFS_UTIL_OK, "snapshot %s: %s", sp, btrfs_util_strerror (be));
        }
      else
        {
          cr_assert (S_ISREG (st.st_mode), "%s: not a state nor a file", sp);
          char *text = NULL;
          size_t len = 0;
          FILE *f = fopen (sp, "re");
          cr_assert_not_null (f);
          char buf[4096];
          size_t n;
          FILE *mem = open_memstream (&text, &len);
          while ((n = fread (buf, 1, sizeof buf, f)) > 0)
            fwrite (buf, 1, n, mem);
          fclose (f);
          fclose (mem);
          int fd = open (dp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
          cr_assert_geq (fd, 0);
          cr_assert_eq (write (fd, text, len), (ssize_t) len);
          close (fd);
          free (text);
        }
    }
  closedir (d);
}

static void
remove_store (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return;
  cr_assert_geq (fd, 0);
  DIR *d = fdopendir (fd);
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      OK (ops->remove (dirfd (d), e->d_name, err));
  closedir (d);
  cr_assert_eq (rmdir (dir), 0, "rmdir %s: %s", dir, strerror (errno));
}

struct crash_views
{
  char *v1, *v2, *vc; /* after t1, t2 and the current root */
};

/* area/pristine: snapshots t1, t2 (every kind of change) and a current
 * state; base NULL (host layout) or an image. */
static void
make_pristine (const char *area, bool host, struct crash_views *cv)
{
  char *img = snap_path (area, "image");
  snap_make_image (img);
  struct al_snap *s = snap_create (area, "pristine", host ? NULL : img, AL_SNAP_BTRFS);
  const char *dir = host ? "etc/" : "";
  char rel[64];
  char *mnt = snap_mount (s, area);
  snprintf (rel, sizeof rel, "%sone", dir);
  snap_writef (mnt, rel, "1\n");
  if (!host)
    snap_change_set_a (mnt);
  snap_umount (mnt);
  cv->v1 = host ? NULL : snap_save_view (s, area, "v1");
  snap_do_snapshot (s, "t1");
  mnt = snap_mount (s, area);
  snprintf (rel, sizeof rel, "%stwo", dir);
  snap_writef (mnt, rel, "2\n");
  if (!host)
    snap_change_set_b (mnt);
  snap_umount (mnt);
  cv->v2 = host ? NULL : snap_save_view (s, area, "v2");
  snap_do_snapshot (s, "t2");
  mnt = snap_mount (s, area);
  snprintf (rel, sizeof rel, "%scur", dir);
  snap_writef (mnt, rel, "current\n");
  snprintf (rel, sizeof rel, "%sone", dir);
  snap_rm_rf (mnt, rel);
  snap_umount (mnt);
  cv->vc = host ? NULL : snap_save_view (s, area, "vc");
  al_snap_close (s);
  free (img);
}

/* The host-layout view's own files, "one two cur" as present. */
static const char *
host_files (struct al_snap *s, const char *area)
{
  static char out[64];
  char *mnt = snap_mount (s, area);
  snprintf (out, sizeof out, "%s%s%s", snap_exists (mnt, "etc/one") ? "one " : "",
            snap_exists (mnt, "etc/two") ? "two " : "", snap_exists (mnt, "etc/cur") ? "cur" : "");
  snap_umount (mnt);
  return out;
}

static void
check_view (struct al_snap *s, const char *area, const char *view, const char *host_want,
            const char *what)
{
  if (view != NULL)
    snap_assert_view (s, area, view, what);
  else
    cr_assert_str_eq (host_files (s, area), host_want, "%s", what);
}

typedef int (*crash_op) (struct al_snap *s, struct al_error *err);
typedef void (*crash_check) (struct al_snap *s, const char *area, struct crash_views *cv);

/* For k = 1, 2, ...: a child runs op on a fresh copy of area/pristine and
 * dies at the store's k-th crash point; al_snap_open() then repairs and
 * check asserts the old state or the new.  Returns the crash points hit. */
static int
crash_loop (const char *area, crash_op op, crash_check check, struct crash_views *cv)
{
  char *pristine = snap_path (area, "pristine");
  char *copy = snap_path (area, "store");
  snap_crash_calls
      = mmap (NULL, sizeof (int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (snap_crash_calls, MAP_FAILED);
  int crashes = 0;
  for (int k = 1; k < 100; k++)
    {
      remove_store (copy);
      copy_store (pristine, copy);
      pid_t pid = fork ();
      cr_assert_geq (pid, 0);
      if (pid == 0)
        {
          struct al_snap *s = NULL;
          struct al_error e = { 0 };
          *snap_crash_calls = 0;
          snap_crash_at = k;
          al_snap_crash_point = snap_crash_hook;
          if (al_snap_open (copy, &s, &e) < 0)
            _exit (3);
          _exit (op (s, &e) == 0 ? 0 : 2);
        }
      int status;
      cr_assert_eq (waitpid (pid, &status, 0), pid);
      bool crashed
          = (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL) || *snap_crash_calls >= k;
      cr_assert (crashed || (WIFEXITED (status) && WEXITSTATUS (status) == 0),
                 "the operation failed without a crash: status %d", status);
      struct al_snap *s = snap_open (area, "store");
      DIR *d = opendir (copy);
      struct dirent *e;
      size_t states = 0;
      while ((e = readdir (d)) != NULL)
        {
          cr_assert (strncmp (e->d_name, "trash-", 6) != 0 && strncmp (e->d_name, "view-", 5) != 0,
                     "left in the store after crash %d: %s", k, e->d_name);
          states += e->d_name[0] == 's' && e->d_name[1] >= '0' && e->d_name[1] <= '9';
        }
      closedir (d);
      cr_assert_eq (states, snap_count (s) + 1, "after crash %d: %zu states for %zu snapshots", k,
                    states, snap_count (s));
      check (s, area, cv);
      al_snap_close (s);
      if (!crashed)
        break;
      crashes++;
    }
  munmap (snap_crash_calls, sizeof (int));
  free (pristine);
  free (copy);
  return crashes;
}

static int
op_snapshot (struct al_snap *s, struct al_error *err)
{
  return al_snap_snapshot (s, "t3", err);
}

static void
check_snapshot (struct al_snap *s, const char *area, struct crash_views *cv)
{
  check_view (s, area, cv->vc, "two cur", "after a crash in snapshot");
  bool before = strcmp (tags (s), "t1 t2") == 0, after = strcmp (tags (s), "t1 t2 t3") == 0;
  cr_assert (before || after, "tags neither old nor new: %s", tags (s));
  if (after)
    {
      snap_do_rollback (s, "t3", false);
      check_view (s, area, cv->vc, "two cur", "t3 made in a crash");
    }
  snap_do_rollback (s, "t2", false);
  check_view (s, area, cv->v2, "one two ", "t2 after a crash in snapshot");
}

static int
op_rollback (struct al_snap *s, struct al_error *err)
{
  return al_snap_rollback (s, "t1", false, err);
}

static void
check_rollback (struct al_snap *s, const char *area, struct crash_views *cv)
{
  bool before = strcmp (tags (s), "t1 t2") == 0, after = strcmp (tags (s), "t1") == 0;
  cr_assert (before || after, "tags neither old nor new: %s", tags (s));
  check_view (s, area, before ? cv->vc : cv->v1, before ? "two cur" : "one ",
              "after a crash in rollback");
}

static int
op_delete (struct al_snap *s, struct al_error *err)
{
  return al_snap_delete (s, "t1", err);
}

static void
check_delete (struct al_snap *s, const char *area, struct crash_views *cv)
{
  check_view (s, area, cv->vc, "two cur", "after a crash in delete");
  bool before = strcmp (tags (s), "t1 t2") == 0, after = strcmp (tags (s), "t2") == 0;
  cr_assert (before || after, "tags neither old nor new: %s", tags (s));
  snap_do_rollback (s, "t2", false);
  check_view (s, area, cv->v2, "one two ", "t2 after a crash in delete");
}

static void
run_crashes (bool host, crash_op op, crash_check check, int min)
{
  cleanup_free char *area = shared_area ();
  struct crash_views cv = { 0 };
  make_pristine (area, host, &cv);
  int n = crash_loop (area, op, check, &cv);
  cr_assert_geq (n, min, "only %d crash points", n);
  cr_log_info ("%d crash points", n);
  free (cv.v1);
  free (cv.v2);
  free (cv.vc);
}

Test (snap_btrfs, crash_in_snapshot) { run_crashes (false, op_snapshot, check_snapshot, 2); }
Test (snap_btrfs, crash_in_rollback) { run_crashes (false, op_rollback, check_rollback, 2); }
Test (snap_btrfs, crash_in_delete) { run_crashes (false, op_delete, check_delete, 2); }
Test (snap_btrfs, crash_in_host_snapshot) { run_crashes (true, op_snapshot, check_snapshot, 2); }
Test (snap_btrfs, crash_in_host_rollback) { run_crashes (true, op_rollback, check_rollback, 2); }

/* ------------------------------------------------------------ cases: a full filesystem */

/* The smallest btrfs mkfs makes, data and metadata mixed: filling it with
 * data leaves no room for a snapshot's metadata either. */
static void
setup_tiny (void)
{
  alarm (120);
  al_btrfs_fixture_setup_args (&fx, 114, "-M");
  snprintf (store, sizeof store, "%s/store", fx.mnt);
  snprintf (target, sizeof target, "%s/target", fx.dir);
  cr_assert_eq (mkdir (store, 0700), 0, "mkdir %s: %s", store, strerror (errno));
  cr_assert_eq (mkdir (target, 0755), 0);
  store_fd = open (store, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (store_fd, 0);
}

static void
sync_store (void)
{
  int fd = open (store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert_eq (syncfs (fd), 0, "syncfs: %s", strerror (errno));
  close (fd);
}

/* Write into dir until the filesystem is full; the bytes written. */
static long long
fill (const char *dir)
{
  char p[PATH_MAX];
  static char block[1 << 20];
  memset (block, 'f', sizeof block);
  int fd = open (path_in (p, "%s/fill", dir), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  cr_assert_geq (fd, 0);
  long long total = 0;
  for (size_t chunk = sizeof block; chunk >= 4096; chunk /= 2)
    for (;;)
      {
        ssize_t n = write (fd, block, chunk);
        if (n < 0)
          {
            cr_assert_eq (errno, ENOSPC, "fill: %s", strerror (errno));
            break;
          }
        total += n;
        if (fsync (fd) < 0)
          {
            cr_assert_eq (errno, ENOSPC);
            break;
          }
      }
  close (fd);
  for (int i = 0; i < 100000; i++)
    {
      fd = open (path_in (p, "%s/f%d", dir, i), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          cr_assert_eq (errno, ENOSPC, "fill: %s", strerror (errno));
          break;
        }
      close (fd);
    }
  return total;
}

Test (snap_btrfs_full, freeze_and_new_state_on_a_full_filesystem, .init = setup_tiny,
      .fini = teardown)
{
  OK (ops->init (store_fd, NULL, UID, GID, err));
  OK (ops->new_state (store_fd, NULL, "s0001", NULL, UID, GID, err));
  OK (ops->mount (store_fd, NULL, NULL, 0, "s0001", target, err));
  char p[PATH_MAX];
  al_btrfs_write (path_in (p, "%s/etc/al-keep", target), "keep");
  long long filled = fill (path_in (p, "%s/s0001/root", store));
  cr_assert_gt (filled, 50ll << 20, "only %lld bytes filled", filled);
  sync_store ();
  cleanup_free char *before = al_btrfs_manifest (path_in (p, "%s/s0001", store), true);

  struct al_error e = { 0 };
  bool in_place = false;
  cr_assert_eq (ops->freeze (store_fd, "s0001", "s0002", &in_place, &e), -ENOSPC, "%s", e.msg);
  cr_assert_str_eq (e.msg, "snapshot state `s0001` as `s0002`: No space left on device");
  cr_assert_eq (access (path_in (p, "%s/s0002", store), F_OK), -1);
  memset (&e, 0, sizeof e);
  cr_assert_eq (ops->new_state (store_fd, NULL, "s0003", "s0001", UID, GID, &e), -ENOSPC, "%s",
                e.msg);
  cr_assert_eq (access (path_in (p, "%s/s0003", store), F_OK), -1);

  /* The state is intact, still mounted and readable. */
  cleanup_free char *after = al_btrfs_manifest (path_in (p, "%s/s0001", store), true);
  cr_assert_str_eq (after, before);
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-keep", target)), "keep");

  /* Room again: the same freeze works. */
  cr_assert_eq (unlink (path_in (p, "%s/s0001/root/fill", store)), 0);
  sync_store ();
  OK (ops->freeze (store_fd, "s0001", "s0002", &in_place, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/s0002/upper/etc/al-keep", store)), "keep");
  umount_target ();
}

Test (snap_btrfs_full, api_snapshot_on_a_full_filesystem, .init = setup_tiny, .fini = teardown)
{
  char p[PATH_MAX], dir[PATH_MAX];
  struct al_snap *s = NULL;
  snprintf (image, sizeof image, "%s/image", fx.dir);
  al_btrfs_populate (image);
  cr_assert_eq (mkdir (path_in (p, "%s/etc", image), 0755), 0);
  OK (al_snap_create (path_in (dir, "%s/api", fx.mnt), image, AL_SNAP_AUTO, UID, GID, &s, err));
  cr_assert_eq (al_snap_backend (s), AL_SNAP_BTRFS);
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-keep", target), "t1");
  umount_target ();
  OK (al_snap_snapshot (s, "t1", err));
  OK (al_snap_mount (s, target, err));
  al_btrfs_write (path_in (p, "%s/etc/al-keep", target), "current");
  long long filled = fill (target);
  cr_assert_gt (filled, 50ll << 20, "only %lld bytes filled", filled);
  umount_target ();
  sync_store ();
  cleanup_free char *before = root_manifest (s);

  struct al_error e = { 0 };
  cr_assert_lt (al_snap_snapshot (s, "t2", &e), 0, "a snapshot on a full btrfs worked");
  cr_assert_eq (e.errnum, ENOSPC, "%s", e.msg);
  cr_assert (strstr (e.msg, "No space left on device") != NULL, "%s", e.msg);
  cr_assert (strchr (e.msg, '\n') == NULL, "one line: %s", e.msg);
  cr_assert_str_eq (tags (s), "t1");
  cleanup_free char *after = root_manifest (s);
  cr_assert_str_eq (after, before, "the failed snapshot changed the root");

  /* A store reopened after the failure is the same, and works once there
   * is room again. */
  al_snap_close (s);
  s = NULL;
  OK (al_snap_open (dir, &s, err));
  cr_assert_str_eq (tags (s), "t1");
  OK (al_snap_mount (s, target, err));
  cr_assert_eq (unlink (path_in (p, "%s/fill", target)), 0);
  umount_target ();
  sync_store ();
  OK (al_snap_snapshot (s, "t2", err));
  cr_assert_str_eq (tags (s), "t1 t2");
  OK (al_snap_rollback (s, "t1", false, err));
  OK (al_snap_mount (s, target, err));
  cr_assert_str_eq (al_btrfs_read (path_in (p, "%s/etc/al-keep", target)), "t1");
  umount_target ();
  al_snap_close (s);
}
