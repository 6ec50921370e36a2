/* state.c — see state.h. */
#include "config.h"

#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

#ifndef AL_OCI_VERSION
#define AL_OCI_VERSION "1.2.0"
#endif

#define STATE_FILE "state.json"
#define STATE_FORMAT_VERSION 1
/* Hidden names for entries being built; '~' is not valid in an id, so they
 * never collide with a container and listing skips them. */
#define NEW_ENTRY_PREFIX ".~new."
/* Times an open retries when the entry it locked was replaced meanwhile. */
#define OPEN_RETRIES 64
/* Directories nested inside a container entry that removal descends. */
#define REMOVE_DEPTH_MAX 16
#define PROC_STAT_MAX 4096
/* Room for ROOT/ID/state.json in messages; longer ones are truncated. */
#define MSG_PATH_MAX (PATH_MAX + NAME_MAX + 16)

struct al_state_handle
{
  int root_fd;
  int dir_fd; /* the container directory, flocked */
  char *root;
  char *id;
  bool exclusive;
  bool removed;
};

static void
handle_closep (struct al_state_handle **h)
{
  al_state_close (*h);
}

static void
state_freep (struct al_state **s)
{
  al_state_free (*s);
}

#define cleanup_handle __attribute__ ((cleanup (handle_closep)))
#define cleanup_state __attribute__ ((cleanup (state_freep)))
/* json_decrefp comes with jansson. */
#define cleanup_json __attribute__ ((cleanup (json_decrefp)))

/* ------------------------------------------------------------------ ids */

/* The id as it can be shown in a message: bounded, with bytes that are not
 * printable ASCII escaped. */
static void
quote_id (const char *id, char *buf, size_t size)
{
  static const size_t shown_max = 48;
  size_t out = 0, i;

  for (i = 0; id[i] != '\0' && i < shown_max && out + 5 < size; i++)
    {
      unsigned char c = (unsigned char) id[i];
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
        out += (size_t) snprintf (buf + out, size - out, "\\x%02x", c);
      else
        buf[out++] = (char) c;
    }
  if (id[i] != '\0' && out + 4 < size)
    {
      memcpy (buf + out, "...", 3);
      out += 3;
    }
  buf[out] = '\0';
}

static bool
id_char_allowed (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '+' || c == '-' || c == '.';
}

int
al_state_validate_id (const char *id, struct al_error *err)
{
  static const char allowed[] = "allowed: letters, digits, '_', '+', '-', '.'";
  char q[256];

  if (id == NULL || id[0] == '\0')
    return al_error_reason (err, EINVAL, "invalid container id \"\": must not be empty");
  quote_id (id, q, sizeof q);
  if (strnlen (id, AL_STATE_ID_MAX + 1) > AL_STATE_ID_MAX)
    return al_error_reason (err, EINVAL, "invalid container id \"%s\": longer than %d bytes", q,
                            AL_STATE_ID_MAX);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return al_error_reason (err, EINVAL, "invalid container id \"%s\": must not be \".\" or \"..\"",
                            q);
  for (const unsigned char *p = (const unsigned char *) id; *p; p++)
    {
      if (*p == '/')
        return al_error_reason (err, EINVAL, "invalid container id \"%s\": must not contain '/'",
                                q);
      if (*p < 0x20 || *p == 0x7f)
        return al_error_reason (err, EINVAL,
                                "invalid container id \"%s\": must not contain control character "
                                "0x%02x",
                                q, *p);
      if (id_char_allowed (*p))
        continue;
      if (*p < 0x80)
        return al_error_reason (
            err, EINVAL, "invalid container id \"%s\": must not contain '%c' (%s)", q, *p, allowed);
      return al_error_reason (err, EINVAL,
                              "invalid container id \"%s\": must not contain byte 0x%02x (%s)", q,
                              *p, allowed);
    }
  return 0;
}

/* ------------------------------------------------------------------ status */

static const char *const status_names[] = {
  [AL_STATUS_CREATED] = "created",
  [AL_STATUS_RUNNING] = "running",
  [AL_STATUS_PAUSED] = "paused",
  [AL_STATUS_STOPPED] = "stopped",
};

const char *
al_status_to_string (enum al_status status)
{
  if ((unsigned) status >= sizeof status_names / sizeof status_names[0])
    return NULL;
  return status_names[status];
}

int
al_status_from_string (const char *s, enum al_status *ret_status)
{
  for (size_t i = 0; s && i < sizeof status_names / sizeof status_names[0]; i++)
    if (strcmp (s, status_names[i]) == 0)
      {
        *ret_status = (enum al_status) i;
        return 0;
      }
  return -EINVAL;
}

