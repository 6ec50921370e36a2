/* oci_config.h — config.json (OCI runtime-spec 1.0 to 1.3, Linux) as typed C.
 *
 * What this module promises:
 * - al_config_parse() either returns a fully checked struct al_config or fails
 *   with ONE line naming the source, line:column and JSON path of the culprit:
 *     config.json:14:17: process.args: expected an array of strings
 *   (errnum EINVAL; EFBIG for input over AL_CONFIG_MAX_BYTES).  It leaves
 *   nothing allocated on failure.
 * - Every value has the spec's type and range (uint32 ids, int64 memory sizes
 *   where -1 means unlimited, the full uint64 range although jansson itself
 *   stops at INT64_MAX, ...) and the names the kernel and libraries
 *   take are resolved: namespace types, capabilities (to cap_value_t, checked
 *   with libcap), rlimits (to RLIMIT_*), seccomp actions/operators/archs/flags,
 *   propagation, scheduler policy, device types.  Paths that must be absolute
 *   are absolute, required fields are present, namespaces are unique.
 * - Absence is visible: an optional object is a NULL pointer, an optional
 *   scalar has a has_* flag next to it, an absent string is NULL.  JSON null
 *   counts as absent; unknown members are ignored (as the spec requires).
 * - String lists are NULL-terminated char ** (ready for execve) with a count;
 *   a list that was absent is NULL with count 0.
 * Not checked here (left to the modules that act on them): mount options,
 * sysctl names, seccomp syscall names, cgroup values beyond their type.
 */
#ifndef AL_OCI_CONFIG_H
#define AL_OCI_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AL_CONFIG_MAX_BYTES (16u << 20) /* refuse bigger config.json */
#define AL_CONFIG_MAX_ITEMS 65536u      /* entries in any one list or map */
#define AL_CONFIG_MAX_ID_MAPPINGS 340u  /* extents the kernel takes per map */
#define AL_CONFIG_MAX_HOSTNAME 64u      /* HOST_NAME_MAX */

/* ------------------------------------------------------------------ common */

struct al_string_map /* JSON object of strings, in file order */
{
  char **keys;
  char **values;
  size_t n;
};

/* The value for key, or NULL. */
const char *al_string_map_get (const struct al_string_map *m, const char *key);

struct al_id_mapping
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

/* ----------------------------------------------------------------- process */

struct al_cap_list /* one capability set: cap_value_t numbers, file order */
{
  int *caps;
  size_t n;
};

struct al_capabilities
{
  struct al_cap_list bounding, effective, inheritable, permitted, ambient;
};

struct al_rlimit
{
  int resource; /* RLIMIT_* from <sys/resource.h>; unique within the list */
  uint64_t soft;
  uint64_t hard; /* soft <= hard; UINT64_MAX is RLIM_INFINITY */
};

enum al_ioprio_class /* the kernel's IOPRIO_CLASS_* values */
{
  AL_IOPRIO_CLASS_RT = 1,
  AL_IOPRIO_CLASS_BE = 2,
  AL_IOPRIO_CLASS_IDLE = 3,
};

struct al_scheduler
{
  int policy;     /* SCHED_OTHER, SCHED_FIFO, ... (kernel values) */
  uint64_t flags; /* SCHED_FLAG_* bits (kernel values) */
  bool has_nice;
  int32_t nice; /* -20..19 */
  bool has_priority;
  int32_t priority;
  bool has_runtime, has_deadline, has_period;
  uint64_t runtime, deadline, period;
};

struct al_user
{
  uint32_t uid, gid; /* required when "user" is present; 0 when it is not */
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char *username; /* Windows field, kept for completeness */
};

struct al_process
{
  bool terminal;
  bool has_console_size;
  uint16_t console_height, console_width;
  struct al_user user;
  char **args; /* at least one */
  size_t n_args;
  char **env;
  size_t n_env;
  char *cwd; /* absolute */
  bool has_capabilities;
  struct al_capabilities capabilities;
  struct al_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  bool has_oom_score_adj;
  int oom_score_adj; /* -1000..1000 */
  char *selinux_label;
  bool has_io_priority;
  enum al_ioprio_class io_priority_class;
  int io_priority; /* 0 (highest) .. 7 */
  struct al_scheduler *scheduler;
  char *exec_cpu_affinity_initial; /* cpu lists as written, e.g. "0-3,7" */
  char *exec_cpu_affinity_final;
};

/* ------------------------------------------------------------ mounts, hooks */

