/* snapshot.c — the snapshot store (see snapshot.h and snap_backend.h).
 *
 * Theory of operation.  meta.json is the truth; every change is a few
 * steps whose order makes a crash at any point harmless:
 *   1. data the change creates is made under a name meta.json does not
 *      reference (a fresh state "sNNNN", a "DIR.tmp-XXXXXX" beside a commit
 *      target), so a crash leaves only garbage;
 *   2. meta.json is replaced (temp file, fsync, rename, fsync of the
 *      directory): the change happened;
 *   3. what the change dropped is renamed "trash-*" and deleted by
 *      al_snap_gc() (or the next al_snap_open()), outside the store's
 *      lock and by one process at a time (trash.lock).
 * Two changes cannot be made that way and are recorded in meta.json as
 * "pending" before they start, to be finished (or undone) by whoever opens
 * the store next: deleting an overlay snapshot (its layer is folded into the
 * one above by renames, each leaving the view as it was, so finishing is
 * always right) and a commit (its temporary tree beside the target is
 * removed: before the final rename it is the new tree, after an exchange
 * the old one).  Every call takes an exclusive flock on the store directory
 * and repairs first, so it always starts from a whole store.
 *
 * diff and commit read the root through read-only mounts made by the
 * backend in a child in a mount namespace of its own (gone with it), on
 * "view-*" directories of the store; results come back through a pipe.
 */
#include "config.h"

#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"
#include "snap_backend.h"
#include "tree.h"

#define META "meta.json"
#define META_TMP "meta.json.tmp"
#define META_MAX (4u << 20)
#define STATE_MAX 24
#define TRASH "trash-"
#define TRASH_LOCK "trash.lock" /* held by whoever empties the trash */

void (*al_snap_crash_point) (const char *where) = NULL;

struct snap_rec
{
  char tag[AL_SNAP_TAG_MAX + 1];
  char parent[AL_SNAP_TAG_MAX + 1];
  char state[STATE_MAX];
  struct timespec created;
};

struct al_snap
{
  char *dir;  /* as given */
  char *name; /* the sandbox's, for errors */
  int fd;     /* the store directory */
  enum al_snap_backend backend;
  const struct al_snap_backend_ops *ops;
  char *base; /* NULL: the host's system directories */
  struct timespec created;
  uid_t uid;
  gid_t gid;
  unsigned next;
  char current[STATE_MAX];
  struct snap_rec *snaps;
  size_t n;
  json_t *pending;
};

/* The backends by enum al_snap_backend.  snap_btrfs.c defines
 * al_snap_btrfs_ops. */
static const struct al_snap_backend_ops *
backend_ops (enum al_snap_backend b)
{
  switch (b)
    {
    case AL_SNAP_OVERLAY:
      return &al_snap_overlay_ops;
    case AL_SNAP_BTRFS:
      return &al_snap_btrfs_ops;
    default:
      return NULL;
    }
}

const char *
al_snap_backend_name (enum al_snap_backend b)
{
  switch (b)
    {
    case AL_SNAP_OVERLAY:
      return "overlay";
    case AL_SNAP_BTRFS:
      return "btrfs";
    default:
      return "auto";
    }
}

enum al_snap_backend
al_snap_backend (const struct al_snap *s)
{
  return s->backend;
}

static bool
tag_char_ok (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '.' || c == '+' || c == '-';
}

int
al_snap_check_tag (const char *tag, struct al_error *err)
{
  size_t len = strlen (tag);
  if (len == 0)
    return al_error_reason (err, EINVAL, "tag ``: empty");
  if (len > AL_SNAP_TAG_MAX)
    return al_error_reason (err, EINVAL, "tag `%.20s...`: longer than %d bytes", tag,
                            AL_SNAP_TAG_MAX);
  if (strcmp (tag, ".") == 0 || strcmp (tag, "..") == 0)
    return al_error_reason (err, EINVAL, "tag `%s`: not a name", tag);
  for (const char *p = tag; *p; p++)
    if (!tag_char_ok (*p))
      return al_error_reason (err, EINVAL, "tag `%s`: only letters, digits and `_.+-` are allowed",
                              tag);
  return 0;
}

static bool
state_name_ok (const char *name)
{
  if (name[0] != 's' || name[1] == '\0' || strlen (name) >= STATE_MAX)
    return false;
  for (const char *p = name + 1; *p; p++)
    if (*p < '0' || *p > '9')
      return false;
  return true;
}

/* ------------------------------------------------------------- time */

static void
format_time (const struct timespec *ts, char buf[48])
{
  struct tm tm;
  gmtime_r (&ts->tv_sec, &tm);
  size_t n = strftime (buf, 48, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, 48 - n, ".%09ldZ", ts->tv_nsec);
}

static void
parse_time (const char *s, struct timespec *ts)
{
  struct tm tm = { 0 };
  ts->tv_sec = 0;
  ts->tv_nsec = 0;
  const char *rest = s ? strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (rest == NULL)
    return;
  ts->tv_sec = timegm (&tm);
  long ns = 0;
  if (sscanf (rest, ".%9ld", &ns) == 1)
    ts->tv_nsec = ns;
}

/* ------------------------------------------------------------- meta.json */

static void
clear_meta (struct al_snap *s)
{
  free (s->base);
  s->base = NULL;
  free (s->snaps);
  s->snaps = NULL;
  s->n = 0;
  json_decref (s->pending);
  s->pending = NULL;
}

static int
bad_meta (struct al_snap *s, const char *why, struct al_error *err)
{
  return al_error_reason (err, EINVAL, "sandbox `%s`: `%s/" META "`: %s", s->name, s->dir, why);
}

