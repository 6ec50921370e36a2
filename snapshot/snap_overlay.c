/* snap_overlay.c — the overlayfs snapshot backend (see snap_backend.h).
 *
 * A state is a directory holding, per mount of the root, "<m>/upper" (an
 * overlay upper layer: the delta over the states below) and "<m>/work"
 * (its workdir).  With an image base there is one mount, "root"; with base
 * NULL (the host's system directories) there is "root" for / itself, whose
 * lowest layer is the store's "base-root" (a directory holding, like
 * ephemeral.c's root, a symlink per merged-/usr host directory and an
 * empty directory per other one), plus one per host directory that
 * base-root holds as a directory ("usr", "etc", ...), whose lowest layer is
 * that host directory.
 *
 * Overlays are mounted with index=off, redirect_dir=off and metacopy=off:
 * an upper then holds whole files and plain directories (whiteouts and
 * opaque directories only), so it stays valid when it later becomes a
 * lower, under any other stack of layers, and can be folded into another
 * layer by renames (merge).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "safepath.h"
#include "ephemeral.h"
#include "snap_backend.h"
#include "tree.h"

#define ROOT_MOUNT "root"
#define BASE_ROOT "base-root"
#define OPAQUE_XATTR "trusted.overlay.opaque"
#define OVERLAY_OPTS "index=off,redirect_dir=off,metacopy=off"
#define MAX_MOUNTS 16


struct mounts
{
  size_t n;
  char name[MAX_MOUNTS][16]; /* name[0] is "root" */
};

static int
list_mounts (int store_fd, const char *base, struct mounts *m, struct al_error *err)
{
  m->n = 1;
  strcpy (m->name[0], ROOT_MOUNT);
  if (base)
    return 0;
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      char p[64];
      struct stat st;
      snprintf (p, sizeof p, BASE_ROOT "/%s", al_host_system_dirs[i]);
      if (fstatat (store_fd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return al_error_set (err, errno, "stat `%s` in the store", p);
        }
      if (S_ISDIR (st.st_mode))
        strcpy (m->name[m->n++], al_host_system_dirs[i]);
    }
  return 0;
}

static int
overlay_probe (int store_fd, struct al_error *err)
{
  (void) store_fd;
  (void) err;
  return 0;
}

/* base NULL: base-root, like ephemeral.c's root, owned by uid:gid. */
static int
overlay_init (int store_fd, const char *base, uid_t uid, gid_t gid, struct al_error *err)
{
  if (base)
    {
      if (strpbrk (base, ",:") != NULL)
        return al_error_reason (err, EINVAL,
                                "base `%s`: an overlay lower cannot have `,` or `:` in "
                                "its path",
                                base);
      return 0;
    }
  if (mkdirat (store_fd, BASE_ROOT, 0755) < 0)
    return al_error_set (err, errno, "mkdir `" BASE_ROOT "`");
  cleanup_close int root = openat (store_fd, BASE_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0 || fchown (root, uid, gid) < 0 || fchmod (root, 0755) < 0)
    return al_error_set (err, errno, "make `" BASE_ROOT "`");
  for (size_t i = 0; i < al_n_host_system_dirs; i++)
    {
      const char *name = al_host_system_dirs[i];
      char link[PATH_MAX];
      int kind = al_host_system_dir (name, link, sizeof link, err);
      if (kind < 0)
        return kind;
      if (kind == AL_HOST_SYMLINK && symlinkat (link, root, name) < 0)
        return al_error_set (err, errno, "symlink `/%s` in `" BASE_ROOT "`", name);
      if (kind == AL_HOST_DIR && mkdirat (root, name, 0755) < 0)
        return al_error_set (err, errno, "mkdir `/%s` in `" BASE_ROOT "`", name);
    }
  return 0;
}

/* The lowest layer of mount m. */
static const char *
base_layer (const char *base, const char *m, const char *store_path, char buf[PATH_MAX])
{
  if (strcmp (m, ROOT_MOUNT) == 0)
    {
      if (base)
        return base;
      snprintf (buf, PATH_MAX, "%s/" BASE_ROOT, store_path);
      return buf;
    }
  snprintf (buf, PATH_MAX, "/%s", m);
  return buf;
}