struct al_mount
{
  char *destination; /* absolute */
  char *source;
  char *type;
  char **options;
  size_t n_options;
  struct al_id_mapping *uid_mappings; /* idmapped mount */
  size_t n_uid_mappings;
  struct al_id_mapping *gid_mappings;
  size_t n_gid_mappings;
};

enum al_hook_kind
{
  AL_HOOK_PRESTART, /* deprecated by the spec, still run */
  AL_HOOK_CREATE_RUNTIME,
  AL_HOOK_CREATE_CONTAINER,
  AL_HOOK_START_CONTAINER,
  AL_HOOK_POSTSTART,
  AL_HOOK_POSTSTOP,
  AL_HOOK__COUNT
};

struct al_hook
{
  char *path; /* absolute */
  char **args;
  size_t n_args;
  char **env;
  size_t n_env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

struct al_hook_list
{
  struct al_hook *hooks;
  size_t n;
};

/* -------------------------------------------------------------- resources */

enum al_device_rule_type
{
  AL_DEVICE_RULE_ALL = 'a',
  AL_DEVICE_RULE_CHAR = 'c',
  AL_DEVICE_RULE_BLOCK = 'b',
};

#define AL_DEVICE_ACCESS_READ 1u
#define AL_DEVICE_ACCESS_WRITE 2u
#define AL_DEVICE_ACCESS_MKNOD 4u

struct al_device_rule /* linux.resources.devices[] */
{
  bool allow;
  enum al_device_rule_type type; /* 'a' when absent */
  int64_t major, minor;          /* -1 (also when absent) means any */
  bool has_access;
  unsigned access; /* AL_DEVICE_ACCESS_* bits */
};

struct al_memory
{
  bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp;
  int64_t limit, reservation, swap, kernel, kernel_tcp; /* bytes, -1 unlimited */
  bool has_swappiness;
  uint64_t swappiness; /* 0..100 */
  bool has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
  bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct al_cpu
{
  bool has_shares, has_burst, has_period, has_realtime_period;
  uint64_t shares, burst, period, realtime_period;
  bool has_quota, has_realtime_runtime, has_idle;
  int64_t quota, realtime_runtime, idle;
  char *cpus; /* cpuset lists as written */
  char *mems;
};

struct al_pids
{
  bool has_limit;
  int64_t limit; /* -1 unlimited ("max"); 0 a real limit (no forks); < -1 refused (cgroup.h) */
};

struct al_weight_device
{
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct al_throttle_device
{
  int64_t major, minor;
  uint64_t rate;
};

struct al_throttle_list
{
  struct al_throttle_device *devices;
  size_t n;
};

struct al_block_io
{
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
  struct al_weight_device *weight_devices;
  size_t n_weight_devices;
  struct al_throttle_list throttle_read_bps, throttle_write_bps;
  struct al_throttle_list throttle_read_iops, throttle_write_iops;
};

struct al_hugepage_limit
{
  char *page_size; /* "2MB", "1GB", ... */
  uint64_t limit;
};

struct al_net_priority
{
  char *name;
  uint32_t priority;
};

struct al_network
{
  bool has_class_id;
  uint32_t class_id;
  struct al_net_priority *priorities;
  size_t n_priorities;
};

struct al_rdma
{
  char *device;
  bool has_hca_handles, has_hca_objects;
  uint32_t hca_handles, hca_objects;
};

struct al_resources
{
  struct al_device_rule *devices;
  size_t n_devices;
  struct al_memory *memory; /* NULL when absent, likewise below */
  struct al_cpu *cpu;
  struct al_pids *pids;
  struct al_block_io *block_io;
  struct al_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct al_network *network;
  struct al_rdma *rdma;
  size_t n_rdma;
  struct al_string_map unified; /* cgroup v2 file -> value */
};

/* ---------------------------------------------------------------- seccomp */

enum al_seccomp_action
{
  AL_SECCOMP_ACT_KILL,
  AL_SECCOMP_ACT_KILL_PROCESS,
  AL_SECCOMP_ACT_KILL_THREAD,
  AL_SECCOMP_ACT_TRAP,
  AL_SECCOMP_ACT_ERRNO,
  AL_SECCOMP_ACT_TRACE,
  AL_SECCOMP_ACT_ALLOW,
  AL_SECCOMP_ACT_LOG,
  AL_SECCOMP_ACT_NOTIFY,
};

enum al_seccomp_op
{
  AL_SECCOMP_OP_NE,
  AL_SECCOMP_OP_LT,
  AL_SECCOMP_OP_LE,
  AL_SECCOMP_OP_EQ,
  AL_SECCOMP_OP_GE,
  AL_SECCOMP_OP_GT,
  AL_SECCOMP_OP_MASKED_EQ,
};

enum al_seccomp_arch /* SCMP_ARCH_* names the spec lists */
{
  AL_SECCOMP_ARCH_X86,
  AL_SECCOMP_ARCH_X86_64,
  AL_SECCOMP_ARCH_X32,
  AL_SECCOMP_ARCH_ARM,
  AL_SECCOMP_ARCH_AARCH64,
  AL_SECCOMP_ARCH_MIPS,
  AL_SECCOMP_ARCH_MIPS64,
  AL_SECCOMP_ARCH_MIPS64N32,
  AL_SECCOMP_ARCH_MIPSEL,
  AL_SECCOMP_ARCH_MIPSEL64,
  AL_SECCOMP_ARCH_MIPSEL64N32,
  AL_SECCOMP_ARCH_PPC,
  AL_SECCOMP_ARCH_PPC64,
  AL_SECCOMP_ARCH_PPC64LE,
  AL_SECCOMP_ARCH_S390,
  AL_SECCOMP_ARCH_S390X,
  AL_SECCOMP_ARCH_PARISC,
  AL_SECCOMP_ARCH_PARISC64,
  AL_SECCOMP_ARCH_RISCV64,
  AL_SECCOMP_ARCH_LOONGARCH64,
  AL_SECCOMP_ARCH_M68K,
  AL_SECCOMP_ARCH_SH,
  AL_SECCOMP_ARCH_SHEB,
};

#define AL_SECCOMP_FLAG_TSYNC 1u              /* SECCOMP_FILTER_FLAG_TSYNC */
#define AL_SECCOMP_FLAG_LOG 2u                /* SECCOMP_FILTER_FLAG_LOG */
#define AL_SECCOMP_FLAG_SPEC_ALLOW 4u         /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
#define AL_SECCOMP_FLAG_WAIT_KILLABLE_RECV 8u /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV */

struct al_seccomp_arg
{
  uint32_t index; /* 0..5 */
  uint64_t value;
  bool has_value_two;
  uint64_t value_two;
  enum al_seccomp_op op;
};

struct al_seccomp_syscall
{
  char **names; /* not checked against libseccomp: unknown ones are the
                   seccomp module's call (runc skips them) */
  size_t n_names;
  enum al_seccomp_action action;
  bool has_errno_ret;
  uint32_t errno_ret;
  struct al_seccomp_arg *args;
  size_t n_args;
};

struct al_seccomp
{
  enum al_seccomp_action default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  enum al_seccomp_arch *architectures;
  size_t n_architectures;
  unsigned flags;      /* AL_SECCOMP_FLAG_* */
  char *listener_path; /* set whenever an action is SCMP_ACT_NOTIFY */
  char *listener_metadata;
  struct al_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

/* ------------------------------------------------------------------ linux */

enum al_namespace_type
{
  AL_NS_PID,
  AL_NS_NETWORK,
  AL_NS_MOUNT,
  AL_NS_IPC,
  AL_NS_UTS,
  AL_NS_USER,
  AL_NS_CGROUP,
  AL_NS_TIME,
  AL_NS__COUNT
};

struct al_namespace
{
  enum al_namespace_type type; /* unique within the list */
  char *path;                  /* absolute: join this one; NULL: create */
};

struct al_time_offset
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

enum al_device_type /* linux.devices[].type */
{
  AL_DEVICE_CHAR = 'c',
  AL_DEVICE_BLOCK = 'b',
  AL_DEVICE_UNBUFFERED = 'u', /* a character device too */
  AL_DEVICE_FIFO = 'p',
};

struct al_device
{
  enum al_device_type type;
  char *path; /* absolute */
  int64_t major, minor; /* required except for FIFOs (0 then) */
  bool has_file_mode, has_uid, has_gid;
  uint32_t file_mode, uid, gid;
};

enum al_propagation
{
  AL_PROPAGATION_UNSET,
  AL_PROPAGATION_PRIVATE,
  AL_PROPAGATION_RPRIVATE,
  AL_PROPAGATION_SLAVE,
  AL_PROPAGATION_RSLAVE,
  AL_PROPAGATION_SHARED,
  AL_PROPAGATION_RSHARED,
  AL_PROPAGATION_UNBINDABLE,
  AL_PROPAGATION_RUNBINDABLE,
};

struct al_intel_rdt
{
  char *clos_id;
  char *l3_cache_schema;
  char *mem_bw_schema;
  char **schemata;
  size_t n_schemata;
  bool enable_monitoring, enable_cmt, enable_mbm;
};

enum al_personality_domain
{
  AL_PERSONALITY_LINUX,
  AL_PERSONALITY_LINUX32,
};

struct al_personality
{
  enum al_personality_domain domain;
  char **flags; /* the spec defines no values yet; kept as written */
  size_t n_flags;
};

struct al_linux
{
  struct al_namespace *namespaces;
  size_t n_namespaces;
  struct al_id_mapping *uid_mappings;
  size_t n_uid_mappings;
  struct al_id_mapping *gid_mappings;
  size_t n_gid_mappings;
  struct al_time_offset time_offset_monotonic, time_offset_boottime;
  struct al_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct al_resources *resources;
  struct al_string_map sysctl;
  struct al_seccomp *seccomp;
  enum al_propagation rootfs_propagation;
  char **masked_paths; /* absolute */
  size_t n_masked_paths;
  char **readonly_paths; /* absolute */
  size_t n_readonly_paths;
  char *mount_label;
  struct al_intel_rdt *intel_rdt;
  struct al_personality *personality;
};

/* ----------------------------------------------------------------- config */

struct al_config
{
  char *oci_version; /* as written, e.g. "1.0.2-dev" */
  unsigned version_minor, version_patch; /* the major is always 1 */
  char *root_path;                       /* non-empty; relative to the bundle */
  bool root_readonly;
  struct al_process *process; /* NULL when absent */
  char *hostname;
  char *domainname;
  struct al_mount *mounts;
  size_t n_mounts;
  struct al_hook_list hooks[AL_HOOK__COUNT];
  struct al_string_map annotations;
  json_t *annotations_json; /* the "annotations" object (owned), or NULL */
  struct al_linux *linux_spec; /* "linux"; NULL when absent (`linux` is a
                                  predefined macro under GNU C) */
};

/* Parse and check buf[0..len) (need not be NUL-terminated).  source names the
 * input in messages ("config.json").  On success *ret_config owns everything. */
int al_config_parse (const char *buf, size_t len, const char *source,
                     struct al_config **ret_config, struct al_error *err);

/* The same checks on a config built in memory (sandbox.c): messages name
 * source and the field, without a line and column. */
int al_config_from_json (json_t *root, const char *source, struct al_config **ret_config,
                         struct al_error *err);

/* Read path (relative to dirfd) with al_read_file and parse it; messages name
 * the basename of path. */
int al_config_load (int dirfd, const char *path, struct al_config **ret_config,
                    struct al_error *err);

void al_config_free (struct al_config *c); /* NULL-safe */

/* A bare LinuxResources object (`update --resources FILE`); paths in
 * messages start at its members ("memory.limit"). */
int al_config_parse_resources (const char *buf, size_t len, const char *source,
                               struct al_resources **ret, struct al_error *err);
void al_resources_free (struct al_resources *r);

/* A bare Process object (`exec --process FILE`), checked as in a config. */
int al_config_parse_process (const char *buf, size_t len, const char *source,
                             struct al_process **ret, struct al_error *err);
void al_process_free (struct al_process *p);

/* A bare LinuxSeccomp object (`sandbox run --seccomp FILE`); paths in
 * messages start at its members ("syscalls[2].action"). */
int al_config_parse_seccomp (const char *buf, size_t len, const char *source,
                             struct al_seccomp **ret, struct al_error *err);
void al_seccomp_free (struct al_seccomp *s);

/* The namespace entry of that type, or NULL. */
const struct al_namespace *al_config_find_namespace (const struct al_config *c,
                                                     enum al_namespace_type type);

/* Names as config.json spells them: "pid", "network", ...; "SCMP_ACT_ERRNO";
 * "RLIMIT_NOFILE"; "createRuntime".  NULL for values out of range. */
const char *al_namespace_type_name (enum al_namespace_type type);
const char *al_seccomp_action_name (enum al_seccomp_action action);
const char *al_rlimit_name (int resource);
const char *al_hook_kind_name (enum al_hook_kind kind);

/* libseccomp's name for an arch ("x86_64", "aarch64"), the argument
 * seccomp_arch_resolve_name() takes; NULL for values out of range. */
const char *al_seccomp_arch_libseccomp_name (enum al_seccomp_arch arch);

#endif