static int
load_meta (struct al_snap *s, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  int r = al_read_file (s->fd, META, META_MAX, &buf, &len, err);
  if (r < 0)
    return al_error_wrap (err, "sandbox `%s`", s->name);
  json_error_t jerr;
  json_t *root = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return al_error_reason (err, EINVAL, "sandbox `%s`: `%s/" META "`:%d:%d: %s", s->name, s->dir,
                            jerr.line, jerr.column, jerr.text);
  clear_meta (s);
  r = 0;
  json_t *snaps = json_object_get (root, "snapshots");
  const char *backend = json_string_value (json_object_get (root, "backend"));
  const char *current = json_string_value (json_object_get (root, "current"));
  json_t *base = json_object_get (root, "base");
  json_t *next = json_object_get (root, "next");
  if (json_integer_value (json_object_get (root, "version")) != 1)
    r = bad_meta (s, "not version 1", err);
  else if (backend == NULL || (strcmp (backend, "overlay") != 0 && strcmp (backend, "btrfs") != 0))
    r = bad_meta (s, "no known \"backend\"", err);
  else if (current == NULL || !state_name_ok (current))
    r = bad_meta (s, "bad \"current\"", err);
  else if (!json_is_integer (next) || json_integer_value (next) < 1
           || json_integer_value (next) > 99999999)
    r = bad_meta (s, "bad \"next\"", err);
  else if (!json_is_array (snaps) || (base && !json_is_null (base) && !json_is_string (base)))
    r = bad_meta (s, "bad \"snapshots\" or \"base\"", err);
  if (r < 0)
    {
      json_decref (root);
      return r;
    }
  s->backend = strcmp (backend, "btrfs") == 0 ? AL_SNAP_BTRFS : AL_SNAP_OVERLAY;
  s->ops = backend_ops (s->backend);
  snprintf (s->current, sizeof s->current, "%s", current);
  s->next = (unsigned) json_integer_value (next);
  s->uid = (uid_t) json_integer_value (json_object_get (root, "uid"));
  s->gid = (gid_t) json_integer_value (json_object_get (root, "gid"));
  parse_time (json_string_value (json_object_get (root, "created")), &s->created);
  if (json_is_string (base) && (s->base = strdup (json_string_value (base))) == NULL)
    r = al_error_set (err, ENOMEM, "sandbox `%s`", s->name);
  json_t *pending = json_object_get (root, "pending");
  if (json_is_object (pending))
    s->pending = json_incref (pending);
  size_t n = json_array_size (snaps);
  s->snaps = calloc (n ? n : 1, sizeof *s->snaps);
  if (r == 0 && s->snaps == NULL)
    r = al_error_set (err, ENOMEM, "sandbox `%s`", s->name);
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      json_t *e = json_array_get (snaps, i);
      const char *tag = json_string_value (json_object_get (e, "tag"));
      const char *state = json_string_value (json_object_get (e, "state"));
      const char *parent = json_string_value (json_object_get (e, "parent"));
      struct al_error scratch = { 0 };
      if (tag == NULL || al_snap_check_tag (tag, &scratch) < 0 || state == NULL
          || !state_name_ok (state))
        {
          r = bad_meta (s, "bad entry in \"snapshots\"", err);
          break;
        }
      struct snap_rec *rec = &s->snaps[s->n++];
      snprintf (rec->tag, sizeof rec->tag, "%s", tag);
      snprintf (rec->state, sizeof rec->state, "%s", state);
      snprintf (rec->parent, sizeof rec->parent, "%s",
                parent && strlen (parent) <= AL_SNAP_TAG_MAX ? parent : "");
      parse_time (json_string_value (json_object_get (e, "created")), &rec->created);
    }
  json_decref (root);
  return r;
}

static int
write_all (int fd, const char *p, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -errno;
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

/* meta.json from s, atomically and durably; without sync_dir the rename
 * is left to whoever commits the filesystem next (a btrfs rollback: the
 * state it makes next does). */
static int
save_meta_sync (struct al_snap *s, int dir_fd, bool sync_dir, struct al_error *err)
{
  char ts[48];
  json_t *root = json_object ();
  json_t *snaps = json_array ();
  if (root == NULL || snaps == NULL)
    {
      json_decref (root);
      json_decref (snaps);
      return al_error_set (err, ENOMEM, "write " META);
    }
  format_time (&s->created, ts);
  json_object_set_new (root, "version", json_integer (1));
  json_object_set_new (root, "backend", json_string (al_snap_backend_name (s->backend)));
  json_object_set_new (root, "base", s->base ? json_string (s->base) : json_null ());
  json_object_set_new (root, "created", json_string (ts));
  json_object_set_new (root, "uid", json_integer (s->uid));
  json_object_set_new (root, "gid", json_integer (s->gid));
  json_object_set_new (root, "next", json_integer (s->next));
  json_object_set_new (root, "current", json_string (s->current));
  json_object_set (root, "pending", s->pending ? s->pending : json_null ());
  for (size_t i = 0; i < s->n; i++)
    {
      format_time (&s->snaps[i].created, ts);
      json_array_append_new (
          snaps,
          json_pack ("{s:s, s:s, s:s, s:o}", "tag", s->snaps[i].tag, "state", s->snaps[i].state,
                     "created", ts, "parent",
                     s->snaps[i].parent[0] ? json_string (s->snaps[i].parent) : json_null ()));
    }
  json_object_set_new (root, "snapshots", snaps);
  cleanup_free char *text = json_dumps (root, JSON_INDENT (2) | JSON_SORT_KEYS);
  json_decref (root);
  if (text == NULL)
    return al_error_set (err, ENOMEM, "write " META);

  cleanup_close int fd
      = openat (dir_fd, META_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return al_error_set (err, errno, "write " META);
  int r = write_all (fd, text, strlen (text));
  if (r == 0 && (write_all (fd, "\n", 1) < 0 || fsync (fd) < 0))
    r = -errno;
  if (r < 0)
    {
      unlinkat (dir_fd, META_TMP, 0);
      return al_error_set (err, -r, "write " META);
    }
  al_snap_crash ("meta-written");
  if (renameat (dir_fd, META_TMP, dir_fd, META) < 0)
    {
      int saved = errno;
      unlinkat (dir_fd, META_TMP, 0);
      return al_error_set (err, saved, "rename " META);
    }
  al_snap_crash ("meta-renamed");
  if (sync_dir && fsync (dir_fd) < 0)
    return al_error_set (err, errno, "sync the store");
  return 0;
}

static int
save_meta_fd (struct al_snap *s, int dir_fd, struct al_error *err)
{
  return save_meta_sync (s, dir_fd, true, err);
}

static int
save_meta (struct al_snap *s, struct al_error *err)
{
  return save_meta_fd (s, s->fd, err);
}

/* After a failed change: memory as the disk says (err keeps the first
 * error). */
static void
reload_meta (struct al_snap *s)
{
  struct al_error scratch = { 0 };
  load_meta (s, &scratch);
}

/* ------------------------------------------------------------- repair */

static bool
is_referenced (const struct al_snap *s, const char *name)
{
  if (strcmp (name, s->current) == 0)
    return true;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (name, s->snaps[i].state) == 0)
      return true;
  return false;
}

/* name becomes "trash-name" (or "trash-name-K" if that is taken). */
static int
to_trash (struct al_snap *s, const char *name, struct al_error *err)
{
  for (unsigned k = 0; k < 1000; k++)
    {
      char t[NAME_MAX + 1];
      int n = k ? snprintf (t, sizeof t, TRASH "%s-%u", name, k)
                : snprintf (t, sizeof t, TRASH "%s", name);
      if (n < 0 || (size_t) n >= sizeof t)
        return al_error_reason (err, ENAMETOOLONG, "sandbox `%s`: trash `%s`", s->name, name);
      if (renameat2 (s->fd, name, s->fd, t, RENAME_NOREPLACE) == 0)
        {
          al_snap_crash ("trashed");
          return 0;
        }
      if (errno == ENOENT)
        return 0;
      if (errno != EEXIST)
        return al_error_set (err, errno, "sandbox `%s`: trash `%s`", s->name, name);
    }
  return al_error_reason (err, EEXIST, "sandbox `%s`: trash `%s`: too many", s->name, name);
}

static int
trash_unreferenced (struct al_snap *s, struct al_error *err)
{
  cleanup_dir DIR *d = fdopendir (openat (s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d == NULL)
    return al_error_set (err, errno, "sandbox `%s`: read the store", s->name);
  for (;;)
    {
      errno = 0;
      struct dirent *e = readdir (d);
      if (e == NULL)
        return errno ? al_error_set (err, errno, "sandbox `%s`: read the store", s->name) : 0;
      const char *name = e->d_name;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || strcmp (name, META) == 0
          || strcmp (name, "base") == 0 || strncmp (name, "base-", 5) == 0
          || strcmp (name, TRASH_LOCK) == 0
          || strncmp (name, TRASH, sizeof TRASH - 1) == 0 || is_referenced (s, name))
        continue;
      if (strcmp (name, META_TMP) == 0)
        {
          unlinkat (s->fd, name, 0);
          continue;
        }
      int r = to_trash (s, name, err);
      if (r < 0)
        return r;
    }
}

static int
remove_snap_rec (struct al_snap *s, const char *tag)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (s->snaps[i].tag, tag) == 0)
      {
        if (i + 1 < s->n)
          memcpy (s->snaps[i + 1].parent, s->snaps[i].parent, sizeof s->snaps[i].parent);
        memmove (&s->snaps[i], &s->snaps[i + 1], (s->n - i - 1) * sizeof *s->snaps);
        s->n--;
        return 0;
      }
  return -ENOENT;
}

