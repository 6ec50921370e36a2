/* named.c — see named.h. */
#include "config.h"

#include "named.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "file.h"
#include "process.h"
#include "state.h"

#define META "sandbox.json"
#define STORE "store"
#define LOCK "lock"
#define RUNNING "running"
#define INIT "init"               /* the id of its init's run, while it may live */
#define INIT_LOG "init.log"       /* the init's stdout and stderr */
#define INIT_RESULT "init.result" /* how the last init ended */
#define AUDIT "audit.log"

struct al_named
{
  char root[PATH_MAX];
  char name[AL_NAMED_NAME_MAX + 1];
  char dir[PATH_MAX];   /* ROOT/~named/NAME */
  char store[PATH_MAX]; /* .../store */
  json_t *meta;         /* sandbox.json */
  unsigned slot;
  uint32_t uid;
  int lock_fd; /* held while we work on it; -1 */
};

/* ------------------------------------------------------------- helpers */

int
al_named_check_name (const char *name, struct al_error *err)
{
  size_t n = name ? strlen (name) : 0;
  if (n == 0 || n > AL_NAMED_NAME_MAX)
    return al_error_reason (err, EINVAL, "sandbox name `%s`: 1 to %d characters",
                            name ? name : "", AL_NAMED_NAME_MAX);
  if (name[0] == '.' || name[0] == '-'
      || strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-") != n)
    return al_error_reason (err, EINVAL,
                            "sandbox name `%s`: use letters, digits and _.+- (not first . or -)",
                            name);
  return 0;
}

static void
now_rfc3339 (char *buf, size_t size, uint64_t plus_ms)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t) (plus_ms / 1000);
  ts.tv_nsec += (long) (plus_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L)
    {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
  al_state_format_time (&ts, buf, size);
}

static const char *
user_name (void)
{
  const char *u = getenv ("SUDO_USER");
  if (u == NULL || u[0] == '\0')
    u = getenv ("USER");
  if (u == NULL || u[0] == '\0')
    u = getenv ("LOGNAME");
  return u && u[0] ? u : (getuid () == 0 ? "root" : "unknown");
}

static int
named_dir (const char *root, char *buf, size_t size, struct al_error *err)
{
  if (snprintf (buf, size, "%s/" AL_NAMED_DIR, root) >= (int) size)
    return al_error_reason (err, ENAMETOOLONG, "--root `%s`: too long", root);
  return 0;
}

/* One JSON line per operation in ROOT/~named/audit.log (O_APPEND: lines
 * of concurrent writers do not interleave).  Failing to log is a warning
 * on stderr, never the operation's failure. */
