/* snap_backend.h — what a snapshot backend does; internal to snapshot/.
 *
 * The store (snapshot.c) owns meta.json, tags, the order of snapshots,
 * crash repair and the trash.  A backend only makes, freezes, removes,
 * mounts and compares *states*: the writable state on top and each
 * snapshot is one state, a directory (overlay) or a subvolume (btrfs)
 * named by the store ("s0001", "s0002", ...) directly inside the store
 * directory.  Anything in the store directory whose name meta.json does
 * not reference is garbage: the store renames it to "trash-<name>" and has
 * the backend remove it.  Exceptions: a backend keeps what it needs beside
 * its states under the names "base" and "base-*" (btrfs: the "base"
 * subvolume; overlay with base NULL: "base-root"), which the store never
 * trashes; "view-*" are the store's own mount points (diff, commit).
 *
 * The two backends differ in what a state holds:
 *   - overlay: a state is the *delta* over the state below it (an overlay
 *     upper layer, with whiteouts); the root is an overlay of every
 *     snapshot's layer (newest first) over the base, with the writable
 *     state as upper.  A new state made "from" a snapshot is empty.
 *   - btrfs: a state is a whole subvolume; a new state made "from" a
 *     snapshot is a writable snapshot of its subvolume; snapshot = a
 *     read-only subvolume snapshot.
 * With base NULL (the host's system directories, as in ephemeral.h) a
 * state holds one upper tree per mount of the root: "root" for / itself and
 * one per host system directory that is a directory ("usr", "etc", ...),
 * the lowers of each being the host's directory.
 *
 * Every call gets the store directory as an fd, runs as real root, and
 * leaves nothing mounted except mount() on its target.  Errors name the
 * state or path, one line.
 */
#ifndef AL_SNAP_BACKEND_H
#define AL_SNAP_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct al_snap_backend_ops
{
  const char *name; /* "overlay", "btrfs" */
  /* new_state from a snapshot or an image base is one atomic step that
   * commits the filesystem, making every earlier rename in it durable
   * (btrfs: a snapshot commits the transaction). */
  bool new_state_commits;

  /* 0 if this backend can keep a store in store_fd's filesystem, else
   * -EINVAL with a message naming it (btrfs: not on btrfs). */
  int (*probe) (int store_fd, struct al_error *err);

  /* Once, when a store is made: whatever the backend keeps beside its
   * states (btrfs with an image base: a "base" subvolume holding a copy of
   * it, reflinked where the filesystem allows). */
  int (*init) (int store_fd, const char *base, uid_t uid, gid_t gid, struct al_error *err);

  /* Make the state `name` (which does not exist), writable, equal to the
   * snapshot state `from` (NULL: the base).  Its root(s) are owned by
   * uid:gid, the sandbox's root as the host sees it. */
  int (*new_state) (int store_fd, const char *base, const char *name, const char *from, uid_t uid,
                    gid_t gid, struct al_error *err);

  /* The writable state `name` becomes a read-only snapshot (btrfs: a
   * read-only snapshot of it is taken as `snap_name`, and `name` stays
   * writable; overlay: `name` itself becomes the snapshot, unchanged, so
   * its whiteouts and opaque directories stay as they are, and snap_name
   * is not used: the store then makes a new empty writable state above
   * it).  ret_in_place tells the store which happened: true when `name`
   * stays writable and the snapshot is `snap_name`. */
  int (*freeze) (int store_fd, const char *name, const char *snap_name, bool *ret_in_place,
                 struct al_error *err);

  /* Remove a state (already renamed to its trash name), however big. */
  int (*remove) (int store_fd, const char *name, struct al_error *err);

  /* Mount the root on target: chain[0..n-1] the snapshot states below the
   * writable state, oldest first; current the writable state, or NULL for
   * a read-only view of snapshot chain[n-1] (n == 0: of the base). */
  int (*mount) (int store_fd, const char *base, const char *const *chain, size_t n,
                const char *current, const char *target, struct al_error *err);

  /* Fold snapshot state `lower` into the state just above it, `upper`, so
   * that `upper` alone then shows what the two showed together and `lower`
   * can be removed (deleting a snapshot, squashing old layers); idempotent
   * (a crash in the middle, then the same call again, ends the same).
   * overlay: moves unshadowed entries up by rename; btrfs: NULL (its
   * states are whole). */
  int (*merge) (int store_fd, const char *lower, const char *upper, struct al_error *err);

  /* al_snap_clone: make the state dst_name in dst_store_fd (a new store of
   * this backend, already init'ed with the same base) equal to the state
   * `name` of src_store_fd.  writable false: `name` is a snapshot, share
   * it (overlay: a hard-link farm of its layer; btrfs: a read-only
   * subvolume snapshot); true: `name` is the writable state, which must
   * not share anything that is later written in place (overlay: a copy of
   * its upper; btrfs: a writable subvolume snapshot).  NULL: the backend
   * cannot clone (the store answers EOPNOTSUPP). */
  int (*share) (int src_store_fd, const char *name, int dst_store_fd, const char *dst_name,
                bool writable, struct al_error *err);

  /* Optional, for al_snap_diff: report what differs between old_fd and
   * new_fd, read-only views (as mount() makes them, already mounted) of
   * the snapshots up to some tag and of every state up to the writable
   * one, exactly as al_tree_diff (tree.h) would, but looking only where
   * the backend knows a difference can be.  above[0..n_above) are the
   * states the new view has and the old one lacks, oldest first (the
   * writable state last).  overlay: only the paths in those layers.  NULL:
   * the store runs al_tree_diff on the two views. */
  int (*diff) (int store_fd, const char *base, const char *const *above, size_t n_above,
               int old_fd, int new_fd, int (*cb) (void *data, char kind, const char *path),
               void *data, struct al_error *err);
};

/* Tests only: when set, the store (and a backend, at the points of merge
 * where a crash matters) calls it with the name of the step it is at
 * ("meta-written", "merge", ...); a test makes it raise SIGKILL at the
 * k-th call and checks that al_snap_open() repairs.  NULL in production. */
extern void (*al_snap_crash_point) (const char *where);

static inline void
al_snap_crash (const char *where)
{
  if (al_snap_crash_point)
    al_snap_crash_point (where);
}

/* The most lowers a root's overlay stacks (snapshots + the base); the
 * store squashes the oldest snapshot when a new one would exceed it. */
#define AL_SNAP_MAX_LAYERS 100

extern const struct al_snap_backend_ops al_snap_overlay_ops;
extern const struct al_snap_backend_ops al_snap_btrfs_ops;

#endif
