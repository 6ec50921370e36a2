/* cgroup_internal.h — shared between cgroup.c and its backends (and the
 * unit tests); not part of the module's interface.
 *
 * cgroup.c owns detection, paths, the per-controller dispatch and the
 * helpers below; cgroup_v1.c and cgroup_v2.c know the file formats of
 * their hierarchy kind.  Each apply function gets the leaf's directory fd in
 * the hierarchy that serves the controller.
 */
#ifndef AL_CGROUP_INTERNAL_H
#define AL_CGROUP_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

enum al_cg_controller
{
  AL_CG_CPU,
  AL_CG_CPUACCT,
  AL_CG_CPUSET,
  AL_CG_MEMORY,
  AL_CG_PIDS,
  AL_CG_BLKIO, /* "io" on v2 */
  AL_CG_DEVICES,
  AL_CG_FREEZER,
  AL_CG_HUGETLB,
  AL_CG_NET_CLS,
  AL_CG_NET_PRIO,
  AL_CG_PERF_EVENT,
  AL_CG_RDMA,
  AL_CG_MISC,
  AL_CG__COUNT
};

#define AL_CG_MAX_HIERARCHIES 16
#define AL_CG_MAX_DEPTH 32         /* sub-cgroup levels walked below a leaf */
#define AL_CG_READ_MAX (16u << 20) /* cgroup.procs of a big cgroup */

struct al_cg_hierarchy
{
  char *mount;          /* absolute mount point */
  char *own;            /* airlock's cgroup here, "/"-rooted and relative to
                           the mount; NULL when it lies outside the mount */
  int fd;               /* O_DIRECTORY fd on the mount; -1 when parsed only */
  unsigned controllers; /* 1u << AL_CG_*: v1 controllers, or those listed in
                           the v2 root's cgroup.controllers */
  bool v2;
};

struct al_cgroup_host
{
  enum al_cgroup_layout layout;
  struct al_cg_hierarchy h[AL_CG_MAX_HIERARCHIES];
  size_t n;
  int unified;             /* index of the cgroup2 hierarchy, or -1 */
  int where[AL_CG__COUNT]; /* hierarchy serving each controller, or -1 */
  char *parent;            /* normalised, e.g. "/airlock" */
  void (*warn) (void *data, const char *msg);
  void *warn_data;
};

struct al_cgroup
{
  const struct al_cgroup_host *host;
  char *path;                    /* normalised absolute path */
  int fd[AL_CG_MAX_HIERARCHIES]; /* leaf dir per host hierarchy, -1 if absent */
  bool owned;
};

/* ----------------------------------------------------- detection (tests) */

/* The layout from the text of /proc/self/mountinfo and /proc/self/cgroup,
 * without touching the filesystem (fds stay -1).  v2_controllers is the
 * cgroup2 root's cgroup.controllers ("cpu memory pids"), NULL for none. */
int al_cg_host_parse (const char *mountinfo, const char *self_cgroup, const char *v2_controllers,
                      const char *parent, struct al_cgroup_host **ret_host, struct al_error *err);

/* A handle for path without any validation or filesystem access checks
 * beyond opening what exists — for tests of the kill guard only. */
int al_cg_open_unchecked (const struct al_cgroup_host *host, const char *path, bool owned,
                          struct al_cgroup **ret_cgroup, struct al_error *err);

/* Normalise a path: collapse "//", drop a trailing "/", refuse "." and ".."
 * components, control characters and over-long names.  field names the
 * value in messages. */
int al_cg_normalize (const char *field, const char *path, char **ret, struct al_error *err);

/* --------------------------------------------------------------- helpers */

const char *al_cg_controller_name (enum al_cg_controller c); /* v1 name */

