/* sandbox.h — `airlock sandbox run`: one program in a fresh sandbox, under
 * limits, with an exact result record, and nothing of it left afterwards.
 *
 * A run is an OCI container built in memory, so it goes through the same
 * path as `airlock run` (container.c, init.c and the isolation modules):
 *   - config: pid, mount, ipc, uts, cgroup, user and (unless --network
 *     host) network namespaces; the sandbox's root mapped to a host uid/gid
 *     range of 65536 ids no host account uses (a slot, see below); every
 *     capability dropped but --cap-add; no_new_privs; rlimits; the cgroup
 *     limits; fresh /proc, /dev (minimal), /dev/pts, /dev/shm, /tmp
 *     (tmpfs of --disk bytes), read-only /sys, OCI's masked and read-only
 *     paths; the built-in seccomp profile (seccomp.h), a profile file, or
 *     none.
 *   - root: the stack of snapshot/ephemeral.h, mounted by airlock (real
 *     root) inside the sandbox's mount namespace before the init sets up,
 *     with the --bind mounts (idmapped to the sandbox's ids); it dies with
 *     the namespace.
 *   - network: none (a network namespace, lo down), loopback (lo up),
 *     host (the host's), private (a veth pair on 10.213.S.N/30, no NAT),
 *     set up by airlock over netlink before the init runs.
 *   - the init dies with airlock (PR_SET_PDEATHSIG; the pid namespace takes
 *     every other process with it); a stale run's state and cgroup are
 *     removed by al_sandbox_gc.
 * Then the supervisor (supervisor.h) watches it with the cgroup plugged in
 * (CPU time, kill of the whole cgroup, OOM kills, memory and pids peaks);
 * the run's state and cgroup are removed, and the result is written.
 *
 * Slots: a run holds an flock on AL_SANDBOX_SLOTS_DIR/N for its life (one
 * set for the host, whatever --root says); N picks its uid/gid range
 * (AL_SANDBOX_UID_BASE + N * 65536), its private subnet and its host-side
 * link.  No lock is shared between runs, so any number start at once.
 * The slot file holds the run's lease while it lives ("ID DEV INO", DEV
 * and INO of --root), emptied when it ends: a lease in a slot nobody
 * locks is a dead run's, and al_sandbox_gc of that --root removes its
 * state and cgroup and empties it (runs skip such slots meanwhile).
 *
 * Exit code: al_result_exit_code (the program's status, 128+N, 124 for a
 * timeout), 126/127 when the program cannot be exec'd (found, but not
 * executable / its interpreter is missing), 125 when airlock failed or the
 * input was bad (including a program that does not exist): then nothing
 * is left behind.
 */
#ifndef AL_SANDBOX_H
#define AL_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

#define AL_SANDBOX_UID_BASE 1000000000u /* first host uid of slot 0 */
#define AL_SANDBOX_IDS 65536u           /* ids per sandbox */
#define AL_SANDBOX_SLOTS 4096u
#define AL_SANDBOX_EXIT_FAILURE 125
#define AL_SANDBOX_SLOTS_DIR "/run/airlock/~slots" /* host-wide, any --root */

enum al_sandbox_network
{
  AL_SANDBOX_NET_NONE,
  AL_SANDBOX_NET_LOOPBACK,
  AL_SANDBOX_NET_HOST,
  AL_SANDBOX_NET_PRIVATE,
};

struct al_sandbox_bind
{
  char *src; /* absolute host path (checked to exist) */
  char *dst; /* inside the sandbox */
  bool read_only;
};

struct al_sandbox_tmpfs
{
  char *dst;
  uint64_t size; /* 0: the kernel's default */
};

