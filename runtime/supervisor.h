/* supervisor.h — watch one started child to the end and say exactly how it
 * ended.
 *
 * al_supervise runs the event loop of `sandbox run`: it passes the child's
 * stdout/stderr through with a byte cap, enforces a wall-clock and a CPU
 * limit, forwards SIGINT/SIGTERM/SIGHUP, reaps the child and fills a result
 * record.  It creates no container or cgroup: what is sandbox-wide (killing
 * every process, reading the CPU time, telling an OOM kill) comes in as
 * callbacks, so the cgroup layer plugs in and tests use plain processes.
 *
 * Contract:
 *  - o->pid must be an unreaped child of the calling process.  Whatever
 *    happens after it is accepted (even an internal error), al_supervise
 *    kills it if it still runs and reaps it before returning; the caller
 *    never needs to clean it up.  SIGCHLD must not be SIG_IGN.
 *  - SIGINT, SIGTERM, SIGHUP and SIGPIPE are blocked in the calling thread
 *    for the duration and the mask is restored on return.  Block them in
 *    the caller before starting the child to close the window in between
 *    (and unblock them in the child before exec); other threads must keep
 *    them blocked.  One of them that arrives after the child ended is
 *    consumed: the run it was meant to stop is over.
 *  - The caller's descriptors are never closed.  out_fd/err_fd are switched
 *    to O_NONBLOCK during the loop and restored.  Sink writes are blocking:
 *    a sink nobody drains stalls the loop (use a file, tty or our stdout).
 *  - Returns 0 with r filled, or a negative errno with err set; if the
 *    child was accepted, r is filled too with status AL_RESULT_XX.
 */
#ifndef AL_SUPERVISOR_H
#define AL_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

#define AL_STDOUT 0
#define AL_STDERR 1

/* Ordered by precedence: the status of a run is the highest that applies.
 *   XX  the supervisor failed (or a callback did): nothing else is certain.
 *   TO  the wall-clock or CPU limit was reached (whatever the kill did).
 *   ML  the memory limit killed something (set by the cgroup layer).
 *   SG  the program died of a signal (also one we forwarded).
 *   RE  the program exited non-zero.
 *   OL  it exited 0 but wrote more than the cap on stdout or stderr.
 *   OK  it exited 0 within every limit.
 * OL ranks lowest because the cap never stops the program: the output was
 * cut, the run itself was not; output_truncated[] is recorded whatever the
 * status, so a program that crashed after flooding its output is SG and
 * still says truncated. */
enum al_result_status
{
  AL_RESULT_OK,
  AL_RESULT_OL,
  AL_RESULT_RE,
  AL_RESULT_SG,
  AL_RESULT_ML,
  AL_RESULT_TO,
  AL_RESULT_XX,
};

struct al_supervise_result;
struct al_result_limits;

struct al_supervise_opts
{
  pid_t pid;  /* the child; required */
  int pidfd;  /* its pidfd, or -1 to open one here */
  int out_fd; /* read ends of its stdout/stderr pipes, or -1 */
  int err_fd;
  int out_sink; /* where the passed-through bytes go (e.g. 1, 2), or -1 to drop */
  int err_sink;
  uint64_t output_limit; /* bytes passed per stream; the rest is read, counted
                            and discarded; 0 = no cap */
  uint64_t wall_ms;      /* 0 = no wall-clock limit */
  uint64_t cpu_ms;       /* 0 = no CPU limit */
  uint64_t cpu_poll_ms;  /* CPU check period; 0 = 100 ms */
  uint64_t grace_ms;     /* after a forwarded signal, kill_all once this
                            passes; 0 = at once.  A second signal always
                            kills at once. */
  /* CPU time of the whole sandbox (e.g. the cgroup's cpuacct.usage).  NULL =
   * the child's /proc/PID/stat utime+stime+cutime+cstime, which misses
   * descendants it has not reaped.  When set it is called every
   * cpu_poll_ms even without a CPU limit (the caller may sample other
   * counters then).  A failure ends the run as XX. */
  int (*cpu_usage_ns) (void *data, uint64_t *ret_ns);
  /* Kill every process of the sandbox (cgroup.kill, freeze+kill+thaw).
   * The child itself is always sent SIGKILL as well.  NULL = only that. */
  int (*kill_all) (void *data);
  /* After the reap, before classification: the cgroup layer sets
   * r->oom_killed and may refine max_rss_kib / time_cpu_s.  May be NULL. */
  int (*after_exit) (void *data, struct al_supervise_result *r);
  void *data;
};