/* "/a/b/c" into an fd of "/a/b" and "c" (in name, NAME_MAX + 1 bytes). */
static int
open_parent (const char *path, char *name, struct al_error *err)
{
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "`%s`", path);
  size_t len = strlen (copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  char *slash = strrchr (copy, '/');
  const char *base = slash ? slash + 1 : copy;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0
      || strlen (base) > NAME_MAX)
    return al_error_reason (err, EINVAL, "`%s`: not a name for a new directory", path);
  strcpy (name, base);
  const char *parent = slash == NULL ? "." : slash == copy ? "/" : copy;
  if (slash && slash != copy)
    *slash = '\0';
  int fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "`%s`", parent);
  return fd;
}

static int
undo_commit (struct al_snap *s, const char *tmp, struct al_error *err)
{
  char name[NAME_MAX + 1];
  cleanup_close int parent = open_parent (tmp, name, err);
  if (parent < 0)
    return parent == -ENOENT ? 0 : al_error_wrap (err, "sandbox `%s`: commit", s->name);
  int r = al_tree_remove (parent, name, err);
  if (r < 0 && r != -ENOENT)
    return al_error_wrap (err, "sandbox `%s`: remove what a commit left", s->name);
  return 0;
}

/* Finish or undo what meta.json says was in progress. */
static int
finish_pending (struct al_snap *s, struct al_error *err)
{
  if (s->pending == NULL)
    return 0;
  const char *op = json_string_value (json_object_get (s->pending, "op"));
  int r = 0;
  if (op && strcmp (op, "delete") == 0)
    {
      const char *tag = json_string_value (json_object_get (s->pending, "tag"));
      const char *lower = json_string_value (json_object_get (s->pending, "lower"));
      const char *upper = json_string_value (json_object_get (s->pending, "upper"));
      if (tag == NULL || lower == NULL || upper == NULL || !state_name_ok (lower)
          || !state_name_ok (upper) || !is_referenced (s, upper))
        return bad_meta (s, "bad \"pending\"", err);
      struct stat st;
      if (fstatat (s->fd, lower, &st, AT_SYMLINK_NOFOLLOW) == 0 && s->ops->merge)
        {
          r = s->ops->merge (s->fd, lower, upper, err);
          if (r < 0)
            return al_error_wrap (err, "sandbox `%s`: delete `%s`", s->name, tag);
        }
      remove_snap_rec (s, tag);
    }
  else if (op && strcmp (op, "commit") == 0)
    {
      const char *tmp = json_string_value (json_object_get (s->pending, "tmp"));
      if (tmp == NULL || tmp[0] != '/')
        return bad_meta (s, "bad \"pending\"", err);
      if ((r = undo_commit (s, tmp, err)) < 0)
        return r;
    }
  else
    return bad_meta (s, "unknown \"pending\" operation", err);
  json_decref (s->pending);
  s->pending = NULL;
  int r2 = save_meta (s, err);
  return r2 < 0 ? al_error_wrap (err, "sandbox `%s`: repair", s->name) : 0;
}

/* meta.json may name a writable state not made yet: a btrfs rollback
 * (al_snap_rollback) killed between its meta.json and its new state.
 * Make it as the rollback would have: from the last snapshot, or the
 * base. */
static int
ensure_current (struct al_snap *s, struct al_error *err)
{
  struct stat st;
  if (s->current[0] == '\0' || fstatat (s->fd, s->current, &st, AT_SYMLINK_NOFOLLOW) == 0
      || errno != ENOENT)
    return 0;
  int r = s->ops->new_state (s->fd, s->base, s->current, s->n ? s->snaps[s->n - 1].state : NULL,
                             s->uid, s->gid, err);
  return r < 0 ? al_error_wrap (err, "sandbox `%s`: repair", s->name) : 0;
}