/* ------------------------------------------------------------------ time */

int
al_state_format_time (const struct timespec *ts, char *buf, size_t size)
{
  if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
    return -EINVAL;

  struct tm tm;
  time_t t = ts->tv_sec;
  if (gmtime_r (&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
    return -EOVERFLOW;

  /* Go's RFC3339Nano: nanoseconds without trailing zeros, no dot for 0. */
  char frac[24] = "";
  if (ts->tv_nsec != 0)
    {
      snprintf (frac, sizeof frac, ".%09ld", (long) ts->tv_nsec);
      size_t n = strlen (frac);
      while (frac[n - 1] == '0')
        frac[--n] = '\0';
    }
  int n = snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  if (n < 0 || (size_t) n >= size)
    return -EOVERFLOW;
  return 0;
}

static bool
parse_digits (const char *p, int n, int *ret)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (p[i] < '0' || p[i] > '9')
        return false;
      v = v * 10 + (p[i] - '0');
    }
  *ret = v;
  return true;
}

/* The inverse of al_state_format_time: YYYY-MM-DDTHH:MM:SS[.1-9 digits]Z. */
static int
parse_time (const char *s, struct timespec *ret)
{
  int year, mon, mday, hour, min, sec;

  if (strnlen (s, 20) < 20 || !parse_digits (s, 4, &year) || s[4] != '-'
      || !parse_digits (s + 5, 2, &mon) || s[7] != '-' || !parse_digits (s + 8, 2, &mday)
      || s[10] != 'T' || !parse_digits (s + 11, 2, &hour) || s[13] != ':'
      || !parse_digits (s + 14, 2, &min) || s[16] != ':' || !parse_digits (s + 17, 2, &sec))
    return -EINVAL;

  const char *p = s + 19;
  long nsec = 0;
  if (*p == '.')
    {
      int digits = 0;
      for (p++; *p >= '0' && *p <= '9'; p++)
        {
          if (++digits > 9)
            return -EINVAL;
          nsec = nsec * 10 + (*p - '0');
        }
      if (digits == 0)
        return -EINVAL;
      for (; digits < 9; digits++)
        nsec *= 10;
    }
  if (p[0] != 'Z' || p[1] != '\0')
    return -EINVAL;

  struct tm tm = { .tm_year = year - 1900,
                   .tm_mon = mon - 1,
                   .tm_mday = mday,
                   .tm_hour = hour,
                   .tm_min = min,
                   .tm_sec = sec };
  time_t t = timegm (&tm);
  /* timegm normalises 02-30 into March: a changed field was out of range. */
  if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != mday || tm.tm_hour != hour
      || tm.tm_min != min || tm.tm_sec != sec)
    return -EINVAL;
  ret->tv_sec = t;
  ret->tv_nsec = nsec;
  return 0;
}

/* ------------------------------------------------------------------ record */

struct al_state *
al_state_new (void)
{
  struct al_state *s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->status = AL_STATUS_CREATED;
  clock_gettime (CLOCK_REALTIME, &s->created);
  return s;
}

struct al_state *
al_state_free (struct al_state *state)
{
  if (state == NULL)
    return NULL;
  free (state->id);
  free (state->bundle);
  free (state->rootfs);
  free (state->owner);
  free (state->cgroup_path);
  json_decref (state->annotations);
  json_decref (state->extra);
  free (state);
  return NULL;
}

static bool
is_string_object (const json_t *obj)
{
  const char *key;
  json_t *value;

  if (!json_is_object (obj))
    return false;
  json_object_foreach ((json_t *) obj, key, value)
  {
    if (!json_is_string (value))
      return false;
  }
  return true;
}

/* ------------------------------------------------------------------ processes */

/* Fields 3 (state) and 22 (starttime) of /proc/PID/stat.  The command name
 * (field 2) may hold spaces and parentheses, so fields count from the last
 * ')'. */
static int
read_proc_stat (pid_t pid, char *ret_state, unsigned long long *ret_start, struct al_error *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);

  cleanup_free char *buf = NULL;
  int ret = al_read_file (AT_FDCWD, path, PROC_STAT_MAX, &buf, NULL, err);
  if (ret < 0)
    return ret;

  char *p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ' || p[2] == '\0')
    return al_error_reason (err, EINVAL, "`%s`: unexpected format", path);
  p += 2;
  char state = *p;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return al_error_reason (err, EINVAL, "`%s`: unexpected format", path);
      p++;
    }
  char *end;
  errno = 0;
  unsigned long long start = strtoull (p, &end, 10);
  if (errno != 0 || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
    return al_error_reason (err, EINVAL, "`%s`: unexpected starttime", path);
  *ret_state = state;
  *ret_start = start;
  return 0;
}

