/* sandbox.c — see sandbox.h.
 *
 * Order of a run, and what undoes each step if a later one fails:
 *   1. check the input: the seccomp profile compiles, --bind sources and
 *      --rootfs exist (nothing exists yet, nothing to undo);
 *   2. take a slot (flock; released by closing it) and write the run's
 *      lease in it: its id and --root (emptied when the run ends);
 *   3. al_container_create: state entry, cgroup, init, and from before_go
 *      the root stack and the network inside the init's namespaces (create
 *      undoes its own part; the namespaces die with the init);
 *   4. supervise; then delete the container (kills what is left in its
 *      cgroup, removes cgroup and state), empty the lease, write the
 *      result.
 * No directory is made per run: every run's bundle is ROOT/~sandbox, and
 * each mounts its root stack on ROOT/~sandbox/mnt inside its own mount
 * namespace, where no other run and not the host sees it.  A lease whose
 * slot is not locked is a dead run's: al_sandbox_gc cleans up after it.
 */
#include "config.h"

#include "sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "ephemeral.h"
#include "exec.h"
#include "file.h"
#include "oci_config.h"
#include "seccomp.h"
#include "snapshot.h"
#include "state.h"
#include "supervisor.h"

extern char **environ;

#define SANDBOX_DIR "~sandbox"
#define MNT "mnt" /* in ROOT/~sandbox: each run's mount point, in its own namespace */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD_US 100000

struct run
{
  const struct al_sandbox_opts *o;
  char id[32];
  char box[PATH_MAX];  /* ROOT/~sandbox: the bundle */
  struct stat root_st; /* of --root: leases name it */
  unsigned slot;
  int slot_fd; /* flocked while the run lives, with its lease */
  uid_t uid_base;
  struct al_cgroup *cg;
  pid_t init_pid;
  uint64_t pids_peak;
  uint64_t cpu_base_ns; /* the cgroup's CPU time spent setting up */
  int report_fd;        /* read end: the program's wait status from the init */
  char host_if[16];
};

/* --------------------------------------------------------------- slots */

/* Whether a line of /etc/passwd or /etc/group has its id (third field)
 * in [lo, hi). */
static bool
id_file_uses (const char *path, uint64_t lo, uint64_t hi)
{
  cleanup_file FILE *f = fopen (path, "re");
  char line[4096];
  while (f && fgets (line, sizeof line, f))
    {
      char *p = strchr (line, ':');
      p = p ? strchr (p + 1, ':') : NULL;
      if (p == NULL)
        continue;
      char *end;
      unsigned long long id = strtoull (p + 1, &end, 10);
      if (end != p + 1 && id >= lo && id < hi)
        return true;
    }
  return false;
}

/* Take a free slot and write lease in it (NULL: the run's own). */
static int
take_slot (struct run *run, const char *lease_text, struct al_error *err)
{
  /* Host-wide, whatever --root says: a slot is a uid range and a subnet. */
  const char *dir = AL_SANDBOX_SLOTS_DIR;
  int r = al_mkdir_p (AT_FDCWD, dir, 0700, err);
  if (r < 0)
    return r;
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "open `%s`", dir);
  unsigned start = 0;
  if (getrandom (&start, sizeof start, 0) != sizeof start)
    start = (unsigned) getpid ();
  for (unsigned i = 0; i < AL_SANDBOX_SLOTS; i++)
    {
      unsigned slot = (start + i) % AL_SANDBOX_SLOTS;
      uint64_t base = AL_SANDBOX_UID_BASE + (uint64_t) slot * AL_SANDBOX_IDS;
      char name[16];
      snprintf (name, sizeof name, "%u", slot);
      int fd = openat (dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0)
        return al_error_set (err, errno, "open slot `%s/%s`", dir, name);
      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          close (fd);
          continue;
        }
      /* A lease left in it is a dead run's, for gc to clean up after. */
      char c;
      if (pread (fd, &c, 1, 0) == 1
          || id_file_uses ("/etc/passwd", base, base + AL_SANDBOX_IDS)
          || id_file_uses ("/etc/group", base, base + AL_SANDBOX_IDS))
        {
          close (fd);
          continue;
        }
      char lease[96];
      int n = lease_text ? (int) strlen (lease_text)
                         : snprintf (lease, sizeof lease, "%s %llu %llu\n", run->id,
                                     (unsigned long long) run->root_st.st_dev,
                                     (unsigned long long) run->root_st.st_ino);
      if (pwrite (fd, lease_text ? lease_text : lease, (size_t) n, 0) != n)
        {
          int e = errno;
          if (ftruncate (fd, 0) < 0)
            e = errno;
          close (fd);
          return al_error_set (err, e, "write slot `%s/%s`", dir, name);
        }
      run->slot = slot;
      run->slot_fd = fd;
      run->uid_base = run->o->has_uid_base ? (uid_t) run->o->uid_base : (uid_t) base;
      return 0;
    }
  return al_error_reason (err, EBUSY, "all %u sandbox slots are in use", AL_SANDBOX_SLOTS);
}

#define RESERVED "reserved " /* "reserved OWNER": a slot's uid range kept for a store */

static int
reserved_lease (const char *owner, char **ret, struct al_error *err)
{
  if (owner[0] != '/' || strchr (owner, '\n'))
    return al_error_reason (err, EINVAL, "reserve ids for `%s`: not an absolute path", owner);
  if (asprintf (ret, RESERVED "%s\n", owner) < 0)
    return al_error_set (err, ENOMEM, "reserve ids for `%s`", owner);
  return 0;
}

int
al_sandbox_reserve_range (const char *owner, unsigned *ret_slot, uint32_t *ret_uid_base,
                          struct al_error *err)
{
  struct al_sandbox_opts o = { 0 };
  struct run run = { .o = &o, .slot_fd = -1 };
  cleanup_free char *lease = NULL;
  int r = reserved_lease (owner, &lease, err);
  if (r < 0 || (r = take_slot (&run, lease, err)) < 0)
    return r;
  close (run.slot_fd); /* the lease stays: runs skip the slot */
  *ret_slot = run.slot;
  *ret_uid_base = run.uid_base;
  return 0;
}