/* Take the store's lock and make it whole. */
static int
lock_and_repair (struct al_snap *s, struct al_error *err)
{
  while (flock (s->fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return al_error_set (err, errno, "sandbox `%s`: lock the store", s->name);
  int r = load_meta (s, err);
  if (r == 0)
    r = finish_pending (s, err);
  if (r == 0)
    r = ensure_current (s, err);
  if (r == 0)
    r = trash_unreferenced (s, err);
  if (r < 0)
    flock (s->fd, LOCK_UN);
  return r;
}

static int
unlock (struct al_snap *s, int r)
{
  flock (s->fd, LOCK_UN);
  return r;
}

/* Called without the store's lock: what is in the trash is referenced by
 * nothing (a change trashes only after meta.json no longer names it, and
 * nothing comes back out), so only two emptiers must not meet: one at a
 * time holds TRASH_LOCK, and another finds it busy and leaves the work
 * to it (an open right after a rollback does not wait for the deletion). */
static int
empty_trash (struct al_snap *s, struct al_error *err)
{
  cleanup_close int lock = openat (s->fd, TRASH_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (lock < 0 && errno == ENOENT)
    lock = openat (s->fd, TRASH_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  /* One that cannot be made (a full filesystem) is held by nobody either;
   * emptying the trash is then what frees space. */
  if (lock >= 0 && flock (lock, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK ? 0
                                : al_error_set (err, errno, "sandbox `%s`: lock " TRASH_LOCK, s->name);
  cleanup_dir DIR *d = fdopendir (openat (s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d == NULL)
    return al_error_set (err, errno, "sandbox `%s`: read the store", s->name);
  for (;;)
    {
      errno = 0;
      struct dirent *e = readdir (d);
      if (e == NULL)
        return errno ? al_error_set (err, errno, "sandbox `%s`: read the store", s->name) : 0;
      if (strncmp (e->d_name, TRASH, sizeof TRASH - 1) != 0)
        continue;
      int r = s->ops->remove (s->fd, e->d_name, err);
      if (r < 0 && r != -ENOENT)
        return al_error_wrap (err, "sandbox `%s`: empty the trash", s->name);
      al_snap_crash ("gc");
    }
}

int
al_snap_gc (struct al_snap *s, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  unlock (s, 0);
  return empty_trash (s, err);
}

/* ------------------------------------------------------------- open */

static char *
sandbox_name (const char *dir)
{
  cleanup_free char *copy = strdup (dir);
  if (copy == NULL)
    return NULL;
  size_t len = strlen (copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  char *slash = strrchr (copy, '/');
  char *base = slash ? slash + 1 : copy;
  if (strcmp (base, "store") == 0 && slash && slash != copy)
    {
      *slash = '\0';
      char *up = strrchr (copy, '/');
      return strdup (up ? up + 1 : copy);
    }
  return strdup (base);
}

static struct al_snap *
new_handle (const char *dir)
{
  struct al_snap *s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->fd = -1;
  s->dir = strdup (dir);
  s->name = sandbox_name (dir);
  if (s->dir == NULL || s->name == NULL)
    {
      al_snap_close (s);
      return NULL;
    }
  return s;
}

void
al_snap_close (struct al_snap *s)
{
  if (s == NULL)
    return;
  clear_meta (s);
  if (s->fd >= 0)
    close (s->fd);
  free (s->dir);
  free (s->name);
  free (s);
}

int
al_snap_open (const char *dir, struct al_snap **ret, struct al_error *err)
{
  struct al_snap *s = new_handle (dir);
  if (s == NULL)
    return al_error_set (err, ENOMEM, "open store `%s`", dir);
  s->fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->fd < 0)
    {
      int r = al_error_set (err, errno, "sandbox `%s`: store `%s`", s->name, dir);
      al_snap_close (s);
      return r;
    }
  int r = lock_and_repair (s, err);
  if (r == 0)
    {
      unlock (s, 0);
      r = empty_trash (s, err);
    }
  if (r < 0)
    {
      al_snap_close (s);
      return r;
    }
  *ret = s;
  return 0;
}

static void
now (struct timespec *ts)
{
  clock_gettime (CLOCK_REALTIME, ts);
}

static void
state_name (unsigned k, char buf[STATE_MAX])
{
  snprintf (buf, STATE_MAX, "s%04u", k);
}

/* Remove a store directory being built (parent_fd/name) and all in it. */
static void
discard_store (const struct al_snap_backend_ops *ops, int parent_fd, const char *name)
{
  struct al_error scratch = { 0 };
  cleanup_close int fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && ops)
    {
      cleanup_dir DIR *d = fdopendir (openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      struct dirent *e;
      while (d && (e = readdir (d)) != NULL)
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
          {
            if (ops->remove (fd, e->d_name, &scratch) < 0)
              al_tree_remove (fd, e->d_name, &scratch);
          }
    }
  al_tree_remove (parent_fd, name, &scratch);
}

/* A new store directory: built as "NAME.tmp-XXXXXX" beside it by fill,
 * then renamed to dir. */
static int
make_store (const char *dir, struct al_snap *s,
            int (*fill) (struct al_snap *s, int fd, void *arg, struct al_error *err), void *arg,
            struct al_error *err)
{
  char name[NAME_MAX + 1];
  cleanup_close int parent = open_parent (dir, name, err);
  if (parent < 0)
    return al_error_wrap (err, "sandbox `%s`: store", s->name);
  struct stat st;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return al_error_reason (err, EEXIST, "sandbox `%s`: store `%s` exists", s->name, dir);
  char tmp[NAME_MAX + 32];
  bool made = false;
  for (int k = 0; k < 100 && !made; k++)
    {
      snprintf (tmp, sizeof tmp, ".%.200s.tmp-%d-%d", name, (int) getpid (), k);
      if (mkdirat (parent, tmp, 0700) == 0)
        made = true;
      else if (errno != EEXIST)
        return al_error_set (err, errno, "sandbox `%s`: store `%s`", s->name, dir);
    }
  if (!made)
    return al_error_reason (err, EEXIST, "sandbox `%s`: store `%s`: no temporary name", s->name,
                            dir);
  cleanup_close int fd = openat (parent, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = fd < 0 ? al_error_set (err, errno, "sandbox `%s`: store `%s`", s->name, dir)
                 : fill (s, fd, arg, err);
  if (r == 0 && (r = save_meta_fd (s, fd, err)) < 0)
    al_error_wrap (err, "sandbox `%s`: store `%s`", s->name, dir);
  if (r == 0 && syncfs (fd) < 0)
    r = al_error_set (err, errno, "sandbox `%s`: sync the store", s->name);
  if (r == 0 && renameat2 (parent, tmp, parent, name, RENAME_NOREPLACE) < 0)
    r = al_error_set (err, errno, "sandbox `%s`: store `%s`", s->name, dir);
  if (r < 0)
    {
      discard_store (s->ops, parent, tmp);
      return r;
    }
  fsync (parent);
  return 0;
}

static int
fill_new (struct al_snap *s, int fd, void *arg, struct al_error *err)
{
  (void) arg;
  int r = s->ops->init (fd, s->base, s->uid, s->gid, err);
  if (r < 0)
    return al_error_wrap (err, "sandbox `%s`", s->name);
  state_name (s->next++, s->current);
  r = s->ops->new_state (fd, s->base, s->current, NULL, s->uid, s->gid, err);
  return r < 0 ? al_error_wrap (err, "sandbox `%s`", s->name) : 0;
}

int
al_snap_create (const char *dir, const char *base, enum al_snap_backend backend, uid_t uid,
                gid_t gid, struct al_snap **ret, struct al_error *err)
{
  struct al_snap *s = new_handle (dir);
  if (s == NULL)
    return al_error_set (err, ENOMEM, "create store `%s`", dir);
  int r = 0;
  if (base)
    {
      struct stat st;
      if (base[0] != '/')
        r = al_error_reason (err, EINVAL, "sandbox `%s`: base `%s`: not an absolute path", s->name,
                             base);
      else if (stat (base, &st) < 0 || !S_ISDIR (st.st_mode))
        r = al_error_set (err, errno ? errno : ENOTDIR, "sandbox `%s`: base `%s`", s->name, base);
      else if ((s->base = realpath (base, NULL)) == NULL)
        r = al_error_set (err, errno, "sandbox `%s`: base `%s`", s->name, base);
    }
  s->uid = uid;
  s->gid = gid;
  s->next = 1;
  now (&s->created);

  /* The backend is chosen on the parent's filesystem. */
  char name[NAME_MAX + 1];
  cleanup_close int parent = r < 0 ? -1 : open_parent (dir, name, err);
  if (r == 0 && parent < 0)
    r = al_error_wrap (err, "sandbox `%s`: store", s->name);
  if (r == 0)
    {
      if (backend == AL_SNAP_AUTO)
        {
          struct al_error scratch = { 0 };
          backend
              = al_snap_btrfs_ops.probe (parent, &scratch) == 0 ? AL_SNAP_BTRFS : AL_SNAP_OVERLAY;
        }
      s->backend = backend;
      s->ops = backend_ops (backend);
      if (s->ops == NULL)
        r = al_error_reason (err, EINVAL, "sandbox `%s`: unknown backend", s->name);
      else if ((r = s->ops->probe (parent, err)) < 0)
        r = al_error_wrap (err, "sandbox `%s`", s->name);
    }
  if (r == 0)
    r = make_store (dir, s, fill_new, NULL, err);
  if (r == 0)
    {
      s->fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (s->fd < 0)
        r = al_error_set (err, errno, "sandbox `%s`: store `%s`", s->name, dir);
    }
  if (r < 0)
    {
      al_snap_close (s);
      return r;
    }
  *ret = s;
  return 0;
}

/* ------------------------------------------------------------- the chain */

static const char **
chain_of (struct al_snap *s, size_t n, const char *extra)
{
  const char **chain = calloc (n + 2, sizeof *chain);
  if (chain == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    chain[i] = s->snaps[i].state;
  chain[n] = extra;
  return chain;
}

int
al_snap_mount (struct al_snap *s, const char *target, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  cleanup_free const char **chain = chain_of (s, s->n, NULL);
  if (chain == NULL)
    return unlock (s, al_error_set (err, ENOMEM, "sandbox `%s`: mount", s->name));
  r = s->ops->mount (s->fd, s->base, chain, s->n, s->current, target, err);
  if (r < 0)
    al_error_wrap (err, "sandbox `%s`: mount on `%s`", s->name, target);
  return unlock (s, r);
}

static ssize_t
find_tag (struct al_snap *s, const char *tag)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (s->snaps[i].tag, tag) == 0)
      return (ssize_t) i;
  return -1;
}

static int
no_snapshot (struct al_snap *s, const char *tag, struct al_error *err)
{
  if (tag)
    return al_error_reason (err, ENOENT, "sandbox `%s`: no snapshot `%s`", s->name, tag);
  return al_error_reason (err, ENOENT, "sandbox `%s`: no snapshot", s->name);
}

/* Delete snapshot i (the store is locked and whole). */
static int
delete_at (struct al_snap *s, size_t i, struct al_error *err)
{
  char tag[AL_SNAP_TAG_MAX + 1], lower[STATE_MAX], upper[STATE_MAX];
  memcpy (tag, s->snaps[i].tag, sizeof tag);
  memcpy (lower, s->snaps[i].state, sizeof lower);
  memcpy (upper, i + 1 < s->n ? s->snaps[i + 1].state : s->current, sizeof upper);
  int r;
  if (s->ops->merge)
    {
      s->pending = json_pack ("{s:s, s:s, s:s, s:s}", "op", "delete", "tag", tag, "lower", lower,
                              "upper", upper);
      if (s->pending == NULL)
        return al_error_set (err, ENOMEM, "sandbox `%s`: delete `%s`", s->name, tag);
      if ((r = save_meta (s, err)) < 0)
        {
          reload_meta (s);
          return al_error_wrap (err, "sandbox `%s`: delete `%s`", s->name, tag);
        }
      al_snap_crash ("delete-pending");
      /* From here on the delete is finished by whoever gets the store. */
      r = s->ops->merge (s->fd, lower, upper, err);
      if (r < 0)
        return al_error_wrap (err, "sandbox `%s`: delete `%s`", s->name, tag);
      al_snap_crash ("delete-merged");
      json_decref (s->pending);
      s->pending = NULL;
    }
  remove_snap_rec (s, tag);
  if ((r = save_meta (s, err)) < 0)
    {
      reload_meta (s);
      return al_error_wrap (err, "sandbox `%s`: delete `%s`", s->name, tag);
    }
  return to_trash (s, lower, err);
}

int
al_snap_snapshot (struct al_snap *s, const char *tag, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  char auto_tag[AL_SNAP_TAG_MAX + 1];
  if (tag == NULL)
    {
      for (size_t k = s->n + 1;; k++)
        {
          snprintf (auto_tag, sizeof auto_tag, "snap-%zu", k);
          if (find_tag (s, auto_tag) < 0)
            break;
        }
      tag = auto_tag;
    }
  if ((r = al_snap_check_tag (tag, err)) < 0)
    return unlock (s, r);
  if (find_tag (s, tag) >= 0)
    return unlock (
        s, al_error_reason (err, EEXIST, "sandbox `%s`: snapshot `%s` exists", s->name, tag));

  /* Squash: the overlay stack stays within AL_SNAP_MAX_LAYERS lowers (the
   * snapshots and the base), by folding the oldest snapshot into the next
   * one (its tag goes). */
  while (s->ops->merge && s->n + 2 > AL_SNAP_MAX_LAYERS)
    if ((r = delete_at (s, 0, err)) < 0)
      return unlock (s, al_error_wrap (err, "squash the oldest snapshot"));

  struct snap_rec rec = { 0 };
  snprintf (rec.tag, sizeof rec.tag, "%s", tag);
  snprintf (rec.parent, sizeof rec.parent, "%s", s->n ? s->snaps[s->n - 1].tag : "");
  now (&rec.created);

  char snap_name[STATE_MAX], fresh[STATE_MAX];
  state_name (s->next++, snap_name);
  bool in_place = false;
  r = s->ops->freeze (s->fd, s->current, snap_name, &in_place, err);
  if (r < 0)
    {
      al_error_wrap (err, "sandbox `%s`: snapshot `%s`", s->name, tag);
      goto fail;
    }
  al_snap_crash ("snapshot-frozen");
  if (in_place)
    memcpy (rec.state, snap_name, sizeof rec.state);
  else
    {
      memcpy (rec.state, s->current, sizeof rec.state);
      state_name (s->next++, fresh);
      r = s->ops->new_state (s->fd, s->base, fresh, rec.state, s->uid, s->gid, err);
      if (r < 0)
        {
          al_error_wrap (err, "sandbox `%s`: snapshot `%s`", s->name, tag);
          goto fail;
        }
      al_snap_crash ("snapshot-state-made");
      memcpy (s->current, fresh, sizeof s->current);
    }
  struct snap_rec *grown = realloc (s->snaps, (s->n + 1) * sizeof *grown);
  if (grown == NULL)
    {
      r = al_error_set (err, ENOMEM, "sandbox `%s`: snapshot `%s`", s->name, tag);
      goto fail;
    }
  s->snaps = grown;
  s->snaps[s->n++] = rec;
  if ((r = save_meta (s, err)) < 0)
    {
      al_error_wrap (err, "sandbox `%s`: snapshot `%s`", s->name, tag);
      goto fail;
    }
  return unlock (s, 0);

fail:
  /* What was made is unreferenced: trashed now, or by the next open. */
  reload_meta (s);
  struct al_error scratch = { 0 };
  trash_unreferenced (s, &scratch);
  return unlock (s, r);
}

/* What a rollback dropped, once meta.json no longer names it: the old
 * writable state and the snapshots after the tag.  Renames only:
 * al_snap_gc() deletes. */
static int
trash_rolled_back (struct al_snap *s, const char *old, size_t keep, size_t n_old,
                   struct al_error *err)
{
  int r = to_trash (s, old, err);
  for (size_t i = keep; r == 0 && i < n_old; i++)
    r = to_trash (s, s->snaps[i].state, err);
  return r;
}

int
al_snap_rollback (struct al_snap *s, const char *tag, bool to_base, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  size_t keep = 0; /* snapshots that stay */
  if (!to_base)
    {
      ssize_t i = tag ? find_tag (s, tag) : (ssize_t) s->n - 1;
      if (i < 0)
        return unlock (s, no_snapshot (s, tag, err));
      keep = (size_t) i + 1;
    }
  char fresh[STATE_MAX], old[STATE_MAX];
  state_name (s->next++, fresh);
  const char *from = keep ? s->snaps[keep - 1].state : NULL;
  /* Where making the state commits the filesystem (btrfs: a snapshot
   * commits its transaction, and with it every rename before it) and is
   * one atomic step (a snapshot, not an empty subvolume filled after),
   * meta.json goes first, without the directory's fsync: the state's
   * commit makes the rename durable.  Killed in between, the store names
   * a state not made yet, which the next open makes (ensure_current). */
  if (s->ops->new_state_commits && (from != NULL || s->base != NULL))
    {
      size_t n_old = s->n;
      memcpy (old, s->current, sizeof old);
      memcpy (s->current, fresh, sizeof s->current);
      s->n = keep;
      if ((r = save_meta_sync (s, s->fd, false, err)) < 0)
        {
          al_error_wrap (err, "sandbox `%s`: roll back", s->name);
          reload_meta (s);
          return unlock (s, r);
        }
      al_snap_crash ("rollback-meta-saved");
      r = s->ops->new_state (s->fd, s->base, fresh, from, s->uid, s->gid, err);
      if (r < 0)
        {
          /* Back to the old state (or, failing that, the next open makes
           * the new one). */
          al_error_wrap (err, "sandbox `%s`: roll back", s->name);
          struct al_error scratch = { 0 };
          memcpy (s->current, old, sizeof s->current);
          s->n = n_old;
          save_meta (s, &scratch);
          reload_meta (s);
          trash_unreferenced (s, &scratch);
          return unlock (s, r);
        }
      al_snap_crash ("rollback-state-made");
      return unlock (s, trash_rolled_back (s, old, keep, n_old, err));
    }
  r = s->ops->new_state (s->fd, s->base, fresh, from, s->uid, s->gid, err);
  if (r < 0)
    {
      al_error_wrap (err, "sandbox `%s`: roll back", s->name);
      reload_meta (s);
      struct al_error scratch = { 0 };
      trash_unreferenced (s, &scratch);
      return unlock (s, r);
    }
  al_snap_crash ("rollback-state-made");
  size_t n_old = s->n;
  memcpy (old, s->current, sizeof old);
  memcpy (s->current, fresh, sizeof s->current);
  s->n = keep;
  if ((r = save_meta (s, err)) < 0)
    {
      al_error_wrap (err, "sandbox `%s`: roll back", s->name);
      reload_meta (s);
      struct al_error scratch = { 0 };
      trash_unreferenced (s, &scratch);
      return unlock (s, r);
    }
  return unlock (s, trash_rolled_back (s, old, keep, n_old, err));
}

int
al_snap_list (struct al_snap *s, struct al_snap_info **ret, size_t *ret_n, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  struct al_snap_info *info = calloc (s->n ? s->n : 1, sizeof *info);
  if (info == NULL)
    return unlock (s, al_error_set (err, ENOMEM, "sandbox `%s`: list", s->name));
  for (size_t i = 0; i < s->n; i++)
    {
      memcpy (info[i].tag, s->snaps[i].tag, sizeof info[i].tag);
      memcpy (info[i].parent, s->snaps[i].parent, sizeof info[i].parent);
      info[i].created = s->snaps[i].created;
    }
  *ret = info;
  *ret_n = s->n;
  return unlock (s, 0);
}

int
al_snap_delete (struct al_snap *s, const char *tag, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  ssize_t i = find_tag (s, tag);
  if (i < 0)
    return unlock (s, no_snapshot (s, tag, err));
  return unlock (s, delete_at (s, (size_t) i, err));
}

/* ------------------------------------------------------------- views */

struct views
{
  struct al_snap *s;
  ssize_t old_n; /* the old view: the first old_n snapshots; -1: none */
  int (*child) (struct views *v, int old_fd, int new_fd, struct al_error *err);
  int out; /* the child's end of the pipe */
  void *arg;
  int (*on_record) (void *data, char kind, const char *path);
  void *data;
};

static int
send_record (int out, char kind, const char *text)
{
  int r = write_all (out, &kind, 1);
  if (r == 0)
    r = write_all (out, text, strlen (text) + 1);
  return r;
}

static int
mount_view (struct views *v, const char *dir, ssize_t n_snaps, struct al_error *err)
{
  struct al_snap *s = v->s;
  size_t n = n_snaps < 0 ? s->n + 1 : (size_t) n_snaps;
  cleanup_free const char **chain = chain_of (s, s->n, s->current);
  if (chain == NULL)
    return al_error_set (err, ENOMEM, "view");
  char target[PATH_MAX];
  snprintf (target, sizeof target, "/proc/self/fd/%d/%s", s->fd, dir);
  int r = s->ops->mount (s->fd, s->base, chain, n, NULL, target, err);
  if (r < 0)
    return r;
  int fd = openat (s->fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "open the view `%s`", dir);
  return fd;
}

static __attribute__ ((noreturn)) void
view_child (struct views *v, const char *old_dir, const char *new_dir)
{
  struct al_error err = { 0 };
  int r = 0;
  cleanup_close int old_fd = -1, new_fd = -1;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    r = al_error_set (&err, errno, "a mount namespace for the views");
  /* Overlay takes its layers only from mounts of the caller's namespace:
   * the store again, as seen from the new one. */
  if (r == 0 && (v->s->fd = open (v->s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    r = al_error_set (&err, errno, "open the store `%s`", v->s->dir);
  if (r == 0 && v->old_n >= 0 && (r = old_fd = mount_view (v, old_dir, v->old_n, &err)) >= 0)
    r = 0;
  if (r == 0 && (r = new_fd = mount_view (v, new_dir, -1, &err)) >= 0)
    r = 0;
  if (r == 0)
    r = v->child (v, old_fd, new_fd, &err);
  if (r < 0)
    {
      char msg[AL_ERROR_MSG_MAX + 16];
      snprintf (msg, sizeof msg, "%d:%s", err.errnum, err.msg);
      send_record (v->out, 'E', msg);
      _exit (1);
    }
  _exit (0);
}

/* Run v->child in a child with the views mounted; records it sends go to
 * v->on_record. */
static int
run_views (struct views *v, struct al_error *err)
{
  struct al_snap *s = v->s;
  char old_dir[64], new_dir[64];
  snprintf (old_dir, sizeof old_dir, "view-%d-old", (int) getpid ());
  snprintf (new_dir, sizeof new_dir, "view-%d-new", (int) getpid ());
  if ((mkdirat (s->fd, old_dir, 0700) < 0 && errno != EEXIST)
      || (mkdirat (s->fd, new_dir, 0700) < 0 && errno != EEXIST))
    return al_error_set (err, errno, "sandbox `%s`: mkdir a view", s->name);
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return al_error_set (err, errno, "sandbox `%s`: pipe", s->name);
  pid_t parent = getpid ();
  cleanup_pid pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return al_error_set (err, errno, "sandbox `%s`: fork", s->name);
    }
  if (pid == 0)
    {
      /* It shares the store's lock: it must not outlive us (a SIGKILLed
         commit would go on copying, and hold the lock). */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (1);
      close (p[0]);
      v->out = p[1];
      view_child (v, old_dir, new_dir);
    }
  close (p[1]);
  cleanup_file FILE *in = fdopen (p[0], "r");
  if (in == NULL)
    {
      close (p[0]);
      return al_error_set (err, errno, "sandbox `%s`: read the view", s->name);
    }
  int r = 0;
  bool child_error = false;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  for (;;)
    {
      int kind = fgetc (in);
      if (kind == EOF)
        break;
      ssize_t len = getdelim (&line, &cap, '\0', in);
      if (len < 0)
        break;
      if (kind == 'E')
        {
          int errnum = atoi (line);
          const char *msg = strchr (line, ':');
          al_error_reason (err, errnum ? errnum : EIO, "%s", msg ? msg + 1 : line);
          r = al_error_code (err);
          child_error = true;
          break;
        }
      if (v->on_record && (r = v->on_record (v->data, (char) kind, line)) != 0)
        break; /* cleanup_pid stops the child */
    }
  if (r == 0 || child_error)
    {
      int status;
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      pid = 0;
      if (r == 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
        r = al_error_reason (err, EIO, "sandbox `%s`: the view process %s %d", s->name,
                             WIFSIGNALED (status) ? "died of signal" : "exited with",
                             WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
    }
  else
    {
      al_killpidp (&pid);
      pid = 0;
    }
  unlinkat (s->fd, old_dir, AT_REMOVEDIR);
  unlinkat (s->fd, new_dir, AT_REMOVEDIR);
  return r;
}

static int
diff_record (void *data, char kind, const char *path)
{
  int out = *(int *) data;
  return send_record (out, kind, path);
}

static int
diff_child (struct views *v, int old_fd, int new_fd, struct al_error *err)
{
  struct al_snap *s = v->s;
  if (s->ops->diff == NULL)
    return al_tree_diff (old_fd, new_fd, diff_record, &v->out, err);
  size_t from = (size_t) v->old_n;
  cleanup_free const char **above = chain_of (s, s->n, s->current);
  if (above == NULL)
    return al_error_set (err, ENOMEM, "diff");
  return s->ops->diff (s->fd, s->base, above + from, s->n + 1 - from, old_fd, new_fd, diff_record,
                       &v->out, err);
}

int
al_snap_diff (struct al_snap *s, const char *tag,
              int (*cb) (void *data, char kind, const char *path), void *data, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  ssize_t old_n = (ssize_t) s->n;
  if (tag)
    {
      ssize_t i = find_tag (s, tag);
      if (i < 0)
        return unlock (s, no_snapshot (s, tag, err));
      old_n = i + 1;
    }
  struct views v = { .s = s, .old_n = old_n, .child = diff_child, .on_record = cb, .data = data };
  r = run_views (&v, err);
  if (r < 0 && err->errnum != 0)
    al_error_wrap (err, "sandbox `%s`: diff", s->name);
  return unlock (s, r);
}

/* ------------------------------------------------------------- commit */

struct commit
{
  int tmp_fd;
  bool exists;
};

static int
commit_child (struct views *v, int old_fd, int new_fd, struct al_error *err)
{
  (void) old_fd;
  struct commit *c = v->arg;
  /* With the host's system directories as base, those stay the host's:
     the commit holds their mount points, empty. */
  unsigned flags = AL_TREE_SKIP_OVERLAY_XATTRS | (v->s->base == NULL ? AL_TREE_ONE_FS : 0);
  int r = c->exists ? al_tree_sync_opts (new_fd, c->tmp_fd, flags, err)
                    : al_tree_copy_opts (new_fd, c->tmp_fd, flags, err);
  if (r < 0)
    return r;
  al_snap_crash ("commit-copied");
  return 0;
}

int
al_snap_commit (struct al_snap *s, const char *dir, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  char name[NAME_MAX + 1], tmp[NAME_MAX + 1], parent_path[PATH_MAX];
  cleanup_close int parent = open_parent (dir, name, err);
  if (parent < 0)
    return unlock (s, al_error_wrap (err, "sandbox `%s`: commit", s->name));
  char pp[64];
  snprintf (pp, sizeof pp, "/proc/self/fd/%d", parent);
  ssize_t pl = readlink (pp, parent_path, sizeof parent_path - 1);
  if (pl < 0)
    return unlock (s, al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir));
  parent_path[pl] = '\0';

  struct stat st;
  struct commit c = { .tmp_fd = -1 };
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return unlock (s, al_error_reason (err, ENOTDIR,
                                           "sandbox `%s`: commit `%s`: not a "
                                           "directory",
                                           s->name, dir));
      c.exists = true;
    }
  else if (errno != ENOENT)
    return unlock (s, al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir));

  /* The temporary name is recorded before it is made. */
  bool free_name = false;
  for (int k = 0; k < 100 && !free_name; k++)
    {
      snprintf (tmp, sizeof tmp, "%.200s.tmp-%d-%d", name, (int) getpid (), k);
      free_name = fstatat (parent, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
    }
  if (!free_name)
    return unlock (s, al_error_reason (err, EEXIST, "sandbox `%s`: commit `%s`: no temporary name",
                                       s->name, dir));
  char full[PATH_MAX + NAME_MAX + 2];
  snprintf (full, sizeof full, "%s/%s", strcmp (parent_path, "/") ? parent_path : "", tmp);
  s->pending = json_pack ("{s:s, s:s}", "op", "commit", "tmp", full);
  if (s->pending == NULL)
    r = al_error_set (err, ENOMEM, "sandbox `%s`: commit", s->name);
  else if ((r = save_meta (s, err)) < 0)
    al_error_wrap (err, "sandbox `%s`: commit `%s`", s->name, dir);
  if (r < 0)
    {
      reload_meta (s);
      return unlock (s, r);
    }
  al_snap_crash ("commit-pending");
  if (mkdirat (parent, tmp, 0700) < 0)
    r = al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir);

  cleanup_close int tmp_fd
      = r < 0 ? -1 : openat (parent, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (r == 0 && tmp_fd < 0)
    r = al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir);
  if (r == 0 && c.exists)
    {
      /* A hard-link farm of dir, where only what changed is replaced:
       * dir's own files are never written. */
      cleanup_close int old
          = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (old < 0)
        r = al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir);
      else if ((r = al_tree_link_clone (old, tmp_fd, err)) < 0)
        al_error_wrap (err, "sandbox `%s`: commit `%s`", s->name, dir);
      al_snap_crash ("commit-linked");
    }
  if (r == 0)
    {
      c.tmp_fd = tmp_fd;
      struct views v = { .s = s, .old_n = -1, .child = commit_child, .arg = &c };
      if ((r = run_views (&v, err)) < 0)
        al_error_wrap (err, "sandbox `%s`: commit `%s`", s->name, dir);
    }
  if (r == 0 && syncfs (tmp_fd) < 0)
    r = al_error_set (err, errno, "sandbox `%s`: commit `%s`: sync", s->name, dir);
  if (r == 0)
    {
      al_snap_crash ("commit-synced");
      if (renameat2 (parent, tmp, parent, name, c.exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
        r = al_error_set (err, errno, "sandbox `%s`: commit `%s`", s->name, dir);
    }
  if (r == 0)
    {
      al_snap_crash ("commit-renamed");
      if (fsync (parent) < 0)
        r = al_error_set (err, errno, "sandbox `%s`: commit `%s`: sync", s->name, dir);
    }
  /* Either way what is left at tmp goes: the new tree if it failed, the
   * old one after an exchange. */
  struct al_error scratch = { 0 };
  int u = undo_commit (s, full, r < 0 ? &scratch : err);
  if (r == 0 && u < 0)
    r = u;
  json_decref (s->pending);
  s->pending = NULL;
  int m = save_meta (s, r < 0 ? &scratch : err);
  if (r == 0 && m < 0)
    r = al_error_wrap (err, "sandbox `%s`: commit `%s`", s->name, dir);
  return unlock (s, r);
}

/* ------------------------------------------------------------- clone */

static int
fill_clone (struct al_snap *c, int fd, void *arg, struct al_error *err)
{
  struct al_snap *s = arg;
  int r = c->ops->init (fd, c->base, c->uid, c->gid, err);
  if (r < 0)
    return al_error_wrap (err, "sandbox `%s`: clone", c->name);
  for (size_t i = 0; i < s->n; i++)
    if ((r = s->ops->share (s->fd, s->snaps[i].state, fd, s->snaps[i].state, false, err)) < 0)
      return al_error_wrap (err, "sandbox `%s`: clone `%s`", c->name, s->snaps[i].tag);
  if ((r = s->ops->share (s->fd, s->current, fd, s->current, true, err)) < 0)
    return al_error_wrap (err, "sandbox `%s`: clone", c->name);
  return 0;
}

int
al_snap_clone (struct al_snap *s, const char *dir, struct al_snap **ret, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  if (s->ops->share == NULL)
    return unlock (s, al_error_reason (err, EOPNOTSUPP,
                                       "sandbox `%s`: the %s backend cannot "
                                       "clone",
                                       s->name, s->ops->name));
  struct al_snap *c = new_handle (dir);
  if (c == NULL)
    return unlock (s, al_error_set (err, ENOMEM, "sandbox `%s`: clone", s->name));
  c->backend = s->backend;
  c->ops = s->ops;
  c->uid = s->uid;
  c->gid = s->gid;
  c->next = s->next;
  memcpy (c->current, s->current, sizeof c->current);
  now (&c->created);
  c->snaps = calloc (s->n ? s->n : 1, sizeof *c->snaps);
  if (c->snaps == NULL || (s->base && (c->base = strdup (s->base)) == NULL))
    r = al_error_set (err, ENOMEM, "sandbox `%s`: clone", s->name);
  else
    {
      memcpy (c->snaps, s->snaps, s->n * sizeof *c->snaps);
      c->n = s->n;
      r = make_store (dir, c, fill_clone, s, err);
    }
  al_snap_close (c);
  unlock (s, 0);
  if (r < 0)
    return r;
  return al_snap_open (dir, ret, err);
}

/* ------------------------------------------------------------- the rest */

int
al_snap_destroy (struct al_snap *s, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  /* Gone at once under its own name, then emptied. */
  char name[NAME_MAX + 1], trash[NAME_MAX + 64];
  cleanup_close int parent = open_parent (s->dir, name, err);
  if (parent < 0)
    return unlock (s, al_error_wrap (err, "sandbox `%s`: destroy", s->name));
  snprintf (trash, sizeof trash, ".%.200s.destroy-%d", name, (int) getpid ());
  if (renameat2 (parent, name, parent, trash, RENAME_NOREPLACE) < 0)
    return unlock (s, al_error_set (err, errno, "sandbox `%s`: destroy `%s`", s->name, s->dir));
  fsync (parent);
  cleanup_dir DIR *d = fdopendir (openat (s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d == NULL)
    return unlock (s, al_error_set (err, errno, "sandbox `%s`: destroy", s->name));
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (strcmp (e->d_name, META) == 0)
        continue;
      if ((r = s->ops->remove (s->fd, e->d_name, err)) < 0 && r != -ENOENT)
        return unlock (s, al_error_wrap (err, "sandbox `%s`: destroy", s->name));
    }
  unlinkat (s->fd, META, 0);
  unlock (s, 0);
  if (unlinkat (parent, trash, AT_REMOVEDIR) < 0)
    return al_error_set (err, errno, "sandbox `%s`: destroy: remove `%s`", s->name, trash);
  return 0;
}

struct usage
{
  uint64_t bytes;
  void *seen;
};

static int
ino_cmp (const void *a, const void *b)
{
  const struct stat *x = a, *y = b;
  if (x->st_dev != y->st_dev)
    return x->st_dev < y->st_dev ? -1 : 1;
  return x->st_ino < y->st_ino ? -1 : x->st_ino > y->st_ino;
}

static void
usage_walk (struct usage *u, int fd)
{
  cleanup_dir DIR *d = fdopendir (openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (st.st_nlink > 1 && !S_ISDIR (st.st_mode))
        {
          struct stat *key = malloc (sizeof *key);
          if (key == NULL)
            continue;
          *key = st;
          void *slot = tsearch (key, &u->seen, ino_cmp);
          if (slot == NULL || *(struct stat **) slot != key)
            {
              free (key);
              continue; /* counted */
            }
        }
      u->bytes += (uint64_t) st.st_blocks * 512;
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub
              = openat (fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            usage_walk (u, sub);
        }
    }
}

int
al_snap_usage (struct al_snap *s, uint64_t *ret_bytes, struct al_error *err)
{
  int r = lock_and_repair (s, err);
  if (r < 0)
    return r;
  struct usage u = { 0 };
  cleanup_dir DIR *d = fdopendir (openat (s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0
          || strcmp (e->d_name, "base") == 0)
        continue;
      struct stat st;
      if (fstatat (s->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      u.bytes += (uint64_t) st.st_blocks * 512;
      cleanup_close int sub
          = openat (s->fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0)
        usage_walk (&u, sub);
    }
  tdestroy (u.seen, free);
  *ret_bytes = u.bytes;
  return unlock (s, 0);
}