static int
overlay_new_state (int store_fd, const char *base, const char *name, const char *from, uid_t uid,
                   gid_t gid, struct al_error *err)
{
  struct mounts ms;
  int r = list_mounts (store_fd, base, &ms, err);
  if (r < 0)
    return r;
  if (mkdirat (store_fd, name, 0700) < 0)
    return al_error_set (err, errno, "state `%s`: mkdir", name);
  cleanup_close int st = openat (store_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (st < 0)
    return al_error_set (err, errno, "state `%s`: open", name);
  char sp[AL_FD_PATH_MAX];
  al_fd_path (store_fd, sp);
  for (size_t i = 0; i < ms.n; i++)
    {
      const char *m = ms.name[i];
      char p[64], lower[PATH_MAX];
      if (mkdirat (st, m, 0700) < 0)
        return al_error_set (err, errno, "state `%s`: mkdir `%s`", name, m);
      snprintf (p, sizeof p, "%s/upper", m);
      if (mkdirat (st, p, 0755) < 0)
        return al_error_set (err, errno, "state `%s`: mkdir `%s`", name, p);
      cleanup_close int upper = openat (st, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (upper < 0)
        return al_error_set (err, errno, "state `%s`: open `%s`", name, p);
      snprintf (p, sizeof p, "%s/work", m);
      if (mkdirat (st, p, 0700) < 0)
        return al_error_set (err, errno, "state `%s`: mkdir `%s`", name, p);

      /* The root of the view takes the upper's owner, mode and times:
       * those of the layer below, so that a snapshot changes nothing. */
      cleanup_close int below = -1;
      if (from)
        {
          snprintf (lower, sizeof lower, "%s/%s/upper", from, m);
          below = openat (store_fd, lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
      else
        below = open (base_layer (base, m, sp, lower), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (below < 0)
        return al_error_set (err, errno, "state `%s`: open the layer below `%s`", name, m);
      r = al_tree_copy_meta (below, upper, AL_TREE_SKIP_OVERLAY_XATTRS, err);
      if (r < 0)
        return al_error_wrap (err, "state `%s`", name);
      if (from == NULL && strcmp (m, ROOT_MOUNT) == 0 && fchown (upper, uid, gid) < 0)
        return al_error_set (err, errno, "state `%s`: chown its root", name);
      cleanup_close int mdir = openat (st, m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fsync (upper) < 0 || mdir < 0 || fsync (mdir) < 0)
        return al_error_set (err, errno, "state `%s`: sync `%s`", name, m);
    }
  /* On disk before meta.json names it (the store syncs its own dir). */
  if (fsync (st) < 0)
    return al_error_set (err, errno, "state `%s`: sync", name);
  return 0;
}

static int
overlay_freeze (int store_fd, const char *name, const char *snap_name, bool *ret_in_place,
                struct al_error *err)
{
  (void) snap_name;
  /* The layer's data reaches the disk before meta.json calls it a
   * snapshot. */
  if (syncfs (store_fd) < 0)
    return al_error_set (err, errno, "state `%s`: sync", name);
  *ret_in_place = false;
  return 0;
}

static int
overlay_remove (int store_fd, const char *name, struct al_error *err)
{
  int r = al_tree_remove (store_fd, name, err);
  if (r == -ENOENT)
    return 0;
  return r < 0 ? al_error_wrap (err, "remove state `%s`", name) : 0;
}

/* Append the strings of parts (NULL-terminated) to opts. */
static int
add_opt (char *opts, size_t size, size_t *len, const char *const *parts)
{
  for (; *parts; parts++)
    {
      size_t n = strlen (*parts);
      if (*len + n >= size)
        return -E2BIG;
      memcpy (opts + *len, *parts, n + 1);
      *len += n;
    }
  return 0;
}

/* A read-only bind of path on target_fd. */
static int
bind_ro (const char *path, int target_fd, struct al_error *err)
{
  cleanup_close int tree = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return al_error_set (err, errno, "bind `%s`", path);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
  if (mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return al_error_set (err, errno, "bind `%s`: make it read-only", path);
  if (move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return al_error_set (err, errno, "bind `%s`: attach", path);
  return 0;
}

/* The overlay through fsconfig, one "lowerdir+" per layer (Linux 6.8):
 * for stacks whose option string would not fit in a page. */
static int
mount_overlay_fsconfig (const char *const *lowers, size_t n, const char *upper, const char *work,
                        int target_fd)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return -errno;
  for (size_t i = 0; i < n; i++)
    if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
      return -errno;
  if (upper
      && (fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
          || fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
    return -errno;
  if (fsconfig (fs, FSCONFIG_SET_STRING, "index", "off", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "redirect_dir", "off", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "metacopy", "off", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return -errno;
  cleanup_close int mnt = fsmount (
      fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (upper ? 0 : MOUNT_ATTR_RDONLY));
  if (mnt < 0)
    return -errno;
  if (move_mount (mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return -errno;
  return 0;
}

/* The overlay of mount m on target_fd. */
static int
mount_one (int store_fd, const char *base, const char *m, const char *const *chain, size_t n,
           const char *current, int target_fd, struct al_error *err)
{
  char sp[AL_FD_PATH_MAX], bl[PATH_MAX], tp[AL_FD_PATH_MAX];
  al_fd_path (store_fd, sp);
  const char *lowest = base_layer (base, m, sp, bl);
  if (n == 0 && current == NULL)
    return bind_ro (lowest, target_fd, err);

  /* The lowest layer by a short name: its own path may be long (one page
   * of mount options; 256 bytes per fsconfig string). */
  cleanup_close int lowest_fd = open (lowest, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (lowest_fd < 0)
    return al_error_set (err, errno, "overlay on `%s`: `%s`", m, lowest);
  char lowest_short[AL_FD_PATH_MAX];
  al_fd_path (lowest_fd, lowest_short);

  size_t nl = n + 1;
  cleanup_free char **lowers = calloc (nl, sizeof *lowers);
  cleanup_free char *paths = malloc (n * 64 + 1);
  if (lowers == NULL || paths == NULL)
    return al_error_set (err, ENOMEM, "overlay on `%s`", m);
  for (size_t i = 0; i < n; i++)
    {
      lowers[i] = paths + i * 64;
      snprintf (lowers[i], 64, "%s/%s/%s/upper", sp, chain[n - 1 - i], m);
    }
  lowers[n] = lowest_short;

  char upper[128] = "", work[128] = "";
  if (current)
    {
      snprintf (upper, sizeof upper, "%s/%s/%s/upper", sp, current, m);
      snprintf (work, sizeof work, "%s/%s/%s/work", sp, current, m);
      char rel[64];
      snprintf (rel, sizeof rel, "%s/%s/work", current, m);
      /* Gone if a crash came between making it and using it. */
      if (mkdirat (store_fd, rel, 0700) < 0 && errno != EEXIST)
        return al_error_set (err, errno, "state `%s`: mkdir `%s`", current, rel);
    }

  if (nl == 1 && current == NULL)
    return bind_ro (lowest, target_fd, err);

  static const size_t max = 4096;
  cleanup_free char *opts = malloc (max);
  if (opts == NULL)
    return al_error_set (err, ENOMEM, "overlay on `%s`", m);
  size_t len = 0;
  opts[0] = '\0';
  int r = add_opt (opts, max, &len, (const char *const[]){ "lowerdir=", lowers[0], NULL });
  for (size_t i = 1; r == 0 && i < nl; i++)
    r = add_opt (opts, max, &len, (const char *const[]){ ":", lowers[i], NULL });
  if (r == 0 && current)
    r = add_opt (opts, max, &len,
                 (const char *const[]){ ",upperdir=", upper, ",workdir=", work, NULL });
  if (r == 0)
    r = add_opt (opts, max, &len, (const char *const[]){ ",", OVERLAY_OPTS, NULL });
  if (r == 0)
    {
      if (mount ("overlay", al_fd_path (target_fd, tp), "overlay",
                 MS_NOSUID | MS_NODEV | (current ? 0 : MS_RDONLY), opts)
          < 0)
        return al_error_set (err, errno, "overlay of %zu layers on `%s`", nl, m);
      return 0;
    }
  r = mount_overlay_fsconfig ((const char *const *) lowers, nl, current ? upper : NULL, work,
                              target_fd);
  if (r < 0)
    return al_error_set (err, -r, "overlay of %zu layers on `%s`", nl, m);
  return 0;
}

static int
overlay_mount (int store_fd, const char *base, const char *const *chain, size_t n,
               const char *current, const char *target, struct al_error *err)
{
  struct mounts ms;
  int r = list_mounts (store_fd, base, &ms, err);
  if (r < 0)
    return r;
  /* Overlay takes its layers only from mounts of the caller's namespace,
   * which may have changed since store_fd was opened (unshare): the store
   * again, by its path as this process sees it. */
  char fdp[AL_FD_PATH_MAX], path[PATH_MAX];
  ssize_t pl = readlink (al_fd_path (store_fd, fdp), path, sizeof path - 1);
  cleanup_close int here = -1;
  if (pl > 0 && path[0] == '/')
    {
      path[pl] = '\0';
      here = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  if (here >= 0)
    {
      struct stat a, b;
      if (fstat (here, &a) == 0 && fstat (store_fd, &b) == 0 && a.st_ino == b.st_ino)
        store_fd = here;
    }
  cleanup_close int t = open (target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (t < 0)
    return al_error_set (err, errno, "mount target `%s`", target);
  if ((r = mount_one (store_fd, base, ROOT_MOUNT, chain, n, current, t, err)) < 0)
    return r;
  if (ms.n == 1)
    return 0;
  /* The root as mounted, for the host directories' mount points. */
  cleanup_close int root = open (target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0)
    return al_error_set (err, errno, "open `%s`", target);
  for (size_t i = 1; i < ms.n; i++)
    {
      const char *m = ms.name[i];
      cleanup_close int mp = openat (root, m, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (mp < 0)
        {
          if (errno != ENOENT)
            return al_error_set (err, errno, "mount point `/%s` in `%s`", m, target);
          continue; /* the sandbox removed it: nothing to show there */
        }
      if ((r = mount_one (store_fd, base, m, chain, n, current, mp, err)) < 0)
        {
          char tp[AL_FD_PATH_MAX];
          umount2 (al_fd_path (root, tp), MNT_DETACH);
          return r;
        }
    }
  return 0;
}

static int
set_opaque (int dir_fd, const char *name)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "/proc/self/fd/%d/%s", dir_fd, name);
  return lsetxattr (p, OPAQUE_XATTR, "y", 1, 0) < 0 ? -errno : 0;
}

static bool
is_opaque (int dir_fd, const char *name)
{
  char p[PATH_MAX], v[2];
  snprintf (p, sizeof p, "/proc/self/fd/%d/%s", dir_fd, name);
  return lgetxattr (p, OPAQUE_XATTR, v, sizeof v) == 1 && v[0] == 'y';
}

#define MERGE_TMP "trash-merge" /* a trash name: gc removes what a crash leaves */
#define MERGE_LINKS 256

struct merge
{
  int store_fd;
  const char *lower, *upper; /* state names, for errors */
  size_t n_links;            /* copies made of shared inodes, by source inode */
  ino_t link_ino[MERGE_LINKS];
  int link_fd[MERGE_LINKS];
  struct al_error *err;
};

/* A non-directory with other names may share its inode with another
 * store's layer (al_snap_clone): moving it into a layer that is written in
 * place would let writes reach the other store.  A copy moves up instead,
 * hard-linked to the copy of its other names. */
static int
move_up_copy (struct merge *mg, int ld, int ud, const char *name, const struct stat *ls)
{
  for (size_t i = 0; i < mg->n_links; i++)
    if (mg->link_ino[i] == ls->st_ino && linkat (mg->link_fd[i], "", ud, name, AT_EMPTY_PATH) == 0)
      return 0;
  if (unlinkat (mg->store_fd, MERGE_TMP, 0) < 0 && errno != ENOENT)
    return al_error_set (mg->err, errno, "merge: remove `" MERGE_TMP "`");
  int r = al_tree_copy_file (ld, name, mg->store_fd, MERGE_TMP, 0, mg->err);
  if (r < 0)
    return al_error_wrap (mg->err, "merge `%s` into `%s`", mg->lower, mg->upper);
  int fd = openat (mg->store_fd, MERGE_TMP, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || renameat (mg->store_fd, MERGE_TMP, ud, name) < 0)
    {
      r = al_error_set (mg->err, errno, "merge `%s` into `%s`: move `%s`", mg->lower, mg->upper,
                        name);
      if (fd >= 0)
        close (fd);
      return r;
    }
  if (mg->n_links < MERGE_LINKS)
    {
      mg->link_ino[mg->n_links] = ls->st_ino;
      mg->link_fd[mg->n_links++] = fd;
    }
  else
    close (fd);
  return 0;
}

/* The directory ld/name as an empty one in ud, with its metadata but not
 * its opaque mark (set once its contents are up, so that a merge cut short
 * and run again still fills it), made under a trash name and renamed. */
static int
new_dir_up (struct merge *mg, int ld, int ud, const char *name)
{
  int r = al_tree_remove (mg->store_fd, MERGE_TMP, mg->err);
  if (r < 0 && r != -ENOENT)
    return al_error_wrap (mg->err, "merge `%s` into `%s`", mg->lower, mg->upper);
  if (mkdirat (mg->store_fd, MERGE_TMP, 0700) < 0)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: mkdir", mg->lower, mg->upper);
  cleanup_close int src = openat (ld, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dst = openat (mg->store_fd, MERGE_TMP, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0 || dst < 0)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: open `%s`", mg->lower, mg->upper,
                         name);
  r = al_tree_copy_meta (src, dst, AL_TREE_SKIP_OVERLAY_XATTRS, mg->err);
  if (r < 0)
    return al_error_wrap (mg->err, "merge `%s` into `%s`", mg->lower, mg->upper);
  if (renameat (mg->store_fd, MERGE_TMP, ud, name) < 0)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: move `%s`", mg->lower, mg->upper,
                         name);
  return 0;
}

/* Move up, by rename, what the upper directory ud does not shadow of the
 * lower directory ld; a directory in both is merged, and becomes opaque
 * in ud when what is below it in ld hid everything under it. */
static int
merge_dir (struct merge *mg, int ld, int ud)
{
  cleanup_close int copy = openat (ld, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: open", mg->lower, mg->upper);
  cleanup_dir DIR *d = fdopendir (copy);
  if (d == NULL)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: read", mg->lower, mg->upper);
  copy = -1;
  /* ud's times are what the view shows: moving entries in must not
   * change them. */
  struct stat ust;
  if (fstat (ud, &ust) < 0)
    return al_error_set (mg->err, errno, "merge `%s` into `%s`: stat", mg->lower, mg->upper);
  const struct timespec times[2] = { ust.st_atim, ust.st_mtim };
  for (;;)
    {
      errno = 0;
      struct dirent *e = readdir (d);
      if (e == NULL)
        return errno ? al_error_set (mg->err, errno, "merge `%s` into `%s`: read", mg->lower,
                                     mg->upper)
                     : 0;
      const char *name = e->d_name;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      struct stat us, ls;
      if (fstatat (ld, name, &ls, AT_SYMLINK_NOFOLLOW) < 0)
        return al_error_set (mg->err, errno, "merge `%s` into `%s`: stat `%s`", mg->lower,
                             mg->upper, name);
      if (fstatat (ud, name, &us, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno != ENOENT)
            return al_error_set (mg->err, errno, "merge `%s` into `%s`: stat `%s`", mg->lower,
                                 mg->upper, name);
          /* Unshadowed: moved up, by one rename, which leaves the view as
           * it was, or (a directory: its files may have other names) made
           * complete beside and renamed, then merged into. */
          int r = 0;
          if (S_ISDIR (ls.st_mode))
            r = new_dir_up (mg, ld, ud, name);
          else if (ls.st_nlink > 1)
            r = move_up_copy (mg, ld, ud, name, &ls);
          else if (renameat (ld, name, ud, name) < 0)
            r = al_error_set (mg->err, errno, "merge `%s` into `%s`: move `%s`", mg->lower,
                              mg->upper, name);
          if (r == 0 && futimens (ud, times) < 0)
            r = al_error_set (mg->err, errno, "merge `%s` into `%s`: set times", mg->lower,
                              mg->upper);
          if (r < 0)
            return r;
          al_snap_crash ("merge");
          if (!S_ISDIR (ls.st_mode))
            continue;
        }
      else if (!S_ISDIR (us.st_mode) || is_opaque (ud, name))
        continue; /* shadowed */
      if (S_ISDIR (ls.st_mode))
        {
          cleanup_close int l = openat (ld, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int u = openat (ud, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (l < 0 || u < 0)
            return al_error_set (mg->err, errno, "merge `%s` into `%s`: open `%s`", mg->lower,
                                 mg->upper, name);
          int r = merge_dir (mg, l, u);
          if (r < 0)
            return r;
          if (!is_opaque (ld, name))
            continue;
        }
      /* Below the upper's directory the lower hid everything: so must
       * the merged one. */
      int r = set_opaque (ud, name);
      if (r < 0)
        return al_error_set (mg->err, -r, "merge `%s` into `%s`: mark `%s` opaque", mg->lower,
                             mg->upper, name);
    }
}

static void
merge_done (struct merge *mg)
{
  for (size_t i = 0; i < mg->n_links; i++)
    close (mg->link_fd[i]);
  mg->n_links = 0;
}

static int
overlay_merge (int store_fd, const char *lower, const char *upper, struct al_error *err)
{
  struct merge mg = { .store_fd = store_fd, .lower = lower, .upper = upper, .err = err };
  cleanup_close int l = openat (store_fd, lower, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int u = openat (store_fd, upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (l < 0 || u < 0)
    return al_error_set (err, errno, "merge `%s` into `%s`", lower, upper);
  cleanup_dir DIR *d = fdopendir (openat (l, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d == NULL)
    return al_error_set (err, errno, "merge `%s` into `%s`", lower, upper);
  for (;;)
    {
      errno = 0;
      struct dirent *e = readdir (d);
      if (e == NULL)
        break;
      if (e->d_name[0] == '.')
        continue;
      char lp[PATH_MAX], up[PATH_MAX];
      snprintf (lp, sizeof lp, "%s/upper", e->d_name);
      cleanup_close int ll = openat (l, lp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (ll < 0)
        continue; /* not a mount's layer */
      snprintf (up, sizeof up, "%s/upper", e->d_name);
      cleanup_close int uu = openat (u, up, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (uu < 0)
        return al_error_set (err, errno, "merge `%s` into `%s`: open `%s`", lower, upper, up);
      int r = merge_dir (&mg, ll, uu);
      if (r < 0)
        {
          merge_done (&mg);
          return r;
        }
    }
  merge_done (&mg);
  return 0;
}

static int
overlay_share (int src_store_fd, const char *name, int dst_store_fd, const char *dst_name,
               bool writable, struct al_error *err)
{
  cleanup_close int src
      = openat (src_store_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "state `%s`", name);
  if (mkdirat (dst_store_fd, dst_name, 0700) < 0)
    return al_error_set (err, errno, "state `%s`: mkdir", dst_name);
  cleanup_close int dst = openat (dst_store_fd, dst_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0)
    return al_error_set (err, errno, "state `%s`: open", dst_name);
  /* A snapshot layer is never written again: its inodes can be shared.
   * The writable state's files are written in place: copied. */
  int r = writable ? al_tree_copy (src, dst, err) : al_tree_link_clone (src, dst, err);
  return r < 0 ? al_error_wrap (err, "state `%s`", name) : 0;
}

/* Only what the layers above the old view hold can differ. */
static int
overlay_diff (int store_fd, const char *base, const char *const *above, size_t n_above, int old_fd,
              int new_fd, int (*cb) (void *data, char kind, const char *path), void *data,
              struct al_error *err)
{
  struct mounts ms;
  int r = list_mounts (store_fd, base, &ms, err);
  if (r < 0)
    return r;
  cleanup_free int *fds = malloc ((ms.n * n_above + 1) * sizeof *fds);
  if (fds == NULL)
    return al_error_set (err, ENOMEM, "diff");
  struct al_tree_guide guides[MAX_MOUNTS];
  char paths[MAX_MOUNTS][20];
  size_t n_fds = 0;
  for (size_t i = 0; r == 0 && i < ms.n; i++)
    {
      const char *m = ms.name[i];
      snprintf (paths[i], sizeof paths[i], i == 0 ? "" : "/%s", m);
      guides[i] = (struct al_tree_guide){ .path = paths[i], .fds = fds + n_fds, .n = n_above };
      for (size_t j = 0; j < n_above; j++)
        {
          char p[PATH_MAX];
          snprintf (p, sizeof p, "%s/%s/upper", above[j], m);
          int fd = openat (store_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            {
              r = al_error_set (err, errno, "diff: layer `%s`", p);
              break;
            }
          fds[n_fds++] = fd;
        }
    }
  if (r == 0)
    r = al_tree_diff_guided (old_fd, new_fd, guides, ms.n, cb, data, err);
  for (size_t i = 0; i < n_fds; i++)
    close (fds[i]);
  return r;
}

const struct al_snap_backend_ops al_snap_overlay_ops = {
  .name = "overlay",
  .probe = overlay_probe,
  .init = overlay_init,
  .new_state = overlay_new_state,
  .freeze = overlay_freeze,
  .remove = overlay_remove,
  .mount = overlay_mount,
  .merge = overlay_merge,
  .share = overlay_share,
  .diff = overlay_diff,
};
