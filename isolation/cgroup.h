/* cgroup.h — a container's cgroup, whatever the host runs.
 *
 * What this module promises:
 * - One interface.  al_cgroup_host_detect() reads the host layout once (pure
 *   cgroup v2, hybrid = v1 hierarchies plus cgroup2 at .../unified, or pure
 *   v1) from /proc/self/mountinfo, checks every mount with statfs and
 *   records airlock's own cgroup; everything else takes that context.  The
 *   caller never learns which backend serves a controller: on a hybrid host
 *   each controller is driven where it is mounted (v1 files for v1
 *   hierarchies; v2 files for a controller bound to the unified hierarchy,
 *   e.g. hugetlb), so hybrid hosts with controllers on both sides work.
 * - Paths.  al_cgroup_resolve_path() turns linux.cgroupsPath into one
 *   normalised absolute path used in every hierarchy: empty -> <parent>/<id>,
 *   relative -> <parent>/<path>, absolute -> as written (podman's
 *   /libpod_parent/libpod-<id>).  The parent defaults to "airlock" under
 *   each hierarchy root.  Refused: the root "/", "." and ".." components,
 *   the airlock parent and its ancestors, airlock's own cgroup and its
 *   ancestors (in any hierarchy), systemd "slice:prefix:name" paths
 *   (systemd cgroups are not supported).  Descendants of airlock's own
 *   cgroup are allowed.
 * - Ownership and the kill guard.  al_cgroup_create() is exclusive: the
 *   leaf must not exist in any hierarchy, so a created cgroup is airlock's
 *   own ("owned").  A later process re-opens it with al_cgroup_open() and
 *   AL_CGROUP_OWNED when its state record says airlock created it.
 *   al_cgroup_kill_all() kills only a sandbox leaf: the path passes the
 *   checks above again (against /proc/self/cgroup read at kill time), its
 *   directory resolves on a cgroup filesystem, and it is either strictly
 *   below the airlock parent (airlock's dedicated subtree, where every leaf
 *   came from an exclusive create) or owned; and, independently of all path
 *   reasoning, the cgroup must not list airlock's own pid.  Anything else is
 *   refused (EPERM) and nothing is signalled.
 * - Resources.  al_cgroup_apply() validates linux.resources first (bad or
 *   absurd values fail before anything is written), then writes them;
 *   it is also `update`.  Errors name the field
 *   ("linux.resources.network.classID: net_cls controller is not mounted").
 *   A field for an unavailable controller is an error unless its value is
 *   the kernel default.  On failure the cgroup is left for al_cgroup_remove.
 *   Decisions: -1 means unlimited; a memory limit of 0 is an error (it
 *   would forbid everything); pids.limit follows runtime-spec 1.3 (PR
 *   #1279) and runc 1.4: -1 is "max", 0 is a real limit (pids.max = 0: the
 *   init runs but nothing can fork), an absent limit leaves pids.max
 *   alone, and anything below -1 is an error.  Also errors: cpu.shares
 *   outside 2..262144, a quota below 1000 us and a period outside 1000..1000000 us; cpusets
 *   must be subsets of the parent's effective set.  memory.kernel is
 *   ignored with a warning (the kernel dropped kmem limits); on v2,
 *   swappiness and kernelTCP are ignored with a warning (no v2 equivalent),
 *   disableOOMKiller=true and useHierarchy=false are errors; `unified` is an
 *   error on a non-v2 host unless empty.  Hybrid hosts: the leaf is also made
 *   in the cgroup2 hierarchy and pids enter it too; hugetlb bound to the v2
 *   side is enabled down the unified tree only when a hugepage limit is
 *   asked for, and written as hugetlb.<size>.max (+ .rsvd.max).
 * - Processes.  v2: al_cgroup_clone_fd() gives the fd for clone3
 *   CLONE_INTO_CGROUP.  v1/hybrid: it returns -1 and the parent calls
 *   al_cgroup_enter() for the child before letting it run.
 * - Removal.  al_cgroup_remove() rmdirs the leaf (and any sub-cgroups the
 *   container made) in every hierarchy, retrying briefly while processes
 *   drain; it also prunes now-empty directories between the leaf and the
 *   airlock parent.  Intermediate directories outside the airlock parent and
 *   the parent itself are left, like crun.
 * No printing: warnings go to the callback set with al_cgroup_host_set_warn.
 */
