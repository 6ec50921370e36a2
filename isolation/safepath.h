/* safepath.h — paths inside a root directory that cannot lead out of it.
 *
 * What this module promises:
 * - Every function takes root_fd, a directory that plays the part of "/", and
 *   a path interpreted inside it (a leading "/" is optional).  Absolute
 *   symlinks restart at root_fd, ".." at root_fd stays there, and nothing a
 *   rootfs contains (`evil -> /etc`, `evil -> ../../..`) can make a lookup,
 *   mkdir, mknod or file creation land outside root_fd (CVE-2021-30465,
 *   CVE-2024-45310).  Magic links (/proc/PID/fd/N, /proc/PID/root) are never
 *   jumped through.
 * - The kernel does the resolution: openat2 (RESOLVE_IN_ROOT |
 *   RESOLVE_NO_MAGICLINKS).  When openat2 is missing (ENOSYS, Linux < 5.6) or
 *   AL_SAFE_NO_OPENAT2 asks for it, a user-space walk does the same one
 *   O_PATH|O_NOFOLLOW component at a time: symlink text is read and resolved
 *   inside the root, ".." pops the components walked so far and never the
 *   filesystem's parent of root_fd.  (The walk cannot notice a directory
 *   renamed out of the root while it walks; openat2 can.  Nothing runs in the
 *   container while its rootfs is built, so that race needs a host process.)
 * - Results are descriptors (O_CLOEXEC), never path strings: mount onto
 *   al_fd_path (fd) so nothing is resolved twice.
 * - Creation goes through symlinks (inside the root), but not through a
 *   dangling one: a symlink whose target does not exist is an error (ENOENT),
 *   so a symlink cannot name where a new directory or file appears.
 * Returns: a descriptor (>= 0) or 0, else a negative errno with err filled
 * ("mkdir `/a/b` in root: Not a directory").
 */
#ifndef AL_SAFEPATH_H
#define AL_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

#define AL_SAFE_NOFOLLOW 1u   /* a symlink as the last component is not followed */
#define AL_SAFE_NO_OPENAT2 2u /* use the user-space walk even if openat2 works */

#define AL_FD_PATH_MAX 32

/* "/proc/self/fd/N" in buf: the name mount(2), chmod(2)... take for fd. */
const char *al_fd_path (int fd, char buf[AL_FD_PATH_MAX]);

/* Whether path, read lexically from its start, climbs above it with ".."
 * ("a/../../b", "/.."); such a path is refused where it names a target. */
bool al_path_escapes (const char *path);

/* Open path inside root_fd.  open_flags: O_PATH (with O_DIRECTORY to insist
 * on a directory), O_RDONLY, O_WRONLY... but not O_CREAT; O_CLOEXEC is
 * added.  ENOENT when it does not exist (err says which path). */
int al_safe_open (int root_fd, const char *path, int open_flags, unsigned flags,
                  struct al_error *err);

/* mkdir -p inside root_fd (mode before umask); existing directories are fine,
 * an existing non-directory is ENOTDIR.  Returns an O_PATH|O_DIRECTORY fd of
 * the directory. */
int al_safe_mkdir_p (int root_fd, const char *path, mode_t mode, unsigned flags,
                     struct al_error *err);

/* An empty regular file at path (parents made as by al_safe_mkdir_p), or the
 * existing non-directory there (EISDIR for a directory).  Returns an O_PATH
 * fd of it: a mount target for a file bind mount. */
int al_safe_create_file (int root_fd, const char *path, mode_t mode, unsigned flags,
                         struct al_error *err);

/* mknod at path (parents made; mode carries the S_IF* type, before umask).
 * EEXIST and EPERM come back in err->errnum for the caller to decide.
 * Returns an O_PATH|O_NOFOLLOW fd of the new node (chmod al_fd_path of it to
 * undo the umask). */
int al_safe_mknod (int root_fd, const char *path, mode_t mode, dev_t dev, unsigned flags,
                   struct al_error *err);

/* A symlink at path pointing to target (text, stored as given; parents
 * made).  EEXIST comes back in err->errnum. */
int al_safe_symlink (int root_fd, const char *target, const char *path, unsigned flags,
                     struct al_error *err);

#endif