static void
audit (const char *root, const char *op, const char *name, json_t *args, int ret,
       const struct al_error *err)
{
  char dir[PATH_MAX], path[PATH_MAX + 16], when[AL_STATE_TIME_MAX];
  struct al_error e = { 0 };
  now_rfc3339 (when, sizeof when, 0);
  json_t *line = json_pack ("{s:s, s:I, s:s, s:i, s:s, s:s?, s:o, s:s}", "time", when, "uid",
                            (json_int_t) getuid (), "user", user_name (), "pid", (int) getpid (),
                            "op", op, "sandbox", name, "args", args ? args : json_object (),
                            "result", ret < 0 ? "error" : "ok");
  if (line && ret < 0 && err)
    json_object_set_new (line, "error", json_string (err->msg));
  char *text = line ? json_dumps (line, JSON_COMPACT) : NULL;
  json_decref (line);
  int fd = -1;
  if (text && named_dir (root, dir, sizeof dir, &e) == 0 && al_mkdir_p (AT_FDCWD, dir, 0700, &e) == 0)
    {
      snprintf (path, sizeof path, "%s/" AUDIT, dir);
      fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
  size_t len = text ? strlen (text) : 0;
  if (text)
    text[len] = '\n'; /* json_dumps leaves room for the NUL: overwrite it */
  if (fd < 0 || write (fd, text, len + 1) != (ssize_t) len + 1)
    fprintf (stderr, "airlock: warning: audit log: %s\n", e.msg[0] ? e.msg : strerror (errno));
  if (fd >= 0)
    close (fd);
  free (text);
}

/* -------------------------------------------------------------- options */

static json_t *
opts_to_json (const struct al_sandbox_opts *o)
{
  static const char *const nets[] = { "none", "loopback", "host", "private" };
  json_t *binds = json_array (), *tmpfs = json_array (), *env = json_array (),
         *caps = json_array ();
  for (size_t i = 0; i < o->n_binds; i++)
    json_array_append_new (binds, json_pack ("{s:s, s:s, s:b}", "src", o->binds[i].src, "dst",
                                             o->binds[i].dst, "ro", o->binds[i].read_only));
  for (size_t i = 0; i < o->n_tmpfs; i++)
    json_array_append_new (tmpfs, json_pack ("{s:s, s:I}", "dst", o->tmpfs[i].dst, "size",
                                             (json_int_t) o->tmpfs[i].size));
  for (size_t i = 0; i < o->n_env; i++)
    json_array_append_new (env, json_string (o->env[i]));
  for (size_t i = 0; i < o->n_cap_add; i++)
    json_array_append_new (caps, json_string (o->cap_add[i]));
  json_t *j = json_pack (
      "{s:s?, s:o, s:o, s:s?, s:b, s:o, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
      "s:I, s:o, s:s?, s:s}",
      "rootfs", o->rootfs, "binds", binds, "tmpfs", tmpfs, "workdir", o->workdir, "read_only",
      o->read_only, "env", env, "clear_env", o->clear_env, "memory", (json_int_t) o->memory,
      "memory_swap", (json_int_t) o->memory_swap, "pids", (json_int_t) o->pids, "cpus_milli",
      (json_int_t) o->cpus_milli, "cpu_ms", (json_int_t) o->cpu_ms, "wall_ms",
      (json_int_t) o->wall_ms, "nofile", (json_int_t) o->nofile, "fsize", (json_int_t) o->fsize,
      "disk", (json_int_t) o->disk, "output_limit", (json_int_t) o->output_limit, "user",
      (json_int_t) (o->has_user ? (int64_t) o->uid : -1), "cap_add", caps, "seccomp", o->seccomp,
      "network", nets[o->network]);
  if (j && o->has_user)
    json_object_set_new (j, "group", json_integer (o->gid));
  return j;
}

static uint64_t
u64 (json_t *o, const char *key)
{
  json_int_t v = json_integer_value (json_object_get (o, key));
  return v > 0 ? (uint64_t) v : 0;
}

static const char *
str_or_null (json_t *o, const char *key)
{
  return json_string_value (json_object_get (o, key));
}

int
al_named_load_opts (struct al_named *n, struct al_sandbox_opts *o, struct al_error *err)
{
  json_t *j = json_object_get (n->meta, "options");
  if (!json_is_object (j))
    return al_error_reason (err, EINVAL, "sandbox `%s`: " META " has no options", n->name);
  o->rootfs = str_or_null (j, "rootfs");
  o->workdir = str_or_null (j, "workdir");
  o->seccomp = str_or_null (j, "seccomp");
  o->read_only = json_is_true (json_object_get (j, "read_only"));
  o->clear_env = json_is_true (json_object_get (j, "clear_env"));
  o->memory = u64 (j, "memory");
  o->memory_swap = u64 (j, "memory_swap");
  o->pids = u64 (j, "pids");
  o->cpus_milli = u64 (j, "cpus_milli");
  o->cpu_ms = u64 (j, "cpu_ms");
  o->wall_ms = u64 (j, "wall_ms");
  o->nofile = u64 (j, "nofile");
  o->fsize = u64 (j, "fsize");
  o->disk = u64 (j, "disk");
  o->output_limit = u64 (j, "output_limit");
  json_int_t user = json_integer_value (json_object_get (j, "user"));
  o->has_user = json_is_integer (json_object_get (j, "user")) && user >= 0;
  o->uid = o->has_user ? (uint32_t) user : 0;
  o->gid = o->has_user ? (uint32_t) json_integer_value (json_object_get (j, "group")) : 0;
  const char *net = str_or_null (j, "network");
  o->network = net == NULL || strcmp (net, "none") == 0 ? AL_SANDBOX_NET_NONE
               : strcmp (net, "loopback") == 0          ? AL_SANDBOX_NET_LOOPBACK
               : strcmp (net, "host") == 0              ? AL_SANDBOX_NET_HOST
                                                        : AL_SANDBOX_NET_PRIVATE;

  json_t *a = json_object_get (j, "binds");
  size_t i;
  json_t *v;
  o->n_binds = json_array_size (a);
  o->binds = calloc (o->n_binds + 1, sizeof *o->binds);
  json_array_foreach (a, i, v)
    o->binds[i] = (struct al_sandbox_bind){ .src = strdup (str_or_null (v, "src") ?: "/"),
                                             .dst = strdup (str_or_null (v, "dst") ?: "/"),
                                             .read_only = json_is_true (json_object_get (v, "ro")) };
  a = json_object_get (j, "tmpfs");
  o->n_tmpfs = json_array_size (a);
  o->tmpfs = calloc (o->n_tmpfs + 1, sizeof *o->tmpfs);
  json_array_foreach (a, i, v)
    o->tmpfs[i] = (struct al_sandbox_tmpfs){ .dst = strdup (str_or_null (v, "dst") ?: "/tmp"),
                                              .size = u64 (v, "size") };
  a = json_object_get (j, "env");
  o->n_env = json_array_size (a);
  o->env = calloc (o->n_env + 1, sizeof *o->env);
  json_array_foreach (a, i, v)
    o->env[i] = json_string_value (v);
  a = json_object_get (j, "cap_add");
  o->n_cap_add = json_array_size (a);
  o->cap_add = calloc (o->n_cap_add + 1, sizeof *o->cap_add);
  json_array_foreach (a, i, v)
    o->cap_add[i] = strdup (json_string_value (v) ?: "");
  if (o->binds == NULL || o->tmpfs == NULL || o->env == NULL || o->cap_add == NULL)
    return al_error_set (err, ENOMEM, "sandbox `%s`", n->name);
  return 0;
}

/* ------------------------------------------------------------ open, lock */

static int
paths (struct al_named *n, const char *root, const char *name, struct al_error *err)
{
  int r = al_named_check_name (name, err);
  if (r < 0)
    return r;
  snprintf (n->root, sizeof n->root, "%s", root);
  snprintf (n->name, sizeof n->name, "%s", name);
  if (snprintf (n->dir, sizeof n->dir, "%s/" AL_NAMED_DIR "/%s", root, name) >= (int) sizeof n->dir
      || snprintf (n->store, sizeof n->store, "%s/" STORE, n->dir) >= (int) sizeof n->store)
    return al_error_reason (err, ENAMETOOLONG, "--root `%s`: too long", root);
  return 0;
}

int
al_named_open (const char *root, const char *name, struct al_named **ret, struct al_error *err)
{
  struct al_named *n = calloc (1, sizeof *n);
  if (n == NULL)
    return al_error_set (err, ENOMEM, "sandbox `%s`", name);
  n->lock_fd = -1;
  int r = paths (n, root, name, err);
  if (r < 0)
    {
      al_named_free (n);
      return r;
    }
  cleanup_free char *buf = NULL;
  size_t len = 0;
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/" META, n->dir);
  struct al_error e = { 0 };
  if (al_read_file (AT_FDCWD, path, 1 << 20, &buf, &len, &e) < 0)
    {
      al_named_free (n);
      if (e.errnum == ENOENT)
        return al_error_reason (err, ENOENT, "no sandbox `%s`", name);
      return al_error_reason (err, e.errnum, "sandbox `%s`: %s", name, e.msg);
    }
  json_error_t jerr;
  n->meta = json_loadb (buf, len, 0, &jerr);
  if (!json_is_object (n->meta))
    {
      al_named_free (n);
      return al_error_reason (err, EINVAL, "sandbox `%s`: " META ":%d:%d: %s", name, jerr.line,
                              jerr.column, jerr.text);
    }
  n->slot = (unsigned) json_integer_value (json_object_get (n->meta, "slot"));
  n->uid = (uint32_t) json_integer_value (json_object_get (n->meta, "uid"));
  *ret = n;
  return 0;
}

void
al_named_free (struct al_named *n)
{
  if (n == NULL)
    return;
  if (n->lock_fd >= 0)
    close (n->lock_fd);
  json_decref (n->meta);
  free (n);
}

/* The id in file (RUNNING: of the exec running alone; INIT: of the
 * init's run), "" when none. */
static void
running_id (const struct al_named *n, const char *file, char *id, size_t size)
{
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/%s", n->dir, file);
  id[0] = '\0';
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t len = fd >= 0 ? read (fd, id, size - 1) : -1;
  id[len > 0 ? len : 0] = '\0';
  id[strcspn (id, "\n")] = '\0';
}

/* Take the sandbox's lock; with stop, an exec running in it is killed
 * first (named.h). */
static int
open_lock (struct al_named *n, struct al_error *err)
{
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/" LOCK, n->dir);
  n->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (n->lock_fd < 0)
    return al_error_set (err, errno, "sandbox `%s`: open its lock", n->name);
  return 0;
}

/* After a wait for the lock: it may have been destroyed meanwhile. */
static int
still_there (struct al_named *n, struct al_error *err)
{
  char path[PATH_MAX + 16];
  struct stat st;
  snprintf (path, sizeof path, "%s/" META, n->dir);
  if (stat (path, &st) < 0)
    return al_error_reason (err, ENOENT, "no sandbox `%s`", n->name);
  return 0;
}

static int
lock (struct al_named *n, bool stop, struct al_error *err)
{
  int r = open_lock (n, err);
  if (r < 0)
    return r;
  if (flock (n->lock_fd, LOCK_EX | LOCK_NB) == 0)
    return 0;
  if (errno != EWOULDBLOCK)
    return al_error_set (err, errno, "sandbox `%s`: lock", n->name);
  char id[AL_SANDBOX_ID_MAX];
  running_id (n, RUNNING, id, sizeof id);
  for (int i = 0; stop && i < 2; i++)
    {
      /* The exec running alone, then the init (and every exec that
       * joined it: they are in its cgroup). */
      struct al_error e = { 0 };
      if (i == 1)
        running_id (n, INIT, id, sizeof id);
      if (id[0] && al_container_kill (n->root, id, SIGKILL, true, &e) < 0 && e.errnum != ENOENT)
        fprintf (stderr, "airlock: warning: sandbox `%s`: stop %s: %s\n", n->name, id, e.msg);
    }
  while (flock (n->lock_fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return al_error_set (err, errno, "sandbox `%s`: lock", n->name);
  return still_there (n, err);
}

static void
unlock (struct al_named *n)
{
  if (n->lock_fd >= 0)
    close (n->lock_fd);
  n->lock_fd = -1;
}

static int
open_store (struct al_named *n, struct al_snap **ret, struct al_error *err)
{
  return al_snap_open (n->store, ret, err); /* its errors name the sandbox */
}

/* ------------------------------------------------------------------ init */

/* Whether its init runs; *id gets its run's id. */
static bool
init_alive (const struct al_named *n, char *id, size_t size)
{
  running_id (n, INIT, id, size);
  if (id[0] == '\0')
    return false;
  struct al_state *st = NULL;
  struct al_error e = { 0 };
  bool alive = al_state_load (n->root, id, &st, &e) == 0 && st->status == AL_STATUS_RUNNING;
  al_state_free (st);
  return alive;
}

/* A detached process's fds 0..2: /dev/null, then out (a file appended
 * to; NULL: /dev/null too). */
static int
detached_stdio (const char *out)
{
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int fd = out ? open (out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600) : null;
  if (null < 0 || fd < 0 || dup2 (null, 0) < 0 || dup2 (fd, 1) < 0 || dup2 (fd, 2) < 0)
    return -errno;
  return 0;
}

struct keeper
{
  int notify_fd; /* to start_init: one 0 byte once the init runs, else why not */
  int lock_fd;
};

static void
keeper_started (void *data)
{
  struct keeper *k = data;
  /* From now on execs join it: they share the lock with the keeper. */
  while (flock (k->lock_fd, LOCK_SH) < 0 && errno == EINTR)
    ;
  char ok = 0;
  if (write (k->notify_fd, &ok, 1) < 0)
    {
      /* start_init is gone: nobody to tell. */
    }
  close (k->notify_fd);
  k->notify_fd = -1;
}

/* The keeper: a process of its own session, output to init.log, that
 * runs the init as `sandbox run` runs a program, on the sandbox's store,
 * with its limits but no wall-clock or CPU-time limit. */
__attribute__ ((noreturn)) static void
keeper (struct al_named *n, const char *id, int notify_fd)
{
  struct keeper k = { .notify_fd = notify_fd, .lock_fd = n->lock_fd };
  struct al_error e = { 0 };
  struct al_log log = { .verb = "sandbox init" };
  char path[PATH_MAX + 32];
  setsid ();
  /* A daemon: no hold on the caller's working directory (a relative
   * --root is made absolute first). */
  char abs[PATH_MAX], name[AL_NAMED_NAME_MAX + 1];
  snprintf (name, sizeof name, "%s", n->name);
  if (realpath (n->root, abs) == NULL || paths (n, abs, name, &e) < 0 || chdir ("/") < 0)
    {
      dprintf (notify_fd, "--root `%s`: %s", n->root, e.msg[0] ? e.msg : strerror (errno));
      _exit (AL_SANDBOX_EXIT_FAILURE);
    }
  snprintf (path, sizeof path, "%s/" INIT_LOG, n->dir);
  if (detached_stdio (path) < 0)
    {
      dprintf (notify_fd, "open `%s`: %s", path, strerror (errno));
      _exit (AL_SANDBOX_EXIT_FAILURE);
    }

  struct al_sandbox_opts o = { 0 };
  int code = AL_SANDBOX_EXIT_FAILURE;
  json_t *a = json_object_get (n->meta, "init");
  char **argv = calloc (json_array_size (a) + 1, sizeof *argv);
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v)
    if (argv)
      argv[i] = (char *) json_string_value (v);
  snprintf (path, sizeof path, "%s/" INIT_RESULT, n->dir);
  if (argv && al_named_load_opts (n, &o, &e) == 0)
    {
      o.root = n->root;
      o.argv = argv;
      o.wall_ms = 0;
      o.cpu_ms = 0;
      o.store = n->store;
      o.has_uid_base = true;
      o.uid_base = n->uid;
      o.id = id;
      o.result_path = path;
      o.log = &log;
      o.started = keeper_started;
      o.started_data = &k;
      code = al_sandbox_run (&o, &e);
    }
  if (k.notify_fd >= 0)
    dprintf (k.notify_fd, "%s", e.msg[0] ? e.msg : "it could not start");
  snprintf (path, sizeof path, "%s/" INIT, n->dir);
  unlink (path);
  _exit (code);
}

/* Start the init sandbox.json names (if any) under a keeper; n holds the
 * lock exclusively, and hands it to the keeper once the init runs (n's
 * descriptor is then closed).  Returns when it runs, or why it did not. */
static int
start_init (struct al_named *n, struct al_error *err)
{
  if (json_array_size (json_object_get (n->meta, "init")) == 0)
    return 0;
  char id[AL_SANDBOX_ID_MAX];
  if (al_sandbox_random_id (AL_SANDBOX_ID_PREFIX, id, sizeof id, err) < 0)
    return -1;
  cleanup_close int dfd = open (n->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "sandbox `%s`: open `%s`", n->name, n->dir);
  int r = al_write_runtime_file (dfd, INIT, id, strlen (id), 0600, err);
  if (r < 0)
    return r;
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return al_error_set (err, errno, "pipe");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (p[0]);
      keeper (n, id, p[1]);
    }
  close (p[1]);
  if (pid < 0)
    {
      close (p[0]);
      unlinkat (dfd, INIT, 0);
      return al_error_set (err, errno, "sandbox `%s`: fork", n->name);
    }
  char msg[AL_ERROR_MSG_MAX];
  size_t len = 0;
  while (len < sizeof msg - 1)
    {
      ssize_t k = read (p[0], msg + len, sizeof msg - 1 - len);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      len += (size_t) k;
      if (msg[0] == '\0')
        break;
    }
  close (p[0]);
  if (len > 0 && msg[0] == '\0')
    {
      close (n->lock_fd); /* the keeper's now */
      n->lock_fd = -1;
      return 0;
    }
  msg[len] = '\0';
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  unlinkat (dfd, INIT, 0);
  return al_error_reason (err, EINVAL, "sandbox `%s`: --init: %s", n->name,
                          len ? msg : "the keeper died");
}

/* ---------------------------------------------------------------- create */

static int
write_meta (const char *dir, json_t *meta, struct al_error *err)
{
  cleanup_free char *text = json_dumps (meta, JSON_INDENT (2) | JSON_SORT_KEYS);
  if (text == NULL)
    return al_error_set (err, ENOMEM, "write " META);
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "open `%s`", dir);
  return al_write_file_atomic (dfd, META, text, strlen (text), 0600, err);
}