struct al_supervise_result
{
  enum al_result_status status;
  int exitcode;             /* exit status when it exited, else 0 */
  int exitsig;              /* signal that killed it, else 0 */
  bool killed;              /* the supervisor killed it (limit or escalation) */
  bool wall_timeout;        /* the wall-clock limit fired while it ran */
  bool cpu_timeout;         /* the CPU limit was reached (polled, or at exit) */
  bool oom_killed;          /* set by after_exit (or the caller, then reclassify) */
  bool internal_error;      /* the supervisor failed: status XX */
  int forwarded_signal;     /* first SIGINT/SIGTERM/SIGHUP forwarded, or 0 */
  bool output_truncated[2]; /* [AL_STDOUT], [AL_STDERR] */
  uint64_t out_bytes[2];    /* bytes the child wrote, including discarded */
  double time_wall_s;
  double time_cpu_s;
  long max_rss_kib;
  struct timespec start, end; /* CLOCK_REALTIME */

  /* Filled by the caller (the cgroup layer), written when set: */
  bool has_memory_peak;
  uint64_t memory_peak; /* bytes, the cgroup's high-water mark */
  bool has_pids_peak;
  uint64_t pids_peak;   /* most processes seen at once */
  const char *id;       /* the sandbox's id, or NULL */
  const struct al_result_limits *limits; /* the limits in force, or NULL */
  char error[AL_ERROR_MSG_MAX]; /* XX: what failed ("" = the supervisor) */
};

/* The limits a run had, as recorded (0 = none). */
struct al_result_limits
{
  uint64_t memory, memory_swap, pids, cpus_milli, cpu_ms, wall_ms, output, disk, nofile, fsize;
  const char *network;
};

int al_supervise (const struct al_supervise_opts *o, struct al_supervise_result *r,
                  struct al_error *err);

/* The status the fields of r imply (see the precedence above); al_supervise
 * stores it in r->status.  Call it again after changing a field. */
enum al_result_status al_result_classify (const struct al_supervise_result *r);

/* "OK", "OL", "RE", "SG", "ML", "TO", "XX". */
const char *al_result_status_name (enum al_result_status s);

/* What `sandbox run` exits with: 125 XX, 124 TO, else 128+N when killed by
 * signal N, else the program's own status. */
int al_result_exit_code (const struct al_supervise_result *r);

/* Write r to path atomically (temp file, rename; no fsync), mode 0644; path
 * "-" writes it to stdout.
 *
 * JSON, one object:
 *   status "OK".."XX", message (absent for OK), exit_code (al_result_exit_code),
 *   exitcode, exitsig, killed, wall_timeout, cpu_timeout, oom_killed,
 *   forwarded_signal, time (CPU s), time_wall (s), max_rss_kib,
 *   stdout_bytes, stdout_truncated, stderr_bytes, stderr_truncated,
 *   start, end (RFC 3339 UTC with nanoseconds); when set: memory_peak,
 *   pids_peak, id, limits {memory, memory_swap, pids, cpus, cpu_time,
 *   timeout (s), output, disk, nofile, fsize, network; absent = none}.
 *
 * key:value (isolate's meta file; one per line, in this order):
 *   time:%.3f  time-wall:%.3f  max-rss:KiB  exitcode:N (only if it exited)
 *   exitsig:N (only if signalled)  killed:1 (only if we killed it)
 *   cg-oom-killed:1 (only if so)  timeout-wall:1 / timeout-cpu:1 (only if so)
 *   stdout-bytes:N  stdout-truncated:0|1  stderr-bytes:N  stderr-truncated:0|1
 *   exit-code:N  status:XX (always, unlike isolate: OK and OL are ours)
 *   cg-mem:KiB (peak, when set)  pids-peak:N  id:ID
 *   limit-memory:B limit-pids:N limit-cpus:N limit-cpu-time:S
 *   limit-wall-time:S limit-output:B limit-disk:B ... (those in force)
 *   message:TEXT (absent for OK) */
int al_result_write_json (const struct al_supervise_result *r, const char *path,
                          struct al_error *err);
int al_result_write_kv (const struct al_supervise_result *r, const char *path,
                        struct al_error *err);

#endif
