/* snapshot.h — a named sandbox's filesystem: a base, read-only snapshots
 * (tags) above it and one writable state on top; one interface, two
 * backends (snap_overlay.c, snap_btrfs.c).
 *
 * A store is a directory owned by one sandbox (ROOT/~named/NAME/store),
 * holding the backend's data (states: directories or subvolumes named by
 * the store, see snap_backend.h) and a metadata file, meta.json:
 *
 *   {"version": 1, "backend": "overlay"|"btrfs", "base": "/path"|null,
 *    "created": "RFC 3339", "uid": N, "gid": N, "next": N,
 *    "current": "s0007", "pending": null | {...},
 *    "snapshots": [{"tag": "t1", "state": "s0003", "created": "...",
 *                   "parent": "t0"|null}, ...]}
 *
 * base null means the host's system directories (see ephemeral.h).
 * Snapshots are in creation order; "latest" is the last.  A tag is 1..64
 * bytes of [A-Za-z0-9_.+-], not "." or "..", unique in the store; a
 * snapshot made without a tag gets "snap-N".
 *
 * What every backend promises:
 * - Crash safety: meta.json is replaced atomically (temp file, fsync,
 *   rename) and is the truth.  A crash at any point leaves the old or the
 *   new state: data a change creates is made under a temporary name first
 *   and named only after (or by) the meta.json rename; what a change
 *   removes is renamed to a "trash-*" name first and deleted after.
 *   al_snap_open() (and so every next operation) finishes or undoes a
 *   half-done change and empties the trash: the store is always repaired
 *   before it is used.
 * - Cost: snapshot and rollback are O(1) in the size of the tree and in the
 *   number of changed files (a rename, a subvolume snapshot); deleting what
 *   a rollback dropped happens after the rollback returns (al_snap_gc).
 * - Nothing is mounted by these calls except by al_snap_mount(), which
 *   mounts the current root (overlay: an overlay of base + snapshots +
 *   the writable upper; btrfs: a bind of the current subvolume) on a
 *   directory the caller names, in the caller's mount namespace.  snapshot,
 *   rollback and commit need the root unmounted (the caller freezes or
 *   stops the sandbox and remounts: see airlock(8)).
 * - Every call takes an exclusive flock(2) on the store directory for its
 *   duration, so two processes never change one store at once.
 * - overlay keeps at most AL_SNAP_MAX_LAYERS (snap_backend.h) layers below
 *   the writable one: a snapshot that would stack more first deletes the
 *   oldest snapshot (al_snap_delete: its layer is folded into the next one,
 *   whose tag then shows what both showed), so only the newest
 *   AL_SNAP_MAX_LAYERS - 1 tags stay.  The kernel's own limits (500 lowers,
 *   one page of mount options, beyond which the layers go one by one
 *   through fsconfig "lowerdir+") are then never reached.
 * - Errors are one line naming the store and the tag: "sandbox `ci1`: no
 *   snapshot `v2`", "tag `a/b`: ...", "--backend btrfs: `/x` is not on
 *   btrfs".  A failed call leaves the previous state intact.
 */
#ifndef AL_SNAPSHOT_H
#define AL_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

enum al_snap_backend
{
  AL_SNAP_AUTO,    /* btrfs when the store's filesystem is btrfs, else overlay */
  AL_SNAP_OVERLAY,
  AL_SNAP_BTRFS,
};

#define AL_SNAP_TAG_MAX 64

struct al_snap; /* an open store */

struct al_snap_info
{
  char tag[AL_SNAP_TAG_MAX + 1];
  char parent[AL_SNAP_TAG_MAX + 1]; /* "" for the first */
  struct timespec created;
};

/* Whether tag is well-formed (EINVAL with a message naming it if not). */
int al_snap_check_tag (const char *tag, struct al_error *err);

/* Make a new store in dir (which must not exist; its parent must) for a
 * root built from base (an image directory, or NULL for the host's system
 * directories).  uid/gid own the writable state's root (the sandbox's root
 * as the host sees it).  EEXIST if dir exists; EINVAL for btrfs on a
 * filesystem that is not btrfs.  On failure nothing of dir is left. */
int al_snap_create (const char *dir, const char *base, enum al_snap_backend backend, uid_t uid,
                    gid_t gid, struct al_snap **ret, struct al_error *err);

