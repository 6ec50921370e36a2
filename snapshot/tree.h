/* tree.h — whole directory trees, copied, compared and removed by fd.
 *
 * What this module promises:
 * - Nothing here follows a symlink: every entry is reached with
 *   O_NOFOLLOW / AT_SYMLINK_NOFOLLOW from its parent's fd, so a tree that
 *   contains `x -> /etc` is copied, compared or removed as a link, never
 *   through it.
 * - A copy keeps what a root filesystem needs: the file type (regular,
 *   directory, symlink, fifo, socket, char and block devices, overlay
 *   whiteouts 0/0), the whole mode with setuid/setgid/sticky bits,
 *   uid/gid, atime/mtime (directories after their contents), every xattr
 *   (security.capability included), hard links (two names of one inode
 *   stay two names of one inode) and holes; data is reflinked (FICLONE)
 *   where the filesystem can, else copied with copy_file_range.
 * - al_tree_apply_upper() and al_tree_sync() never write into a file that
 *   already exists in dst: they unlink it and create a new one, so dst may
 *   be a hard-link farm (al_tree_link_clone) of a tree that must not change.
 * - Recursion keeps one or two fds per level: trees as deep as the fd limit
 *   allows (about 500 levels under the default 1024), as wide as you like.
 * Errors name the path relative to the tree ("copy `/a/b`: ...").
 */
#ifndef AL_TREE_H
#define AL_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define AL_TREE_SKIP_OVERLAY_XATTRS 1u /* do not copy trusted.overlay.* */
#define AL_TREE_ONE_FS 2u /* another mount below the top: its mount point is
                             copied as a directory, not what is mounted there */

/* Copy the contents of src_dirfd into dst_dirfd (an existing, empty
 * directory).  The top directories' own metadata is copied too. */
int al_tree_copy (int src_dirfd, int dst_dirfd, struct al_error *err);
int al_tree_copy_opts (int src_dirfd, int dst_dirfd, unsigned flags, struct al_error *err);

/* Apply an overlayfs upper directory to the plain tree dst: a whiteout
 * (char device 0/0) deletes the path in dst; a directory with
 * trusted.overlay.opaque="y" replaces the one in dst; another directory is
 * merged into dst's (made if missing) and its metadata applied; any other
 * entry replaces what dst has at its name.  trusted.overlay.* is never
 * copied into dst. */
int al_tree_apply_upper (int upper_fd, int dst_fd, struct al_error *err);

/* Make dst (a plain tree) equal to src, replacing only what differs (as
 * al_tree_diff sees it): after it, al_tree_diff (src, dst) reports nothing. */
int al_tree_sync (int src_fd, int dst_fd, struct al_error *err);
int al_tree_sync_opts (int src_fd, int dst_fd, unsigned flags, struct al_error *err);

/* One non-directory src_dirfd/name copied (as al_tree_copy) to
 * dst_dirfd/dst_name, which must not exist. */
int al_tree_copy_file (int src_dirfd, const char *name, int dst_dirfd, const char *dst_name,
                       unsigned flags, struct al_error *err);

/* Owner, mode, times and xattrs (all of them, or but trusted.overlay.*)
 * of the directory src_fd onto dst_fd; dst's other xattrs are removed. */
int al_tree_copy_meta (int src_fd, int dst_fd, unsigned flags, struct al_error *err);

/* A hard-link farm of src in dst (an existing, empty directory):
 * directories are made anew with src's metadata and xattrs, every other
 * entry is a hard link to src's. */
int al_tree_link_clone (int src_fd, int dst_fd, struct al_error *err);

/* Compare two trees: cb (data, kind, path) per difference, kind 'A'
 * (only in new_fd), 'M' (in both, different type, mode, owner, size,
 * mtime, symlink target, xattrs other than trusted.overlay.*, or content
 * — read only when the size and mtime are equal but the inode or ctime
 * differs) or 'D' (only in old_fd).  Paths are relative with a leading
 * "/".  A deleted directory is reported alone, an added one with its
 * contents.  A non-zero return of cb stops the walk and is returned. */
int al_tree_diff (int old_fd, int new_fd, int (*cb) (void *data, char kind, const char *path),
                  void *data, struct al_error *err);

/* Directories that name everything that may differ below a path of two
 * trees (overlay layers: what the newer tree has above the older one). */
struct al_tree_guide
{
  const char *path; /* "" for the top, "/usr": where in the trees */
  const int *fds;
  size_t n;
};

/* al_tree_diff, looking only at the names the guides hold: an entry of a
 * guide directory at the same place below its path (a directory there
 * leads on into it; a non-directory, or a directory with
 * trusted.overlay.opaque="y", makes the whole subtree compared); a guide
 * whose path is deeper (a mount point) replaces the ones above from
 * there on.  Paths no guide names are taken as equal. */
int al_tree_diff_guided (int old_fd, int new_fd, const struct al_tree_guide *guides,
                         size_t n_guides, int (*cb) (void *data, char kind, const char *path),
                         void *data, struct al_error *err);

/* rm -rf of the entry name in dirfd, never following symlinks.  ENOENT
 * when name does not exist. */
int al_tree_remove (int dirfd, const char *name, struct al_error *err);

/* Whether st is an overlay whiteout (a char device 0/0). */
struct stat;
bool al_tree_is_whiteout (const struct stat *st);

#endif
