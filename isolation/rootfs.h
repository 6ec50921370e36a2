/* rootfs.h — a container's root filesystem, built in its own mount namespace.
 *
 * What this module promises (the caller is the container init, already in a
 * new mount namespace, single-threaded, after namespaces are joined):
 * - al_rootfs_prepare() sets / to rootfsPropagation (default rslave), bind
 *   mounts root.path onto itself, then mounts every config.mounts[] entry in
 *   order: bind/rbind (source relative to the bundle when relative), tmpfs,
 *   proc, sysfs (an rbind of the host /sys if sysfs cannot be mounted, as in
 *   a user namespace without its own network namespace), devpts, mqueue,
 *   cgroup (see below) and any other type by name.  Options split into mount
 *   flags (ro, nosuid, noatime, nosymfollow...), propagation (rprivate,
 *   shared, ... applied after the mount), recursive flags (rro, rnosuid, ...
 *   mount_setattr AT_RECURSIVE), idmap/ridmap (bind mounts only), tmpcopyup
 *   (tmpfs starts with a copy of what it covers; notmpcopyup undoes it) and
 *   filesystem data (the rest, at most one page).  Flags on a bind mount
 *   are applied to the new mount (mount_setattr, or MS_BIND|MS_REMOUNT
 *   before Linux 5.12), keeping flags nobody named.
 *   Mount targets are created inside the root only (safepath.h), as a
 *   directory or an empty file after the source; a destination whose ".."
 *   climbs above / is refused.
 * - /dev: when a non-bind filesystem is mounted on /dev, the default nodes
 *   (null zero full random urandom tty; mknod, or a bind of the host's node
 *   where mknod is refused as in a user namespace), /dev/ptmx -> pts/ptmx,
 *   /dev/fd and /dev/std{in,out,err}, /dev/shm are made.  linux.devices are
 *   made unless /dev is a bind mount (that would write to the host's /dev).
 *   A console path binds onto /dev/console.  A /dev mounted "ro" becomes
 *   read-only only after its nodes exist.
 * - cgroup mounts: on a cgroup2 host, cgroup2 (rbind of the host's
 *   /sys/fs/cgroup if mounting is refused).  On a v1/hybrid host, a tmpfs
 *   holding one directory per hierarchy the caller is in (/proc/self/cgroup):
 *   a fresh cgroup mount when the config has a cgroup namespace (it shows the
 *   namespace's root), else a bind of the caller's own cgroup directory from
 *   the host's mount of that hierarchy; co-mounted controllers get symlinks
 *   (cpu -> cpu,cpuacct).  Read-only when the mount says ro.
 * - al_rootfs_pivot() makes the rootfs / (pivot_root(".", ".") and the old
 *   root made rslave and detached; or with no_pivot MS_MOVE + chroot, for
 *   ramfs roots where pivot_root fails: the host's mounts then stay in the
 *   namespace under the rootfs, reachable through any fd that points there).
 *   rootfsPropagation is applied to the host side before the mounts (as
 *   runc does) and, once pivoted, to the new / itself, not recursively: the
 *   mounts' own propagation options stay in force.
 * - al_rootfs_finalize() (after pivot, / is the container's) writes
 *   linux.sysctl, then applies readonlyPaths (recursive read-only binds),
 *   maskedPaths (/dev/null over files, an empty read-only tmpfs over
 *   directories; missing paths are skipped) and root.readonly.  A sysctl key
 *   ("net.ipv4.ip_forward" or "net/ipv4/conf/eth0.1/forwarding") must name a
 *   namespaced setting, as runc requires: net.* with a network namespace,
 *   kernel.{msg*,sem,shm*} and fs.mqueue.* with an ipc namespace,
 *   kernel.domainname with a uts namespace; no ".", ".." or empty parts.
 *   These steps need the container's /proc (they mount onto
 *   /proc/self/fd/N; sysctls are written there).
 * - Errors name the culprit: "mounts[3] /proc: mount proc: Permission denied",
 *   "linux.devices[0] /dev/fuse: ...", "sysctl `kernel.core_pattern`: ...".
 *   Nothing is printed.  A failure leaves a half-built mount namespace: the
 *   caller exits, which throws it away.
 * Not supported: idmap on non-bind mounts; idmap mappings are written from
 * the caller's user namespace (host ids when the caller is not in its own
 * user namespace yet).  SELinux mount labels are ignored.
 */
#ifndef AL_ROOTFS_H
#define AL_ROOTFS_H

#include <stdbool.h>

#include "error.h"
#include "oci_config.h"

struct al_rootfs_opts
{
  const char *console_path; /* pty slave to bind on /dev/console; NULL: none */
  bool no_pivot;            /* MS_MOVE + chroot instead of pivot_root */
};

/* Everything before the pivot.  bundle_fd is the bundle directory (root.path
 * and relative bind sources are resolved from it); opts may be NULL.  On
 * success *ret_root_fd is an O_PATH fd of the new root for al_rootfs_pivot. */
int al_rootfs_prepare (const struct al_config *c, int bundle_fd, const struct al_rootfs_opts *opts,
                       int *ret_root_fd, struct al_error *err);

/* Make root_fd the process's / and cwd; then apply rootfsPropagation to it. */
int al_rootfs_pivot (const struct al_config *c, int root_fd, const struct al_rootfs_opts *opts,
                     struct al_error *err);

/* sysctl, readonlyPaths, maskedPaths, root.readonly — inside the new root. */
int al_rootfs_finalize (const struct al_config *c, struct al_error *err);

#endif