/* One write(2) of value to dirfd/file.  The error names file and value. */
int al_cg_write (int dirfd, const char *file, const char *value, struct al_error *err);
int al_cg_writef (int dirfd, const char *file, struct al_error *err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
int al_cg_read (int dirfd, const char *file, char **ret, struct al_error *err);
/* A number, or "max" -> UINT64_MAX. */
int al_cg_read_u64 (int dirfd, const char *file, uint64_t *ret, struct al_error *err);
/* The value of "key N" in a flat keyed file; -ENOENT (no message) if absent. */
int al_cg_read_key (int dirfd, const char *file, const char *key, uint64_t *ret,
                    struct al_error *err);
bool al_cg_exists (int dirfd, const char *file);

long al_cg_now_ms (void); /* CLOCK_MONOTONIC */
void al_cg_sleep_ms (long ms);

/* Warn through the host's callback. */
void al_cg_warn (const struct al_cgroup_host *host, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* CPU/memory-node lists ("0-3,7"): parse into a bitmap of max bits.
 * EINVAL on syntax errors or members >= max. */
int al_cg_parse_cpu_list (const char *field, const char *list, uint64_t *bits, size_t max,
                          struct al_error *err);
/* Check that every member of list is in parent (both list strings). */
int al_cg_check_cpu_subset (const char *field, const char *what, const char *list,
                            const char *parent, struct al_error *err);

/* ------------------------------------------------------------ v1 backend */

int al_cg_v1_apply_memory (const struct al_cgroup *cg, int fd, const struct al_memory *m,
                           struct al_error *err);
int al_cg_v1_apply_cpu (const struct al_cgroup *cg, int fd, const struct al_cpu *c,
                        struct al_error *err);
int al_cg_v1_apply_cpuset (int fd, const struct al_cpu *c, struct al_error *err);
int al_cg_v1_apply_pids (int fd, const struct al_pids *p, struct al_error *err);
int al_cg_v1_apply_blkio (int fd, const struct al_block_io *b, struct al_error *err);
int al_cg_v1_apply_hugetlb (int fd, const struct al_hugepage_limit *l, size_t n,
                            struct al_error *err);
int al_cg_v1_apply_net_cls (int fd, const struct al_network *n, struct al_error *err);
int al_cg_v1_apply_net_prio (int fd, const struct al_network *n, struct al_error *err);
int al_cg_v1_apply_rdma (int fd, const struct al_rdma *r, size_t n, struct al_error *err);
int al_cg_v1_apply_devices (int fd, const struct al_device_rule *rules, size_t n,
                            struct al_error *err);
/* cpuset.cpus/mems of a fresh v1 cpuset cgroup are empty, and nothing can
 * join it until they are set: copy them from the parent. */
int al_cg_v1_cpuset_inherit (int parent_fd, int fd, struct al_error *err);
int al_cg_v1_freeze (int fd, bool frozen, struct al_error *err);
int al_cg_v1_is_frozen (int fd, bool *ret, struct al_error *err);
int al_cg_v1_stats_memory (int fd, struct al_cgroup_stats *st, struct al_error *err);
int al_cg_v1_stats_cpu (int fd, struct al_cgroup_stats *st, struct al_error *err); /* cpuacct */
int al_cg_v1_stats_io (int fd, struct al_cgroup_stats *st, struct al_error *err);
/* "c 1:3 rw", "a *:* rwm" */
int al_cg_v1_device_rule_string (const struct al_device_rule *r, char *buf, size_t size);

/* ------------------------------------------------------------ v2 backend */

/* Enable controller (v2 name) in cgroup.subtree_control from the hierarchy
 * root (root_fd) down to the parent of path, where not enabled yet.  The
 * error says which level refused. */
int al_cg_v2_enable (int root_fd, const char *path, const char *controller, struct al_error *err);
/* Whether the leaf's cgroup.controllers lists controller. */
bool al_cg_v2_has (int fd, const char *controller);

int al_cg_v2_apply_memory (const struct al_cgroup *cg, int fd, const struct al_memory *m,
                           struct al_error *err);
int al_cg_v2_apply_cpu (const struct al_cgroup *cg, int fd, const struct al_cpu *c,
                        struct al_error *err);
int al_cg_v2_apply_cpuset (int fd, const struct al_cpu *c, struct al_error *err);
int al_cg_v2_apply_pids (int fd, const struct al_pids *p, struct al_error *err);
int al_cg_v2_apply_io (int fd, const struct al_block_io *b, struct al_error *err);
int al_cg_v2_apply_hugetlb (int fd, const struct al_hugepage_limit *l, size_t n,
                            struct al_error *err);
int al_cg_v2_apply_rdma (int fd, const struct al_rdma *r, size_t n, struct al_error *err);
int al_cg_v2_apply_unified (int fd, const struct al_string_map *u, struct al_error *err);
int al_cg_v2_freeze (int fd, bool frozen, struct al_error *err);
int al_cg_v2_is_frozen (int fd, bool *ret, struct al_error *err);
int al_cg_v2_kill (int fd, struct al_error *err); /* -ENOTSUP without cgroup.kill */
int al_cg_v2_stats_memory (int fd, struct al_cgroup_stats *st, struct al_error *err);
int al_cg_v2_stats_cpu (int fd, struct al_cgroup_stats *st, struct al_error *err);
int al_cg_v2_stats_io (int fd, struct al_cgroup_stats *st, struct al_error *err);

/* Pure conversions (tested natively). */
uint64_t al_cg_shares_to_weight (uint64_t shares);   /* cpu.shares -> cpu.weight */
uint64_t al_cg_blkio_weight_to_io (uint64_t weight); /* blkio.weight -> io.weight */
/* cpu.max from quota/period; current is the present cpu.max ("max 100000")
 * for the half not given, NULL for the kernel default. */
int al_cg_cpu_max_string (const struct al_cpu *c, const char *current, char *buf, size_t size,
                          struct al_error *err);
/* memory.swap.max from the spec's memory+swap total. */
int al_cg_swap_max_string (const struct al_memory *m, char *buf, size_t size, struct al_error *err);
/* io.max lines ("8:0 rbps=600 wiops=300\n"), one per device, in first-seen
 * order.  *ret is "" when there are no throttles. */
int al_cg_io_max_lines (const struct al_block_io *b, char **ret, struct al_error *err);

/* The device-cgroup eBPF program for rules (last matching rule wins; no
 * match allows, as a fresh v1 cgroup does). */
int al_cg_devices_bpf_build (const struct al_device_rule *rules, size_t n,
                             struct bpf_insn **ret_insns, size_t *ret_n, struct al_error *err);
/* Load insns and attach them to the cgroup dir fd as its only
 * BPF_CGROUP_DEVICE program (older ones airlock attached are replaced). */
int al_cg_devices_bpf_attach (int fd, const struct bpf_insn *insns, size_t n, struct al_error *err);

#endif
