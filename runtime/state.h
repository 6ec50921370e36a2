/* state.h — the container state store.
 *
 * On disk, under a root directory (`--root`, default /run/airlock, created
 * 0700 only when a container is created):
 *
 *   ROOT/ID/              0700, one directory per container
 *   ROOT/ID/state.json    0600, the record, replaced atomically (temp file in
 *                         the same directory + rename; not fsynced: it describes
 *                         live processes), never partial
 *   ROOT/ID/...           files other modules keep with the container
 *                         (al_state_dir_fd); removed together with it
 *
 * Locking: the container directory itself is the lock (flock on its fd).
 * Writing and removal need the exclusive lock, reading the shared one.  A
 * new directory is built under a hidden name, locked, then renamed into
 * place (RENAME_NOREPLACE), so an entry is never visible unlocked before its
 * creator has written it, and two creators of one id cannot both succeed.
 * Whoever obtains a lock re-checks that ROOT/ID is still the directory it
 * locked: a waiter that wakes up after the entry was removed gets ENOENT
 * ("ID: container does not exist"), or the new entry if one replaced it —
 * never a half-deleted one.  A lock belongs to the open file description:
 * it is released when every copy of the fd (fork!) is closed.
 *
 * Errors branch on errnum: ENOENT means the container does not exist (and
 * only that), EEXIST that it already exists, EWOULDBLOCK (== EAGAIN) that
 * AL_STATE_NONBLOCK found it locked, EBADMSG that its state.json is
 * missing, corrupt or invalid (the message names the file and the field).
 *
 * Reads are stale-checked: a recorded init pid that is gone, a zombie, or
 * now a different process (its start time, field 22 of /proc/PID/stat, does
 * not match) reads as status "stopped" with pid 0, as runc reports it.
 */
#ifndef AL_STATE_H
#define AL_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

#define AL_STATE_DEFAULT_ROOT "/run/airlock"
#define AL_STATE_ID_MAX 1024            /* bytes; longer ids are invalid */
#define AL_STATE_FILE_MAX (1024 * 1024) /* bytes of state.json, read or written */
#define AL_STATE_TIME_MAX 40            /* buffer size for al_state_format_time */

/* Container ids: 1..1024 bytes of letters, digits, '_', '+', '-' and '.'
 * (runc's set), but not "." or "..".  So no '/', control characters,
 * spaces or non-ASCII bytes.  The message says which rule failed:
 * `invalid container id "a/b": must not contain '/'`.  errnum EINVAL.
 * Since an id is a directory name, al_state_open also refuses ids longer
 * than NAME_MAX (255) bytes, with ENAMETOOLONG. */
int al_state_validate_id (const char *id, struct al_error *err);

enum al_status
{
  AL_STATUS_CREATED,
  AL_STATUS_RUNNING,
  AL_STATUS_PAUSED,
  AL_STATUS_STOPPED,
};

/* "created", "running", "paused", "stopped" (the OCI strings); NULL for an
 * unknown value.  from_string returns -EINVAL for an unknown string. */
const char *al_status_to_string (enum al_status status);
int al_status_from_string (const char *s, enum al_status *ret_status);

/* A container's record.  Every pointer is owned by the struct and released
 * by al_state_free: assign strdup'd strings and json_incref'd objects. */
struct al_state
{
  char *id;
  enum al_status status;
  pid_t pid;                         /* init pid; 0 when stopped */
  unsigned long long pid_start_time; /* /proc/PID/stat field 22; 0 = unknown */
  char *bundle;                      /* absolute path */
  char *rootfs;
  struct timespec created; /* CLOCK_REALTIME */
  char *owner;             /* may be NULL or "" */
  json_t *annotations;     /* object of strings, or NULL */
  char *cgroup_path;       /* may be NULL */
  json_t *extra;           /* runtime-private object, or NULL;
                              stored as "airlock" in state.json
                              and round-tripped untouched */
};

/* A zeroed record with status created and `created` set to now.  NULL when
 * out of memory. */