#ifndef AL_CGROUP_H
#define AL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci_config.h"

#define AL_CGROUP_DEFAULT_PARENT "airlock"

enum al_cgroup_layout
{
  AL_CGROUP_V2,     /* cgroup2 only */
  AL_CGROUP_HYBRID, /* v1 hierarchies + a cgroup2 mount (with or without controllers) */
  AL_CGROUP_V1,     /* v1 hierarchies only */
};

struct al_cgroup_host; /* the detected layout; owns directory fds */
struct al_cgroup;      /* one container's cgroup across hierarchies */

/* ----------------------------------------------------------------- host */

/* Detect the layout.  parent is the directory (relative to each hierarchy
 * root) that relative and default cgroupsPaths go under; NULL means
 * AL_CGROUP_DEFAULT_PARENT. */
int al_cgroup_host_detect (const char *parent, struct al_cgroup_host **ret_host,
                           struct al_error *err);
void al_cgroup_host_free (struct al_cgroup_host *host); /* NULL-safe */

enum al_cgroup_layout al_cgroup_host_layout (const struct al_cgroup_host *host);
const char *al_cgroup_layout_name (enum al_cgroup_layout layout); /* "v2", "hybrid", "v1" */

/* Is a controller usable, under its v1 name ("memory", "cpuacct", "blkio",
 * "net_cls", ...)?  On v2, "blkio" means io, and "cpuacct", "devices" and
 * "freezer" are the core features that replace them (cpu.stat, eBPF,
 * cgroup.freeze). */
bool al_cgroup_host_has (const struct al_cgroup_host *host, const char *controller);

/* Where a controller is mounted (v1) or the cgroup2 mount, NULL if nowhere. */
const char *al_cgroup_host_mount (const struct al_cgroup_host *host, const char *controller);

/* The normalised parent, e.g. "/airlock". */
const char *al_cgroup_host_parent (const struct al_cgroup_host *host);

/* Notes the module does not treat as errors (ignored fields) go here;
 * without a callback they are dropped. */
void al_cgroup_host_set_warn (struct al_cgroup_host *host,
                              void (*warn) (void *data, const char *msg), void *data);

/* ---------------------------------------------------------------- paths */

/* linux.cgroupsPath (may be NULL or empty) and the container id -> a
 * normalised absolute path in *ret_path (malloc'd).  See the rules above. */
int al_cgroup_resolve_path (const struct al_cgroup_host *host, const char *cgroups_path,
                            const char *id, char **ret_path, struct al_error *err);

/* True when path is strictly below the airlock parent, clean (no "." or
 * ".." components), and neither airlock's own cgroup nor one of its
 * ancestors: the shape of a sandbox leaf.  Pure (uses the own cgroups
 * recorded at detect time). */
bool al_cgroup_is_sandbox_leaf (const struct al_cgroup_host *host, const char *path);

/* ------------------------------------------------------------ lifecycle */

#define AL_CGROUP_OWNED 1u /* al_cgroup_open: airlock created this cgroup */

/* mkdir the cgroup in every hierarchy (exclusive: EEXIST if the leaf already
 * exists anywhere; what this call made is removed again on failure).  On v2
 * the needed controllers are enabled in the parents' cgroup.subtree_control;
 * on v1 an empty cpuset.cpus/mems is copied from the parent.  path comes
 * from al_cgroup_resolve_path and is checked again.  host must outlive the
 * returned handle. */
int al_cgroup_create (const struct al_cgroup_host *host, const char *path,
                      struct al_cgroup **ret_cgroup, struct al_error *err);

/* The same for a container with these resources (may be NULL): on a
 * hybrid host the cgroup2 hierarchy is left out unless res uses a
 * controller only it serves (or `unified` keys).  Joining it costs as much
 * as three v1 hierarchies (the attach and the exit each take the
 * threadgroup lock again) and gives such a container nothing; freezing,
 * killing and stats use the v1 hierarchies there. */
int al_cgroup_create_for (const struct al_cgroup_host *host, const char *path,
                          const struct al_resources *res, struct al_cgroup **ret_cgroup,
                          struct al_error *err);

