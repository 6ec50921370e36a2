/* process.h — the per-process attributes of the container process that
 * are neither identity, capabilities nor rlimits, and the fd sweep before
 * execve.
 *
 * What this module promises:
 * - Each setter changes the calling process only, names the config field
 *   when it fails ("process.oomScoreAdj -500: ..."), and leaves unrelated
 *   state alone.  al_process_apply_attributes() runs the configured ones
 *   in the runtime's order: oomScoreAdj, personality, ioPriority,
 *   scheduler.
 * - No host fd survives into the container (CVE-2024-21626):
 *   al_close_fds_from() closes, and al_cloexec_fds_from() marks close-on-exec
 *   (what runc does, so the init keeps its sync socket until the execve
 *   itself closes everything), every fd >= first_fd except the kept ones.
 *   close_range(2) does it in a few calls; without it (kernel < 5.9, or
 *   < 5.11 for CLOSE_RANGE_CLOEXEC) /proc/self/fd is walked.
 * - Preserved fds follow runc's rule: systemd's LISTEN_FDS (when LISTEN_PID
 *   is the runtime) plus --preserve-fds N make fds 3 .. 3+N-1 pass to the
 *   container, so the sweep starts at al_first_swept_fd(N).
 */
#ifndef AL_PROCESS_H
#define AL_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "oci_config.h"

/* More is refused: a typo, not a real socket-activation setup. */
#define AL_MAX_PRESERVED_FDS 65536u

/* Write /proc/self/oom_score_adj (-1000..1000; lowering needs
 * CAP_SYS_RESOURCE). */
int al_process_set_oom_score_adj (int value, struct al_error *err);

/* personality(2): LINUX or LINUX32 plus the kernel's flag names
 * ("ADDR_NO_RANDOMIZE", ...); the spec defines no flags yet, unknown ones
 * are refused. */
int al_process_set_personality (const struct al_personality *p, struct al_error *err);

/* ioprio_set(2) for the calling process. */
int al_process_set_io_priority (enum al_ioprio_class io_class, int priority, struct al_error *err);

/* sched_setattr(2) for the calling process. */
int al_process_set_scheduler (const struct al_scheduler *s, struct al_error *err);

/* PR_SET_NO_NEW_PRIVS: execve never grants privileges again (setuid bits,
 * file capabilities). */
int al_process_set_no_new_privs (struct al_error *err);

/* oomScoreAdj, linux.personality (may be NULL), ioPriority, scheduler:
 * each only when configured. */
int al_process_apply_attributes (const struct al_process *p, const struct al_personality *pers,
                                 struct al_error *err);

/* Close every fd >= first_fd except keep[0..n_keep) (negative entries and
 * duplicates are fine). */
int al_close_fds_from (int first_fd, const int *keep, size_t n_keep, struct al_error *err);

/* Same selection, marked FD_CLOEXEC instead: the fds stay usable until
 * execve closes them. */
int al_cloexec_fds_from (int first_fd, const int *keep, size_t n_keep, struct al_error *err);

/* How many fds systemd socket activation passed: the value of LISTEN_FDS
 * when LISTEN_PID equals self, else 0 (either may be NULL).  A malformed
 * number or one above AL_MAX_PRESERVED_FDS is an error. */
int al_listen_fds (const char *listen_pid, const char *listen_fds, pid_t self, unsigned *ret_n,
                   struct al_error *err);

/* 3 + n_preserved: the first fd the sweep touches when fds 3 .. 3+N-1 are
 * handed to the container. */
static inline int
al_first_swept_fd (unsigned n_preserved)
{
  return 3 + (int) (n_preserved > AL_MAX_PRESERVED_FDS ? AL_MAX_PRESERVED_FDS : n_preserved);
}

#endif