struct al_sandbox_opts
{
  const char *root; /* state directory (--root) */
  const char *rootfs; /* image directory, or NULL: the host's system dirs */
  struct al_sandbox_bind *binds;
  size_t n_binds;
  struct al_sandbox_tmpfs *tmpfs;
  size_t n_tmpfs;
  const char *workdir; /* default "/" */
  bool read_only;
  const char **env; /* K=V, applied in order over the inherited environment */
  size_t n_env;
  bool clear_env;
  bool has_user;
  uint32_t uid, gid;
  uint64_t memory;      /* bytes; 0 = unlimited */
  uint64_t memory_swap; /* memory + swap, bytes; 0 = not set */
  uint64_t pids;        /* 0 = unlimited */
  uint64_t cpus_milli;  /* CPUs x 1000; 0 = unlimited */
  uint64_t cpu_ms;      /* 0 = unlimited */
  uint64_t wall_ms;     /* 0 = unlimited */
  uint64_t nofile;      /* 0 = inherited */
  uint64_t fsize;       /* 0 = unlimited */
  uint64_t disk;        /* bytes of the writable layer and of /tmp */
  uint64_t output_limit; /* bytes per stream; 0 = no cap */
  const char **cap_add; /* "CAP_NET_RAW", checked */
  size_t n_cap_add;
  const char *seccomp; /* NULL: built-in; "unconfined"; or a file */
  enum al_sandbox_network network;
  const char *result_path;
  bool result_kv;
  bool verbose;
  char **argv; /* the program and its arguments */
  struct al_log *log;
  /* A named sandbox's exec (named.h): the root is this snapshot store's
   * (snapshot.h), mounted in the sandbox's namespace, and what the program
   * writes stays in it; --disk then caps /tmp only.  uid_base is the
   * store's id range (a reserved slot's, al_sandbox_reserve_range). */
  const char *store;
  bool has_uid_base;
  uint32_t uid_base;
  /* The run's id, "sb-" and 12 hex digits (NULL: a random one). */
  const char *id;
  /* Called once the program runs (a named sandbox's init: its keeper
   * tells `sandbox create` it started), or NULL. */
  void (*started) (void *data);
  void *started_data;
};

#define AL_SANDBOX_ID_MAX 32
#define AL_SANDBOX_ID_PREFIX "sb-" /* of every run's id */

/* prefix and 12 random hex digits ("sb-" for a run's id, "run-" for the
 * named sandbox of a run that keeps its changes). */
int al_sandbox_random_id (const char *prefix, char *buf, size_t size, struct al_error *err);

/* Run it.  Returns the exit code for `sandbox run` (>= 0); on 125 err
 * says why (the caller prints it). */
int al_sandbox_run (const struct al_sandbox_opts *o, struct al_error *err);

/* A new process in a running sandbox (a named sandbox's init, named.h):
 * o->argv joins every namespace and the cgroup of run `target` (whose
 * options o must be: same ids, seccomp, capabilities, rlimits), with
 * o's environment, --workdir, --user, and its own supervision: the
 * wall-clock and CPU limits and the output cap apply to this process and
 * what it starts in its session (a process that makes a session of its
 * own leaves it, and lives on in the sandbox); the memory and pids limits
 * are the sandbox's, shared.  The result record is a run's, but for
 * memory_peak and pids_peak (the sandbox's: `sandbox inspect`); ML when
 * the OOM killer killed it.  Exit codes as al_sandbox_run. */
int al_sandbox_join (const struct al_sandbox_opts *o, const char *target, struct al_error *err);

/* Reserve a slot's uid range for a named sandbox's store for good (runs
 * skip the slot until al_sandbox_free_range): its files keep their owner
 * from one exec to the next.  *ret_uid_base is the range's first id.
 * owner, the absolute path of the sandbox's directory, is in the lease:
 * once it holds no sandbox.json (and nobody is making one), any `sandbox
 * gc` frees the range.  al_sandbox_move_range names another owner (a
 * clone that outlives the sandbox it came from). */
int al_sandbox_reserve_range (const char *owner, unsigned *ret_slot, uint32_t *ret_uid_base,
                              struct al_error *err);
int al_sandbox_move_range (unsigned slot, const char *owner, struct al_error *err);
int al_sandbox_free_range (unsigned slot, struct al_error *err);

/* Remove what runs that died with airlock left: their state entries,
 * cgroups (after a kill of the sandbox's leaf) and directories.  Running
 * sandboxes are left alone.  *ret_removed counts the runs removed. */
int al_sandbox_gc (const char *root, struct al_log *log, unsigned *ret_removed,
                   struct al_error *err);

#endif
