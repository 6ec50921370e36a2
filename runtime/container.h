/* container.h — an OCI container's life: create, start, kill, delete.
 *
 * create clone3()s the init into the config's namespaces and cgroup, waits
 * until it is set up and blocked on the exec fifo, records the state and
 * returns (the init is left to whoever reaps it: conmon, containerd's shim,
 * or `run`).  start releases the init; kill signals it (or every process
 * of its cgroup); delete removes what create made: cgroup, state entry.
 * Every failure of create leaves nothing behind: no state entry, cgroup or
 * process.
 */
#ifndef AL_CONTAINER_H
#define AL_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "log.h"

struct sock_fprog;

struct al_create_opts
{
  const char *root;       /* state directory */
  const char *id;
  const char *bundle;     /* default "." */
  const char *pid_file;   /* may be NULL */
  const char *console_socket; /* may be NULL */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool cgroups_disabled;  /* --cgroup-manager disabled */
  bool start;             /* run: start at once (as create + start) */
  struct al_log *log;

  /* For `sandbox run`, which builds its config in memory: */
  const struct al_config *config; /* used instead of BUNDLE/config.json; borrowed */
  bool bundle_is_cwd;  /* the init opens the bundle through the cwd it
                          inherits (see al_init_ctx.bundle_is_cwd) */
  const int *stdio;    /* the init's fds 0, 1, 2 (-1: ours), or NULL */
  void *filter;        /* compiled seccomp filter when the config has none */
  const struct sock_fprog *bpf; /* or a BPF program to load (built-in profile) */
  bool die_with_parent; /* the init and its namespace die with the caller */
  bool new_session;     /* the init calls setsid() */
  bool minimal_cgroup;  /* al_cgroup_create_minimal */
  int report_fd;        /* > 0: see al_init_ctx.report_fd; 0 or -1: none */
  /* Called in the caller once the init exists (cgroup entered, id maps
   * written) and before it sets up: network, root layers.  A failure
   * undoes the create. */
  int (*before_go) (void *data, pid_t pid, struct al_error *err);
  void *data;
  struct al_cgroup **ret_cgroup; /* receives the cgroup (the caller frees
                                    it with al_cgroup_free), or NULL */
  int *ret_exec_errno; /* start: set to errno when the process's execve()
                          failed, the only failure after which the init
                          has run (so 126/127 can be told from setup) */
};

/* On success *ret_pid is the init's pid (a child of the caller). */
int al_container_create (const struct al_create_opts *o, pid_t *ret_pid, struct al_error *err);
int al_container_start (const char *root, const char *id, struct al_log *log, struct al_error *err);
int al_container_kill (const char *root, const char *id, int sig, bool all, struct al_error *err);
int al_container_delete (const char *root, const char *id, bool force, struct al_log *log,
                         struct al_error *err);

/* For a caller that created id and reaped its init (sandbox run): kill
 * what its cgroup cg (still open, may be NULL) holds, remove it, then the
 * state entry; no hooks.  The state is not read again. */
int al_container_remove_stopped (const char *root, const char *id, struct al_cgroup *cg,
                                 struct al_error *err);

/* The cgroup a container's state records (NULL when it has none, or it
 * is gone), opened for kill, pause, update, exec and ps; warnings go to
 * log (may be NULL). */
struct al_state;
struct al_cgroup_host;
struct al_cgroup;
int al_container_open_cgroup (const struct al_state *st, struct al_log *log,
                              struct al_cgroup_host **ret_host, struct al_cgroup **ret_cg,
                              struct al_error *err);
/* Give back a host from al_container_open_cgroup (detected once per
 * process and shared; NULL-safe). */
void al_container_release_cgroup_host (struct al_cgroup_host *host);

/* Freeze a running container's cgroup (status paused) / thaw a paused one. */
int al_container_pause (const char *root, const char *id, struct al_error *err);
int al_container_resume (const char *root, const char *id, struct al_error *err);

/* Apply a LinuxResources object to a created, running or paused container. */
struct al_resources;
int al_container_update (const char *root, const char *id, const struct al_resources *res,
                         struct al_error *err);

/* "KILL", "SIGKILL", "9" -> 9; -EINVAL with a message otherwise. */
int al_parse_signal (const char *s, int *ret_sig, struct al_error *err);

#endif
