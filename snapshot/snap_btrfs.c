/* snap_btrfs.c — the btrfs snapshot backend (see snap_backend.h).
 *
 * Every state is a subvolume directly inside the store directory; a
 * snapshot is a read-only subvolume snapshot and a new state made from one
 * is a writable snapshot of it, so snapshot and rollback cost one ioctl
 * each (plus a transaction commit), whatever the size of the tree or of
 * the change.  What a state holds depends on the base:
 *
 *   - an image directory: the store keeps a read-only subvolume "base"
 *     holding a copy of the image (al_tree_copy: reflinked where the
 *     image is on the same btrfs), and a state is the whole root: its
 *     subvolume's top directory is the sandbox's /, owned by uid:gid.
 *     mount() binds the state's subvolume on the target.
 *   - NULL, the host's system directories (as in ephemeral.h): there is no
 *     base subvolume.  A state holds
 *       root/          the tree of / itself (owned by uid:gid): whatever
 *                      the sandbox writes outside the system directories,
 *                      a mount point for each of them that is a directory
 *                      and a symlink for each that is one (merged /usr);
 *       upper/D work/D for each system directory D that is a directory:
 *                      the upper and work dirs of an overlay whose lower
 *                      is the host's /D.
 *     "root" needs no overlay: below it is nothing, and the state is whole.
 *     mount() binds root/ on the target and mounts the overlays on its
 *     system directories.  A snapshot leaves the work dirs empty.
 *
 * freeze() takes the snapshot beside the writable state, which stays (and
 * may stay mounted: the kernel flushes its dirty data into the snapshot;
 * the caller only has to keep the sandbox from writing meanwhile).
 * remove() deletes a subvolume (read-only or not, with any subvolume the
 * sandbox made inside it) or, for garbage that is not one, a plain tree.
 * share() (al_snap_clone) snapshots a state into another store on the same
 * btrfs: read-only for a snapshot, writable for the writable state; EXDEV
 * across filesystems.  The clone's "base" is init()'s own copy.
 */
#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "safepath.h"
#include "ephemeral.h"
#include "snap_backend.h"
#include "tree.h"

#define BASE "base"
#define ROOT "root"
#define UPPER "upper"
#define WORK "work"

/* An upper holds whole files and plain directories (as snap_overlay.c),
 * so a snapshot of it is self-contained. */
#define OVERLAY_OPTS "index=off,redirect_dir=off,metacopy=off"

/* The inode number of every subvolume's top directory. */
#define SUBVOL_TOP_INO 256


/* Record a libbtrfsutil failure: its errno where a system call failed
 * (libbtrfsutil keeps it), else its own reason.  Call it right after the
 * failing call. */
static int __attribute__ ((format (printf, 3, 4)))
util_error (struct al_error *err, enum btrfs_util_error e, const char *fmt, ...)
{
  int errnum = errno;
  char what[AL_ERROR_MSG_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, sizeof what, fmt, ap);
  va_end (ap);
  switch (e)
    {
    case BTRFS_UTIL_ERROR_NO_MEMORY:
      return al_error_set (err, ENOMEM, "%s", what);
    case BTRFS_UTIL_ERROR_NOT_BTRFS:
    case BTRFS_UTIL_ERROR_NOT_SUBVOLUME:
    case BTRFS_UTIL_ERROR_INVALID_ARGUMENT:
      return al_error_reason (err, EINVAL, "%s: %s", what, btrfs_util_strerror (e));
    case BTRFS_UTIL_ERROR_SUBVOLUME_NOT_FOUND:
      return al_error_reason (err, ENOENT, "%s: %s", what, btrfs_util_strerror (e));
    default:
      return al_error_set (err, errnum ? errnum : EIO, "%s", what);
    }
}

/* The store directory's path, for messages. */
static const char *
store_path (int store_fd, char buf[PATH_MAX])
{
  char l[AL_FD_PATH_MAX];
  ssize_t n = readlink (al_fd_path (store_fd, l), buf, PATH_MAX - 1);
  if (n < 0)
    return "the snapshot store";
  buf[n] = '\0';
  return buf;
}