/* The same, on v1 and hybrid hosts only in the hierarchies res uses and
 * those of memory, pids, cpuacct and freezer (sandbox run: its limits, the
 * kill, the CPU time, peaks and OOM count; each hierarchy more costs a
 * mkdir, an attach and an rmdir per run). */
int al_cgroup_create_minimal (const struct al_cgroup_host *host, const char *path,
                              const struct al_resources *res, struct al_cgroup **ret_cgroup,
                              struct al_error *err);

/* Open an existing cgroup (delete, kill, pause, update, ps, events).
 * ENOENT when it exists in no hierarchy. */
int al_cgroup_open (const struct al_cgroup_host *host, const char *path, unsigned flags,
                    struct al_cgroup **ret_cgroup, struct al_error *err);

void al_cgroup_free (struct al_cgroup *cg); /* closes fds; removes nothing */

const char *al_cgroup_path (const struct al_cgroup *cg);
bool al_cgroup_owned (const struct al_cgroup *cg); /* record this in the state */

/* v2: the leaf's directory fd for clone3 CLONE_INTO_CGROUP (borrowed; valid
 * until al_cgroup_free).  v1/hybrid: -1, use al_cgroup_enter. */
int al_cgroup_clone_fd (const struct al_cgroup *cg);

/* Move pid into the cgroup in every hierarchy (cgroup.procs). */
int al_cgroup_enter (const struct al_cgroup *cg, pid_t pid, struct al_error *err);

/* Apply linux.resources (create and update).  res may be NULL. */
int al_cgroup_apply (const struct al_cgroup *cg, const struct al_resources *res,
                     struct al_error *err);

/* rmdir in every hierarchy, see above.  EBUSY when processes remain after
 * the retry budget (about two seconds). */
int al_cgroup_remove (struct al_cgroup *cg, struct al_error *err);

/* ------------------------------------------------------------ processes */

/* Freeze every process (and sub-cgroup) and wait until the kernel reports
 * the cgroup frozen; thaw undoes it.  ETIMEDOUT if freezing does not
 * complete within a few seconds (the cgroup is thawed again). */
int al_cgroup_freeze (const struct al_cgroup *cg, struct al_error *err);
int al_cgroup_thaw (const struct al_cgroup *cg, struct al_error *err);
int al_cgroup_is_frozen (const struct al_cgroup *cg, bool *ret_frozen, struct al_error *err);

/* Processes in the cgroup and its sub-cgroups (cgroup.procs), malloc'd. */
int al_cgroup_pids (const struct al_cgroup *cg, pid_t **ret_pids, size_t *ret_n,
                    struct al_error *err);

/* Check the kill guard (see above) without killing. */
int al_cgroup_check_killable (const struct al_cgroup *cg, struct al_error *err);

/* SIGKILL every process in the cgroup and its sub-cgroups, so double-fork
 * and setsid cannot escape, and wait until it is empty.  v2: cgroup.kill;
 * v1: freeze, SIGKILL each member, thaw, repeat until empty.  Refuses (and
 * kills nothing) unless al_cgroup_check_killable passes. */
int al_cgroup_kill_all (const struct al_cgroup *cg, struct al_error *err);

/* ---------------------------------------------------------------- stats */

#define AL_CGROUP_STATS_MAX_CPUS 1024
#define AL_CGROUP_STATS_MAX_KEYS 128
#define AL_CGROUP_STATS_MAX_HUGE 8
#define AL_CGROUP_STATS_MAX_IO 64

struct al_cgroup_mem_counter
{
  bool has;
  uint64_t usage, max, failcnt; /* max: the high-water mark */
  uint64_t limit;               /* UINT64_MAX when unlimited */
};

struct al_cgroup_stat_entry
{
  char key[48];
  uint64_t value;
};

struct al_cgroup_hugetlb_stat
{
  char size[16]; /* "2MB" */
  uint64_t usage, max, failcnt;
};

struct al_cgroup_io_entry
{
  uint32_t major, minor;
  char op[16]; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
  uint64_t value;
};

