/* harness.h — what the integration tests share: a busybox bundle per test,
 * the built airlock binary run as a user would run it, and a check that a
 * container left nothing behind.
 *
 * Every test runs as root.  Each bundle gets its own temp directory and its
 * own state root (--root) inside it, so tests run in parallel; container
 * ids are made unique per process (h_id).  $AIRLOCK names the binary and
 * $AL_SRCDIR the source tree (for tests/fixtures/make-bundle.sh).
 */
#ifndef AL_TEST_HARNESS_H
#define AL_TEST_HARNESS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct h_bundle
{
  char dir[PATH_MAX];    /* the bundle: dir/config.json, dir/rootfs */
  char root[PATH_MAX];   /* state root passed as --root */
  json_t *config;        /* config.json, edit then h_bundle_save() */
};

struct h_result
{
  int status;            /* exit status; 128+N if killed by signal N; -1 on timeout */
  char *out;             /* all of stdout, NUL-terminated (never NULL) */
  char *err;             /* all of stderr */
};

/* A fresh bundle running args (NULL-terminated; NULL: "sh") with the
 * terminal off; config loaded into b->config.  Asserts on failure. */
void h_bundle_init (struct h_bundle *b, const char *const *args);
/* Write b->config back to config.json. */
void h_bundle_save (struct h_bundle *b);
/* delete --force every container under b->root, then remove the bundle. */
void h_bundle_fini (struct h_bundle *b);

/* A container id unique to this process and tag: "<tag>-<pid>-<n>". */
const char *h_id (const char *tag);

/* Run `$AIRLOCK --root b->root ARGV...` with cwd b->dir, stdin from
 * stdin_data (NULL: /dev/null), capturing stdout and stderr; kills the
 * child (by its pid) after timeout_s seconds.  argv is NULL-terminated. */
int h_airlock (struct h_result *r, struct h_bundle *b, const char *stdin_data, int timeout_s,
               const char *const *argv);
/* printf-style convenience: splits the formatted string on spaces. */
int h_airlockf (struct h_result *r, struct h_bundle *b, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void h_result_free (struct h_result *r);

/* Nothing of container id is left: no state dir under b->root, no
 * directory airlock/<id> in any cgroup hierarchy (v1 and the unified one),
 * no mount in /proc/self/mountinfo under b->dir, no process whose
 * /proc/PID/root or cwd is under b->dir.  Asserts with a message naming
 * what was left. */
void h_assert_clean (struct h_bundle *b, const char *id);

/* Read the OCI state of id (`airlock state`), or NULL if it fails. */
json_t *h_state (struct h_bundle *b, const char *id);

/* ---------------------------------------------------------------- extras */

/* How h_spawn runs a child: stdin_data as for h_airlock, timeout_s (<= 0:
 * 30), cwd (NULL: inherit; h_airlock_ex: b->dir), and fds[0..n_fds-1]
 * (at most 16) passed as the child's fds 3..3+n_fds-1.  No other fd of
 * the test process is inherited. */
struct h_spawn
{
  const char *stdin_data;
  int timeout_s;
  const char *cwd;
  const int *fds;
  int n_fds;
};

/* Run argv (argv[0] an absolute path, no shell) and capture as h_airlock. */
int h_spawn (struct h_result *r, const struct h_spawn *s, const char *const *argv);
/* h_airlock with every h_spawn option. */
int h_airlock_ex (struct h_result *r, struct h_bundle *b, const struct h_spawn *s,
                  const char *const *argv);
/* $AIRLOCK, or ./airlock. */
const char *h_airlock_path (void);

/* Poll `airlock state` until its status is `status`; the state, or NULL
 * after timeout_s seconds. */
json_t *h_wait_status (struct h_bundle *b, const char *id, const char *status, int timeout_s);

/* A file's contents (malloc'd), or NULL if it cannot be read. */
char *h_read_file (const char *path);
/* Write content to path (created or truncated).  Asserts on failure. */
void h_write_file (const char *path, const char *content);

/* True when /sys/fs/cgroup is a cgroup2 mount (a pure cgroup-v2 host, as
 * in make check-vm); false on a v1 or v1-hybrid host. */
bool h_cgroup_v2 (void);
/* A file of container id's cgroup (malloc'd), or NULL if it cannot be
 * read: on a v1 host /sys/fs/cgroup/V1_CTRL/airlock/ID/V1_FILE, on a v2
 * host /sys/fs/cgroup/airlock/ID/V2_FILE.  A NULL file: none on that
 * layout (NULL is returned). */
char *h_cgroup_read (const char *id, const char *v1_ctrl, const char *v1_file,
                     const char *v2_file);

/* rm -rf dir, never following a symlink nor crossing a mount point. */
void h_remove_tree (const char *dir);

/* b->config's "process" object (asserts it exists). */
json_t *h_process (struct h_bundle *b);
/* Replace process.args (NULL-terminated) in b->config. */
void h_set_args (struct h_bundle *b, const char *const *args);

#endif
