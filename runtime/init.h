/* init.h — what runs inside a container: the init of `create` and the
 * process of `exec`.
 *
 * The parent (airlock create / exec) and the child talk over a
 * SOCK_SEQPACKET socketpair, one struct al_sync_msg per message:
 *
 *   parent -> child  AL_SYNC_GO       id maps written, cgroup entered; .pid
 *                                     is the child's pid as the host sees it
 *   child -> parent  AL_SYNC_HOOKS    init only, when the config has prestart
 *                                     or createRuntime hooks: namespaces and
 *                                     mounts are made, pivot_root is next;
 *                                     the parent runs them and answers
 *                                     AL_SYNC_GO (or closes the socket)
 *   child -> parent  AL_SYNC_SECCOMP  the seccomp notify fd attached
 *                                     (SCM_RIGHTS): the parent sends it to
 *                                     linux.seccomp.listenerPath
 *   child -> parent  AL_SYNC_READY    set up; init: now waiting for `start`
 *   child -> parent  AL_SYNC_ERROR    setup failed: errnum + message
 *
 * After READY the init blocks reading the exec fifo (state dir exec.fifo,
 * opened O_RDWR by create); `airlock start` writes one byte into it, and
 * the init runs the startContainer hooks and execve()s.  The seccomp filter
 * is loaded before READY (as runc does), so the profile must allow read,
 * close and execve.  Neither child ever returns: it execs or _exit()s, and
 * it never execs airlock (it is non-dumpable until the execve, and every
 * fd of the host but 0-2, --preserve-fds and the sync socket is closed).
 */
#ifndef AL_INIT_H
#define AL_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "oci_config.h"

struct sock_fprog;

enum al_sync_type
{
  AL_SYNC_GO = 1,
  AL_SYNC_HOOKS,
  AL_SYNC_SECCOMP,
  AL_SYNC_READY,
  AL_SYNC_ERROR,
};

struct al_sync_msg
{
  int type;
  int errnum;
  pid_t pid;
  char msg[AL_ERROR_MSG_MAX];
};

/* What both the init and an exec'd process do once inside the container's
 * namespaces and root: console, cwd, env, rlimits, attributes, seccomp,
 * user, capabilities, no_new_privs, and the fd sweep. */
struct al_proc_setup
{
  const struct al_config *config;   /* linux.seccomp, linux.personality */
  const struct al_process *process; /* what to run */
  int sync_fd;                      /* to send the seccomp notify fd */
  int console_sock;                 /* connected --console-socket, or -1 */
  bool bind_console;                /* init: the pty slave onto /dev/console */
  int preserve_fds;                 /* fds 3 .. 3+N-1 survive */
  int keep_fd;                      /* one more fd kept until exec, or -1 */
  void *filter;                     /* a compiled scmp_filter_ctx loaded when
                                       the config has no linux.seccomp (a
                                       sandbox's --seccomp FILE), or NULL */
  const struct sock_fprog *bpf;     /* or a BPF program (the sandbox's
                                       built-in profile), or NULL */
};

/* On success exe holds the resolved path of process->args[0] and *ret_env
 * the environment to execve with. */
int al_proc_setup (const struct al_proc_setup *s, char *exe, size_t exe_size, char ***ret_env,
                   struct al_error *err);

struct al_init_ctx
{
  const struct al_config *config;
  const char *id;
  const char *bundle;
  int sync_fd;      /* init's end of the socketpair */
  int fifo_fd;      /* exec.fifo, O_RDWR */
  int console_sock; /* connected --console-socket, or -1 */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds; /* fds 3 .. 3+N-1 survive into the container */
  bool new_userns;
  /* sandbox run: */
  bool bundle_is_cwd;  /* open the bundle as "." (the cwd clone3 copied into
                          the new mount namespace), not by its host path,
                          which the user namespace may not traverse */
  const int *stdio;    /* fds dup'ed onto 0, 1, 2 first (-1: keep), or NULL */
  void *filter;        /* see al_proc_setup.filter */
  const struct sock_fprog *bpf; /* see al_proc_setup.bpf */
  bool new_session;    /* setsid(): no controlling terminal (TIOCSTI cannot
                          reach the caller's), its own process group */
  int report_fd;       /* >= 0: the init forks the process and stays pid 1
                          as its reaper, then writes its wait status (an
                          int) here (sandbox run); -1: the init execs it */
  int parent_pidfd;    /* >= 0: the init dies with this process (PDEATHSIG
                          set after the last credential change, then the
                          parent checked still alive), kept until exec */
};

__attribute__ ((noreturn)) void al_init_run (const struct al_init_ctx *ctx);

/* The state a hook or seccomp listener is given while the child sets up:
 * ociVersion, id, status, pid, bundle, annotations (a JSON text to free). */
char *al_init_state_json (const struct al_config *c, const char *id, const char *bundle,
                          const char *status, pid_t pid);

/* The parent's side of AL_SYNC_SECCOMP: send notify_fd and the state
 * (status, pid as the host sees it) to linux.seccomp.listenerPath. */
int al_sync_forward_seccomp (const struct al_config *c, int notify_fd, const char *id,
                             const char *bundle, const char *status, pid_t pid,
                             struct al_error *err);

int al_sync_send (int fd, int type, const struct al_error *err);
/* Send with an fd attached (SCM_RIGHTS). */
int al_sync_send_fd (int fd, int type, int pass_fd);
/* Receive one message; *ret_fd (when not NULL) receives an attached fd or
 * -1.  EOF is "container init exited during setup". */
int al_sync_recv (int fd, struct al_sync_msg *msg, int *ret_fd, struct al_error *err);

#endif