struct al_cgroup_stats
{
  bool has_memory;
  uint64_t memory_usage; /* bytes now: memory.current / memory.usage_in_bytes */
  bool has_memory_peak;
  uint64_t memory_peak;       /* high-water mark: memory.peak / memory.max_usage_in_bytes */
  uint64_t memory_limit;      /* bytes; UINT64_MAX when unlimited */
  uint64_t oom_kills;         /* processes the OOM killer killed in here */
  uint64_t memory_limit_hits; /* v2 memory.events max; v1 memory(.memsw).failcnt,
                                 which recent kernels no longer count (0) */

  bool has_pids;
  uint64_t pids_current;
  uint64_t pids_limit; /* UINT64_MAX when unlimited */
  bool has_pids_peak;  /* al_cgroup_usage with memory, where pids.peak exists */
  uint64_t pids_peak;

  bool has_cpu;
  uint64_t cpu_usage_ns; /* total CPU time */
  uint64_t cpu_user_ns;  /* v1 cpuacct.stat is in USER_HZ: 10 ms steps */
  uint64_t cpu_system_ns;

  bool has_io;
  uint64_t io_read_bytes, io_write_bytes;

  /* ---- detail, for `events` (runc's stats); fixed arrays, nothing to free */

  /* v1 cpuacct.usage_percpu(_user/_sys); n_percpu is 0 elsewhere */
  size_t n_percpu;
  bool has_percpu_split; /* the _user and _sys arrays are filled */
  uint64_t cpu_percpu[AL_CGROUP_STATS_MAX_CPUS];
  uint64_t cpu_percpu_user[AL_CGROUP_STATS_MAX_CPUS];
  uint64_t cpu_percpu_system[AL_CGROUP_STATS_MAX_CPUS];

  /* CFS bandwidth (cpu.stat of the cpu controller) */
  bool has_throttling;
  uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;

  /* v1: memory.memsw.*, memory.kmem.*, memory.kmem.tcp.*;
     v2: memory.swap.* (failcnt from memory.swap.events max) */
  struct al_cgroup_mem_counter swap, kernel, kernel_tcp;
  uint64_t memory_cache; /* memory.stat cache (v1) or file (v2) */
  size_t n_memory_stat;  /* memory.stat as it is, in file order */
  struct al_cgroup_stat_entry memory_stat[AL_CGROUP_STATS_MAX_KEYS];

  size_t n_hugetlb; /* one per huge page size the host has */
  struct al_cgroup_hugetlb_stat hugetlb[AL_CGROUP_STATS_MAX_HUGE];

  /* v1 blkio.*io_service_bytes_recursive / io_serviced_recursive, or v2
     io.stat as Read/Write entries */
  size_t n_io_bytes, n_io_ops;
  struct al_cgroup_io_entry io_bytes[AL_CGROUP_STATS_MAX_IO];
  struct al_cgroup_io_entry io_ops[AL_CGROUP_STATS_MAX_IO];
};

/* Read what is available; missing controllers leave their has_* false.
 * The struct is large (tens of KiB): heap-allocate it in deep stacks. */
int al_cgroup_stats (const struct al_cgroup *cg, struct al_cgroup_stats *ret_stats,
                     struct al_error *err);

/* Just CPU time and pids.current (one file each), for polling; with memory
 * also the memory peak, the OOM-kill count and pids.peak (where the kernel
 * has it).  The rest of *st is zero. */
int al_cgroup_usage (const struct al_cgroup *cg, bool memory, struct al_cgroup_stats *st,
                     struct al_error *err);

/* An fd (O_NONBLOCK, O_CLOEXEC; the caller closes it) that turns readable
 * when the memory controller has news for the cgroup: v1 an eventfd
 * registered on memory.oom_control through cgroup.event_control (it also
 * fires when the cgroup is removed), v2 an inotify watch on memory.events.
 * It only wakes the caller: read it empty, then compare oom_kills from
 * al_cgroup_stats with what was seen before.  ENOTSUP without a memory
 * controller. */
int al_cgroup_oom_watch (const struct al_cgroup *cg, int *ret_fd, struct al_error *err);

/* Just the OOM-kill counter (cheap enough to poll).  ENOTSUP without a
 * memory controller. */
int al_cgroup_oom_kills (const struct al_cgroup *cg, uint64_t *ret, struct al_error *err);

#endif
