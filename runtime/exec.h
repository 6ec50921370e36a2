/* exec.h — run another process in an existing container (`airlock exec`)
 * and list a container's processes (`airlock ps`).
 *
 * exec follows runc: the process is either a runtime-spec `process` object
 * (--process FILE, "-" for stdin), or the config's process with args
 * replaced and the command-line overrides applied (env set or appended,
 * cwd, user, additional gids and capabilities added, no_new_privs, tty).
 *
 * Mechanics: the parent joins the container's pid namespace for its
 * children (setns on a pidfd of the init, so the new process is born in
 * it) and clone3()s the child with CLONE_INTO_CGROUP on cgroup v2; on v1
 * and hybrid hosts it writes the child into every hierarchy before letting
 * it run.  The child, non-dumpable and holding none of airlock's fds, joins
 * every other namespace the init has in one setns(pidfd, ...) (the user
 * namespace atomically with the rest), then runs al_proc_setup() — the
 * same code the container init runs — and execve()s.  The sync protocol is
 * init.h's: GO from the parent, SECCOMP (relayed to linux.seccomp's
 * listenerPath), READY, ERROR.  After READY the parent waits for the sync
 * socket to close on the execve (close-on-exec), so a failing execve is an
 * error of `exec` itself, not a lost message.
 */
#ifndef AL_EXEC_H
#define AL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "log.h"
#include "oci_config.h"

struct al_exec_opts
{
  const char *root; /* state directory */
  const char *id;
  const char *process_path; /* --process FILE, "-" is stdin; NULL: use args */
  char *const *args;        /* the command, when process_path is NULL */
  size_t n_args;
  bool tty_set; /* --tty given (only then is process.terminal changed) */
  bool tty;
  const char *console_socket;
  const char *pid_file;
  bool detach;
  const char *cwd;        /* override, or NULL */
  char *const *env;       /* "K=V": set K, or append */
  size_t n_env;
  const char *user;       /* "UID[:GID]", or NULL */
  const uint32_t *additional_gids; /* appended */
  size_t n_additional_gids;
  char *const *caps;      /* added to bounding, effective, permitted (and
                             ambient when the config has inheritable ones) */
  size_t n_caps;
  bool no_new_privs;      /* set no_new_privileges (never clears it) */
  int preserve_fds;
  bool ignore_paused;
  struct al_log *log;
};

/* Turn c->process into the process to exec, as described above: replaced
 * by the --process object, or changed in place (created with cwd "/" when
 * the config has none).  Pure: reads only the --process file or stdin. */
int al_exec_prepare_process (const struct al_exec_opts *o, struct al_config *c,
                             struct al_error *err);

/* Run the process in container o->id (running or created; stopped and,
 * without ignore_paused, paused containers are refused).  With o->detach
 * it returns once the process runs (it is left to whoever reaps airlock's
 * orphans) and *ret_status is 0; otherwise it waits, forwarding the usual
 * termination signals to the process, and *ret_status is its exit status,
 * 128+N when signal N killed it. */
int al_container_exec (const struct al_exec_opts *o, int *ret_status, struct al_error *err);

/* For `sandbox exec` into a sandbox whose init runs (sandbox.h): start
 * config->process, as built and checked by the caller, in running
 * container id, the same way (namespaces, cgroup, al_proc_setup) but with
 * the caller's seccomp (filter: a compiled scmp_filter_ctx, or bpf, when
 * the config has no linux.seccomp), its fds 0..2 from stdio (-1: ours) and,
 * with new_session, in a session of its own.  Returns once it has
 * exec'd: *ret_pid is the caller's child to reap, *ret_pidfd its pidfd. */
struct sock_fprog;
struct al_exec_start
{
  const char *root;
  const char *id;
  const struct al_config *config;
  void *filter;
  const struct sock_fprog *bpf;
  const int *stdio;
  bool new_session;
  struct al_log *log;
};
int al_container_exec_start (const struct al_exec_start *s, pid_t *ret_pid, int *ret_pidfd,
                             struct al_error *err);

/* Host pids in the container's cgroup (and its sub-cgroups), ascending;
 * malloc'd.  An empty list when the cgroup is gone. */
int al_container_pids (const char *root, const char *id, pid_t **ret_pids, size_t *ret_n,
                       struct al_error *err);

#endif