/* Whether another sandbox of root still uses uid (clones share it): its
 * directory's real path in user (PATH_MAX bytes). */
static bool
uid_in_use (const char *root, const char *except, uint32_t uid, char *user)
{
  char dir[PATH_MAX];
  struct al_error e = { 0 };
  user[0] = '\0';
  if (named_dir (root, dir, sizeof dir, &e) < 0)
    return true;
  cleanup_dir DIR *d = opendir (dir);
  for (struct dirent *de; d && (de = readdir (d));)
    {
      if (de->d_name[0] == '.' || strcmp (de->d_name, except) == 0
          || al_named_check_name (de->d_name, &e) < 0)
        continue;
      struct al_named *o = NULL;
      if (al_named_open (root, de->d_name, &o, &e) < 0)
        continue;
      bool same = o->uid == uid;
      if (same && realpath (o->dir, user) == NULL)
        user[0] = '\0';
      al_named_free (o);
      if (same)
        return true;
    }
  return false;
}

static void
remove_dir_files (const char *dir)
{
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  static const char *const files[] = { META, LOCK, RUNNING, INIT, INIT_LOG, INIT_RESULT };
  for (size_t i = 0; dfd >= 0 && i < sizeof files / sizeof files[0]; i++)
    unlinkat (dfd, files[i], 0);
  rmdir (dir);
}

