/* named.h — named sandboxes: a sandbox whose root outlives its runs, with
 * snapshots, rollback, diff, commit and clone (snapshot/snapshot.h).
 *
 *   ROOT/~named/NAME/sandbox.json  its options and metadata (below)
 *   ROOT/~named/NAME/store/        its snapshot store (root, snapshots)
 *   ROOT/~named/NAME/lock          flocked by whoever works on it
 *   ROOT/~named/NAME/running       the id of the exec running in it alone
 *   ROOT/~named/NAME/init          the id of its init's run (create --init)
 *   ROOT/~named/NAME/init.log      the init's stdout and stderr
 *   ROOT/~named/NAME/init.result   how the last init ended (a result record)
 *   ROOT/~named/audit.log          one JSON line per operation
 *
 * sandbox.json: {"version": 1, "name", "owner", "labels": {K: V},
 * "created": RFC 3339, "expires": RFC 3339 | null, "slot": N, "uid": N,
 * "backend": "overlay"|"btrfs", "options": {the `sandbox run` options it
 * was created with}, "init": [argv] (create --init only)}; written
 * atomically.
 *
 * What this module promises:
 * - One thing at a time: an exec holds the lock for its whole run, and so
 *   does each operation.  An exec waits for the one before it.
 *   snapshot, rollback, commit, clone (of its source) and destroy of a
 *   sandbox in which an exec is running stop that exec first (SIGKILL to
 *   every process of its cgroup: its record says SG, signal 9) and then
 *   act; diff, list and inspect never stop anything.
 * - An init (create --init): a long-running process started before create
 *   returns (one that cannot start fails the create, which leaves
 *   nothing), under a keeper: an airlock process of its own session that
 *   supervises it as `sandbox run` does (the sandbox's limits but no
 *   wall-clock or CPU-time limit; output to init.log, capped like a run's;
 *   SIGTERM to the keeper reaches the init).  The keeper holds the lock
 *   shared while the init runs, and so does every exec, which then joins
 *   the init (al_sandbox_join: its namespaces, root, /tmp and cgroup) and
 *   runs alongside the others; its --memory, --pids, --cpus, --network,
 *   --bind, --tmpfs, --rootfs, --read-only and --disk are the sandbox's
 *   and an exec that asks for others is refused.  Operations stop the
 *   init (and the execs with it) as above; snapshot, rollback, commit and
 *   clone then start it again on the result (the audit line says
 *   "init_restarted"); destroy does not.  An init that ends by itself is
 *   not restarted: execs run alone again.
 * - Ids: a sandbox's files keep their owners from one exec to the next: it
 *   holds a uid/gid range of its own for good (a reserved slot,
 *   sandbox.h), shared with its clones (which share its read-only layers),
 *   and freed when the last of them is destroyed.
 * - Errors are one line naming the sandbox: "no sandbox `x`", "sandbox
 *   `x` already exists", "sandbox `x`: no snapshot `v2`"; a failed
 *   operation leaves the sandbox as it was (snapshot.h's crash safety:
 *   the next operation, or gc, finishes or undoes a half-done one).
 * - Every operation appends {"time", "uid", "user", "op", "sandbox",
 *   "args", "result", "error"} to the audit log, failed ones too.
 */
#ifndef AL_NAMED_H
#define AL_NAMED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "log.h"
#include "sandbox.h"
#include "snapshot.h"

#define AL_NAMED_DIR "~named"
#define AL_NAMED_NAME_MAX 64

struct al_named; /* a named sandbox, opened */

struct al_named_create_opts
{
  const char *root;
  const char *name;
  const char *owner;   /* NULL: the caller's user name */
  const char **labels; /* "K=V" */
  size_t n_labels;
  uint64_t expire_ms; /* 0: never */
  enum al_snap_backend backend;
  const struct al_sandbox_opts *run; /* the options every exec starts from */
  char **init; /* its long-running process (argv), or NULL */
  struct al_log *log;
};

/* Whether name is a sandbox name: 1..64 of [A-Za-z0-9_.+-], not starting
 * with '.' or '-'. */
int al_named_check_name (const char *name, struct al_error *err);

int al_named_create (const struct al_named_create_opts *o, struct al_error *err);

/* Open an existing sandbox (no lock taken). */
int al_named_open (const char *root, const char *name, struct al_named **ret, struct al_error *err);
void al_named_free (struct al_named *n); /* NULL-safe */

/* Fill *o with the options the sandbox was created with (arrays malloc'd,
 * bind and tmpfs paths and capability names strdup'd, other strings owned
 * by n): the caller may then apply the exec's own options on top. */
int al_named_load_opts (struct al_named *n, struct al_sandbox_opts *o, struct al_error *err);

/* Run o->argv in the sandbox (o from al_named_load_opts plus overrides):
 * waits for the lock, then joins its init if it runs (al_sandbox_join),
 * else al_sandbox_run on its store.  Returns the exit code as
 * al_sandbox_run does. */
int al_named_exec (struct al_named *n, struct al_sandbox_opts *o, struct al_error *err);

int al_named_snapshot (struct al_named *n, const char *tag, char *ret_tag, size_t size,
                       struct al_error *err);
int al_named_rollback (struct al_named *n, const char *tag, bool to_base, struct al_error *err);
int al_named_diff (struct al_named *n, const char *tag, FILE *out, struct al_error *err);
int al_named_commit (struct al_named *n, const char *dir, struct al_error *err);
int al_named_clone (struct al_named *n, const char *new_name, struct al_error *err);
int al_named_destroy (struct al_named *n, struct al_error *err);

/* `sandbox list` (json: a JSON array; else a table) and `sandbox inspect`. */
int al_named_list (const char *root, bool json, FILE *out, struct al_error *err);
int al_named_inspect (struct al_named *n, FILE *out, struct al_error *err);

/* Destroy expired sandboxes; finish half-done operations of the others
 * and empty their trash.  Counts what it destroyed. */
int al_named_gc (const char *root, struct al_log *log, unsigned *ret_removed,
                 struct al_error *err);

/* `sandbox run --rollback never|on-failure` and `--commit-to DIR`: the run
 * goes through a named sandbox made for it ("run-" and 12 hex digits).
 * With exit 0, commit_to (if set) gets the changes first (a failure there
 * is airlock's: 125, DIR untouched); the sandbox is then kept (never; or
 * on-failure and exit 0: its name goes to stderr) or destroyed. */
enum al_named_rollback
{
  AL_ROLLBACK_ALWAYS,
  AL_ROLLBACK_ON_FAILURE,
  AL_ROLLBACK_NEVER,
};
int al_named_run_once (struct al_sandbox_opts *o, enum al_named_rollback rollback,
                       const char *commit_to, struct al_error *err);

#endif
