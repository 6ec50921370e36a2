/* seccomp.h — linux.seccomp compiled with libseccomp, loaded, and its
 * listener told about it; plus the built-in profile of `sandbox run`.
 *
 * What this module promises:
 * - Compiling and loading are separate steps.  al_seccomp_compile() builds a
 *   libseccomp filter context from a parsed profile and changes nothing in
 *   the calling process, so the runtime compiles before clone3() and the
 *   container init only loads, as the very last step before waiting for
 *   `start` (after mounts, user, capabilities and no_new_privs).
 * - Compilation follows runtime-spec and what runc and crun do:
 *   . every action; SCMP_ACT_ERRNO returns errnoRet (defaultErrnoRet for the
 *     default action), EPERM when absent; SCMP_ACT_TRACE passes errnoRet as
 *     the tracer's message value, EPERM when absent.  An errnoRet on any
 *     other action is an error, as the spec asks.
 *   . arguments: every operator; SCMP_CMP_MASKED_EQ takes value as the mask
 *     and valueTwo as the datum.  Several args of one rule must all match
 *     (AND), except when two of them name the same index, which libseccomp
 *     cannot express: then each arg becomes its own rule (OR), as runc does.
 *   . a syscall name libseccomp does not know is skipped (profiles list the
 *     syscalls of every kernel version), and so is a rule whose action is
 *     the default action (libseccomp refuses those); its fields are still
 *     checked.
 *   . architectures are added to the native one; flags map to libseccomp
 *     attributes, and a flag this libseccomp or kernel cannot do is an
 *     error, never dropped.
 *   . the filter does not set no_new_privs itself (that is
 *     process.noNewPrivileges, the caller's job): loading without
 *     CAP_SYS_ADMIN in the caller's user namespace fails with EACCES unless
 *     the caller set PR_SET_NO_NEW_PRIVS first.
 *   Errors name the field, one line, errnum EINVAL for a bad profile and
 *   EOPNOTSUPP for what this kernel or libseccomp cannot do:
 *     linux.seccomp.syscalls[3].args[0].index: 7 is out of range (0..5)
 * - al_seccomp_send_listener() speaks runtime-spec's seccomp listener
 *   protocol: the container process state as JSON, with the notify fd
 *   attached (SCM_RIGHTS), over a UNIX stream socket.
 * Filters are loaded in the process they are meant for; tests do it in a
 * forked child.
 */

/* libseccomp's header is also called seccomp.h.  The build puts isolation/
 * on the quote path only (-iquote), so <seccomp.h> is the library's; with
 * -I isolation it would be this file, and include_next still reaches the
 * library's (when this file was found next to its includer the search
 * restarts, re-enters here once, and that pass includes the library). */
#ifndef AL_SECCOMP_H
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winclude-next-absolute-path"
#endif
#include_next <seccomp.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#endif

#ifndef AL_SECCOMP_H
#define AL_SECCOMP_H

#include <sys/types.h>

#include "error.h"
#include "oci_config.h"

/* Releases a filter context on scope exit (seccomp_release). */
static inline void
al_seccomp_releasep (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}
#define cleanup_seccomp __attribute__ ((cleanup (al_seccomp_releasep)))

/* Build a filter from linux.seccomp.  On success *ret_ctx is the caller's
 * (seccomp_release, or cleanup_seccomp). */
int al_seccomp_compile (const struct al_seccomp *spec, scmp_filter_ctx *ret_ctx,
                        struct al_error *err);

/* Load ctx into the calling thread (every thread with
 * SECCOMP_FILTER_FLAG_TSYNC).  When the filter has SCMP_ACT_NOTIFY rules
 * the kernel creates a listener: *ret_notify_fd receives it (O_CLOEXEC,
 * the caller's to close), otherwise -1, which includes a profile whose
 * NOTIFY rules all named syscalls unknown here.  ret_notify_fd may be NULL
 * when the filter has no NOTIFY rules (a listener would be closed).
 * libseccomp keeps one listener per process, so load at most one NOTIFY
 * filter per process.  Does not release ctx.  Fails with EACCES without
 * CAP_SYS_ADMIN unless no_new_privs is set. */
int al_seccomp_load (scmp_filter_ctx ctx, int *ret_notify_fd, struct al_error *err);

/* Connect to the UNIX stream socket at listener_path (linux.seccomp
 * .listenerPath; paths longer than sun_path are reached through the parent
 * directory's fd) and send, in one message with notify_fd as SCM_RIGHTS:
 *
 *   {"ociVersion": AL_OCI_VERSION, "fds": ["seccompFd"], "pid": PID,
 *    "metadata": METADATA, "state": STATE}
 *
 * pid is the process the filter was loaded in, as the runtime sees it.
 * metadata is listenerMetadata (omitted when NULL).  state_json is the
 * container state as text (al_state_to_oci_json dumped, status
 * "creating"); it must be a JSON object.  notify_fd stays the caller's. */
int al_seccomp_send_listener (const char *listener_path, int notify_fd, pid_t pid,
                              const char *metadata, const char *state_json, struct al_error *err);

/* The built-in profile of `sandbox run`, in the spirit of Docker's default:
 * an allowlist of what shells, interpreters and compilers use, everything
 * else failing with EPERM (not killed, so programs can fall back).  Denied
 * among others: kernel modules, mount and the new mount API, pivot_root,
 * reboot, kexec, bpf, perf_event_open, ptrace and process_vm_*, the key
 * syscalls, userfaultfd, io_uring, unshare, setns, clone with a CLONE_NEW*
 * flag, acct, swap, clock setting, open_by_handle_at, quotactl, iopl,
 * syslog, vhangup; personality() beyond the ordinary personas; ioctl
 * TIOCSTI (compared on the low 32 bits the kernel uses).  clone3 fails
 * with ENOSYS, as its flags cannot be inspected, so libc falls back to
 * clone.  The native architecture's 32-bit siblings are included.
 * Loading it needs no_new_privs or CAP_SYS_ADMIN, as above. */
int al_seccomp_default_profile (scmp_filter_ctx *ret_ctx, struct al_error *err);

/* The same profile as a BPF program compiled at build time (seccomp_gen.c),
 * for the sandbox's hot path: no libseccomp work at run time. */
struct sock_fprog;
const struct sock_fprog *al_seccomp_default_bpf (void);

/* Load a BPF program into the calling thread (seccomp(2), no flags);
 * needs no_new_privs or CAP_SYS_ADMIN. */
int al_seccomp_load_bpf (const struct sock_fprog *prog, struct al_error *err);

#endif