static int
create (const struct al_named_create_opts *o, json_t **ret_args, struct al_error *err)
{
  struct al_named n = { .lock_fd = -1 };
  int r = paths (&n, o->root, o->name, err);
  if (r < 0)
    return r;
  char dir[PATH_MAX];
  if ((r = named_dir (o->root, dir, sizeof dir, err)) < 0
      || (r = al_mkdir_p (AT_FDCWD, dir, 0711, err)) < 0)
    return r;
  json_t *labels = json_object ();
  for (size_t i = 0; i < o->n_labels; i++)
    {
      const char *eq = strchr (o->labels[i], '=');
      if (eq == NULL || eq == o->labels[i])
        {
          json_decref (labels);
          return al_error_reason (err, EINVAL, "--label `%s`: use KEY=VALUE", o->labels[i]);
        }
      cleanup_free char *k = strndup (o->labels[i], (size_t) (eq - o->labels[i]));
      json_object_set_new (labels, k, json_string (eq + 1));
    }
  *ret_args = json_pack ("{s:O, s:s?}", "labels", labels, "rootfs", o->run->rootfs);
  if (mkdir (n.dir, 0700) < 0)
    {
      json_decref (labels);
      if (errno == EEXIST)
        return al_error_reason (err, EEXIST, "sandbox `%s` already exists", o->name);
      return al_error_set (err, errno, "sandbox `%s`: mkdir `%s`", o->name, n.dir);
    }
  /* Ours alone until sandbox.json names it: a crash before leaves a
   * directory without it, which gc removes. */
  if ((r = lock (&n, false, err)) < 0)
    {
      json_decref (labels);
      remove_dir_files (n.dir);
      return r;
    }
  unsigned slot = 0;
  uint32_t uid = 0;
  struct al_snap *s = NULL;
  char owner[PATH_MAX];
  if (realpath (n.dir, owner) == NULL)
    r = al_error_set (err, errno, "sandbox `%s`: `%s`", o->name, n.dir);
  else
    r = al_sandbox_reserve_range (owner, &slot, &uid, err);
  if (r == 0)
    {
      r = al_snap_create (n.store, o->run->rootfs, o->backend, uid, uid, &s, err);
      if (r < 0)
        {
          struct al_error e = { 0 };
          al_sandbox_free_range (slot, &e);
        }
    }
  if (r < 0)
    {
      json_decref (labels);
      unlock (&n);
      remove_dir_files (n.dir);
      return r;
    }
  char created[AL_STATE_TIME_MAX], expires[AL_STATE_TIME_MAX];
  now_rfc3339 (created, sizeof created, 0);
  now_rfc3339 (expires, sizeof expires, o->expire_ms);
  json_t *meta = json_pack ("{s:i, s:s, s:s, s:o, s:s, s:s?, s:i, s:I, s:s, s:o}", "version", 1,
                            "name", o->name, "owner", o->owner ? o->owner : user_name (),
                            "labels", labels, "created", created, "expires",
                            o->expire_ms ? expires : NULL, "slot", (int) slot, "uid",
                            (json_int_t) uid, "backend",
                            al_snap_backend_name (al_snap_backend (s)), "options",
                            opts_to_json (o->run));
  if (meta && o->init)
    {
      json_t *init = json_array ();
      for (char **a = o->init; *a; a++)
        json_array_append_new (init, json_string (*a));
      json_object_set_new (meta, "init", init);
      json_object_set (*ret_args, "init", init);
    }
  r = meta ? write_meta (n.dir, meta, err) : al_error_set (err, ENOMEM, "sandbox `%s`", o->name);
  if (r == 0)
    {
      /* The init starts before create returns: one that cannot start
       * leaves nothing, like any bad input. */
      al_snap_close (s);
      s = NULL;
      n.meta = meta;
      n.slot = slot;
      n.uid = uid;
      r = start_init (&n, err);
      n.meta = NULL;
      if (r < 0 && al_snap_open (n.store, &s, &(struct al_error){ 0 }) < 0)
        s = NULL;
    }
  json_decref (meta);
  if (r < 0)
    {
      struct al_error e = { 0 };
      if (s)
        al_snap_destroy (s, &e);
      al_snap_close (s);
      al_sandbox_free_range (slot, &e);
      unlock (&n);
      remove_dir_files (n.dir);
      return r;
    }
  unlock (&n);
  return 0;
}