/* Open an existing store, repairing a half-done change first. */
int al_snap_open (const char *dir, struct al_snap **ret, struct al_error *err);
void al_snap_close (struct al_snap *s); /* NULL-safe */

enum al_snap_backend al_snap_backend (const struct al_snap *s);
const char *al_snap_backend_name (enum al_snap_backend b); /* "overlay", "btrfs" */

/* Mount the current root on target (a directory), read-write. */
int al_snap_mount (struct al_snap *s, const char *target, struct al_error *err);

/* The writable state becomes the read-only snapshot tag (NULL: "snap-N");
 * a fresh writable state equal to it goes on top. */
int al_snap_snapshot (struct al_snap *s, const char *tag, struct al_error *err);

/* Throw the writable state away and start again from snapshot tag (NULL:
 * the latest; ENOENT if there is none), dropping the snapshots made after
 * it; to_base: from the base, dropping every snapshot. */
int al_snap_rollback (struct al_snap *s, const char *tag, bool to_base, struct al_error *err);

/* Snapshots, oldest first (free *ret). */
int al_snap_list (struct al_snap *s, struct al_snap_info **ret, size_t *ret_n,
                  struct al_error *err);

/* Delete one snapshot; the ones above it keep their contents.  overlay:
 * the layer is folded into the one above (the writable one, for the
 * latest snapshot: then the root must be unmounted, as for snapshot);
 * recorded in meta.json first, so a crash is finished by the next open. */
int al_snap_delete (struct al_snap *s, const char *tag, struct al_error *err);

/* Paths added, changed or deleted in the writable state since snapshot tag
 * (NULL: the latest, or the base when there is none): cb per path with
 * 'A', 'M' or 'D', in no particular order, as al_tree_diff (tree.h) sees
 * read-only mounts of the two roots (a deleted directory alone, an added
 * one with its contents; "/" itself is not reported).  A non-zero return
 * of cb stops it and is returned.  Costs a walk of both roots, or with
 * overlay of only the paths the layers above the tag hold. */
int al_snap_diff (struct al_snap *s, const char *tag,
                  int (*cb) (void *data, char kind, const char *path), void *data,
                  struct al_error *err);

/* Write the current root (base + changes) into dir as a plain directory
 * tree, without overlay's whiteouts or xattrs.  dir missing: it appears
 * complete or not at all (built under a temporary name beside it, then
 * renamed).  dir existing (a directory): a hard-link farm of it beside it
 * gets what differs from the root (replaced, never written in place),
 * then the two are swapped (renameat2 RENAME_EXCHANGE) and the old tree
 * removed: a reader sees the old tree or the new one, never a mix, and
 * files of the old tree that are still open keep their data.  The
 * temporary tree is recorded in meta.json: a crash leaves dir old or new
 * and the next open removes what is left beside it.  With the host's
 * system directories as base (NULL), those stay the host's: the tree holds
 * their mount points empty (and the symlinks of a merged /usr), and the
 * sandbox's own files. */
int al_snap_commit (struct al_snap *s, const char *dir, struct al_error *err);

/* A new store in dir sharing this one's base and snapshots (overlay: the
 * read-only layers are shared by hard links of their files, never copied,
 * and a layer folded into a writable one later gets copies of the files
 * that have other names; btrfs: subvolume snapshots), with its own
 * writable state equal to this one's (overlay: a copy of the writable
 * layer).  Writes to either never show in the other. */
int al_snap_clone (struct al_snap *s, const char *dir, struct al_snap **ret, struct al_error *err);

/* Remove the store and everything in it (not the base); s is still the
 * caller's to al_snap_close. */
int al_snap_destroy (struct al_snap *s, struct al_error *err);

/* Delete what rollbacks and deletes left in the trash (al_snap_open does
 * it too; snapshot, rollback and delete never wait for it).  Without the
 * store's lock, one process at a time: while another empties it, this
 * returns at once, leaving the work to it. */
int al_snap_gc (struct al_snap *s, struct al_error *err);

/* Disk bytes the store uses beyond its base (best effort). */
int al_snap_usage (struct al_snap *s, uint64_t *ret_bytes, struct al_error *err);

#endif