int
al_sandbox_free_range (unsigned slot, struct al_error *err)
{
  char path[64];
  snprintf (path, sizeof path, AL_SANDBOX_SLOTS_DIR "/%u", slot);
  cleanup_close int fd = open (path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : al_error_set (err, errno, "open slot `%s`", path);
  char buf[sizeof RESERVED];
  if (flock (fd, LOCK_EX) < 0)
    return al_error_set (err, errno, "lock slot `%s`", path);
  if (pread (fd, buf, sizeof buf - 1, 0) != (ssize_t) sizeof buf - 1
      || memcmp (buf, RESERVED, sizeof buf - 1) != 0)
    return 0; /* not a reserved range (gc freed it, or never was) */
  if (ftruncate (fd, 0) < 0)
    return al_error_set (err, errno, "free slot `%s`", path);
  return 0;
}

int
al_sandbox_move_range (unsigned slot, const char *owner, struct al_error *err)
{
  char path[64];
  snprintf (path, sizeof path, AL_SANDBOX_SLOTS_DIR "/%u", slot);
  cleanup_free char *lease = NULL;
  int r = reserved_lease (owner, &lease, err);
  if (r < 0)
    return r;
  cleanup_close int fd = open (path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_EX) < 0)
    return al_error_set (err, errno, "slot `%s`", path);
  size_t n = strlen (lease);
  if (pwrite (fd, lease, n, 0) != (ssize_t) n || ftruncate (fd, (off_t) n) < 0)
    return al_error_set (err, errno, "write slot `%s`", path);
  return 0;
}

/* A reserved range whose owner is gone (its sandbox.json missing and
 * nobody making it: its lock is free) can go.  fd: the slot, locked. */
static bool
reservation_orphaned (int fd)
{
  char buf[PATH_MAX + 16];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= (ssize_t) strlen (RESERVED) || memcmp (buf, RESERVED, strlen (RESERVED)) != 0)
    return false;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  const char *owner = buf + strlen (RESERVED);
  char p[PATH_MAX + 32];
  struct stat st;
  snprintf (p, sizeof p, "%s/sandbox.json", owner);
  if (owner[0] != '/' || stat (p, &st) == 0 || errno != ENOENT)
    return false;
  snprintf (p, sizeof p, "%s/lock", owner);
  cleanup_close int lock = open (p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  return lock < 0 || flock (lock, LOCK_EX | LOCK_NB) == 0;
}

int
al_sandbox_random_id (const char *prefix, char *buf, size_t size, struct al_error *err)
{
  uint8_t rnd[6];
  if (getrandom (rnd, sizeof rnd, 0) != sizeof rnd)
    return al_error_set (err, errno, "getrandom");
  snprintf (buf, size, "%s%02x%02x%02x%02x%02x%02x", prefix, rnd[0], rnd[1], rnd[2], rnd[3],
            rnd[4], rnd[5]);
  return 0;
}

/* The run is over: its lease goes, then the slot. */
static void
release_slot (struct run *run)
{
  if (run->slot_fd < 0)
    return;
  if (ftruncate (run->slot_fd, 0) < 0 && run->o->log)
    al_log_warn (run->o->log, "empty slot %u: %s", run->slot, strerror (errno));
  close (run->slot_fd);
  run->slot_fd = -1;
}

/* A slot's lease: "ID DEV INO" (ID of a run of the --root with that
 * device and inode).  False when empty or not one. */
static bool
read_lease (int fd, char id[32], dev_t *dev, ino_t *ino)
{
  char buf[96];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  unsigned long long d, i;
  char name[32];
  if (sscanf (buf, "%31s %llu %llu", name, &d, &i) != 3
      || strncmp (name, AL_SANDBOX_ID_PREFIX, strlen (AL_SANDBOX_ID_PREFIX)) != 0)
    return false;
  memcpy (id, name, sizeof name);
  *dev = (dev_t) d;
  *ino = (ino_t) i;
  return true;
}

/* 10.213.0.0/18: slot S owns 10.213.S/64.(S%64)*4 .. +3. */
static void
slot_addr (unsigned slot, unsigned host, struct in_addr *a)
{
  a->s_addr = htonl ((10u << 24) | (213u << 16) | ((slot / 64) << 8) | ((slot % 64) * 4 + host));
}

/* -------------------------------------------------------------- config */

static json_t *
string_array (char *const *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* The environment: ours (unless --clear-env), HOME=/tmp, PATH if it has
 * none, then every --env in order (K=V replaces K; K alone removes it). */
static json_t *
build_env (const struct al_sandbox_opts *o)
{
  json_t *env = json_object (); /* name -> "K=V", in insertion order */
  if (env == NULL)
    return NULL;
  for (char **e = environ; !o->clear_env && e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL)
        continue;
      cleanup_free char *k = strndup (*e, (size_t) (eq - *e));
      if (k)
        json_object_set_new (env, k, json_string (*e));
    }
  json_object_set_new (env, "HOME", json_string ("HOME=/tmp"));
  if (json_object_get (env, "PATH") == NULL)
    json_object_set_new (env, "PATH", json_string ("PATH=" DEFAULT_PATH));
  for (size_t i = 0; i < o->n_env; i++)
    {
      const char *eq = strchr (o->env[i], '=');
      cleanup_free char *k = eq ? strndup (o->env[i], (size_t) (eq - o->env[i]))
                                : strdup (o->env[i]);
      if (k == NULL)
        continue;
      if (eq)
        json_object_set_new (env, k, json_string (o->env[i]));
      else
        json_object_del (env, k);
    }
  json_t *list = json_array ();
  const char *k;
  json_t *v;
  json_object_foreach (env, k, v)
    {
      if (json_string_length (v) == 0 || !json_is_string (v))
        continue;
      json_array_append (list, v);
    }
  json_decref (env);
  return list;
}

static json_t *
mount_json (const char *dst, const char *type, const char *src, const char *opts_csv)
{
  json_t *opts = json_array ();
  cleanup_free char *copy = strdup (opts_csv);
  for (char *save = NULL, *t = copy ? strtok_r (copy, ",", &save) : NULL; t;
       t = strtok_r (NULL, ",", &save))
    json_array_append_new (opts, json_string (t));
  return json_pack ("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
                    "options", opts);
}