int
al_named_create (const struct al_named_create_opts *o, struct al_error *err)
{
  json_t *args = NULL;
  int r = create (o, &args, err);
  audit (o->root, "create", o->name, args, r, err);
  return r;
}

/* ------------------------------------------------------------------ exec */

/* An exec joins the init's mounts, network and cgroup: what sets those up
 * is the sandbox's, and cannot change for one exec. */
static int
check_join_opts (struct al_named *n, const struct al_sandbox_opts *o, struct al_error *err)
{
  static const struct
  {
    const char *key, *option;
  } shared[] = {
    { "rootfs", "--rootfs" },   { "binds", "--bind" },        { "tmpfs", "--tmpfs" },
    { "read_only", "--read-only" }, { "network", "--network" }, { "memory", "--memory" },
    { "memory_swap", "--memory-swap" }, { "pids", "--pids" }, { "cpus_milli", "--cpus" },
    { "disk", "--disk" },
  };
  json_t *now = opts_to_json (o), *was = json_object_get (n->meta, "options");
  const char *which = NULL;
  for (size_t i = 0; which == NULL && i < sizeof shared / sizeof shared[0]; i++)
    {
      json_t *x = json_object_get (now, shared[i].key), *y = json_object_get (was, shared[i].key);
      if ((x || y) && !json_equal (x, y))
        which = shared[i].option;
    }
  json_decref (now);
  if (which)
    return al_error_reason (err, EINVAL,
                            "sandbox `%s`: %s: its init is running, and an exec shares its root, "
                            "network and limits",
                            n->name, which);
  return 0;
}

/* Wait for the lock, then either join the init (shared) or have the
 * sandbox to ourselves (exclusive); *init_id is the init's id or "". */
static int
lock_for_exec (struct al_named *n, char *init_id, size_t size, struct al_error *err)
{
  int r = open_lock (n, err);
  while (r == 0)
    {
      while (flock (n->lock_fd, LOCK_SH) < 0)
        if (errno != EINTR)
          return al_error_set (err, errno, "sandbox `%s`: lock", n->name);
      if ((r = still_there (n, err)) < 0 || init_alive (n, init_id, size))
        break;
      init_id[0] = '\0';
      if (flock (n->lock_fd, LOCK_EX | LOCK_NB) == 0)
        break;
      /* Execs that joined an init which just ended are still finishing
       * (they die with it), or its keeper is: they are gone in moments. */
      flock (n->lock_fd, LOCK_UN);
      usleep (20 * 1000);
    }
  return r;
}

