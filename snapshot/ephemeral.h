/* ephemeral.h — the throw-away root of a one-shot `sandbox run`.
 *
 * A sandbox root is a stack: read-only lowers with a writable upper on top
 * (see DESIGN, "Snapshots and rollback").  For a one-shot run the upper
 * lives on a size-capped tmpfs and the rollback is "discard everything":
 * the caller mounts the stack inside the sandbox's own mount namespace, so
 * it vanishes with the namespace, however the run ends (even when airlock
 * is SIGKILLed).
 *
 * What this module promises (the caller is real root, standing in the
 * sandbox's mount namespace, which is not shared with the host's):
 * - al_ephemeral_mount() mounts a tmpfs of o->size bytes (mode 0755, owned
 *   by o->uid:o->gid, the sandbox's root as the host sees it) on name and
 *   builds the root in its subdirectory "root":
 *     . o->lower == NULL, the host's system directories: every one of
 *       /usr /etc /bin /sbin /lib /lib32 /lib64 /libx32 that exists, as a
 *       symlink when the host's is one (merged /usr), else an overlay with
 *       the host's directory as its lower and its upper on the tmpfs
 *       (writes go to the tmpfs), or with o->read_only a read-only bind.
 *       Nothing else of the host is there: no /home, /root, /run, /var.
 *     . o->lower == an image directory: "root" is an overlay of it (the
 *       upper's root owned by o->uid:o->gid, so / is the sandbox's), or with
 *       o->read_only a read-only bind of it.
 *   "root" itself is a directory of the tmpfs (or the overlay): writable by
 *   the sandbox's root unless read_only.
 * - al_ephemeral_bind() bind-mounts the host path src onto dst inside the
 *   root (dst made inside it with safepath.h, never through a symlink out
 *   of it), recursively, read-only when asked.  With userns_fd >= 0 the
 *   bind is idmapped through that user namespace (when the filesystem
 *   supports it): a host file of uid N appears as the sandbox's uid N, so
 *   the sandbox's root can write to a directory the host's root owns.
 * - Errors are one line naming the path: "--bind `/nope`: No such file or
 *   directory", "overlay on /usr: ...".
 */
#ifndef AL_EPHEMERAL_H
#define AL_EPHEMERAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define AL_EPHEMERAL_ROOT "root" /* the root, relative to the mount */

struct al_ephemeral_opts
{
  const char *lower; /* image directory, or NULL for the host's system dirs */
  bool read_only;    /* no writable upper */
  uint64_t size;     /* bytes of the tmpfs */
  uid_t uid;         /* owner of / (host view) */
  gid_t gid;
};

/* The host directories a default root shows (those that exist), and what
 * the host has at /name: AL_HOST_DIR, AL_HOST_SYMLINK (its target in link,
 * size bytes: a merged /usr), or AL_HOST_NONE; -errno on failure.  The one
 * list of them, for this module and the snapshot backends. */
extern const char *const al_host_system_dirs[];
extern const size_t al_n_host_system_dirs;
enum
{
  AL_HOST_NONE,
  AL_HOST_DIR,
  AL_HOST_SYMLINK,
};
int al_host_system_dir (const char *name, char *link, size_t size, struct al_error *err);

/* Mount on the directory name in parent_fd. */
int al_ephemeral_mount (const struct al_ephemeral_opts *o, int parent_fd, const char *name,
                        struct al_error *err);

/* root_fd: an fd of the root built above.  dst is inside it; it is made
 * as uid:gid (the sandbox's root) where our own ids have no mapping (inside
 * an earlier idmapped bind). */
int al_ephemeral_bind (int root_fd, const char *src, const char *dst, bool read_only,
                       int userns_fd, uid_t uid, gid_t gid, struct al_error *err);

#endif