int
al_state_pid_start_time (pid_t pid, unsigned long long *ret_start_time, struct al_error *err)
{
  char state;
  unsigned long long start;

  if (pid <= 0)
    return al_error_reason (err, EINVAL, "invalid pid %d", (int) pid);
  int ret = read_proc_stat (pid, &state, &start, err);
  if (ret == -ENOENT || ret == -ESRCH)
    return al_error_reason (err, ESRCH, "process %d does not exist", (int) pid);
  if (ret < 0)
    return ret;
  *ret_start_time = start;
  return 0;
}

/* false when pid is certainly not the process recorded: gone, a zombie, or a
 * different process (PID reuse) with another start time. */
static bool
pid_is_current (pid_t pid, unsigned long long start_time)
{
  cleanup_close int pidfd = -1;

#ifdef SYS_pidfd_open
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  /* EINVAL: pid is now a thread of some other process. */
  if (pidfd < 0 && (errno == ESRCH || errno == EINVAL))
    return false;
#endif
  if (pidfd < 0 && kill (pid, 0) < 0 && errno == ESRCH)
    return false;

  char state;
  unsigned long long start;
  int ret = read_proc_stat (pid, &state, &start, NULL);
  if (ret == -ENOENT || ret == -ESRCH)
    return false;
  if (ret == 0)
    {
      if (state == 'Z' || state == 'X' || state == 'x')
        return false;
      if (start_time != 0 && start != start_time)
        return false;
    }
  /* A pidfd turns readable once its process has exited (zombie included):
   * this closes the window between the checks above. */
  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      if (poll (&pfd, 1, 0) > 0)
        return false;
    }
  /* ret < 0 (e.g. /proc mounted hidepid): the signal check is all we have. */
  return true;
}

void
al_state_refresh (struct al_state *state)
{
  if (state == NULL)
    return;
  if (state->status != AL_STATUS_STOPPED && state->pid > 0
      && pid_is_current (state->pid, state->pid_start_time))
    return;
  state->status = AL_STATUS_STOPPED;
  state->pid = 0;
  state->pid_start_time = 0;
}

/* ------------------------------------------------------------------ state.json */

static int bad_state (struct al_error *err, const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
bad_state (struct al_error *err, const char *path, const char *fmt, ...)
{
  char why[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (why, sizeof why, fmt, ap);
  va_end (ap);
  return al_error_reason (err, EBADMSG, "`%s`: %s", path, why);
}

static int
get_string (json_t *obj, const char *key, bool required, char **ret, const char *path,
            struct al_error *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return bad_state (err, path, "missing \"%s\"", key);
      return 0;
    }
  if (!json_is_string (v))
    return bad_state (err, path, "\"%s\" must be a string", key);
  *ret = strdup (json_string_value (v));
  if (*ret == NULL)
    return al_error_set (err, ENOMEM, "read `%s`", path);
  return 0;
}

static int
get_integer (json_t *obj, const char *key, bool required, json_int_t max, json_int_t *ret,
             const char *path, struct al_error *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      if (required)
        return bad_state (err, path, "missing \"%s\"", key);
      return 0;
    }
  if (!json_is_integer (v) || json_integer_value (v) < 0 || json_integer_value (v) > max)
    return bad_state (err, path, "\"%s\" must be an integer from 0 to %lld", key, (long long) max);
  *ret = json_integer_value (v);
  return 0;
}