int
al_named_exec (struct al_named *n, struct al_sandbox_opts *o, struct al_error *err)
{
  char id[AL_SANDBOX_ID_MAX], init_id[AL_SANDBOX_ID_MAX] = "";
  if (al_sandbox_random_id (AL_SANDBOX_ID_PREFIX, id, sizeof id, err) < 0)
    return AL_SANDBOX_EXIT_FAILURE;
  int r = lock_for_exec (n, init_id, sizeof init_id, err);
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/" RUNNING, n->dir);
  int code = AL_SANDBOX_EXIT_FAILURE;
  o->store = n->store;
  o->has_uid_base = true;
  o->uid_base = n->uid;
  o->id = id;
  if (r == 0 && init_id[0])
    {
      r = check_join_opts (n, o, err);
      if (r == 0)
        code = al_sandbox_join (o, init_id, err);
    }
  else if (r == 0)
    {
      cleanup_close int dfd = open (n->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        r = al_error_set (err, errno, "open `%s`", n->dir);
      else
        r = al_write_runtime_file (dfd, RUNNING, id, strlen (id), 0600, err);
      if (r == 0)
        {
          code = al_sandbox_run (o, err);
          unlink (path);
        }
    }
  unlock (n);
  json_t *args = json_pack ("{s:s, s:i}", "id", id, "exit", code);
  if (init_id[0])
    json_object_set_new (args, "joined", json_string (init_id));
  json_t *argv = json_array ();
  for (char **a = o->argv; a && *a; a++)
    json_array_append_new (argv, json_string (*a));
  json_object_set_new (args, "argv", argv);
  audit (n->root, "exec", n->name, args, r < 0 || (code == AL_SANDBOX_EXIT_FAILURE && err->msg[0]) ? -1 : 0, err);
  return r < 0 ? AL_SANDBOX_EXIT_FAILURE : code;
}

/* ------------------------------------------------------------ operations */

/* Lock (stopping an exec), open the store, run op, audit. */
static int
with_store (struct al_named *n, const char *op, json_t *args,
            int (*fn) (struct al_named *, struct al_snap *, void *, struct al_error *), void *data,
            struct al_error *err)
{
  struct al_snap *s = NULL;
  char init_id[AL_SANDBOX_ID_MAX];
  bool restart = strcmp (op, "destroy") != 0 && init_alive (n, init_id, sizeof init_id);
  int r = lock (n, true, err);
  if (r == 0)
    r = open_store (n, &s, err);
  if (r == 0)
    r = fn (n, s, data, err);
  al_snap_close (s);
  /* It stopped the init: the init starts again on the result. */
  struct al_error e = { 0 };
  if (restart && n->lock_fd >= 0 && still_there (n, &e) == 0 && start_init (n, &e) < 0)
    fprintf (stderr, "airlock: warning: %s\n", e.msg);
  unlock (n);
  if (restart && args == NULL)
    args = json_object ();
  if (restart)
    json_object_set_new (args, "init_restarted", json_boolean (e.msg[0] == '\0'));
  audit (n->root, op, n->name, args, r, err);
  return r;
}

struct snap_args
{
  const char *tag;
  char *ret_tag;
  size_t size;
  bool to_base;
  const char *dir;
  FILE *out;
};

static int
do_snapshot (struct al_named *n, struct al_snap *s, void *data, struct al_error *err)
{
  struct snap_args *a = data;
  int r = al_snap_snapshot (s, a->tag, err);
  if (r < 0)
    return r;
  struct al_snap_info *info = NULL;
  size_t count = 0;
  if (al_snap_list (s, &info, &count, err) == 0 && count > 0 && a->ret_tag)
    snprintf (a->ret_tag, a->size, "%s", info[count - 1].tag);
  free (info);
  return 0;
}

int
al_named_snapshot (struct al_named *n, const char *tag, char *ret_tag, size_t size,
                   struct al_error *err)
{
  if (tag && al_snap_check_tag (tag, err) < 0)
    {
      audit (n->root, "snapshot", n->name, json_pack ("{s:s}", "tag", tag), -1, err);
      return -EINVAL;
    }
  struct snap_args a = { .tag = tag, .ret_tag = ret_tag, .size = size };
  return with_store (n, "snapshot", json_pack ("{s:s?}", "tag", tag), do_snapshot, &a, err);
}

/* A detached process (no fd of ours, not our child) that opens the store,
 * which empties its trash, and exits. */
static void
empty_trash_in_background (const struct al_named *n)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid != 0)
    {
      while (pid > 0 && waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return;
    }
  setsid ();
  if (fork () != 0)
    _exit (0);
  struct al_error e = { 0 };
  char store[PATH_MAX];
  if (detached_stdio (NULL) < 0 || al_close_fds_from (3, NULL, 0, &e) < 0
      || realpath (n->store, store) == NULL
      || chdir ("/") < 0)
    _exit (1);
  struct al_snap *s = NULL;
  if (al_snap_open (store, &s, &e) == 0)
    al_snap_close (s);
  _exit (0);
}

static int
do_rollback (struct al_named *n, struct al_snap *s, void *data, struct al_error *err)
{
  struct snap_args *a = data;
  int r = al_snap_rollback (s, a->tag, a->to_base, err);
  if (r < 0)
    return r;
  /* What the rollback dropped was renamed away; deleting it is not part
   * of the rollback's cost: a process of its own does it in the
   * background (the next open does not wait for it), or, if it dies, the
   * next open or gc. */
  empty_trash_in_background (n);
  return 0;
}

int
al_named_rollback (struct al_named *n, const char *tag, bool to_base, struct al_error *err)
{
  if (tag && al_snap_check_tag (tag, err) < 0)
    {
      audit (n->root, "rollback", n->name, json_pack ("{s:s}", "tag", tag), -1, err);
      return -EINVAL;
    }
  struct snap_args a = { .tag = tag, .to_base = to_base };
  return with_store (n, "rollback", json_pack ("{s:s?, s:b}", "tag", tag, "to_base", to_base),
                     do_rollback, &a, err);
}

static int
print_change (void *data, char kind, const char *path)
{
  FILE *out = data;
  fprintf (out, "%c %s\n", kind, path);
  return 0;
}

int
al_named_diff (struct al_named *n, const char *tag, FILE *out, struct al_error *err)
{
  if (tag && al_snap_check_tag (tag, err) < 0)
    return -EINVAL;
  /* Reads only, but al_snap_open repairs: under the lock, not stopping
   * anything (it waits for a running exec). */
  struct al_snap *s = NULL;
  int r = lock (n, false, err);
  if (r == 0)
    r = open_store (n, &s, err);
  if (r == 0)
    r = al_snap_diff (s, tag, print_change, out, err);
  al_snap_close (s);
  unlock (n);
  audit (n->root, "diff", n->name, json_pack ("{s:s?}", "tag", tag), r, err);
  return r;
}

static int
do_commit (struct al_named *n, struct al_snap *s, void *data, struct al_error *err)
{
  struct snap_args *a = data;
  (void) n;
  return al_snap_commit (s, a->dir, err);
}

int
al_named_commit (struct al_named *n, const char *dir, struct al_error *err)
{
  struct snap_args a = { .dir = dir };
  return with_store (n, "commit", json_pack ("{s:s}", "to", dir), do_commit, &a, err);
}