static json_t *
build_mounts (const struct run *run)
{
  const struct al_sandbox_opts *o = run->o;
  char tmp_opts[128];
  snprintf (tmp_opts, sizeof tmp_opts, "nosuid,nodev,mode=1777,size=%llu",
            (unsigned long long) o->disk);
  json_t *m = json_array ();
  json_array_append_new (m, mount_json ("/proc", "proc", "proc", "nosuid,noexec,nodev"));
  json_array_append_new (m, mount_json ("/dev", "tmpfs", "tmpfs",
                                        "nosuid,strictatime,mode=755,size=65536k"));
  json_array_append_new (m, mount_json ("/dev/pts", "devpts", "devpts",
                                        "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"));
  json_array_append_new (m, mount_json ("/dev/shm", "tmpfs", "shm",
                                        "nosuid,noexec,nodev,mode=1777,size=65536k"));
  json_array_append_new (m, mount_json ("/tmp", "tmpfs", "tmpfs", tmp_opts));
  json_array_append_new (m, mount_json ("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
  for (size_t i = 0; i < o->n_tmpfs; i++)
    {
      char opts[128];
      if (o->tmpfs[i].size)
        snprintf (opts, sizeof opts, "nosuid,nodev,mode=1777,size=%llu",
                  (unsigned long long) o->tmpfs[i].size);
      else
        snprintf (opts, sizeof opts, "nosuid,nodev,mode=1777");
      json_array_append_new (m, mount_json (o->tmpfs[i].dst, "tmpfs", "tmpfs", opts));
    }
  return m;
}

/* Every set holds just the --cap-add names ("CAP_NET_RAW"), so they
 * survive a --user that is not root (ambient). */
static json_t *
build_caps (const struct al_sandbox_opts *o)
{
  json_t *names = string_array ((char *const *) o->cap_add, o->n_cap_add);
  json_t *c = json_pack ("{s:O, s:O, s:O, s:O, s:O}", "bounding", names, "effective", names,
                         "permitted", names, "inheritable", names, "ambient", names);
  json_decref (names);
  return c;
}

static json_t *
build_rlimits (const struct al_sandbox_opts *o)
{
  json_t *r = json_array ();
  json_array_append_new (r, json_pack ("{s:s, s:I, s:I}", "type", "RLIMIT_CORE", "soft",
                                       (json_int_t) 0, "hard", (json_int_t) 0));
  if (o->nofile)
    json_array_append_new (r, json_pack ("{s:s, s:I, s:I}", "type", "RLIMIT_NOFILE", "soft",
                                         (json_int_t) o->nofile, "hard", (json_int_t) o->nofile));
  if (o->fsize)
    json_array_append_new (r, json_pack ("{s:s, s:I, s:I}", "type", "RLIMIT_FSIZE", "soft",
                                         (json_int_t) o->fsize, "hard", (json_int_t) o->fsize));
  return r;
}

static json_t *
build_resources (const struct al_sandbox_opts *o)
{
  json_t *res = json_object ();
  if (o->memory)
    {
      json_t *mem = json_pack ("{s:I}", "limit", (json_int_t) o->memory);
      if (o->memory_swap)
        json_object_set_new (mem, "swap", json_integer ((json_int_t) o->memory_swap));
      json_object_set_new (res, "memory", mem);
    }
  if (o->pids)
    json_object_set_new (res, "pids", json_pack ("{s:I}", "limit", (json_int_t) o->pids));
  if (o->cpus_milli)
    json_object_set_new (res, "cpu",
                         json_pack ("{s:I, s:I}", "quota",
                                    (json_int_t) (o->cpus_milli * CPU_PERIOD_US / 1000), "period",
                                    (json_int_t) CPU_PERIOD_US));
  return res;
}

/* The run as an OCI config, parsed and checked like any config.json. */
static int
build_config (const struct run *run, struct al_config **ret, struct al_error *err)
{
  const struct al_sandbox_opts *o = run->o;
  size_t argc = 0;
  while (o->argv[argc])
    argc++;
  json_t *ns = json_pack ("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type",
                          "mount", "type", "ipc", "type", "uts", "type", "user", "type", "cgroup");
  if (o->network != AL_SANDBOX_NET_HOST)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "network"));
  json_t *idmap = json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                             (json_int_t) run->uid_base, "size", (int) AL_SANDBOX_IDS);
  json_t *process = json_pack (
      "{s:o, s:o, s:s, s:{s:I, s:I}, s:o, s:o, s:b}", "args", string_array (o->argv, argc), "env",
      build_env (o), "cwd", o->workdir ? o->workdir : "/", "user", "uid",
      (json_int_t) (o->has_user ? o->uid : 0), "gid", (json_int_t) (o->has_user ? o->gid : 0),
      "capabilities", build_caps (o), "rlimits", build_rlimits (o), "noNewPrivileges", 1);
  json_t *masked = json_pack ("[s, s, s, s, s, s, s, s, s, s, s]", "/proc/acpi", "/proc/asound",
                              "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                              "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                              "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi");
  /* Of OCI's readonlyPaths only /proc/sys: the rest (bus, fs, irq,
   * sysrq-trigger) belongs to the host's root, whom the sandbox's user
   * namespace does not map, so nothing inside may write it anyway (each
   * read-only bind costs a run two mounts).  The masked paths stay: they
   * are readable. */
  json_t *linux_spec = json_pack ("{s:o, s:O, s:o, s:o, s:o, s:[s]}", "namespaces", ns,
                                  "uidMappings", idmap, "gidMappings", idmap, "resources",
                                  build_resources (o), "maskedPaths", masked, "readonlyPaths",
                                  "/proc/sys");
  json_decref (idmap);
  json_t *config = json_pack ("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion",
                              AL_OCI_VERSION, "process", process, "root", "path",
                              o->store ? MNT : MNT "/" AL_EPHEMERAL_ROOT, "readonly", o->read_only, "hostname",
                              "sandbox", "mounts", build_mounts (run), "linux", linux_spec);
  if (config == NULL)
    return al_error_set (err, ENOMEM, "build the sandbox's config");
  int r = al_config_from_json (config, "sandbox config", ret, err);
  json_decref (config);
  return r;
}