static int
parse_state (const char *path, const char *expected_id, const char *buf, size_t len,
             struct al_state **ret_state, struct al_error *err)
{
  json_error_t jerr;
  cleanup_json json_t *root = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return bad_state (err, path, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  if (!json_is_object (root))
    return bad_state (err, path, "not a JSON object");

  json_int_t version = 0;
  int ret = get_integer (root, "version", true, INT_MAX, &version, path, err);
  if (ret < 0)
    return ret;
  if (version != STATE_FORMAT_VERSION)
    return bad_state (err, path, "format version %lld is not %d, the one this airlock reads",
                      (long long) version, STATE_FORMAT_VERSION);

  cleanup_state struct al_state *s = calloc (1, sizeof *s);
  if (s == NULL)
    return al_error_set (err, ENOMEM, "read `%s`", path);

  cleanup_free char *status = NULL, *created = NULL;
  json_int_t pid = 0, start = 0;
  if ((ret = get_string (root, "id", true, &s->id, path, err)) < 0
      || (ret = get_string (root, "status", true, &status, path, err)) < 0
      || (ret = get_integer (root, "pid", true, INT_MAX, &pid, path, err)) < 0
      || (ret = get_integer (root, "pid_start_time", false, LLONG_MAX, &start, path, err)) < 0
      || (ret = get_string (root, "bundle", true, &s->bundle, path, err)) < 0
      || (ret = get_string (root, "rootfs", true, &s->rootfs, path, err)) < 0
      || (ret = get_string (root, "created", true, &created, path, err)) < 0
      || (ret = get_string (root, "owner", false, &s->owner, path, err)) < 0
      || (ret = get_string (root, "cgroup_path", false, &s->cgroup_path, path, err)) < 0)
    return ret;

  if (strcmp (s->id, expected_id) != 0)
    return bad_state (err, path, "records id \"%.64s\", not \"%s\"", s->id, expected_id);
  if (al_status_from_string (status, &s->status) < 0)
    return bad_state (err, path, "unknown \"status\" \"%.32s\"", status);
  if (s->bundle[0] != '/')
    return bad_state (err, path, "\"bundle\" must be an absolute path");
  if (parse_time (created, &s->created) < 0)
    return bad_state (err, path, "\"created\" is not an RFC 3339 UTC time: \"%.64s\"", created);
  s->pid = (pid_t) pid;
  s->pid_start_time = (unsigned long long) start;
  if (s->owner == NULL && (s->owner = strdup ("")) == NULL)
    return al_error_set (err, ENOMEM, "read `%s`", path);

  json_t *annotations = json_object_get (root, "annotations");
  if (annotations != NULL && !json_is_null (annotations))
    {
      if (!is_string_object (annotations))
        return bad_state (err, path, "\"annotations\" must be an object of strings");
      s->annotations = json_incref (annotations);
    }
  json_t *extra = json_object_get (root, "airlock");
  if (extra != NULL)
    {
      if (!json_is_object (extra))
        return bad_state (err, path, "\"airlock\" must be an object");
      s->extra = json_incref (extra);
    }

  *ret_state = al_steal_ptr (&s);
  return 0;
}

/* Read DIR/state.json, where dir_fd is ROOT/ID; nothing is refreshed. */
static int
read_state_at (int dir_fd, const char *root, const char *id, struct al_state **ret_state,
               struct al_error *err)
{
  char path[MSG_PATH_MAX];
  snprintf (path, sizeof path, "%s/%s/%s", root, id, STATE_FILE);