static int
do_clone (struct al_named *n, struct al_snap *s, void *data, struct al_error *err)
{
  const char *new_name = ((struct snap_args *) data)->tag;
  struct al_named c = { .lock_fd = -1 };
  int r = paths (&c, n->root, new_name, err);
  if (r < 0)
    return r;
  if (mkdir (c.dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return al_error_reason (err, EEXIST, "sandbox `%s` already exists", new_name);
      return al_error_set (err, errno, "sandbox `%s`: mkdir `%s`", new_name, c.dir);
    }
  struct al_snap *cs = NULL;
  r = al_snap_clone (s, c.store, &cs, err);
  if (r < 0)
    {
      remove_dir_files (c.dir);
      return al_error_wrap (err, "sandbox `%s`: clone to `%s`", n->name, new_name);
    }
  al_snap_close (cs);
  json_t *meta = json_deep_copy (n->meta);
  char created[AL_STATE_TIME_MAX];
  now_rfc3339 (created, sizeof created, 0);
  json_object_set_new (meta, "name", json_string (new_name));
  json_object_set_new (meta, "created", json_string (created));
  json_object_set_new (meta, "owner", json_string (user_name ()));
  json_object_set_new (meta, "clone_of", json_string (n->name));
  r = write_meta (c.dir, meta, err);
  if (r < 0)
    {
      json_decref (meta);
      struct al_error e = { 0 };
      if (al_snap_open (c.store, &cs, &e) == 0)
        al_snap_destroy (cs, &e);
      al_snap_close (cs);
      remove_dir_files (c.dir);
      return r;
    }
  json_decref (meta);
  return 0;
}

int
al_named_clone (struct al_named *n, const char *new_name, struct al_error *err)
{
  if (al_named_check_name (new_name, err) < 0)
    {
      audit (n->root, "clone", n->name, json_pack ("{s:s}", "to", new_name), -1, err);
      return -EINVAL;
    }
  struct snap_args a = { .tag = new_name };
  int r = with_store (n, "clone", json_pack ("{s:s}", "to", new_name), do_clone, &a, err);
  if (r < 0 || json_array_size (json_object_get (n->meta, "init")) == 0)
    return r;
  /* A clone of a sandbox with an init has its own, as from create (once
   * the source's lock is closed: its keeper must not hold that one). */
  struct al_named *c = NULL;
  struct al_error e = { 0 };
  if (al_named_open (n->root, new_name, &c, &e) < 0 || lock (c, false, &e) < 0
      || start_init (c, &e) < 0)
    fprintf (stderr, "airlock: warning: %s\n", e.msg);
  al_named_free (c);
  return 0;
}

static int
do_destroy (struct al_named *n, struct al_snap *s, void *data, struct al_error *err)
{
  (void) data;
  int r = al_snap_destroy (s, err);
  if (r < 0)
    return r;
  /* sandbox.json last: until it goes, the sandbox is there for gc. */
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/" META, n->dir);
  if (unlink (path) < 0 && errno != ENOENT)
    return al_error_set (err, errno, "sandbox `%s`: remove `%s`", n->name, path);
  remove_dir_files (n->dir);
  struct al_error e = { 0 };
  char user[PATH_MAX];
  if (!uid_in_use (n->root, n->name, n->uid, user))
    r = al_sandbox_free_range (n->slot, &e);
  else
    r = user[0] ? al_sandbox_move_range (n->slot, user, &e) : 0;
  if (r < 0)
    fprintf (stderr, "airlock: warning: sandbox `%s`: %s\n", n->name, e.msg);
  return 0;
}

int
al_named_destroy (struct al_named *n, struct al_error *err)
{
  return with_store (n, "destroy", NULL, do_destroy, NULL, err);
}

/* ------------------------------------------------------- list, inspect */

/* Snapshots as meta.json says (no repair: it may be in use), usage of a
 * running exec's cgroup. */
static json_t *
describe (struct al_named *n)
{
  json_t *d = json_deep_copy (n->meta);
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/meta.json", n->store);
  json_error_t jerr;
  json_t *sm = json_load_file (path, 0, &jerr);
  json_t *snaps = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (sm, "snapshots"), i, v)
    json_array_append_new (snaps, json_pack ("{s:O?, s:O?, s:O?}", "tag", json_object_get (v, "tag"),
                                             "created", json_object_get (v, "created"), "parent",
                                             json_object_get (v, "parent")));
  json_decref (sm);
  json_object_set_new (d, "snapshots", snaps);

  char id[AL_SANDBOX_ID_MAX];
  snprintf (path, sizeof path, "%s/" LOCK, n->dir);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  bool busy = fd >= 0 && flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  running_id (n, RUNNING, id, sizeof id);
  bool running = busy && id[0];
  json_object_set_new (d, "exec", running ? json_string (id) : json_null ());
  /* With its init running, its cgroup is the sandbox's. */
  char init_id[AL_SANDBOX_ID_MAX];
  bool init = init_alive (n, init_id, sizeof init_id);
  json_object_set_new (d, "init_id", init ? json_string (init_id) : json_null ());
  if (init && !running)
    {
      running = true;
      snprintf (id, sizeof id, "%s", init_id);
    }
  json_object_set_new (d, "status", json_string (running ? "running" : busy ? "busy" : "idle"));

  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  struct al_cgroup_stats stats;
  struct al_error e = { 0 };
  if (running && al_state_load (n->root, id, &st, &e) == 0
      && al_container_open_cgroup (st, NULL, &host, &cg, &e) == 0 && cg
      && al_cgroup_usage (cg, true, &stats, &e) == 0)
    {
      if (stats.has_cpu)
        json_object_set_new (d, "cpu_s", json_real ((double) stats.cpu_usage_ns / 1e9));
      if (stats.has_memory_peak)
        json_object_set_new (d, "memory_peak", json_integer ((json_int_t) stats.memory_peak));
    }
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);

  /* Disk: what the store holds beyond its base, when we may open it. */
  struct al_snap *s = NULL;
  uint64_t bytes = 0;
  if (!busy && fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0 && al_snap_open (n->store, &s, &e) == 0
      && al_snap_usage (s, &bytes, &e) == 0)
    json_object_set_new (d, "disk", json_integer ((json_int_t) bytes));
  al_snap_close (s);
  return d;
}

int
al_named_inspect (struct al_named *n, FILE *out, struct al_error *err)
{
  json_t *d = describe (n);
  if (d == NULL)
    return al_error_set (err, ENOMEM, "sandbox `%s`", n->name);
  json_dumpf (d, out, JSON_INDENT (2) | JSON_SORT_KEYS);
  fputc ('\n', out);
  json_decref (d);
  return 0;
}

static void
human (uint64_t bytes, char *buf, size_t size)
{
  static const char units[] = "BKMGT";
  double v = (double) bytes;
  size_t u = 0;
  while (v >= 1024 && u < sizeof units - 2)
    {
      v /= 1024;
      u++;
    }
  snprintf (buf, size, u ? "%.1f%c" : "%.0f%c", v, units[u]);
}

