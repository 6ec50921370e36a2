/* clients.h — what the real-client tests share: running a client (podman,
 * ctr, containerd) as a user would, with captured output and a timeout, and
 * a temp directory per test binary prepared by setup-env.sh.
 *
 * $AIRLOCK names the runtime binary the clients are pointed at, $AL_SRCDIR
 * the source tree.  Every process a test starts is killed only by the pid
 * the test got from fork().
 */
#ifndef AL_TEST_CLIENTS_H
#define AL_TEST_CLIENTS_H

#include <stdbool.h>
#include <sys/types.h>

struct c_result
{
  int status;  /* exit status; 128+N if killed by signal N; -1 on timeout */
  char *out;   /* all of stdout, NUL-terminated (never NULL after c_run) */
  char *err;   /* all of stderr */
};

/* Run argv (NULL-terminated, argv[0] looked up on PATH) with stdin from
 * stdin_data (NULL: /dev/null), capturing stdout and stderr; after
 * timeout_s seconds the child is killed by its pid.  extra_fd, if >= 0,
 * is passed to the child as fd 3.  Returns r->status. */
int c_run (struct c_result *r, const char *stdin_data, int timeout_s, int extra_fd,
           const char *const *argv);
/* c_run with argv split from a printf-style string on spaces. */
int c_runf (struct c_result *r, int timeout_s, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void c_result_free (struct c_result *r);

/* Start argv in the background, stdout+stderr to log_path; returns the pid. */
pid_t c_spawn (const char *log_path, const char *const *argv);
/* SIGTERM pid, wait up to timeout_s, then SIGKILL it; reaps it. */
void c_stop (pid_t pid, int timeout_s);

/* A fresh directory /tmp/al-clients-<tag>-XXXXXX (static storage). */
const char *c_tempdir (const char *tag);
/* `setup-env.sh dir what`; returns its exit status, output in *r. */
int c_setup_env (struct c_result *r, const char *dir, const char *what);
/* A name unique to this process: "clients-<tag>-<pid>-<n>" (static buffer
 * rotated among 8). */
const char *c_name (const char *tag);

/* Remove dir recursively unless something is still mounted under it
 * (returns -1 and leaves it then). */
int c_rmtree (const char *dir);
/* True if /proc/self/mountinfo shows a mount point under dir. */
bool c_mounted_under (const char *dir);
/* rmdir /sys/fs/cgroup/<every hierarchy>/<rel> (rel is below airlock/);
 * only empty directories go, nothing is written. */
void c_rmdir_cgroup (const char *rel);
/* True if any cgroup hierarchy has directory <rel>. */
bool c_cgroup_exists (const char *rel);

/* The runtime path ($AIRLOCK; falls back to "airlock"). */
const char *c_airlock (void);

#endif