  cleanup_free char *buf = NULL;
  size_t len = 0;
  int ret = al_read_file (dir_fd, STATE_FILE, AL_STATE_FILE_MAX, &buf, &len, err);
  if (ret == -ENOENT)
    return bad_state (err, path, "missing (the container entry is incomplete)");
  if (ret == -EFBIG)
    return bad_state (err, path, "larger than %d bytes", AL_STATE_FILE_MAX);
  if (ret < 0)
    return al_error_set (err, -ret, "read `%s`", path);
  return parse_state (path, id, buf, len, ret_state, err);
}

static int
set_string (json_t *obj, const char *key, const char *value, struct al_error *err)
{
  json_t *v = json_string (value);
  /* jansson refuses strings that are not UTF-8, which paths need not be. */
  if (v == NULL)
    return al_error_reason (err, EINVAL, "\"%s\" cannot be stored: not valid UTF-8", key);
  if (json_object_set_new (obj, key, v) < 0)
    return al_error_set (err, ENOMEM, "\"%s\"", key);
  return 0;
}

static int
set_json (json_t *obj, const char *key, json_t *value, struct al_error *err)
{
  if (value == NULL || json_object_set_new (obj, key, value) < 0)
    return al_error_set (err, ENOMEM, "\"%s\"", key);
  return 0;
}

static int
state_to_json (const struct al_state *s, const char *id, json_t **ret_json, struct al_error *err)
{
  char created[AL_STATE_TIME_MAX];
  const char *status = al_status_to_string (s->status);

  if (status == NULL)
    return al_error_reason (err, EINVAL, "unknown status %d", (int) s->status);
  if (s->bundle == NULL || s->bundle[0] != '/')
    return al_error_reason (err, EINVAL, "bundle must be an absolute path");
  if (s->rootfs == NULL)
    return al_error_reason (err, EINVAL, "rootfs is not set");
  if (s->pid < 0)
    return al_error_reason (err, EINVAL, "invalid pid %d", (int) s->pid);
  if (s->pid_start_time > (unsigned long long) LLONG_MAX)
    return al_error_reason (err, EINVAL, "invalid pid start time %llu", s->pid_start_time);
  if (s->annotations != NULL && !is_string_object (s->annotations))
    return al_error_reason (err, EINVAL, "annotations must be an object of strings");
  if (s->extra != NULL && !json_is_object (s->extra))
    return al_error_reason (err, EINVAL, "the airlock extra record must be an object");
  if (al_state_format_time (&s->created, created, sizeof created) < 0)
    return al_error_reason (err, EINVAL, "invalid creation time");

  cleanup_json json_t *o = json_object ();
  int ret;
  if (o == NULL)
    return al_error_set (err, ENOMEM, "encode state");
  if ((ret = set_json (o, "version", json_integer (STATE_FORMAT_VERSION), err)) < 0
      || (ret = set_string (o, "id", id, err)) < 0
      || (ret = set_string (o, "status", status, err)) < 0
      || (ret = set_json (o, "pid", json_integer (s->pid), err)) < 0
      || (ret = set_json (o, "pid_start_time", json_integer ((json_int_t) s->pid_start_time), err))
             < 0
      || (ret = set_string (o, "bundle", s->bundle, err)) < 0
      || (ret = set_string (o, "rootfs", s->rootfs, err)) < 0
      || (ret = set_string (o, "created", created, err)) < 0
      || (ret = set_string (o, "owner", s->owner ? s->owner : "", err)) < 0
      || (s->annotations
          && (ret = set_json (o, "annotations", json_incref (s->annotations), err)) < 0)
      || (s->cgroup_path && (ret = set_string (o, "cgroup_path", s->cgroup_path, err)) < 0)
      || (s->extra && (ret = set_json (o, "airlock", json_incref (s->extra), err)) < 0))
    return ret;
  *ret_json = al_steal_ptr (&o);
  return 0;
}

/* ------------------------------------------------------------------ handles */

static int
does_not_exist (struct al_error *err, const char *id)
{
  return al_error_reason (err, ENOENT, "%s: container does not exist", id);
}

static int
lock_entry (int fd, int flags)
{
  int op
      = (flags & AL_STATE_SHARED ? LOCK_SH : LOCK_EX) | (flags & AL_STATE_NONBLOCK ? LOCK_NB : 0);
  while (flock (fd, op) < 0)
    if (errno != EINTR)
      return -errno;
  return 0;
}

/* 1 when fd is still the directory ROOT/ID, 0 when that was removed or
 * replaced.  While fd is open its inode cannot be freed, so its number
 * cannot be reused by a new entry. */
static int
still_linked (int root_fd, const char *id, int fd)
{
  struct stat mine, now;
  if (fstat (fd, &mine) < 0)
    return -errno;
  if (mine.st_nlink == 0)
    return 0;
  if (fstatat (root_fd, id, &now, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -errno;
  return mine.st_dev == now.st_dev && mine.st_ino == now.st_ino;
}

static int
open_existing (struct al_state_handle *h, int flags, struct al_error *err)
{
  for (int i = 0; i < OPEN_RETRIES; i++)
    {
      cleanup_close int fd
          = openat (h->root_fd, h->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        return does_not_exist (err, h->id);
      if (fd < 0)
        return al_error_set (err, errno, "%s: open `%s/%s`", h->id, h->root, h->id);

      int ret = lock_entry (fd, flags);
      if (ret == -EWOULDBLOCK)
        return al_error_reason (err, EWOULDBLOCK, "%s: container is locked by another process",
                                h->id);
      if (ret < 0)
        return al_error_set (err, -ret, "%s: lock `%s/%s`", h->id, h->root, h->id);

      /* Waiting may have outlived the entry: removed, or removed and
       * created anew.  Start over; openat then says which. */
      ret = still_linked (h->root_fd, h->id, fd);
      if (ret < 0)
        return al_error_set (err, -ret, "%s: stat `%s/%s`", h->id, h->root, h->id);
      if (ret == 0)
        continue;
      h->dir_fd = al_steal_fd (&fd);
      return 0;
    }
  return al_error_reason (err, EBUSY, "%s: container keeps being removed and created; giving up",
                          h->id);
}

static int
already_exists (struct al_error *err, const char *id)
{
  return al_error_reason (err, EEXIST, "%s: container already exists", id);
}

/* Build the entry under a hidden name, lock it, and only then rename it into
 * place, so nobody sees it unlocked and a second creator gets EEXIST. */
static int
create_new (struct al_state_handle *h, int flags, struct al_error *err)
{
  char tmp[64];
  for (int attempt = 0;; attempt++)
    {
      uint64_t rnd;
      if (getrandom (&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd)
        rnd = ((uint64_t) getpid () << 32) ^ (uint64_t) attempt ^ (uint64_t) time (NULL);
      snprintf (tmp, sizeof tmp, NEW_ENTRY_PREFIX "%016llx", (unsigned long long) rnd);
      if (mkdirat (h->root_fd, tmp, 0700) == 0)
        break;
      if (errno != EEXIST || attempt >= 16)
        return al_error_set (err, errno, "%s: create `%s/%s`", h->id, h->root, tmp);
    }

  cleanup_close int fd = openat (h->root_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int saved = errno;
      unlinkat (h->root_fd, tmp, AT_REMOVEDIR);
      return al_error_set (err, saved, "%s: lock `%s/%s`", h->id, h->root, tmp);
    }
  if (renameat2 (h->root_fd, tmp, h->root_fd, h->id, RENAME_NOREPLACE) == 0)
    {
      h->dir_fd = al_steal_fd (&fd);
      return 0;
    }
  int saved = errno;
  unlinkat (h->root_fd, tmp, AT_REMOVEDIR);
  if (saved == EEXIST)
    return already_exists (err, h->id);
  if (saved != EINVAL && saved != ENOSYS)
    return al_error_set (err, saved, "%s: rename `%s/%s` into place", h->id, h->root, tmp);

  /* This filesystem has no RENAME_NOREPLACE: claim the id with mkdir and
   * accept a short window in which another process may lock the entry
   * before we do (it then reads "incomplete"). */
  if (mkdirat (h->root_fd, h->id, 0700) < 0)
    {
      if (errno == EEXIST)
        return already_exists (err, h->id);
      return al_error_set (err, errno, "%s: create `%s/%s`", h->id, h->root, h->id);
    }
  return open_existing (h, flags & ~AL_STATE_SHARED, err);
}

int
al_state_open (const char *root, const char *id, int flags, struct al_state_handle **ret_handle,
               struct al_error *err)
{
  const int known = AL_STATE_CREATE | AL_STATE_SHARED | AL_STATE_NONBLOCK;
  bool create = (flags & AL_STATE_CREATE) != 0;

  if (flags & ~known)
    return al_error_reason (err, EINVAL, "state: unknown open flags %#x",
                            (unsigned) (flags & ~known));
  if (create && (flags & AL_STATE_SHARED))
    return al_error_reason (err, EINVAL, "state: a new container can only be locked exclusively");
  if (root == NULL)
    root = AL_STATE_DEFAULT_ROOT;
  if (root[0] == '\0')
    return al_error_reason (err, EINVAL, "state: the root directory is an empty path");
  int ret = al_state_validate_id (id, err);
  if (ret < 0)
    return ret;
  if (strlen (id) > NAME_MAX)
    return al_error_reason (err, ENAMETOOLONG,
                            "invalid container id \"%.32s...\": longer than %d bytes, too long "
                            "for a directory name",
                            id, NAME_MAX);

  cleanup_handle struct al_state_handle *h = calloc (1, sizeof *h);
  if (h == NULL)
    return al_error_set (err, ENOMEM, "%s: open state", id);
  h->root_fd = h->dir_fd = -1;
  h->exclusive = !(flags & AL_STATE_SHARED);
  h->root = strdup (root);
  h->id = strdup (id);
  if (h->root == NULL || h->id == NULL)
    return al_error_set (err, ENOMEM, "%s: open state", id);

  if (create && (ret = al_mkdir_p (AT_FDCWD, root, 0700, err)) < 0)
    return al_error_wrap (err, "%s: create state root", id);
  h->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (h->root_fd < 0)
    {
      if (errno == ENOENT && !create)
        return does_not_exist (err, id);
      return al_error_set (err, errno, "%s: open state root `%s`", id, root);
    }

  ret = create ? create_new (h, flags, err) : open_existing (h, flags, err);
  if (ret < 0)
    return ret;
  *ret_handle = al_steal_ptr (&h);
  return 0;
}

struct al_state_handle *
al_state_close (struct al_state_handle *handle)
{
  if (handle == NULL)
    return NULL;
  /* close, not LOCK_UN: a forked child closing its copy must not drop the
   * parent's lock. */
  if (handle->dir_fd >= 0)
    close (handle->dir_fd);
  if (handle->root_fd >= 0)
    close (handle->root_fd);
  free (handle->root);
  free (handle->id);
  free (handle);
  return NULL;
}

const char *
al_state_handle_id (const struct al_state_handle *handle)
{
  return handle->id;
}

int
al_state_dir_fd (const struct al_state_handle *handle)
{
  return handle->dir_fd;
}

int
al_state_load (const char *root, const char *id, struct al_state **ret_state,
               struct al_error *err)
{
  struct al_state_handle *h = NULL;
  int ret = al_state_open (root, id, AL_STATE_SHARED, &h, err);
  if (ret < 0)
    return ret;
  ret = al_state_read (h, ret_state, err);
  al_state_close (h);
  return ret;
}

int
al_state_read (struct al_state_handle *h, struct al_state **ret_state, struct al_error *err)
{
  struct al_state *s = NULL;

  if (h->removed)
    return does_not_exist (err, h->id);
  int ret = read_state_at (h->dir_fd, h->root, h->id, &s, err);
  if (ret < 0)
    return al_error_wrap (err, "%s", h->id);
  al_state_refresh (s);
  *ret_state = s;
  return 0;
}

int
al_state_write (struct al_state_handle *h, const struct al_state *state, struct al_error *err)
{
  if (h->removed)
    return does_not_exist (err, h->id);
  if (!h->exclusive)
    return al_error_reason (err, EINVAL, "%s: writing the state needs the exclusive lock", h->id);
  if (state->id != NULL && strcmp (state->id, h->id) != 0)
    return al_error_reason (err, EINVAL, "%s: state is for container \"%.64s\"", h->id, state->id);

  cleanup_json json_t *o = NULL;
  int ret = state_to_json (state, h->id, &o, err);
  if (ret < 0)
    return al_error_wrap (err, "%s: write state", h->id);
  cleanup_free char *text = json_dumps (o, JSON_COMPACT);
  if (text == NULL)
    return al_error_set (err, ENOMEM, "%s: write state", h->id);
  size_t len = strlen (text);
  /* Never write what al_state_read would refuse. */
  if (len > AL_STATE_FILE_MAX)
    return al_error_reason (err, EFBIG, "%s: write state: record is %zu bytes, the limit is %d",
                            h->id, len, AL_STATE_FILE_MAX);
  ret = al_write_runtime_file (h->dir_fd, STATE_FILE, text, len, 0600, err);
  if (ret < 0)
    return al_error_wrap (err, "%s: write state", h->id);
  return 0;
}

/* Empty the directory dir_fd, descending at most REMOVE_DEPTH_MAX levels and
 * never into another filesystem (a mount left behind keeps its contents). */
static int
remove_contents (int dir_fd, dev_t dev, int depth, struct al_error *err)
{
  int fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "open directory");
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      int saved = errno;
      close (fd);
      return al_error_set (err, saved, "open directory");
    }

  for (;;)
    {
      errno = 0;
      struct dirent *de = readdir (d);
      if (de == NULL)
        {
          if (errno != 0)
            return al_error_set (err, errno, "read directory");
          return 0;
        }
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dir_fd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR)
        return al_error_set (err, errno, "remove `%s`", de->d_name);
      if (depth >= REMOVE_DEPTH_MAX)
        return al_error_reason (err, ELOOP, "remove `%s`: nested more than %d directories deep",
                                de->d_name, REMOVE_DEPTH_MAX);

      cleanup_close int sub
          = openat (dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 && errno == ENOENT)
        continue;
      struct stat st;
      if (sub < 0 || fstat (sub, &st) < 0)
        return al_error_set (err, errno, "remove `%s`", de->d_name);
      if (st.st_dev != dev)
        return al_error_reason (err, EBUSY, "remove `%s`: another filesystem is mounted there",
                                de->d_name);
      int ret = remove_contents (sub, dev, depth + 1, err);
      if (ret < 0)
        return al_error_wrap (err, "%s", de->d_name);
      if (unlinkat (dir_fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return al_error_set (err, errno, "remove `%s`", de->d_name);
    }
}

int
al_state_remove (struct al_state_handle *h, struct al_error *err)
{
  struct stat st;

  if (h->removed)
    return does_not_exist (err, h->id);
  if (!h->exclusive)
    return al_error_reason (err, EINVAL, "%s: removal needs the exclusive lock", h->id);
  if (fstat (h->dir_fd, &st) < 0)
    return al_error_set (err, errno, "%s: stat `%s/%s`", h->id, h->root, h->id);

  /* The record goes first: should removal stop half-way, what is left reads
   * as an incomplete entry that a later removal finishes. */
  if (unlinkat (h->dir_fd, STATE_FILE, 0) < 0 && errno != ENOENT)
    return al_error_set (err, errno, "%s: remove `%s/%s/%s`", h->id, h->root, h->id, STATE_FILE);
  int ret = remove_contents (h->dir_fd, st.st_dev, 0, err);
  if (ret < 0)
    return al_error_wrap (err, "%s: remove `%s/%s`", h->id, h->root, h->id);

  ret = still_linked (h->root_fd, h->id, h->dir_fd);
  if (ret < 0)
    return al_error_set (err, -ret, "%s: stat `%s/%s`", h->id, h->root, h->id);
  if (ret > 0 && unlinkat (h->root_fd, h->id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return al_error_set (err, errno, "%s: remove `%s/%s`", h->id, h->root, h->id);
  h->removed = true;
  return 0;
}

/* ------------------------------------------------------------------ listing */

static int
compare_ids (const void *a, const void *b)
{
  const struct al_state *const *x = a, *const *y = b;
  return strcmp ((*x)->id, (*y)->id);
}

/* For an entry whose state could not be read: true when that is expected
 * (it vanished, or is being created or removed), false when it is broken. */
static bool
entry_in_transition (int root_fd, const char *id, int fd)
{
  if (still_linked (root_fd, id, fd) == 0)
    return true;
  if (faccessat (fd, STATE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  return false;
}

int
al_state_list (const char *root, struct al_state ***ret_states, size_t *ret_count,
               size_t *ret_skipped, struct al_error *err)
{
  struct al_state **states = NULL;
  size_t count = 0, cap = 0, skipped = 0;
  int ret = 0;

  if (root == NULL)
    root = AL_STATE_DEFAULT_ROOT;
  cleanup_close int root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 && errno != ENOENT)
    return al_error_set (err, errno, "list: open state root `%s`", root);

  cleanup_dir DIR *d = NULL;
  if (root_fd >= 0)
    {
      int fd = openat (root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || (d = fdopendir (fd)) == NULL)
        {
          ret = al_error_set (err, errno, "list: open state root `%s`", root);
          if (fd >= 0)
            close (fd);
          return ret;
        }
    }

  while (d != NULL)
    {
      errno = 0;
      struct dirent *de = readdir (d);
      if (de == NULL)
        {
          if (errno != 0)
            ret = al_error_set (err, errno, "list: read state root `%s`", root);
          break;
        }
      if (al_state_validate_id (de->d_name, NULL) < 0)
        continue;

      cleanup_close int fd
          = openat (root_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          if (errno != ENOENT)
            skipped++;
          continue;
        }
      struct al_state *s = NULL;
      struct al_error e = { 0 };
      if (read_state_at (fd, root, de->d_name, &s, &e) < 0)
        {
          if (e.errnum == ENOMEM)
            {
              ret = al_error_set (err, ENOMEM, "list `%s`", root);
              break;
            }
          if (!entry_in_transition (root_fd, de->d_name, fd))
            skipped++;
          continue;
        }
      al_state_refresh (s);

      if (count + 1 >= cap)
        {
          size_t ncap = cap ? cap * 2 : 16;
          struct al_state **n = realloc (states, ncap * sizeof *n);
          if (n == NULL)
            {
              al_state_free (s);
              ret = al_error_set (err, ENOMEM, "list `%s`", root);
              break;
            }
          states = n;
          cap = ncap;
        }
      states[count++] = s;
    }

  if (ret == 0 && states == NULL && (states = calloc (1, sizeof *states)) == NULL)
    ret = al_error_set (err, ENOMEM, "list `%s`", root);
  if (ret < 0)
    {
      for (size_t i = 0; i < count; i++)
        al_state_free (states[i]);
      free (states);
      return ret;
    }
  states[count] = NULL;
  qsort (states, count, sizeof *states, compare_ids);
  *ret_states = states;
  if (ret_count)
    *ret_count = count;
  if (ret_skipped)
    *ret_skipped = skipped;
  return 0;
}

void
al_state_list_free (struct al_state **states)
{
  if (states == NULL)
    return;
  for (struct al_state **p = states; *p; p++)
    al_state_free (*p);
  free (states);
}

/* ------------------------------------------------------------------ OCI */

json_t *
al_state_to_oci_json (const struct al_state *state)
{
  const char *status = al_status_to_string (state->status);
  pid_t pid = state->status == AL_STATUS_STOPPED ? 0 : state->pid;

  cleanup_json json_t *o = json_object ();
  if (o == NULL || status == NULL
      || json_object_set_new (o, "ociVersion", json_string (AL_OCI_VERSION)) < 0
      || json_object_set_new (o, "id", json_string (state->id ? state->id : "")) < 0
      || json_object_set_new (o, "status", json_string (status)) < 0
      || json_object_set_new (o, "pid", json_integer (pid)) < 0
      || json_object_set_new (o, "bundle", json_string (state->bundle ? state->bundle : "")) < 0)
    return NULL;
  if (json_is_object (state->annotations) && json_object_size (state->annotations) > 0
      && json_object_set_new (o, "annotations", json_deep_copy (state->annotations)) < 0)
    return NULL;
  return al_steal_ptr (&o);
}