int
al_named_list (const char *root, bool json, FILE *out, struct al_error *err)
{
  char dir[PATH_MAX];
  int r = named_dir (root, dir, sizeof dir, err);
  if (r < 0)
    return r;
  json_t *all = json_array ();
  cleanup_dir DIR *d = opendir (dir);
  for (struct dirent *de; d && (de = readdir (d));)
    {
      struct al_error e = { 0 };
      struct al_named *n = NULL;
      if (de->d_name[0] == '.' || al_named_check_name (de->d_name, &e) < 0
          || al_named_open (root, de->d_name, &n, &e) < 0)
        continue;
      json_t *one = describe (n);
      json_object_del (one, "options");
      json_array_append_new (all, one);
      al_named_free (n);
    }
  if (json)
    {
      json_dumpf (all, out, JSON_INDENT (2) | JSON_SORT_KEYS);
      fputc ('\n', out);
    }
  else
    {
      fprintf (out, "%-20s %-10s %-8s %-8s %9s %8s %8s %8s %-25s\n", "NAME", "OWNER", "STATUS",
               "BACKEND", "SNAPSHOTS", "CPU", "MEM", "DISK", "EXPIRES");
      size_t i;
      json_t *v;
      json_array_foreach (all, i, v)
        {
          char cpu[32] = "-", mem[32] = "-", disk[32] = "-";
          if (json_object_get (v, "memory_peak"))
            human ((uint64_t) json_integer_value (json_object_get (v, "memory_peak")), mem,
                   sizeof mem);
          if (json_object_get (v, "cpu_s"))
            snprintf (cpu, sizeof cpu, "%.2fs", json_real_value (json_object_get (v, "cpu_s")));
          if (json_object_get (v, "disk"))
            human ((uint64_t) json_integer_value (json_object_get (v, "disk")), disk, sizeof disk);
          const char *exp = json_string_value (json_object_get (v, "expires"));
          fprintf (out, "%-20s %-10s %-8s %-8s %9zu %8s %8s %8s %-25s\n",
                   json_string_value (json_object_get (v, "name")),
                   json_string_value (json_object_get (v, "owner")),
                   json_string_value (json_object_get (v, "status")),
                   json_string_value (json_object_get (v, "backend")),
                   json_array_size (json_object_get (v, "snapshots")), cpu, mem, disk,
                   exp ? exp : "never");
        }
    }
  json_decref (all);
  return 0;
}

/* --------------------------------------------------------------------- gc */

static bool
expired (struct al_named *n)
{
  const char *exp = json_string_value (json_object_get (n->meta, "expires"));
  if (exp == NULL)
    return false;
  char now[AL_STATE_TIME_MAX];
  now_rfc3339 (now, sizeof now, 0);
  return strcmp (exp, now) <= 0; /* RFC 3339 in UTC, same width: compares as text */
}

int
al_named_gc (const char *root, struct al_log *log, unsigned *ret_removed, struct al_error *err)
{
  char dir[PATH_MAX];
  unsigned removed = 0;
  int r = named_dir (root, dir, sizeof dir, err);
  if (r < 0)
    return r;
  cleanup_dir DIR *d = opendir (dir);
  for (struct dirent *de; d && (de = readdir (d));)
    {
      struct al_error e = { 0 };
      if (de->d_name[0] == '.' || al_named_check_name (de->d_name, &e) < 0)
        continue;
      struct al_named *n = NULL;
      char path[PATH_MAX + NAME_MAX + 16];
      if (al_named_open (root, de->d_name, &n, &e) < 0)
        {
          /* No sandbox.json: a create that died, or a destroy that did not
           * finish; nothing else holds its lock. */
          snprintf (path, sizeof path, "%s/%s/" LOCK, dir, de->d_name);
          cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
          if (e.errnum != ENOENT || (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0))
            continue;
          struct al_snap *s = NULL;
          snprintf (path, sizeof path, "%s/%s/" STORE, dir, de->d_name);
          int dr = al_snap_open (path, &s, &e) == 0 ? al_snap_destroy (s, &e) : 0;
          al_snap_close (s);
          if (dr < 0)
            {
              al_log_warn (log, "sandbox gc: %s: %s", de->d_name, e.msg);
              continue;
            }
          snprintf (path, sizeof path, "%s/%s", dir, de->d_name);
          remove_dir_files (path);
          removed++;
          continue;
        }
      if (expired (n))
        {
          if (al_named_destroy (n, &e) < 0)
            al_log_warn (log, "sandbox gc: %s", e.msg);
          else
            removed++;
        }
      else
        {
          /* Repair (al_snap_open) and empty the trash, unless in use. */
          snprintf (path, sizeof path, "%s/" LOCK, n->dir);
          cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
          struct al_snap *s = NULL;
          if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0 && al_snap_open (n->store, &s, &e) == 0
              && al_snap_gc (s, &e) < 0)
            al_log_warn (log, "sandbox gc: %s: %s", n->name, e.msg);
          al_snap_close (s);
        }
      al_named_free (n);
    }
  *ret_removed = removed;
  return 0;
}

/* ------------------------------------------------------------ run once */

int
al_named_run_once (struct al_sandbox_opts *o, enum al_named_rollback rollback,
                   const char *commit_to, struct al_error *err)
{
  if (rollback == AL_ROLLBACK_ALWAYS && commit_to == NULL)
    return al_sandbox_run (o, err);
  char name[32];
  if (al_sandbox_random_id ("run-", name, sizeof name, err) < 0)
    return AL_SANDBOX_EXIT_FAILURE;
  struct al_named_create_opts co = {
    .root = o->root,
    .name = name,
    .backend = AL_SNAP_AUTO,
    .run = o,
    .log = o->log,
  };
  if (al_named_create (&co, err) < 0)
    return AL_SANDBOX_EXIT_FAILURE;
  struct al_named *n = NULL;
  if (al_named_open (o->root, name, &n, err) < 0)
    return AL_SANDBOX_EXIT_FAILURE;
  int code = al_named_exec (n, o, err);
  bool ok = code == 0;
  if (ok && commit_to && al_named_commit (n, commit_to, err) < 0)
    {
      ok = false;
      code = AL_SANDBOX_EXIT_FAILURE;
    }
  bool keep = rollback == AL_ROLLBACK_NEVER || (rollback == AL_ROLLBACK_ON_FAILURE && ok);
  struct al_error e = { 0 };
  if (keep)
    fprintf (stderr, "airlock: sandbox run: changes kept in sandbox `%s`\n", name);
  else if (al_named_destroy (n, &e) < 0)
    fprintf (stderr, "airlock: warning: sandbox run: %s\n", e.msg);
  al_named_free (n);
  return code;
}