/* An fd of the store that ioctls accept (the caller's may be O_PATH). */
static int
open_store (int store_fd, struct al_error *err)
{
  int fd = openat (store_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      char p[PATH_MAX];
      return al_error_set (err, errno, "open `%s`", store_path (store_fd, p));
    }
  return fd;
}

static int
open_state (int store, const char *name, struct al_error *err)
{
  int fd = openat (store, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "state `%s`", name);
  return fd;
}

/* Whether the store keeps an image base (else its states hold the host
 * layout: root/, upper/, work/). */
static int
has_image_base (int store, bool *ret, struct al_error *err)
{
  struct stat sb;
  if (fstatat (store, BASE, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    {
      *ret = true;
      return 0;
    }
  if (errno != ENOENT)
    return al_error_set (err, errno, "state `" BASE "`");
  *ret = false;
  return 0;
}

static int
delete_subvolume (int dir_fd, const char *name, struct al_error *err)
{
  enum btrfs_util_error e
      = btrfs_util_delete_subvolume_fd (dir_fd, name, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE);
  if (e == BTRFS_UTIL_OK)
    return 0;
  if (e == BTRFS_UTIL_ERROR_SNAP_DESTROY_FAILED && (errno == EPERM || errno == EROFS))
    {
      /* Should the kernel refuse to drop a read-only subvolume, clear
       * the flag and try again. */
      cleanup_close int fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0 && btrfs_util_set_subvolume_read_only_fd (fd, false) == BTRFS_UTIL_OK)
        e = btrfs_util_delete_subvolume_fd (dir_fd, name, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE);
      if (e == BTRFS_UTIL_OK)
        return 0;
    }
  return util_error (err, e, "delete subvolume `%s`", name);
}

/* Remove name in dir_fd, whatever it is: a subvolume is deleted as one
 * (with any subvolume inside it), anything else unlinked or removed as a
 * tree (an empty subvolume inside that goes by rmdir). */
static int
remove_any (int dir_fd, const char *name, struct al_error *err)
{
  struct stat sb;
  if (fstatat (dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : al_error_set (err, errno, "remove `%s`", name);
  if (!S_ISDIR (sb.st_mode))
    {
      if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
        return al_error_set (err, errno, "remove `%s`", name);
      return 0;
    }
  if (sb.st_ino == SUBVOL_TOP_INO)
    return delete_subvolume (dir_fd, name, err);
  return al_tree_remove (dir_fd, name, err);
}

/* Empty each overlay work dir of a host-layout state (overlay keeps its
 * scratch "work" and "index" there); the dirs themselves stay. */
static int
clear_work_dirs (int state, const char *name, struct al_error *err)
{
  cleanup_close int work = openat (state, WORK, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (work < 0)
    return errno == ENOENT ? 0 : al_error_set (err, errno, "state `%s`: open `" WORK "`", name);
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      cleanup_close int d
          = openat (work, al_host_system_dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (d < 0)
        {
          if (errno == ENOENT)
            continue;
          return al_error_set (err, errno, "state `%s`: open `" WORK "/%s`", name, al_host_system_dirs[i]);
        }
      cleanup_dir DIR *dir = fdopendir (d);
      if (dir == NULL)
        return al_error_set (err, errno, "state `%s`: read `" WORK "/%s`", name, al_host_system_dirs[i]);
      int dfd = al_steal_fd (&d);
      struct dirent *de;
      while ((errno = 0, de = readdir (dir)) != NULL)
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          int r = remove_any (dfd, de->d_name, err);
          if (r < 0)
            return al_error_wrap (err, "state `%s`: " WORK "/%s", name, al_host_system_dirs[i]);
        }
      if (errno != 0)
        return al_error_set (err, errno, "state `%s`: read `" WORK "/%s`", name, al_host_system_dirs[i]);
    }
  return 0;
}

static int
mkdir_owned (int dir_fd, const char *name, mode_t mode, uid_t uid, gid_t gid, struct al_error *err)
{
  if (mkdirat (dir_fd, name, mode) < 0 && errno != EEXIST)
    return al_error_set (err, errno, "mkdir `%s`", name);
  if (fchownat (dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0
      || fchmodat (dir_fd, name, mode, 0) < 0)
    return al_error_set (err, errno, "chown `%s`", name);
  return 0;
}

/* The directory name in dir_fd, made (root's, mode) when missing. */
static int
ensure_dir (int dir_fd, const char *name, mode_t mode, struct al_error *err)
{
  struct stat sb;
  if (fstatat (dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISDIR (sb.st_mode) ? 0
                                : al_error_reason (err, ENOTDIR, "`%s` is not a directory", name);
  if (errno != ENOENT)
    return al_error_set (err, errno, "stat `%s`", name);
  return mkdir_owned (dir_fd, name, mode, 0, 0, err);
}

/* A new host-layout state's skeleton in the empty subvolume state. */
static int
host_skeleton (int state, uid_t uid, gid_t gid, struct al_error *err)
{
  int r;
  if ((r = mkdir_owned (state, UPPER, 0755, 0, 0, err)) < 0
      || (r = mkdir_owned (state, WORK, 0700, 0, 0, err)) < 0
      || (r = mkdir_owned (state, ROOT, 0755, uid, gid, err)) < 0)
    return r;
  cleanup_close int root = openat (state, ROOT, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int upper = openat (state, UPPER, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int work = openat (state, WORK, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0 || upper < 0 || work < 0)
    return al_error_set (err, errno, "open the new state's directories");
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      const char *name = al_host_system_dirs[i];
      char host[PATH_MAX], link[PATH_MAX];
      snprintf (host, sizeof host, "/%s", name);
      int kind = al_host_system_dir (name, link, sizeof link, err);
      if (kind < 0)
        return kind;
      if (kind == AL_HOST_SYMLINK && symlinkat (link, root, name) < 0)
        return al_error_set (err, errno, "symlink `%s` in the root", host);
      if (kind != AL_HOST_DIR)
        continue;
      if ((r = mkdir_owned (root, name, 0755, 0, 0, err)) < 0
          || (r = mkdir_owned (upper, name, 0755, 0, 0, err)) < 0
          || (r = mkdir_owned (work, name, 0700, 0, 0, err)) < 0)
        return r;
    }
  return 0;
}

/* chown the sandbox's / in a state unless it already is uid:gid (a state
 * made from a snapshot: nothing to change, nothing to commit). */
static int
own_root (int state, bool image, uid_t uid, gid_t gid, struct al_error *err)
{
  const char *path = image ? "." : ROOT;
  struct stat sb;
  if (fstatat (state, path, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return al_error_set (err, errno, "stat `%s`", path);
  if (sb.st_uid == uid && sb.st_gid == gid)
    return 0;
  if (fchownat (state, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return al_error_set (err, errno, "chown `%s` to %u:%u", path, (unsigned) uid, (unsigned) gid);
  /* chown drops set-id bits; the root keeps its mode. */
  if (fchmodat (state, path, sb.st_mode & 07777, 0) < 0)
    return al_error_set (err, errno, "chmod `%s`", path);
  return 0;
}

static int
btrfs_probe (int store_fd, struct al_error *err)
{
  struct statfs sf;
  char p[PATH_MAX];
  if (fstatfs (store_fd, &sf) < 0)
    return al_error_set (err, errno, "--backend btrfs: `%s`", store_path (store_fd, p));
  if (sf.f_type != BTRFS_SUPER_MAGIC)
    return al_error_reason (err, EINVAL, "--backend btrfs: `%s` is not on btrfs",
                            store_path (store_fd, p));
  return 0;
}

/* Copy the image base into the new subvolume "base" and seal it. */
static int
fill_base (int store, const char *base, struct al_error *err)
{
  cleanup_close int dst = open_state (store, BASE, err);
  if (dst < 0)
    return dst;
  cleanup_close int src = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "base `%s`", base);
  int r = al_tree_copy (src, dst, err);
  if (r < 0)
    return al_error_wrap (err, "copy the base `%s` into subvolume `" BASE "`", base);
  enum btrfs_util_error e = btrfs_util_set_subvolume_read_only_fd (dst, true);
  if (e != BTRFS_UTIL_OK)
    return util_error (err, e, "make subvolume `" BASE "` read-only");
  return 0;
}

static int
btrfs_init (int store_fd, const char *base, uid_t uid, gid_t gid, struct al_error *err)
{
  if (base == NULL)
    return 0;
  cleanup_close int store = open_store (store_fd, err);
  if (store < 0)
    return store;
  enum btrfs_util_error e = btrfs_util_create_subvolume_fd (store, BASE, 0, NULL, NULL);
  if (e != BTRFS_UTIL_OK)
    return util_error (err, e, "create subvolume `" BASE "`");
  int r = fill_base (store, base, err);
  if (r < 0)
    {
      struct al_error ignored = { 0 };
      delete_subvolume (store, BASE, &ignored);
    }
  return r;
}

/* A new state's skeleton (empty host-layout ones) and owner. */
static int
finish_state (int store, const char *name, bool empty, bool image, uid_t uid, gid_t gid,
              struct al_error *err)
{
  cleanup_close int state = open_state (store, name, err);
  if (state < 0)
    return state;
  int r;
  if ((empty && (r = host_skeleton (state, uid, gid, err)) < 0)
      || (r = own_root (state, image, uid, gid, err)) < 0)
    return al_error_wrap (err, "state `%s`", name);
  return 0;
}

static int
btrfs_new_state (int store_fd, const char *base, const char *name, const char *from, uid_t uid,
                 gid_t gid, struct al_error *err)
{
  cleanup_close int store = open_store (store_fd, err);
  if (store < 0)
    return store;
  const char *src = from != NULL ? from : base != NULL ? BASE : NULL;
  enum btrfs_util_error e;
  if (src != NULL)
    {
      cleanup_close int src_fd = open_state (store, src, err);
      if (src_fd < 0)
        return src_fd;
      e = btrfs_util_create_snapshot_fd2 (src_fd, store, name, 0, NULL, NULL);
      if (e != BTRFS_UTIL_OK)
        return util_error (err, e, "snapshot state `%s` as `%s`", src, name);
    }
  else
    {
      e = btrfs_util_create_subvolume_fd (store, name, 0, NULL, NULL);
      if (e != BTRFS_UTIL_OK)
        return util_error (err, e, "create subvolume `%s`", name);
    }

  int r = finish_state (store, name, src == NULL, base != NULL, uid, gid, err);
  if (r < 0)
    {
      struct al_error ignored = { 0 };
      delete_subvolume (store, name, &ignored);
    }
  return r;
}

/* A host-layout snapshot, taken writable: its work dirs emptied, then
 * made read-only. */
static int
seal_snapshot (int store, const char *snap_name, struct al_error *err)
{
  cleanup_close int snap = open_state (store, snap_name, err);
  if (snap < 0)
    return snap;
  int r = clear_work_dirs (snap, snap_name, err);
  if (r < 0)
    return r;
  enum btrfs_util_error e = btrfs_util_set_subvolume_read_only_fd (snap, true);
  if (e != BTRFS_UTIL_OK)
    return util_error (err, e, "make state `%s` read-only", snap_name);
  return 0;
}

static int
btrfs_freeze (int store_fd, const char *name, const char *snap_name, bool *ret_in_place,
              struct al_error *err)
{
  cleanup_close int store = open_store (store_fd, err);
  if (store < 0)
    return store;
  bool image = false;
  int r = has_image_base (store, &image, err);
  if (r < 0)
    return r;
  cleanup_close int src = open_state (store, name, err);
  if (src < 0)
    return src;

  /* An image state is frozen as it is: one ioctl.  A host-layout one is
   * snapshotted writable, its work dirs emptied, then made read-only. */
  enum btrfs_util_error e = btrfs_util_create_snapshot_fd2 (
      src, store, snap_name, image ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0, NULL, NULL);
  if (e != BTRFS_UTIL_OK)
    return util_error (err, e, "snapshot state `%s` as `%s`", name, snap_name);
  if (!image && (r = seal_snapshot (store, snap_name, err)) < 0)
    {
      struct al_error ignored = { 0 };
      delete_subvolume (store, snap_name, &ignored);
      return r;
    }
  *ret_in_place = true;
  return 0;
}

static int
btrfs_remove (int store_fd, const char *name, struct al_error *err)
{
  cleanup_close int store = open_store (store_fd, err);
  if (store < 0)
    return store;
  int r = remove_any (store, name, err);
  if (r < 0)
    return al_error_wrap (err, "remove state `%s`", name);
  return 0;
}

static int
btrfs_share (int src_store_fd, const char *name, int dst_store_fd, const char *dst_name,
             bool writable, struct al_error *err)
{
  cleanup_close int src_store = open_store (src_store_fd, err);
  if (src_store < 0)
    return src_store;
  cleanup_close int dst_store = open_store (dst_store_fd, err);
  if (dst_store < 0)
    return dst_store;
  bool image = false, read_only = false;
  int r = has_image_base (src_store, &image, err);
  if (r < 0)
    return r;
  cleanup_close int src = open_state (src_store, name, err);
  if (src < 0)
    return src;
  enum btrfs_util_error e = btrfs_util_get_subvolume_read_only_fd (src, &read_only);
  if (e != BTRFS_UTIL_OK)
    return util_error (err, e, "state `%s`", name);

  /* A snapshot shared read-only is taken read-only at once (a host-layout
   * one's work dirs are empty already); the writable state's work dirs are
   * overlay's to clean when it mounts the copy. */
  bool seal = !writable && !read_only && !image;
  int flags = !writable && !seal ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0;
  e = btrfs_util_create_snapshot_fd2 (src, dst_store, dst_name, flags, NULL, NULL);
  if (e != BTRFS_UTIL_OK)
    {
      if (errno == EXDEV)
        return al_error_reason (err, EXDEV,
                                "state `%s`: a btrfs store can only be cloned onto "
                                "the same btrfs filesystem",
                                name);
      return util_error (err, e, "snapshot state `%s` as `%s` in the new store", name, dst_name);
    }
  if (seal && (r = seal_snapshot (dst_store, dst_name, err)) < 0)
    {
      struct al_error ignored = { 0 };
      delete_subvolume (dst_store, dst_name, &ignored);
      return r;
    }
  return 0;
}

/* fd's directory reopened by its path (returned in ret_path) in our mount
 * namespace.  A mount takes a source and a target only in the caller's
 * namespace, and the fds and "/proc/self/fd/N/..." paths the caller hands
 * us may lead into the one it had before it unshared (the store's diff and
 * commit views do that).  -EXDEV when the path leads elsewhere here. */
static int
reopen_here (int fd, const char *what, char ret_path[PATH_MAX], struct al_error *err)
{
  char l[AL_FD_PATH_MAX];
  ssize_t n = readlink (al_fd_path (fd, l), ret_path, PATH_MAX - 1);
  if (n < 0)
    return al_error_set (err, errno, "%s", what);
  ret_path[n] = '\0';
  cleanup_close int here = open (ret_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat a, b;
  if (here < 0 || fstat (here, &a) < 0 || fstat (fd, &b) < 0 || a.st_dev != b.st_dev
      || a.st_ino != b.st_ino)
    return al_error_reason (err, EXDEV,
                            "%s: `%s` is not the same directory in this mount "
                            "namespace",
                            what, ret_path);
  return al_steal_fd (&here);
}

/* A bind of src (a directory fd) onto target_fd, nosuid and nodev, and
 * read-only when asked; made detached, then attached. */
static int
attach_bind (int src, int target_fd, bool read_only, const char *what, struct al_error *err)
{
  cleanup_close int tree = open_tree (src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0)
    return al_error_set (err, errno, "bind %s", what);
  struct mount_attr attr
      = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0) };
  if (mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return al_error_set (err, errno, "bind %s: set its flags", what);
  if (move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return al_error_set (err, errno, "bind %s: attach", what);
  return 0;
}

/* The mount point of the host directory name in the root being built: a
 * directory, never followed through a symlink (made when missing and
 * create says so). */
static int
mount_point (int root, const char *name, bool create, struct al_error *err)
{
  int fd = openat (root, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create)
    {
      if (mkdirat (root, name, 0755) < 0 && errno != EEXIST)
        return al_error_set (err, errno, "mkdir `/%s` in the root", name);
      fd = openat (root, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd < 0)
    return al_error_set (err, errno, "mount point `/%s` in the root", name);
  return fd;
}

/* The overlays of the host's system directories on root (the state's
 * root/ bound on the target): upper and work in state, or with state
 * read-only (a snapshot) its upper as the top lower. */
static int
host_overlays (int state, const char *state_name, int root, bool read_only, struct al_error *err)
{
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      const char *name = al_host_system_dirs[i];
      char host[PATH_MAX], opts[4 * PATH_MAX], u[AL_FD_PATH_MAX], w[AL_FD_PATH_MAX],
          t[AL_FD_PATH_MAX], upper_rel[PATH_MAX], work_rel[PATH_MAX];
      snprintf (host, sizeof host, "/%s", name);
      char link[PATH_MAX];
      int kind = al_host_system_dir (name, link, sizeof link, err);
      if (kind < 0)
        return kind;
      if (kind != AL_HOST_DIR)
        continue;
      if (strpbrk (host, ",:") != NULL)
        return al_error_reason (err, EINVAL,
                                "overlay on `%s`: the path cannot be an overlay "
                                "lower (has `,` or `:`)",
                                host);
      snprintf (upper_rel, sizeof upper_rel, UPPER "/%s", name);
      snprintf (work_rel, sizeof work_rel, WORK "/%s", name);
      if (!read_only)
        {
          /* A host directory that appeared after the state was made. */
          int r;
          if ((r = ensure_dir (state, upper_rel, 0755, err)) < 0
              || (r = ensure_dir (state, work_rel, 0700, err)) < 0)
            return al_error_wrap (err, "state `%s`", state_name);
        }
      cleanup_close int target = mount_point (root, name, !read_only, err);
      if (target < 0)
        {
          if (read_only && err->errnum == ENOENT)
            continue;
          return al_error_wrap (err, "state `%s`", state_name);
        }
      cleanup_close int upper
          = openat (state, upper_rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (upper < 0 && !(read_only && errno == ENOENT))
        return al_error_set (err, errno, "state `%s`: open `%s`", state_name, upper_rel);
      if (upper < 0)
        {
          /* A snapshot older than this host directory: just the host's. */
          cleanup_close int src = open (host, O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (src < 0)
            return al_error_set (err, errno, "open `%s`", host);
          int r = attach_bind (src, target, true, host, err);
          if (r < 0)
            return r;
          continue;
        }
      cleanup_close int work = -1;
      if (read_only)
        snprintf (opts, sizeof opts, OVERLAY_OPTS ",lowerdir=%s:%s", al_fd_path (upper, u), host);
      else
        {
          work = openat (state, work_rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (work < 0)
            return al_error_set (err, errno, "state `%s`: open `%s`", state_name, work_rel);
          snprintf (opts, sizeof opts, OVERLAY_OPTS ",lowerdir=%s,upperdir=%s,workdir=%s", host,
                    al_fd_path (upper, u), al_fd_path (work, w));
        }
      unsigned long flags = MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
      if (mount ("overlay", al_fd_path (target, t), "overlay", flags, opts) < 0)
        return al_error_set (err, errno, "state `%s`: overlay on `%s`", state_name, host);
    }
  return 0;
}

/* The read-only view of the host's system directories alone (a host-layout
 * store without snapshots): a small tmpfs holding their mount points and
 * symlinks, the directories bound read-only, then the tmpfs made
 * read-only. */
static int
host_view (int target_fd, const char *target, struct al_error *err)
{
  char t[AL_FD_PATH_MAX];
  if (mount ("airlock", al_fd_path (target_fd, t), "tmpfs", MS_NOSUID | MS_NODEV,
             "size=64k,nr_inodes=64,mode=0755")
      < 0)
    return al_error_set (err, errno, "mount a tmpfs on `%s`", target);
  cleanup_close int root = open (target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return al_error_set (err, errno, "open `%s`", target);
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      const char *name = al_host_system_dirs[i];
      char host[PATH_MAX], link[PATH_MAX];
      snprintf (host, sizeof host, "/%s", name);
      int kind = al_host_system_dir (name, link, sizeof link, err);
      if (kind < 0)
        return kind;
      if (kind == AL_HOST_SYMLINK && symlinkat (link, root, name) < 0)
        return al_error_set (err, errno, "symlink `%s` in `%s`", host, target);
      if (kind != AL_HOST_DIR)
        continue;
      cleanup_close int point = mount_point (root, name, true, err);
      cleanup_close int src = open (host, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (point < 0)
        return point;
      if (src < 0)
        return al_error_set (err, errno, "open `%s`", host);
      int r = attach_bind (src, point, true, host, err);
      if (r < 0)
        return r;
    }
  if (mount (NULL, al_fd_path (root, t), NULL,
             MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL)
      < 0)
    return al_error_set (err, errno, "make `%s` read-only", target);
  return 0;
}

static int
btrfs_mount (int store_fd, const char *base, const char *const *chain, size_t n,
             const char *current, const char *target, struct al_error *err)
{
  bool read_only = current == NULL;
  const char *name = current != NULL ? current : n > 0 ? chain[n - 1] : base != NULL ? BASE : NULL;
  char what[PATH_MAX + 32], here[PATH_MAX], store_here[PATH_MAX];
  snprintf (what, sizeof what, "mount target `%s`", target);
  cleanup_close int given = open (target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (given < 0)
    return al_error_set (err, errno, "%s", what);
  cleanup_close int target_fd = reopen_here (given, what, here, err);
  if (target_fd < 0)
    return target_fd;
  cleanup_close int store = reopen_here (store_fd, "the snapshot store", store_here, err);
  if (store < 0)
    return store;

  int r;
  if (name == NULL)
    r = host_view (target_fd, here, err);
  else
    {
      cleanup_close int state = open_state (store, name, err);
      if (state < 0)
        return state;
      cleanup_close int root = -1;
      if (base == NULL)
        {
          root = openat (state, ROOT, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (root < 0)
            return al_error_set (err, errno, "state `%s`: open `" ROOT "`", name);
        }
      snprintf (what, sizeof what, "state `%s` on `%s`", name, target);
      if ((r = attach_bind (root >= 0 ? root : state, target_fd, read_only, what, err)) < 0)
        return r;
      if (base != NULL)
        return 0;
      cleanup_close int top = open (here, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (top < 0)
        r = al_error_set (err, errno, "open `%s`", target);
      else
        r = host_overlays (state, name, top, read_only, err);
    }
  if (r < 0)
    {
      /* Whatever got mounted on target goes, with everything under it. */
      cleanup_close int top = open (here, O_PATH | O_DIRECTORY | O_CLOEXEC);
      char t[AL_FD_PATH_MAX];
      if (top >= 0)
        {
          struct stat a, b;
          if (fstat (top, &a) == 0 && fstat (target_fd, &b) == 0
              && (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
            umount2 (al_fd_path (top, t), MNT_DETACH);
        }
    }
  return r;
}

const struct al_snap_backend_ops al_snap_btrfs_ops = {
  .name = "btrfs",
  .new_state_commits = true,
  .probe = btrfs_probe,
  .init = btrfs_init,
  .new_state = btrfs_new_state,
  .freeze = btrfs_freeze,
  .remove = btrfs_remove,
  .mount = btrfs_mount,
  .merge = NULL,
  .share = btrfs_share,
};