struct al_state *al_state_new (void);
/* NULL-safe; returns NULL. */
struct al_state *al_state_free (struct al_state *state);

/* Flags for al_state_open.  Without AL_STATE_SHARED the lock is exclusive.
 * AL_STATE_CREATE makes a new entry (exclusive; EEXIST if the id exists)
 * and creates the root (0700) if it is missing. */
enum al_state_open_flags
{
  AL_STATE_CREATE = 1,
  AL_STATE_SHARED = 2,
  AL_STATE_NONBLOCK = 4, /* fail with EWOULDBLOCK instead of waiting */
};

/* An open, locked container entry. */
struct al_state_handle;

/* root NULL means AL_STATE_DEFAULT_ROOT.  A missing root or entry is ENOENT
 * with exactly "ID: container does not exist"; an existing one on create is
 * EEXIST with "ID: container already exists". */
int al_state_open (const char *root, const char *id, int flags, struct al_state_handle **ret_handle,
                   struct al_error *err);
/* Unlocks (by closing the fd) and frees.  NULL-safe; returns NULL. */
struct al_state_handle *al_state_close (struct al_state_handle *handle);

const char *al_state_handle_id (const struct al_state_handle *handle);
/* The locked container directory, for modules that keep files in it.  Owned
 * by the handle. */
int al_state_dir_fd (const struct al_state_handle *handle);

/* Read and stale-check (al_state_refresh) the record.  A missing, corrupt or
 * invalid state.json is EBADMSG with a message naming the file. */
/* Open ROOT/ID under the shared lock, read it, close it: the record as of
 * now, for verbs that only look (state, exec, events, kill). */
int al_state_load (const char *root, const char *id, struct al_state **ret_state,
                   struct al_error *err);

int al_state_read (struct al_state_handle *handle, struct al_state **ret_state,
                   struct al_error *err);
/* Atomically replace the record; needs the exclusive lock.  state->id must
 * be NULL or the handle's id; bundle must be absolute, rootfs set. */
int al_state_write (struct al_state_handle *handle, const struct al_state *state,
                    struct al_error *err);
/* Delete the entry and everything in it, under the exclusive lock.  Later
 * opens (and waiters) get ENOENT; the handle must still be closed. */
int al_state_remove (struct al_state_handle *handle, struct al_error *err);

/* Mark the record stopped (pid 0) if its init is gone, a zombie, or a
 * different process now (start time differs).  Never fails: when liveness
 * cannot be established either way, the recorded status stands. */
void al_state_refresh (struct al_state *state);

/* Field 22 (starttime, clock ticks since boot) of /proc/PID/stat: what to
 * record in pid_start_time. */
int al_state_pid_start_time (pid_t pid, unsigned long long *ret_start_time, struct al_error *err);

/* Every entry under root, refreshed, sorted by id, as a NULL-terminated
 * array (free with al_state_list_free).  A missing root is an empty list.
 * Entries that vanish meanwhile, names that are not valid ids and entries
 * still being created are skipped silently; entries whose state cannot be
 * read are skipped and counted in *ret_skipped (may be NULL).  Takes no
 * locks: state.json is replaced atomically. */
int al_state_list (const char *root, struct al_state ***ret_states, size_t *ret_count,
                   size_t *ret_skipped, struct al_error *err);
void al_state_list_free (struct al_state **states);

/* The OCI runtime-spec state: {ociVersion, id, status, pid, bundle,
 * annotations (only when non-empty)}, what `airlock state` prints and hooks
 * read on stdin; pid is 0 when stopped.  NULL when out of memory or a
 * string is not UTF-8. */
json_t *al_state_to_oci_json (const struct al_state *state);

/* RFC 3339 UTC with nanoseconds, trailing zeros trimmed as Go's
 * time.RFC3339Nano (and so runc) prints: 2024-05-06T07:08:09.12345Z.
 * Returns -EINVAL/-EOVERFLOW on a bad time or a short buffer. */
int al_state_format_time (const struct timespec *ts, char *buf, size_t size);

#endif