/* ------------------------------------------------- inside the namespaces */

/* Run fn in the namespace (CLONE_NEWNS or CLONE_NEWNET) of pid, then come
 * back.  A failure to come back is fatal: airlock would go on elsewhere. */
static int
in_ns_of (pid_t pid, const char *name, int type, int (*fn) (struct run *, struct al_error *),
          struct run *run, struct al_error *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/ns/%s", name);
  cleanup_close int self = open (path, O_RDONLY | O_CLOEXEC);
  snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, name);
  cleanup_close int target = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_close int cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self < 0 || target < 0 || cwd < 0)
    return al_error_set (err, errno, "open the sandbox's %s namespace", name);
  if (setns (target, type) < 0)
    return al_error_set (err, errno, "enter the sandbox's %s namespace", name);
  int r = fn (run, err);
  if (setns (self, type) < 0 || fchdir (cwd) < 0)
    {
      fprintf (stderr, "airlock: sandbox run: cannot return from the sandbox's %s namespace: %m\n",
               name);
      abort ();
    }
  return r;
}

static int
build_root (struct run *run, struct al_error *err)
{
  const struct al_sandbox_opts *o = run->o;
  /* Nothing mounted here may reach the host's mounts. */
  if (mount (NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return al_error_set (err, errno, "make the sandbox's mounts private");
  cleanup_close int box = open (run->box, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (box < 0)
    return al_error_set (err, errno, "open `%s`", run->box);
  struct al_ephemeral_opts eo = {
    .lower = o->rootfs,
    .read_only = o->read_only,
    .size = o->disk,
    .uid = run->uid_base,
    .gid = run->uid_base,
  };
  int r;
  if (o->store)
    {
      /* A named sandbox's root: its store's, on disk. */
      struct al_snap *s = NULL;
      char target[PATH_MAX + 8];
      snprintf (target, sizeof target, "%s/" MNT, run->box);
      r = al_snap_open (o->store, &s, err);
      if (r == 0)
        r = al_snap_mount (s, target, err);
      al_snap_close (s);
    }
  else
    r = al_ephemeral_mount (&eo, box, MNT, err);
  if (r < 0 || o->n_binds == 0)
    return r;
  cleanup_close int root
      = openat (box, o->store ? MNT : MNT "/" AL_EPHEMERAL_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/user", (int) run->init_pid);
  cleanup_close int userns = open (path, O_RDONLY | O_CLOEXEC);
  if (root < 0 || userns < 0)
    return al_error_set (err, errno, "open the sandbox's root");
  for (size_t i = 0; i < o->n_binds; i++)
    if ((r = al_ephemeral_bind (root, o->binds[i].src, o->binds[i].dst, o->binds[i].read_only,
                                userns, run->uid_base, run->uid_base, err))
        < 0)
      return r;
  return 0;
}

/* airlock-net: beside our own binary (a build tree, an install that keeps
 * them together), else where `make install` puts it. */
static int
find_net_helper (char *buf, size_t size, struct al_error *err)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    {
      self[n] = '\0';
      char *slash = strrchr (self, '/');
      if (slash)
        {
          *slash = '\0';
          if (snprintf (buf, size, "%s/airlock-net", self) < (int) size && access (buf, X_OK) == 0)
            return 0;
        }
    }
  if (snprintf (buf, size, "%s", AL_NET_HELPER) < (int) size && access (buf, X_OK) == 0)
    return 0;
  return al_error_reason (err, ENOENT, "--network: helper `%s` not found (is airlock installed?)",
                          AL_NET_HELPER);
}

/* Run airlock-net for the init pid; its stderr is the error. */
static int
setup_network (struct run *run, pid_t pid, struct al_error *err)
{
  const struct al_sandbox_opts *o = run->o;
  char helper[PATH_MAX], pidstr[16], host[INET_ADDRSTRLEN], inside[INET_ADDRSTRLEN];
  int r = find_net_helper (helper, sizeof helper, err);
  if (r < 0)
    return r;
  snprintf (pidstr, sizeof pidstr, "%d", (int) pid);
  struct in_addr a;
  slot_addr (run->slot, 1, &a);
  inet_ntop (AF_INET, &a, host, sizeof host);
  slot_addr (run->slot, 2, &a);
  inet_ntop (AF_INET, &a, inside, sizeof inside);
  snprintf (run->host_if, sizeof run->host_if, "alsb%u", run->slot);
  bool private_net = o->network == AL_SANDBOX_NET_PRIVATE;
  char *argv[] = { helper, private_net ? (char *) "private" : (char *) "loopback", pidstr,
                   run->host_if, host, inside, NULL };
  if (!private_net)
    argv[3] = NULL;

  int errp[2];
  if (pipe2 (errp, O_CLOEXEC) < 0)
    return al_error_set (err, errno, "pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, errp[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child;
  char *envp[] = { NULL };
  r = posix_spawn (&child, helper, &fa, NULL, argv, envp);
  posix_spawn_file_actions_destroy (&fa);
  close (errp[1]);
  if (r != 0)
    {
      close (errp[0]);
      return al_error_set (err, r, "--network: run `%s`", helper);
    }
  char msg[AL_ERROR_MSG_MAX] = "";
  size_t len = 0;
  for (ssize_t n; len < sizeof msg - 1
                  && ((n = read (errp[0], msg + len, sizeof msg - 1 - len)) > 0
                      || (n < 0 && errno == EINTR));)
    len += n > 0 ? (size_t) n : 0;
  msg[len] = '\0';
  close (errp[0]);
  int st;
  while (waitpid (child, &st, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  msg[strcspn (msg, "\n")] = '\0';
  return al_error_reason (err, EIO, "--network %s: %s", private_net ? "private" : "loopback",
                          msg[0] ? msg : "airlock-net failed");
}

static int
before_go (void *data, pid_t pid, struct al_error *err)
{
  struct run *run = data;
  const struct al_sandbox_opts *o = run->o;
  run->init_pid = pid;
  int r = in_ns_of (pid, "mnt", CLONE_NEWNS, build_root, run, err);
  if (r < 0)
    return r;
  if (o->network == AL_SANDBOX_NET_LOOPBACK || o->network == AL_SANDBOX_NET_PRIVATE)
    return setup_network (run, pid, err);
  return 0;
}

/* ------------------------------------------------- supervisor callbacks */

static int
cg_cpu (void *data, uint64_t *ret_ns)
{
  struct run *run = data;
  struct al_cgroup_stats st;
  struct al_error e = { 0 };
  if (al_cgroup_usage (run->cg, false, &st, &e) < 0 || !st.has_cpu)
    return -1;
  if (st.has_pids && st.pids_current > run->pids_peak)
    run->pids_peak = st.pids_current;
  *ret_ns = st.cpu_usage_ns > run->cpu_base_ns ? st.cpu_usage_ns - run->cpu_base_ns : 0;
  return 0;
}

static int
cg_kill_all (void *data)
{
  struct run *run = data;
  struct al_error e = { 0 };
  if (al_cgroup_check_killable (run->cg, &e) < 0 || al_cgroup_kill_all (run->cg, &e) < 0)
    {
      if (run->o->log)
        al_log_warn (run->o->log, "%s", e.msg);
      return -1;
    }
  return 0;
}

static int
after_exit (void *data, struct al_supervise_result *r)
{
  struct run *run = data;
  /* The init reaped the program and says how it ended; nothing came when
   * the init itself was killed (a limit, `airlock kill`): then the init's
   * own status stands. */
  int ws;
  if (run->report_fd >= 0 && read (run->report_fd, &ws, sizeof ws) == (ssize_t) sizeof ws)
    {
      r->exitcode = WIFEXITED (ws) ? WEXITSTATUS (ws) : 0;
      r->exitsig = WIFSIGNALED (ws) ? WTERMSIG (ws) : 0;
    }
  if (run->cg == NULL)
    return 0;
  struct al_cgroup_stats st;
  struct al_error e = { 0 };
  if (al_cgroup_usage (run->cg, true, &st, &e) < 0)
    return 0;
  if (st.has_memory)
    {
      r->oom_killed = st.oom_kills > 0;
      r->has_memory_peak = st.has_memory_peak;
      r->memory_peak = st.memory_peak;
    }
  if (st.has_cpu)
    r->time_cpu_s = (double) (st.cpu_usage_ns > run->cpu_base_ns
                                  ? st.cpu_usage_ns - run->cpu_base_ns
                                  : 0)
                    / 1e9;
  if (st.has_pids)
    {
      /* Sampled every poll; the program itself was one. */
      r->has_pids_peak = true;
      r->pids_peak = run->pids_peak > st.pids_current ? run->pids_peak : st.pids_current;
      if (st.has_pids_peak && st.pids_peak > r->pids_peak)
        r->pids_peak = st.pids_peak;
      if (r->pids_peak == 0)
        r->pids_peak = 1;
    }
  return 0;
}

/* ---------------------------------------------------------------- run */

static void
fill_limits (const struct al_sandbox_opts *o, struct al_result_limits *l)
{
  static const char *const nets[] = { "none", "loopback", "host", "private" };
  *l = (struct al_result_limits){
    .memory = o->memory,
    .memory_swap = o->memory_swap,
    .pids = o->pids,
    .cpus_milli = o->cpus_milli,
    .cpu_ms = o->cpu_ms,
    .wall_ms = o->wall_ms,
    .output = o->output_limit,
    .disk = o->disk,
    .nofile = o->nofile,
    .fsize = o->fsize,
    .network = nets[o->network],
  };
}

/* ROOT/~sandbox and its mnt (kept: they hold nothing between runs). */
static int
make_box (struct run *run, struct al_error *err)
{
  if (snprintf (run->box, sizeof run->box, "%s/" SANDBOX_DIR, run->o->root)
      >= (int) sizeof run->box)
    return al_error_reason (err, ENAMETOOLONG, "--root `%s`: too long", run->o->root);
  int r = al_mkdir_p (AT_FDCWD, run->box, 0711, err);
  if (r < 0)
    return r;
  if (stat (run->o->root, &run->root_st) < 0)
    return al_error_set (err, errno, "--root `%s`", run->o->root);
  char mnt[PATH_MAX + 8];
  snprintf (mnt, sizeof mnt, "%s/" MNT, run->box);
  if (mkdir (mnt, 0711) < 0 && errno != EEXIST)
    return al_error_set (err, errno, "mkdir `%s`", mnt);
  return 0;
}

static int
compile_seccomp (const struct al_sandbox_opts *o, scmp_filter_ctx *ret, struct al_error *err)
{
  *ret = NULL;
  if (o->seccomp && strcmp (o->seccomp, "unconfined") == 0)
    return 0;
  if (o->seccomp == NULL)
    return 0; /* the built-in profile, compiled at build time */
  cleanup_free char *buf = NULL;
  size_t len = 0;
  int r = al_read_file (AT_FDCWD, o->seccomp, AL_CONFIG_MAX_BYTES, &buf, &len, err);
  if (r < 0)
    return al_error_wrap (err, "--seccomp");
  struct al_seccomp *sc = NULL;
  r = al_config_parse_seccomp (buf, len, o->seccomp, &sc, err);
  if (r < 0)
    return al_error_wrap (err, "--seccomp");
  r = al_seccomp_compile (sc, ret, err);
  al_seccomp_free (sc);
  if (r < 0)
    return al_error_wrap (err, "--seccomp `%s`", o->seccomp);
  return 0;
}

static void
summary (const struct al_supervise_result *r)
{
  fprintf (stderr,
           "airlock: sandbox %s: %s exit %d, time %.3fs, wall %.3fs, memory peak %.1f MiB, "
           "output %llu+%llu bytes%s\n",
           r->id ? r->id : "run", al_result_status_name (r->status), al_result_exit_code (r),
           r->time_cpu_s, r->time_wall_s, (double) r->memory_peak / (1024.0 * 1024.0),
           (unsigned long long) r->out_bytes[AL_STDOUT],
           (unsigned long long) r->out_bytes[AL_STDERR],
           r->output_truncated[0] || r->output_truncated[1] ? " (truncated)" : "");
}

static int
write_result (const struct al_sandbox_opts *o, const struct al_supervise_result *r,
              struct al_error *err)
{
  if (o->result_path == NULL)
    return 0;
  return o->result_kv ? al_result_write_kv (r, o->result_path, err)
                      : al_result_write_json (r, o->result_path, err);
}

/* Setup failed: nothing ran.  Record XX (with --result) and exit 125;
 * err stays for the caller to print. */
static int
failed (const struct al_sandbox_opts *o, const char *id, const struct al_result_limits *limits,
        const struct timespec *start, struct al_error *err)
{
  struct al_supervise_result r = { .status = AL_RESULT_XX, .internal_error = true };
  /* Found but not executable (the init checks before it is released):
   * the program's failure, 126, as a shell says it. */
  bool not_executable = err->errnum == EACCES
                        && (strncmp (err->msg, "exec: ", 6) == 0 /* the init's */
                            || strncmp (err->msg, "exec `", 6) == 0); /* a joined exec's */
  if (not_executable)
    r = (struct al_supervise_result){ .status = AL_RESULT_RE, .exitcode = 126 };
  r.id = id;
  r.limits = limits;
  r.start = *start;
  clock_gettime (CLOCK_REALTIME, &r.end);
  if (!not_executable)
    snprintf (r.error, sizeof r.error, "%s", err->msg);
  struct al_error e2 = { 0 };
  if (write_result (o, &r, &e2) < 0 && o->log)
    al_log_warn (o->log, "%s", e2.msg);
  return not_executable ? 126 : AL_SANDBOX_EXIT_FAILURE;
}

/* The supervisor forwards these: blocked from before the child exists
 * (it unblocks them before exec), so one that comes during setup is not
 * lost.  A reader of our stdout that goes away (`| head`) must not kill
 * the supervisor: writes fail with EPIPE instead (the child restores the
 * default before exec). */
static void
block_forwarded (sigset_t *old)
{
  signal (SIGPIPE, SIG_IGN);
  sigset_t fwd;
  sigemptyset (&fwd);
  sigaddset (&fwd, SIGINT);
  sigaddset (&fwd, SIGTERM);
  sigaddset (&fwd, SIGHUP);
  sigaddset (&fwd, SIGPIPE);
  sigprocmask (SIG_BLOCK, &fwd, old);
}

/* What a run and a join start with: the limits as recorded, the start
 * time, the id (run->id, "" if none could be made) and the seccomp
 * filter.  On failure err says why, for failed (). */
static int
begin (struct run *run, struct al_result_limits *limits, struct timespec *start,
       scmp_filter_ctx *filter, struct al_error *err)
{
  const struct al_sandbox_opts *o = run->o;
  fill_limits (o, limits);
  clock_gettime (CLOCK_REALTIME, start);
  if (o->id)
    snprintf (run->id, sizeof run->id, "%s", o->id);
  else if (al_sandbox_random_id (AL_SANDBOX_ID_PREFIX, run->id, sizeof run->id, err) < 0)
    return -1;
  return compile_seccomp (o, filter, err);
}

/* The run is over: its record, the summary, and the exit code. */
static int
finish (const struct al_sandbox_opts *o, struct al_supervise_result *r, struct al_error *err)
{
  clock_gettime (CLOCK_REALTIME, &r->end);
  if (write_result (o, r, err) < 0)
    return AL_SANDBOX_EXIT_FAILURE;
  if (o->verbose)
    summary (r);
  if (r->status == AL_RESULT_XX && r->error[0])
    {
      al_error_reason (err, EIO, "%s", r->error);
      return AL_SANDBOX_EXIT_FAILURE;
    }
  return al_result_exit_code (r);
}

int
al_sandbox_run (const struct al_sandbox_opts *o, struct al_error *err)
{
  struct run run = { .o = o, .slot_fd = -1, .report_fd = -1 };
  struct al_result_limits limits;
  struct timespec start;
  cleanup_seccomp scmp_filter_ctx filter = NULL;
  if (begin (&run, &limits, &start, &filter, err) < 0)
    return failed (o, run.id[0] ? run.id : NULL, &limits, &start, err);
  if (o->rootfs)
    {
      struct stat sb;
      if (stat (o->rootfs, &sb) < 0 || !S_ISDIR (sb.st_mode))
        {
          al_error_set (err, errno ? errno : ENOTDIR, "--rootfs `%s`", o->rootfs);
          return failed (o, run.id, &limits, &start, err);
        }
    }

  if (make_box (&run, err) < 0 || take_slot (&run, NULL, err) < 0)
    return failed (o, run.id, &limits, &start, err);

  struct al_config *config = NULL;
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  int rep[2] = { -1, -1 };
  int ret = build_config (&run, &config, err);
  if (ret == 0
      && (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0
          || pipe2 (rep, O_CLOEXEC | O_NONBLOCK) < 0))
    ret = al_error_set (err, errno, "pipe");
  run.report_fd = rep[0];

  sigset_t old;
  block_forwarded (&old);

  pid_t pid = 0;
  int exec_errno = 0;
  if (ret == 0)
    {
      int stdio[3] = { -1, out[1], errp[1] };
      struct al_create_opts co = {
        .root = o->root,
        .id = run.id,
        .bundle = run.box,
        .start = true,
        .log = o->log,
        .config = config,
        .bundle_is_cwd = true,
        .stdio = stdio,
        .filter = filter,
        .bpf = o->seccomp == NULL ? al_seccomp_default_bpf () : NULL,
        .die_with_parent = true,
        .new_session = true,
        .minimal_cgroup = true,
        .report_fd = rep[1],
        .before_go = before_go,
        .data = &run,
        .ret_cgroup = &run.cg,
        .ret_exec_errno = &exec_errno,
      };
      ret = al_container_create (&co, &pid, err);
    }
  for (int *fd = (int[]){ out[1], errp[1], rep[1] }, i = 0; i < 3; i++)
    if (fd[i] >= 0)
      close (fd[i]);
  al_config_free (config);

  struct al_supervise_result r;
  if (ret < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      if (out[0] >= 0)
        close (out[0]);
      if (errp[0] >= 0)
        close (errp[0]);
      if (rep[0] >= 0)
        close (rep[0]);
      release_slot (&run);
      return failed (o, run.id, &limits, &start, err);
    }

  if (o->started)
    o->started (o->started_data);

  /* What the init spent setting up is airlock's, not the program's. */
  struct al_cgroup_stats base;
  struct al_error berr = { 0 };
  if (run.cg && al_cgroup_usage (run.cg, false, &base, &berr) == 0 && base.has_cpu)
    run.cpu_base_ns = base.cpu_usage_ns;

  struct al_supervise_opts so = {
    .pid = pid,
    .pidfd = -1,
    .out_fd = out[0],
    .err_fd = errp[0],
    .out_sink = STDOUT_FILENO,
    .err_sink = STDERR_FILENO,
    .output_limit = o->output_limit,
    .wall_ms = o->wall_ms,
    .cpu_ms = o->cpu_ms,
    .grace_ms = 2000,
    .cpu_usage_ns = run.cg ? cg_cpu : NULL,
    .kill_all = run.cg ? cg_kill_all : NULL,
    .after_exit = after_exit,
    .data = &run,
  };
  struct al_error serr = { 0 };
  int sret = al_supervise (&so, &r, &serr);
  sigprocmask (SIG_SETMASK, &old, NULL);
  close (out[0]);
  close (errp[0]);
  close (rep[0]);
  if (sret < 0)
    snprintf (r.error, sizeof r.error, "%s", serr.msg);
  (void) exec_errno; /* the init exits 126/127 itself: r has it */
  r.id = run.id;
  r.limits = &limits;

  /* Whatever is left in the cgroup dies; cgroup and state go. */
  struct al_error derr = { 0 };
  int dret = al_container_remove_stopped (o->root, run.id, run.cg, &derr);
  al_cgroup_free (run.cg);
  run.cg = NULL;
  if (dret < 0)
    {
      r.status = AL_RESULT_XX;
      al_error_wrap (&derr, "clean up");
      memcpy (r.error, derr.msg, sizeof r.error);
    }
  release_slot (&run);

  return finish (o, &r, err);
}

/* ---------------------------------------------------------------- join */

struct join
{
  const struct al_sandbox_opts *o;
  const char *target;
  pid_t pid;            /* the process, a session leader */
  struct al_cgroup *cg; /* the sandbox's, or NULL */
  uint64_t oom_base;
};

/* Session id of a host pid (field 6 of /proc/PID/stat), or -1. */
static pid_t
session_of (pid_t pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  int ppid, pgrp, sid;
  char state;
  if (p == NULL || sscanf (p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
    return -1;
  return sid;
}

/* Kill what the process started in its session; the init and what it
 * runs stay.  Three passes catch what forked meanwhile. */
static int
join_kill_all (void *data)
{
  struct join *j = data;
  for (int pass = 0; pass < 3; pass++)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      struct al_error e = { 0 };
      if (al_container_pids (j->o->root, j->target, &pids, &n, &e) < 0)
        return -1;
      for (size_t i = 0; i < n; i++)
        if (session_of (pids[i]) == j->pid)
          kill (pids[i], SIGKILL);
      free (pids);
    }
  return 0;
}

static int
join_after_exit (void *data, struct al_supervise_result *r)
{
  struct join *j = data;
  uint64_t kills = 0;
  struct al_error e = { 0 };
  if (j->cg && r->exitsig == SIGKILL && al_cgroup_oom_kills (j->cg, &kills, &e) == 0)
    r->oom_killed = kills > j->oom_base;
  return 0;
}

int
al_sandbox_join (const struct al_sandbox_opts *o, const char *target, struct al_error *err)
{
  struct run run = { .o = o, .slot_fd = -1, .report_fd = -1, .uid_base = o->uid_base };
  struct join j = { .o = o, .target = target };
  struct al_result_limits limits;
  struct timespec start;
  cleanup_seccomp scmp_filter_ctx filter = NULL;
  struct al_config *config = NULL;
  struct al_state *st = NULL;
  struct al_cgroup_host *host = NULL;
  if (begin (&run, &limits, &start, &filter, err) < 0 || build_config (&run, &config, err) < 0)
    return failed (o, run.id[0] ? run.id : NULL, &limits, &start, err);
  struct al_error e = { 0 };
  if (al_state_load (o->root, target, &st, &e) == 0
      && al_container_open_cgroup (st, o->log, &host, &j.cg, &e) == 0 && j.cg)
    al_cgroup_oom_kills (j.cg, &j.oom_base, &e);
  al_state_free (st);

  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  int ret = 0;
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    ret = al_error_set (err, errno, "pipe");
  sigset_t old;
  block_forwarded (&old);
  int pidfd = -1;
  if (ret == 0)
    {
      int stdio[3] = { -1, out[1], errp[1] };
      struct al_exec_start xs = {
        .root = o->root,
        .id = target,
        .config = config,
        .filter = filter,
        .bpf = o->seccomp == NULL ? al_seccomp_default_bpf () : NULL,
        .stdio = stdio,
        .new_session = true,
        .log = o->log,
      };
      ret = al_container_exec_start (&xs, &j.pid, &pidfd, err);
    }
  for (int *fd = (int[]){ out[1], errp[1] }, i = 0; i < 2; i++)
    if (fd[i] >= 0)
      close (fd[i]);
  al_config_free (config);
  if (ret < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      for (int *fd = (int[]){ out[0], errp[0] }, i = 0; i < 2; i++)
        if (fd[i] >= 0)
          close (fd[i]);
      al_cgroup_free (j.cg);
      al_container_release_cgroup_host (host);
      return failed (o, run.id, &limits, &start, err);
    }

  struct al_supervise_opts so = {
    .pid = j.pid,
    .pidfd = pidfd,
    .out_fd = out[0],
    .err_fd = errp[0],
    .out_sink = STDOUT_FILENO,
    .err_sink = STDERR_FILENO,
    .output_limit = o->output_limit,
    .wall_ms = o->wall_ms,
    .cpu_ms = o->cpu_ms,
    .grace_ms = 2000,
    .kill_all = join_kill_all,
    .after_exit = join_after_exit,
    .data = &j,
  };
  struct al_supervise_result r;
  struct al_error serr = { 0 };
  int sret = al_supervise (&so, &r, &serr);
  sigprocmask (SIG_SETMASK, &old, NULL);
  close (out[0]);
  close (errp[0]);
  close (pidfd);
  al_cgroup_free (j.cg);
  al_container_release_cgroup_host (host);
  if (sret < 0)
    snprintf (r.error, sizeof r.error, "%s", serr.msg);
  r.id = run.id;
  r.limits = &limits;
  r.status = al_result_classify (&r);
  return finish (o, &r, err);
}

/* ----------------------------------------------------------------- gc */

/* Kill what the cgroup airlock/ID still holds and remove it, if it is
 * there (a run that died before its state was written). */
static int
remove_orphan_cgroup (struct al_cgroup_host *host, const char *id, struct al_error *err)
{
  char path[PATH_MAX];
  struct al_cgroup *cg = NULL;
  if (host == NULL
      || snprintf (path, sizeof path, "%s/%s", al_cgroup_host_parent (host), id)
             >= (int) sizeof path
      || al_cgroup_open (host, path, AL_CGROUP_OWNED, &cg, err) < 0)
    return 0;
  int r = al_cgroup_check_killable (cg, err);
  if (r == 0)
    r = al_cgroup_kill_all (cg, err);
  if (r == 0)
    r = al_cgroup_remove (cg, err);
  al_cgroup_free (cg);
  return r;
}

struct lease
{
  char id[32];
  int fd; /* locked by us: a dead run's */
};

int
al_sandbox_gc (const char *root, struct al_log *log, unsigned *ret_removed, struct al_error *err)
{
  unsigned removed = 0;
  /* A --root that does not exist has no runs, but the slots may still
   * hold orphaned reservations (below): go on without states. */
  struct stat root_st = { 0 };
  bool has_root = stat (root, &root_st) == 0;
  if (!has_root && errno != ENOENT)
    return al_error_set (err, errno, "--root `%s`", root);
  /* States first, leases after: a run writes its lease before its state,
   * so a state seen here whose run lives has its lease seen below. */
  struct al_state **states = NULL;
  size_t n = 0, skipped = 0;
  int ret = has_root ? al_state_list (root, &states, &n, &skipped, err) : 0;
  if (ret < 0)
    return ret;

  /* Leases: a locked slot is a live run's; one we can lock and that names
   * this root is a dead run's (another root's are left alone). */
  size_t n_live = 0, n_dead = 0;
  cleanup_free struct lease *live = calloc (AL_SANDBOX_SLOTS, sizeof *live);
  cleanup_free struct lease *dead = calloc (AL_SANDBOX_SLOTS, sizeof *dead);
  cleanup_free char **state_ids = calloc (n + 1, sizeof *state_ids);
  cleanup_dir DIR *sd = opendir (AL_SANDBOX_SLOTS_DIR);
  if (live == NULL || dead == NULL || state_ids == NULL)
    {
      al_state_list_free (states);
      return al_error_set (err, ENOMEM, "sandbox gc");
    }
  for (struct dirent *de; sd && (de = readdir (sd)) && n_live + n_dead < AL_SANDBOX_SLOTS;)
    {
      if (de->d_name[0] == '.')
        continue;
      int fd = openat (dirfd (sd), de->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        continue;
      char id[32];
      dev_t dev;
      ino_t ino;
      bool locked = flock (fd, LOCK_EX | LOCK_NB) == 0;
      bool lease = read_lease (fd, id, &dev, &ino);
      if (!locked && lease)
        memcpy (live[n_live++].id, id, sizeof id);
      if (locked && lease && has_root && dev == root_st.st_dev && ino == root_st.st_ino)
        {
          memcpy (dead[n_dead].id, id, sizeof id);
          dead[n_dead++].fd = fd;
          continue;
        }
      /* Any root's: a named sandbox's ids, kept after it went (its state
         directory deleted by hand). */
      if (locked && !lease && reservation_orphaned (fd) && ftruncate (fd, 0) < 0)
        al_log_warn (log, "sandbox gc: free slot %s: %s", de->d_name, strerror (errno));
      close (fd);
    }

  for (size_t i = 0; i < n; i++)
    {
      const char *id = states[i]->id;
      bool alive = strncmp (id, AL_SANDBOX_ID_PREFIX, strlen (AL_SANDBOX_ID_PREFIX)) != 0;
      for (size_t j = 0; !alive && j < n_live; j++)
        alive = strcmp (live[j].id, id) == 0;
      if (alive)
        continue;
      /* Its airlock is gone: so is the init (death signal), but delete
       * --force kills whatever the cgroup still holds. */
      struct al_error e = { 0 };
      if (al_container_delete (root, id, true, NULL, &e) < 0)
        al_log_warn (log, "sandbox gc: %s", e.msg);
      else
        removed++;
    }
  for (size_t i = 0; i < n; i++)
    state_ids[i] = strdup (states[i]->id);
  al_state_list_free (states);

  /* Dead runs' leases: a cgroup of a run that died before its state was
   * written; then the slot is free again. */
  struct al_cgroup_host *host = NULL;
  struct al_error herr = { 0 };
  if (al_cgroup_host_detect (AL_CGROUP_DEFAULT_PARENT, &host, &herr) < 0)
    host = NULL;
  for (size_t i = 0; i < n_dead; i++)
    {
      bool had_state = false;
      for (size_t j = 0; !had_state && j < n; j++)
        had_state = strcmp (state_ids[j], dead[i].id) == 0;
      struct al_error e = { 0 };
      if (!had_state && remove_orphan_cgroup (host, dead[i].id, &e) < 0)
        al_log_warn (log, "sandbox gc: %s", e.msg);
      else if (ftruncate (dead[i].fd, 0) == 0 && !had_state)
        removed++;
      close (dead[i].fd);
    }
  for (size_t j = 0; j < n; j++)
    free (state_ids[j]);
  al_cgroup_host_free (host);

  *ret_removed = removed;
  return 0;
}
