/* btrfs_testlib.h — a throw-away btrfs for tests and benchmarks, and tree
 * manifests to compare directory trees exactly.
 *
 * al_btrfs_fixture_setup() unshares the calling process's mount namespace
 * (making / rprivate), mounts a tmpfs on a new temp dir /tmp/al-btrfs-XXXXXX,
 * makes a sparse image file of the given size there with mkfs.btrfs,
 * attaches it to a free loop device with autoclear, unlinks the image and
 * mounts the btrfs on DIR/mnt.  Nothing outlives the process: when its
 * namespace dies the mounts go, and the loop device detaches itself; a
 * crash leaves only the empty temp dir.  Failures print a line and exit(2)
 * (no Criterion here: the benchmark links this too).
 *
 * Manifests are one line per entry, sorted by path: type and mode, owner,
 * link count (and the first path of the same inode for hard links), size
 * and content hash, symlink target, device number, xattrs, and with times
 * the mtime.  Two trees are equal when their manifests are.
 */
#ifndef AL_BTRFS_TESTLIB_H
#define AL_BTRFS_TESTLIB_H

#include <limits.h>
#include <stdbool.h>

#define AL_BTRFS_MAGIC 0x9123683E

struct al_btrfs_fixture
{
  char dir[64]; /* the temp dir (a tmpfs in our namespace) */
  char mnt[96]; /* DIR/mnt: the btrfs */
  char dev[32]; /* /dev/loopN */
};

/* mib: size of the image; mkfs_args: extra mkfs.btrfs arguments
 * separated by spaces, or NULL. */
void al_btrfs_fixture_setup_args (struct al_btrfs_fixture *fx, unsigned mib, const char *mkfs_args);
void al_btrfs_fixture_setup (struct al_btrfs_fixture *fx, unsigned mib);
void al_btrfs_fixture_teardown (struct al_btrfs_fixture *fx);

/* Run argv (PATH searched), 0 when it exits 0; its output is discarded
 * unless verbose. */
int al_btrfs_run (char *const argv[], bool verbose);

/* malloc'd manifest of the tree at path (the top itself is ".").  */
char *al_btrfs_manifest (const char *path, bool times);

/* A tree with one of everything (files, modes, owners, xattrs, symlinks,
 * a dangling one, hard links, a fifo, a device, a sparse file, a setuid
 * file, nested dirs) in path (made if missing); mutate() changes it in a
 * way that depends on round (1, 2: each valid after the one before). */
void al_btrfs_populate (const char *path);
void al_btrfs_mutate (const char *path, int round);

/* Small file helpers: read returns one of a few static buffers. */
void al_btrfs_write (const char *path, const char *text);
const char *al_btrfs_read (const char *path);
bool al_btrfs_dir_empty (const char *path);
int al_btrfs_count_entries (const char *path);
/* rm -rf, staying on path's filesystem. */
void al_btrfs_remove_tree (const char *path);

#endif
