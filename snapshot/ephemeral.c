/* ephemeral.c — see ephemeral.h. */
#include "config.h"

#include "ephemeral.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "safepath.h"

#define UPPER "upper"
#define WORK "work"

/* The host directories the default root shows, read-only below the
 * sandbox's writes. */
const char *const al_host_system_dirs[] = {
  "usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};
const size_t al_n_host_system_dirs = sizeof al_host_system_dirs / sizeof al_host_system_dirs[0];

int
al_host_system_dir (const char *name, char *link, size_t size, struct al_error *err)
{
  char host[64];
  snprintf (host, sizeof host, "/%s", name);
  struct stat sb;
  if (lstat (host, &sb) < 0)
    return errno == ENOENT ? AL_HOST_NONE : al_error_set (err, errno, "host `%s`", host);
  if (S_ISDIR (sb.st_mode))
    return AL_HOST_DIR;
  if (!S_ISLNK (sb.st_mode))
    return AL_HOST_NONE;
  ssize_t n = readlink (host, link, size - 1);
  if (n < 0)
    return al_error_set (err, errno, "readlink `%s`", host);
  link[n] = '\0';
  return AL_HOST_SYMLINK;
}

static int
mkdir_owned (int dir_fd, const char *name, mode_t mode, uid_t uid, gid_t gid,
             struct al_error *err)
{
  if (mkdirat (dir_fd, name, mode) < 0 && errno != EEXIST)
    return al_error_set (err, errno, "mkdir `%s` in the sandbox's layer", name);
  if (fchownat (dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0
      || fchmodat (dir_fd, name, mode, 0) < 0)
    return al_error_set (err, errno, "chown `%s` in the sandbox's layer", name);
  return 0;
}

/* lower (host path) as an overlay on target, upper and work dirs named
 * tag under the tmpfs layer_fd. */
static int
overlay (int layer_fd, const char *lower, const char *tag, int target_fd, uid_t uid, gid_t gid,
         bool own_root, struct al_error *err)
{
  char upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64], l[AL_FD_PATH_MAX],
      t[AL_FD_PATH_MAX];
  snprintf (upper, sizeof upper, UPPER "/%s", tag);
  snprintf (work, sizeof work, WORK "/%s", tag);
  int r;
  if ((r = mkdir_owned (layer_fd, upper, 0755, own_root ? uid : 0, own_root ? gid : 0, err)) < 0
      || (r = mkdir_owned (layer_fd, work, 0700, 0, 0, err)) < 0)
    return r;
  /* Overlay takes paths; the layer's are reached through its fd. */
  int n = snprintf (opts, sizeof opts, "lowerdir=%s,upperdir=%s/%s,workdir=%s/%s", lower,
                    al_fd_path (layer_fd, l), upper, l, work);
  if (n < 0 || (size_t) n >= sizeof opts || strpbrk (lower, ",:") != NULL)
    return al_error_reason (err, EINVAL, "overlay on `%s`: the path cannot be an overlay lower "
                            "(too long, or has `,` or `:`)", lower);
  if (mount ("overlay", al_fd_path (target_fd, t), "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
    return al_error_set (err, errno, "overlay on `%s`", lower);
  return 0;
}

/* A recursive bind of the host path src onto target_fd (nosuid, nodev,
 * read-only when asked; idmapped through userns_fd when >= 0 and the
 * filesystem allows), made detached and then attached.  what names it in
 * errors ("bind", "--bind"). */
static int
attach_bind (const char *what, const char *src, int target_fd, bool read_only, int userns_fd,
             struct al_error *err)
{
  cleanup_close int tree
      = open_tree (AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0)
    return al_error_set (err, errno, "%s `%s`", what, src);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
                                         | (read_only ? MOUNT_ATTR_RDONLY : 0) };
  if (mount_setattr (tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return al_error_set (err, errno, "%s `%s`: set its flags", what, src);
  if (userns_fd >= 0)
    {
      /* Only the top mount: submounts on filesystems without idmap support
       * keep their ids.  EINVAL: this filesystem cannot be idmapped. */
      struct mount_attr idmap = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns_fd };
      if (mount_setattr (tree, "", AT_EMPTY_PATH, &idmap, sizeof idmap) < 0 && errno != EINVAL
          && errno != EPERM)
        return al_error_set (err, errno, "%s `%s`: idmap", what, src);
    }
  if (move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return al_error_set (err, errno, "%s `%s`: attach", what, src);
  return 0;
}

static int
host_system_dirs (const struct al_ephemeral_opts *o, int layer_fd, int root_fd,
                  struct al_error *err)
{
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      const char *name = al_host_system_dirs[i];
      char host[PATH_MAX], link[PATH_MAX];
      snprintf (host, sizeof host, "/%s", name);
      int kind = al_host_system_dir (name, link, sizeof link, err);
      if (kind < 0)
        return kind;
      if (kind == AL_HOST_SYMLINK && symlinkat (link, root_fd, name) < 0)
        return al_error_set (err, errno, "symlink `%s` in the sandbox's root", host);
      if (kind != AL_HOST_DIR)
        continue;
      if (mkdirat (root_fd, name, 0755) < 0)
        return al_error_set (err, errno, "mkdir `%s` in the sandbox's root", host);
      cleanup_close int target = openat (root_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (target < 0)
        return al_error_set (err, errno, "open `%s` in the sandbox's root", host);
      int r = o->read_only ? attach_bind ("bind", host, target, true, -1, err)
                           : overlay (layer_fd, host, name, target, o->uid, o->gid, false, err);
      if (r < 0)
        return r;
    }
  return 0;
}

int
al_ephemeral_mount (const struct al_ephemeral_opts *o, int parent_fd, const char *name,
                    struct al_error *err)
{
  char data[128], d[AL_FD_PATH_MAX];
  snprintf (data, sizeof data, "size=%llu,mode=0755,uid=%u,gid=%u",
            (unsigned long long) o->size, (unsigned) o->uid, (unsigned) o->gid);
  cleanup_close int dir = openat (parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return al_error_set (err, errno, "open `%s`", name);
  if (mount ("airlock", al_fd_path (dir, d), "tmpfs", MS_NOSUID | MS_NODEV, data) < 0)
    return al_error_set (err, errno, "mount the sandbox's writable layer (tmpfs %s)", data);

  /* By name again: the fd from before the mount is under it. */
  cleanup_close int top = openat (parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (top < 0)
    return al_error_set (err, errno, "open the sandbox's writable layer");
  int r;
  if ((r = mkdir_owned (top, UPPER, 0755, 0, 0, err)) < 0
      || (r = mkdir_owned (top, WORK, 0700, 0, 0, err)) < 0
      || (r = mkdir_owned (top, AL_EPHEMERAL_ROOT, 0755, o->uid, o->gid, err)) < 0)
    return r;
  cleanup_close int root = openat (top, AL_EPHEMERAL_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return al_error_set (err, errno, "open the sandbox's root");

  if (o->lower == NULL)
    return host_system_dirs (o, top, root, err);
  struct stat sb;
  if (stat (o->lower, &sb) < 0 || !S_ISDIR (sb.st_mode))
    return al_error_set (err, errno ? errno : ENOTDIR, "--rootfs `%s`", o->lower);
  if (o->read_only)
    return attach_bind ("--rootfs", o->lower, root, true, -1, err);
  return overlay (top, o->lower, AL_EPHEMERAL_ROOT, root, o->uid, o->gid, true, err);
}

static int
make_target (int root_fd, const char *dst, bool dir, struct al_error *err)
{
  return dir ? al_safe_mkdir_p (root_fd, dst, 0755, 0, err)
             : al_safe_create_file (root_fd, dst, 0644, 0, err);
}

int
al_ephemeral_bind (int root_fd, const char *src, const char *dst, bool read_only, int userns_fd,
                   uid_t uid, gid_t gid, struct al_error *err)
{
  struct stat sb;
  if (stat (src, &sb) < 0)
    return al_error_set (err, errno, "--bind `%s`", src);
  if (al_path_escapes (dst))
    return al_error_reason (err, EINVAL, "--bind `%s`: the destination climbs out of the root", dst);
  cleanup_close int target = make_target (root_fd, dst, S_ISDIR (sb.st_mode), err);
  if (target < 0)
  {
    /* Inside an earlier idmapped bind our uid 0 has no mapping
     * (EOVERFLOW): make it as the sandbox's root, which that bind maps. */
    if (err->errnum != EOVERFLOW)
      return al_error_wrap (err, "--bind `%s`", src);
    int olduid = setfsuid (uid), oldgid = setfsgid (gid);
    target = make_target (root_fd, dst, S_ISDIR (sb.st_mode), err);
    setfsuid ((uid_t) olduid);
    setfsgid ((gid_t) oldgid);
    if (target < 0)
      return al_error_wrap (err, "--bind `%s`", src);
  }

  return attach_bind ("--bind", src, target, read_only, userns_fd, err);
}
