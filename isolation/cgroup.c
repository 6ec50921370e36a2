/* cgroup.c — layout detection, path rules, the kill guard and the
 * per-controller dispatch; see cgroup.h.  The file formats live in
 * cgroup_v1.c and cgroup_v2.c.
 *
 * Dispatch is per controller, not per host: host->where[] names the
 * hierarchy that serves each controller, and that hierarchy's kind (v1 or
 * cgroup2) picks the backend function.  A pure v2 host maps every
 * controller to the unified hierarchy, a pure v1 host none, and a hybrid
 * host whatever each side holds.  Features v2 builds into its core (the
 * freezer, cpu.stat, device eBPF, cgroup.kill) are used through the unified
 * leaf when no v1 controller provides them.
 */
#include "config.h"

#include "cgroup.h"
#include "cgroup_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define PATH_MAX_LEN 4096     /* a resolved cgroup path */
#define REMOVE_BUDGET_MS 2000 /* rmdir retries while processes drain */
#define KILL_ROUNDS 50        /* freeze + kill + thaw rounds */

static const char *const v1_names[AL_CG__COUNT] = {
  [AL_CG_CPU] = "cpu",         [AL_CG_CPUACCT] = "cpuacct",   [AL_CG_CPUSET] = "cpuset",
  [AL_CG_MEMORY] = "memory",   [AL_CG_PIDS] = "pids",         [AL_CG_BLKIO] = "blkio",
  [AL_CG_DEVICES] = "devices", [AL_CG_FREEZER] = "freezer",   [AL_CG_HUGETLB] = "hugetlb",
  [AL_CG_NET_CLS] = "net_cls", [AL_CG_NET_PRIO] = "net_prio", [AL_CG_PERF_EVENT] = "perf_event",
  [AL_CG_RDMA] = "rdma",       [AL_CG_MISC] = "misc",
};

/* NULL: no v2 controller of that name (a core feature or nothing). */
static const char *const v2_names[AL_CG__COUNT] = {
  [AL_CG_CPU] = "cpu",
  [AL_CG_CPUSET] = "cpuset",
  [AL_CG_MEMORY] = "memory",
  [AL_CG_PIDS] = "pids",
  [AL_CG_BLKIO] = "io",
  [AL_CG_HUGETLB] = "hugetlb",
  [AL_CG_PERF_EVENT] = "perf_event",
  [AL_CG_RDMA] = "rdma",
  [AL_CG_MISC] = "misc",
};

const char *
al_cg_controller_name (enum al_cg_controller c)
{
  return (unsigned) c < AL_CG__COUNT ? v1_names[c] : NULL;
}

static int
controller_by_name (const char *const *names, const char *s, size_t len)
{
  for (int c = 0; c < AL_CG__COUNT; c++)
    if (names[c] && strlen (names[c]) == len && memcmp (names[c], s, len) == 0)
      return c;
  return -1;
}

void
al_cg_sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

long
al_cg_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ----------------------------------------------------------- file helpers */

int
al_cg_write (int dirfd, const char *file, const char *value, struct al_error *err)
{
  size_t len = strlen (value);
  cleanup_close int fd = openat (dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return al_error_set (err, errno, "open `%s`", file);
  if (len == 0)
    return 0;
  ssize_t w;
  do
    w = write (fd, value, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return al_error_set (err, errno, "write `%.*s` to `%s`", (int) strcspn (value, "\n"), value,
                         file);
  if ((size_t) w != len)
    return al_error_set (err, EIO, "short write to `%s`", file);
  return 0;
}

int
al_cg_writef (int dirfd, const char *file, struct al_error *err, const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n < 0 || (size_t) n >= sizeof buf)
    return al_error_set (err, ENAMETOOLONG, "value for `%s` too long", file);
  return al_cg_write (dirfd, file, buf, err);
}

int
al_cg_read (int dirfd, const char *file, char **ret, struct al_error *err)
{
  return al_read_file (dirfd, file, AL_CG_READ_MAX, ret, NULL, err);
}

static int
parse_u64 (const char *s, uint64_t *ret)
{
  while (*s == ' ' || *s == '\t')
    s++;
  if (strncmp (s, "max", 3) == 0 && (s[3] == '\0' || isspace ((unsigned char) s[3])))
    {
      *ret = UINT64_MAX;
      return 0;
    }
  if (!isdigit ((unsigned char) *s))
    return -EINVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno != 0 || (*end != '\0' && !isspace ((unsigned char) *end)))
    return -EINVAL;
  *ret = v;
  return 0;
}

int
al_cg_read_u64 (int dirfd, const char *file, uint64_t *ret, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  int r = al_cg_read (dirfd, file, &buf, err);
  if (r < 0)
    return r;
  if (parse_u64 (buf, ret) < 0)
    return al_error_reason (err, EINVAL, "`%s`: not a number: `%.32s`", file, buf);
  return 0;
}

int
al_cg_read_key (int dirfd, const char *file, const char *key, uint64_t *ret, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  int r = al_cg_read (dirfd, file, &buf, err);
  if (r < 0)
    return r;
  size_t klen = strlen (key);
  for (char *line = buf; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
        {
          if (parse_u64 (line + klen + 1, ret) < 0)
            return al_error_reason (err, EINVAL, "`%s`: bad value for `%s`", file, key);
          return 0;
        }
    }
  return -ENOENT;
}

bool
al_cg_exists (int dirfd, const char *file)
{
  return faccessat (dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void
al_cg_warn (const struct al_cgroup_host *host, const char *fmt, ...)
{
  if (host == NULL || host->warn == NULL)
    return;
  char buf[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  host->warn (host->warn_data, buf);
}

/* ------------------------------------------------------------- cpu lists */

#define CPU_LIST_MAX 8192 /* CONFIG_NR_CPUS on Debian; also plenty of nodes */

int
al_cg_parse_cpu_list (const char *field, const char *list, uint64_t *bits, size_t max,
                      struct al_error *err)
{
  memset (bits, 0, (max + 63) / 64 * sizeof (uint64_t));
  const char *p = list;
  while (*p == ' ' || *p == '\n')
    p++;
  if (*p == '\0')
    return 0;
  for (;;)
    {
      char *end;
      if (!isdigit ((unsigned char) *p))
        return al_error_reason (err, EINVAL, "%s: `%s`: expected a list like `0-3,7`", field, list);
      errno = 0;
      unsigned long lo = strtoul (p, &end, 10), hi = lo;
      p = end;
      if (*p == '-')
        {
          p++;
          if (!isdigit ((unsigned char) *p))
            return al_error_reason (err, EINVAL, "%s: `%s`: expected a list like `0-3,7`", field,
                                    list);
          hi = strtoul (p, &end, 10);
          p = end;
        }
      if (errno != 0 || hi < lo)
        return al_error_reason (err, EINVAL, "%s: `%s`: bad range", field, list);
      if (hi >= max)
        return al_error_reason (err, EINVAL, "%s: `%s`: %lu is beyond the maximum %zu", field, list,
                                hi, max - 1);
      for (unsigned long i = lo; i <= hi; i++)
        bits[i / 64] |= 1ull << (i % 64);
      while (*p == ' ' || *p == '\n')
        p++;
      if (*p == '\0')
        return 0;
      if (*p != ',')
        return al_error_reason (err, EINVAL, "%s: `%s`: expected a list like `0-3,7`", field, list);
      p++;
    }
}

int
al_cg_check_cpu_subset (const char *field, const char *what, const char *list, const char *parent,
                        struct al_error *err)
{
  uint64_t want[CPU_LIST_MAX / 64], have[CPU_LIST_MAX / 64];
  int r = al_cg_parse_cpu_list (field, list, want, CPU_LIST_MAX, err);
  if (r < 0)
    return r;
  r = al_cg_parse_cpu_list (field, parent, have, CPU_LIST_MAX, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < CPU_LIST_MAX; i++)
    if ((want[i / 64] >> (i % 64) & 1) && !(have[i / 64] >> (i % 64) & 1))
      return al_error_reason (err, EINVAL,
                              "%s: %s %zu does not exist or is not available "
                              "(the parent cgroup has `%.*s`)",
                              field, what, i, (int) strcspn (parent, "\n"), parent);
  return 0;
}

/* ------------------------------------------------------------- detection */

static void
host_clear (struct al_cgroup_host *h)
{
  for (size_t i = 0; i < h->n; i++)
    {
      free (h->h[i].mount);
      free (h->h[i].own);
      if (h->h[i].fd >= 0)
        close (h->h[i].fd);
    }
  free (h->parent);
}

void
al_cgroup_host_free (struct al_cgroup_host *host)
{
  if (host == NULL)
    return;
  host_clear (host);
  free (host);
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r;)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
          r += 4;
        }
      else
        *w++ = *r++;
    }
  *w = '\0';
}

struct mount_entry
{
  char *dev;   /* major:minor: one superblock, i.e. one hierarchy */
  char *root;  /* the subtree mounted */
  char *mount; /* mount point */
  char *fstype;
  char *super; /* super options */
};

/* Split one mountinfo line in place; 0 if it is not well formed. */
static int
split_mountinfo_line (char *line, struct mount_entry *e)
{
  char *f[64];
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r (line, " ", &save); t && n < 64;
       t = strtok_r (NULL, " ", &save))
    f[n++] = t;
  if (n < 10)
    return 0;
  size_t sep = 6;
  while (sep < n && strcmp (f[sep], "-") != 0)
    sep++;
  if (sep + 3 >= n)
    return 0;
  e->dev = f[2];
  e->root = f[3];
  e->mount = f[4];
  e->fstype = f[sep + 1];
  e->super = f[sep + 3];
  unescape_octal (e->root);
  unescape_octal (e->mount);
  return 1;
}

static unsigned
controllers_from_list (const char *const *names, const char *list, const char *seps)
{
  unsigned bits = 0;
  for (const char *p = list; *p;)
    {
      size_t len = strcspn (p, seps);
      int c = controller_by_name (names, p, len);
      if (c >= 0)
        bits |= 1u << c;
      p += len;
      p += strspn (p, seps);
    }
  return bits;
}

/* own cgroup path relative to a mount of subtree root; NULL when outside. */
static char *
own_relative (const char *own, const char *root)
{
  if (strcmp (root, "/") == 0)
    return strdup (own);
  size_t len = strlen (root);
  if (strncmp (own, root, len) != 0 || (own[len] != '/' && own[len] != '\0'))
    return NULL;
  return strdup (own[len] ? own + len : "/");
}

struct parsed
{
  char mount_root[AL_CG_MAX_HIERARCHIES][PATH_MAX];
  char dev[AL_CG_MAX_HIERARCHIES][32];
};

static bool
better_v2_mount (const char *mount, const char *root, const char *cur_mount, const char *cur_root)
{
  bool a = strcmp (root, "/") == 0, b = strcmp (cur_root, "/") == 0;
  if (a != b)
    return a;
  bool pa = strcmp (mount, "/sys/fs/cgroup") == 0 || strcmp (mount, "/sys/fs/cgroup/unified") == 0;
  bool pb = strcmp (cur_mount, "/sys/fs/cgroup") == 0
            || strcmp (cur_mount, "/sys/fs/cgroup/unified") == 0;
  return pa && !pb;
}

/* Fill h->h[] from mountinfo (dedupe bind mounts: one entry per
 * superblock, preferring a mount of the whole hierarchy). */
/* Is a mount at `mount` hidden by a mount made after it (mountinfo lists
 * mounts in the order they were made) on the same point or on a directory
 * above it?  E.g. a tmpfs over /sys/fs/cgroup/unified hides cgroup2. */
static bool
covered_later (char **points, size_t n, size_t i)
{
  size_t len = strlen (points[i]);
  for (size_t j = i + 1; j < n; j++)
    {
      size_t l = strlen (points[j]);
      if (l <= len && strncmp (points[i], points[j], l) == 0
          && (points[i][l] == '\0' || points[i][l] == '/' || strcmp (points[j], "/") == 0))
        return true;
    }
  return false;
}

static int
parse_mountinfo (struct al_cgroup_host *h, struct parsed *p, const char *mountinfo,
                 struct al_error *err)
{
  cleanup_free char *copy = strdup (mountinfo);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "parse mountinfo");
  /* Split every line first, so a later mount can hide an earlier one. */
  size_t cap = 64, n = 0;
  cleanup_free struct mount_entry *entries = malloc (cap * sizeof *entries);
  cleanup_free char **points = malloc (cap * sizeof *points);
  if (entries == NULL || points == NULL)
    return al_error_set (err, ENOMEM, "parse mountinfo");
  for (char *save = NULL, *line = strtok_r (copy, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      if (n == cap)
        {
          cap *= 2;
          struct mount_entry *ne = realloc (entries, cap * sizeof *entries);
          if (ne)
            entries = ne;
          char **np = realloc (points, cap * sizeof *points);
          if (np)
            points = np;
          if (ne == NULL || np == NULL)
            return al_error_set (err, ENOMEM, "parse mountinfo");
        }
      if (!split_mountinfo_line (line, &entries[n]))
        continue;
      points[n] = entries[n].mount;
      n++;
    }

  int v2 = -1;
  for (size_t k = 0; k < n; k++)
    {
      const struct mount_entry e = entries[k];
      bool is_v2 = strcmp (e.fstype, "cgroup2") == 0;
      if (!is_v2 && strcmp (e.fstype, "cgroup") != 0)
        continue;
      unsigned bits = is_v2 ? 0 : controllers_from_list (v1_names, e.super, ",");
      if (!is_v2 && bits == 0)
        continue; /* name=systemd and other named hierarchies: no controller */
      if (covered_later (points, n, k))
        continue;

      int slot = -1;
      for (size_t i = 0; i < h->n; i++)
        if (h->h[i].v2 == is_v2 && (is_v2 || strcmp (p->dev[i], e.dev) == 0))
          slot = (int) i;
      if (slot >= 0)
        {
          bool better
              = is_v2 ? better_v2_mount (e.mount, e.root, h->h[slot].mount, p->mount_root[slot])
                      : strcmp (e.root, "/") == 0 && strcmp (p->mount_root[slot], "/") != 0;
          if (!better)
            continue;
          free (h->h[slot].mount);
          h->h[slot].mount = NULL;
        }
      else
        {
          if (h->n == AL_CG_MAX_HIERARCHIES)
            continue;
          slot = (int) h->n++;
          h->h[slot].fd = -1;
        }
      struct al_cg_hierarchy *hi = &h->h[slot];
      hi->v2 = is_v2;
      hi->controllers = bits;
      hi->mount = strdup (e.mount);
      if (hi->mount == NULL)
        return al_error_set (err, ENOMEM, "parse mountinfo");
      snprintf (p->mount_root[slot], sizeof p->mount_root[slot], "%s", e.root);
      snprintf (p->dev[slot], sizeof p->dev[slot], "%s", e.dev);
      if (is_v2)
        v2 = slot;
    }
  h->unified = v2;
  return 0;
}

/* Record airlock's own cgroup per hierarchy from /proc/self/cgroup text. */
static int
parse_self_cgroup (struct al_cgroup_host *h, const struct parsed *p, const char *self,
                   struct al_error *err)
{
  cleanup_free char *copy = strdup (self);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "parse /proc/self/cgroup");
  for (char *save = NULL, *line = strtok_r (copy, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':');
      char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL)
        continue;
      *c2 = '\0';
      const char *ctrls = c1 + 1, *path = c2 + 1;
      int slot = -1;
      if (*ctrls == '\0')
        slot = h->unified;
      else
        {
          unsigned bits = controllers_from_list (v1_names, ctrls, ",");
          for (size_t i = 0; i < h->n && bits; i++)
            if (!h->h[i].v2 && (h->h[i].controllers & bits))
              slot = (int) i;
        }
      if (slot < 0 || path[0] != '/')
        continue;
      free (h->h[slot].own);
      h->h[slot].own = own_relative (path, p->mount_root[slot]);
    }
  return 0;
}

static void
compute_where (struct al_cgroup_host *h)
{
  size_t v1 = 0;
  for (int c = 0; c < AL_CG__COUNT; c++)
    h->where[c] = -1;
  for (size_t i = 0; i < h->n; i++)
    {
      if (h->h[i].v2)
        continue;
      v1++;
      for (int c = 0; c < AL_CG__COUNT; c++)
        if ((h->h[i].controllers >> c & 1) && h->where[c] < 0)
          h->where[c] = (int) i;
    }
  if (h->unified >= 0)
    for (int c = 0; c < AL_CG__COUNT; c++)
      if (h->where[c] < 0 && (h->h[h->unified].controllers >> c & 1))
        h->where[c] = h->unified;
  h->layout = v1 == 0 ? AL_CGROUP_V2 : h->unified >= 0 ? AL_CGROUP_HYBRID : AL_CGROUP_V1;
}

static int
set_parent (struct al_cgroup_host *h, const char *parent, struct al_error *err)
{
  if (parent == NULL)
    parent = AL_CGROUP_DEFAULT_PARENT;
  cleanup_free char *joined = NULL;
  if (asprintf (&joined, "/%s", parent) < 0)
    return al_error_set (err, ENOMEM, "cgroup parent");
  int r = al_cg_normalize ("cgroup parent", joined, &h->parent, err);
  if (r < 0)
    return r;
  if (strcmp (h->parent, "/") == 0)
    return al_error_reason (err, EINVAL, "cgroup parent `%s`: must not be the hierarchy root",
                            parent);
  return 0;
}

static int
host_parse_common (struct al_cgroup_host *h, struct parsed *p, const char *mountinfo,
                   const char *self_cgroup, const char *parent, struct al_error *err)
{
  h->unified = -1;
  int r = set_parent (h, parent, err);
  if (r < 0)
    return r;
  r = parse_mountinfo (h, p, mountinfo, err);
  if (r < 0)
    return r;
  if (h->n == 0)
    return al_error_reason (err, ENOENT, "no cgroup filesystem is mounted");
  return parse_self_cgroup (h, p, self_cgroup, err);
}

int
al_cg_host_parse (const char *mountinfo, const char *self_cgroup, const char *v2_controllers,
                  const char *parent, struct al_cgroup_host **ret_host, struct al_error *err)
{
  cleanup_free struct al_cgroup_host *h = calloc (1, sizeof *h);
  cleanup_free struct parsed *p = calloc (1, sizeof *p);
  if (h == NULL || p == NULL)
    return al_error_set (err, ENOMEM, "cgroup layout");
  int r = host_parse_common (h, p, mountinfo, self_cgroup, parent, err);
  if (r < 0)
    {
      host_clear (h);
      return r;
    }
  if (h->unified >= 0 && v2_controllers)
    h->h[h->unified].controllers = controllers_from_list (v2_names, v2_controllers, " \n");
  compute_where (h);
  *ret_host = al_steal_ptr (&h);
  return 0;
}

int
al_cgroup_host_detect (const char *parent, struct al_cgroup_host **ret_host, struct al_error *err)
{
  cleanup_free char *mountinfo = NULL, *self = NULL;
  int r = al_read_file (AT_FDCWD, "/proc/self/mountinfo", 16u << 20, &mountinfo, NULL, err);
  if (r < 0)
    return al_error_wrap (err, "detect cgroup layout");
  r = al_read_file (AT_FDCWD, "/proc/self/cgroup", 1u << 20, &self, NULL, err);
  if (r < 0)
    return al_error_wrap (err, "detect cgroup layout");

  cleanup_free struct al_cgroup_host *h = calloc (1, sizeof *h);
  cleanup_free struct parsed *p = calloc (1, sizeof *p);
  if (h == NULL || p == NULL)
    return al_error_set (err, ENOMEM, "detect cgroup layout");
  r = host_parse_common (h, p, mountinfo, self, parent, err);
  for (size_t i = 0; r == 0 && i < h->n; i++)
    {
      struct al_cg_hierarchy *hi = &h->h[i];
      hi->fd = open (hi->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (hi->fd < 0)
        {
          r = al_error_set (err, errno, "open cgroup mount `%s`", hi->mount);
          break;
        }
      struct statfs sfs;
      if (fstatfs (hi->fd, &sfs) < 0)
        {
          r = al_error_set (err, errno, "statfs `%s`", hi->mount);
          break;
        }
      unsigned long want = hi->v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
      if ((unsigned long) sfs.f_type != want)
        {
          r = al_error_reason (err, EINVAL,
                               "`%s` is listed as a %s mount but is not one "
                               "(statfs magic %#lx)",
                               hi->mount, hi->v2 ? "cgroup2" : "cgroup",
                               (unsigned long) sfs.f_type);
          break;
        }
    }
  if (r == 0 && h->unified >= 0)
    {
      cleanup_free char *ctrls = NULL;
      struct al_error ignored = { 0 };
      if (al_cg_read (h->h[h->unified].fd, "cgroup.controllers", &ctrls, &ignored) == 0)
        h->h[h->unified].controllers = controllers_from_list (v2_names, ctrls, " \n");
    }
  if (r < 0)
    {
      host_clear (h);
      return al_error_wrap (err, "detect cgroup layout");
    }
  compute_where (h);
  *ret_host = al_steal_ptr (&h);
  return 0;
}

enum al_cgroup_layout
al_cgroup_host_layout (const struct al_cgroup_host *host)
{
  return host->layout;
}

const char *
al_cgroup_layout_name (enum al_cgroup_layout layout)
{
  switch (layout)
    {
    case AL_CGROUP_V2:
      return "v2";
    case AL_CGROUP_HYBRID:
      return "hybrid";
    case AL_CGROUP_V1:
      return "v1";
    }
  return NULL;
}

bool
al_cgroup_host_has (const struct al_cgroup_host *host, const char *controller)
{
  int c = controller_by_name (v1_names, controller, strlen (controller));
  if (c < 0)
    return false;
  if (host->where[c] >= 0)
    return true;
  /* v2 core features standing in for v1 controllers */
  if (host->unified >= 0 && (c == AL_CG_CPUACCT || c == AL_CG_DEVICES || c == AL_CG_FREEZER))
    return true;
  return false;
}

const char *
al_cgroup_host_mount (const struct al_cgroup_host *host, const char *controller)
{
  int c = controller_by_name (v1_names, controller, strlen (controller));
  if (c >= 0 && host->where[c] >= 0)
    return host->h[host->where[c]].mount;
  if (strcmp (controller, "cgroup2") == 0 && host->unified >= 0)
    return host->h[host->unified].mount;
  return NULL;
}

const char *
al_cgroup_host_parent (const struct al_cgroup_host *host)
{
  return host->parent;
}

void
al_cgroup_host_set_warn (struct al_cgroup_host *host, void (*warn) (void *data, const char *msg),
                         void *data)
{
  host->warn = warn;
  host->warn_data = data;
}

/* ------------------------------------------------------------------ paths */

int
al_cg_normalize (const char *field, const char *path, char **ret, struct al_error *err)
{
  size_t len = strlen (path);
  if (len >= PATH_MAX_LEN)
    return al_error_reason (err, ENAMETOOLONG, "%s: longer than %d bytes", field, PATH_MAX_LEN - 1);
  cleanup_free char *out = malloc (len + 2);
  if (out == NULL)
    return al_error_set (err, ENOMEM, "%s", field);
  size_t o = 0;
  for (const char *p = path; *p;)
    {
      if (*p == '/')
        {
          p++;
          continue;
        }
      size_t clen = strcspn (p, "/");
      if ((clen == 1 && p[0] == '.') || (clen == 2 && p[0] == '.' && p[1] == '.'))
        return al_error_reason (err, EINVAL, "%s `%s`: `.` and `..` components are refused", field,
                                path);
      if (clen > NAME_MAX)
        return al_error_reason (err, ENAMETOOLONG,
                                "%s `%.64s...`: a component is longer "
                                "than %d bytes",
                                field, path, NAME_MAX);
      for (size_t i = 0; i < clen; i++)
        if ((unsigned char) p[i] < 0x20 || p[i] == 0x7f)
          return al_error_reason (err, EINVAL, "%s: control character in `%.64s`", field, path);
      out[o++] = '/';
      memcpy (out + o, p, clen);
      o += clen;
      p += clen;
    }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  *ret = al_steal_ptr (&out);
  return 0;
}

/* Is a equal to b or one of its ancestors?  Both normalised. */
static bool
is_self_or_ancestor (const char *a, const char *b)
{
  if (strcmp (a, "/") == 0)
    return true;
  size_t len = strlen (a);
  return strncmp (a, b, len) == 0 && (b[len] == '\0' || b[len] == '/');
}

static bool
strictly_below (const char *parent, const char *p)
{
  return is_self_or_ancestor (parent, p) && strcmp (parent, p) != 0;
}

/* The refusals every target path goes through (create, open, kill).
 * own[] overrides the host's recorded own cgroups when non-NULL. */
static int
check_target (const struct al_cgroup_host *h, char *const *own, const char *field, const char *p,
              struct al_error *err)
{
  if (strcmp (p, "/") == 0)
    return al_error_reason (err, EPERM,
                            "%s `/`: the hierarchy root is never a container's "
                            "cgroup",
                            field);
  if (is_self_or_ancestor (p, h->parent))
    return al_error_reason (err, EPERM,
                            "%s `%s`: is the airlock parent `%s` or one of its "
                            "ancestors",
                            field, p, h->parent);
  for (size_t i = 0; i < h->n; i++)
    {
      const char *mine = own ? own[i] : h->h[i].own;
      if (mine && is_self_or_ancestor (p, mine))
        return al_error_reason (err, EPERM,
                                "%s `%s`: is airlock's own cgroup `%s` (in `%s`) "
                                "or one of its ancestors",
                                field, p, mine, h->h[i].mount);
    }
  return 0;
}

/* systemd's "slice:prefix:name" */
static bool
is_systemd_form (const char *p)
{
  if (strchr (p, '/'))
    return false;
  const char *c1 = strchr (p, ':');
  const char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  return c2 && strchr (c2 + 1, ':') == NULL;
}

int
al_cgroup_resolve_path (const struct al_cgroup_host *host, const char *cgroups_path, const char *id,
                        char **ret_path, struct al_error *err)
{
  const char *field = "linux.cgroupsPath";
  cleanup_free char *joined = NULL;
  int n;
  if (cgroups_path == NULL || cgroups_path[0] == '\0')
    {
      if (id == NULL || id[0] == '\0' || strchr (id, '/') || strcmp (id, ".") == 0
          || strcmp (id, "..") == 0)
        return al_error_reason (err, EINVAL, "container id `%s` cannot name a cgroup",
                                id ? id : "");
      n = asprintf (&joined, "%s/%s", host->parent, id);
    }
  else if (cgroups_path[0] != '/')
    {
      if (is_systemd_form (cgroups_path))
        return al_error_reason (err, ENOTSUP,
                                "%s `%s`: systemd cgroup paths "
                                "(slice:prefix:name) are not supported; airlock manages "
                                "cgroupfs paths",
                                field, cgroups_path);
      n = asprintf (&joined, "%s/%s", host->parent, cgroups_path);
    }
  else
    n = asprintf (&joined, "%s", cgroups_path);
  if (n < 0)
    return al_error_set (err, ENOMEM, "%s", field);

  cleanup_free char *p = NULL;
  int r = al_cg_normalize (field, joined, &p, err);
  if (r < 0)
    return r;
  r = check_target (host, NULL, field, p, err);
  if (r < 0)
    return r;
  *ret_path = al_steal_ptr (&p);
  return 0;
}

bool
al_cgroup_is_sandbox_leaf (const struct al_cgroup_host *host, const char *path)
{
  cleanup_free char *p = NULL;
  struct al_error ignored = { 0 };
  if (path == NULL || al_cg_normalize ("path", path, &p, &ignored) < 0)
    return false;
  if (strcmp (p, path) != 0)
    return false; /* only the canonical spelling counts */
  if (!strictly_below (host->parent, p))
    return false;
  return check_target (host, NULL, "path", p, &ignored) == 0;
}

/* --------------------------------------------------------------- handles */

static struct al_cgroup *
cgroup_new (const struct al_cgroup_host *host, const char *path)
{
  struct al_cgroup *cg = calloc (1, sizeof *cg);
  if (cg == NULL)
    return NULL;
  cg->host = host;
  cg->path = strdup (path);
  if (cg->path == NULL)
    {
      free (cg);
      return NULL;
    }
  for (size_t i = 0; i < AL_CG_MAX_HIERARCHIES; i++)
    cg->fd[i] = -1;
  return cg;
}

void
al_cgroup_free (struct al_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < AL_CG_MAX_HIERARCHIES; i++)
    if (cg->fd[i] >= 0)
      close (cg->fd[i]);
  free (cg->path);
  free (cg);
}

static void
cgroup_freep (struct al_cgroup **cg)
{
  al_cgroup_free (*cg);
}
#define cleanup_cgroup __attribute__ ((cleanup (cgroup_freep)))

const char *
al_cgroup_path (const struct al_cgroup *cg)
{
  return cg->path;
}

bool
al_cgroup_owned (const struct al_cgroup *cg)
{
  return cg->owned;
}

int
al_cgroup_clone_fd (const struct al_cgroup *cg)
{
  if (cg->host->layout != AL_CGROUP_V2)
    return -1;
  return cg->fd[cg->host->unified];
}

static int
open_leaves (struct al_cgroup *cg, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  bool any = false;
  for (size_t i = 0; i < h->n; i++)
    {
      if (h->h[i].fd < 0)
        continue;
      cg->fd[i]
          = openat (h->h[i].fd, cg->path + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (cg->fd[i] < 0 && errno != ENOENT)
        return al_error_set (err, errno, "open cgroup `%s` in `%s`", cg->path, h->h[i].mount);
      any = any || cg->fd[i] >= 0;
    }
  if (!any)
    return al_error_set (err, ENOENT, "cgroup `%s`", cg->path);
  return 0;
}

int
al_cgroup_open (const struct al_cgroup_host *host, const char *path, unsigned flags,
                struct al_cgroup **ret_cgroup, struct al_error *err)
{
  cleanup_free char *p = NULL;
  int r = al_cg_normalize ("cgroup path", path, &p, err);
  if (r < 0)
    return r;
  r = check_target (host, NULL, "cgroup path", p, err);
  if (r < 0)
    return r;
  cleanup_cgroup struct al_cgroup *cg = cgroup_new (host, p);
  if (cg == NULL)
    return al_error_set (err, ENOMEM, "open cgroup");
  cg->owned = (flags & AL_CGROUP_OWNED) != 0;
  r = open_leaves (cg, err);
  if (r < 0)
    return r;
  *ret_cgroup = al_steal_ptr (&cg);
  return 0;
}

int
al_cg_open_unchecked (const struct al_cgroup_host *host, const char *path, bool owned,
                      struct al_cgroup **ret_cgroup, struct al_error *err)
{
  cleanup_cgroup struct al_cgroup *cg = cgroup_new (host, path);
  if (cg == NULL)
    return al_error_set (err, ENOMEM, "open cgroup");
  cg->owned = owned;
  for (size_t i = 0; i < host->n; i++)
    if (host->h[i].fd >= 0)
      cg->fd[i] = openat (host->h[i].fd, strcmp (path, "/") == 0 ? "." : path + 1,
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *ret_cgroup = al_steal_ptr (&cg);
  return 0;
}

/* mkdir every ancestor of path (not path itself) below the root of one
 * hierarchy.  A concurrent remove may prune a directory between our mkdir
 * of it and of its child: then start over. */
static int
mkdir_parents (int root_fd, const char *path, const char *mount, struct al_error *err)
{
  for (int attempt = 0;; attempt++)
    {
      char buf[PATH_MAX_LEN];
      snprintf (buf, sizeof buf, "%s", path + 1);
      int r = 0;
      for (char *s = strchr (buf, '/'); s; s = strchr (s + 1, '/'))
        {
          *s = '\0';
          if (mkdirat (root_fd, buf, 0755) < 0 && errno != EEXIST)
            r = -errno;
          *s = '/';
          if (r < 0)
            break;
        }
      if (r == 0)
        return 0;
      if (r != -ENOENT || attempt == 3)
        return al_error_set (err, -r, "create parents of cgroup `%s` in `%s`", path, mount);
    }
}

/* v1 cpuset: every level below the root needs cpus and mems before a task
 * can join; fill empty ones from their parent, top down. */
static int
cpuset_fill_chain (int root_fd, const char *path, struct al_error *err)
{
  char buf[PATH_MAX_LEN];
  snprintf (buf, sizeof buf, "%s", path);
  cleanup_close int parent = dup (root_fd);
  if (parent < 0)
    return al_error_set (err, errno, "dup");
  for (char *s = buf + 1; *s;)
    {
      char *slash = strchr (s, '/');
      if (slash)
        *slash = '\0';
      cleanup_close int fd = openat (parent, s, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        return al_error_set (err, errno, "open cpuset cgroup `%s`", s);
      int r = al_cg_v1_cpuset_inherit (parent, fd, err);
      if (r < 0)
        return al_error_wrap (err, "cpuset `%s`", buf);
      close (parent);
      parent = al_steal_fd (&fd);
      if (slash == NULL)
        break;
      *slash = '/';
      s = slash + 1;
    }
  return 0;
}

/* rmdir now-empty levels between a removed leaf and the airlock parent
 * (relative paths like "a/b" create "a"); stops at the first level still in
 * use.  Paths outside the parent keep their directories. */
static void
prune_ancestors (const struct al_cgroup_host *h, size_t i, const char *path)
{
  if (!strictly_below (h->parent, path))
    return;
  char buf[PATH_MAX_LEN];
  snprintf (buf, sizeof buf, "%s", path);
  for (char *s = strrchr (buf, '/'); s && s != buf; s = strrchr (buf, '/'))
    {
      *s = '\0';
      if (strcmp (buf, h->parent) == 0 || unlinkat (h->h[i].fd, buf + 1, AT_REMOVEDIR) < 0)
        break;
    }
}

/* The v2 controllers airlock enables for a container on a pure v2 host. */
static const enum al_cg_controller v2_wanted[] = {
  AL_CG_CPU,  AL_CG_CPUSET,  AL_CG_BLKIO, AL_CG_MEMORY,
  AL_CG_PIDS, AL_CG_HUGETLB, AL_CG_RDMA,  AL_CG_MISC,
};

static int
parent_dir_fd (int root_fd, const char *path, const char **ret_base)
{
  const char *slash = strrchr (path, '/');
  *ret_base = slash + 1;
  if (slash == path)
    return fcntl (root_fd, F_DUPFD_CLOEXEC, 0);
  char buf[PATH_MAX_LEN];
  snprintf (buf, sizeof buf, "%.*s", (int) (slash - path - 1), path + 1);
  return openat (root_fd, buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static int create_cgroup (const struct al_cgroup_host *host, const char *path, unsigned skip,
                          struct al_cgroup **ret_cgroup, struct al_error *err);

int
al_cgroup_create (const struct al_cgroup_host *host, const char *path,
                  struct al_cgroup **ret_cgroup, struct al_error *err)
{
  return create_cgroup (host, path, 0, ret_cgroup, err);
}

/* Does res use a controller that only the cgroup2 hierarchy serves? */
static bool
needs_unified (const struct al_cgroup_host *h, const struct al_resources *res)
{
  if (res == NULL)
    return false;
  if (res->unified.n > 0)
    return true;
  bool used[AL_CG__COUNT] = { false };
  used[AL_CG_MEMORY] = res->memory != NULL;
  used[AL_CG_PIDS] = res->pids != NULL;
  used[AL_CG_CPU] = res->cpu != NULL;
  used[AL_CG_CPUSET] = res->cpu != NULL && (res->cpu->cpus || res->cpu->mems);
  used[AL_CG_BLKIO] = res->block_io != NULL;
  used[AL_CG_HUGETLB] = res->n_hugepage_limits > 0;
  used[AL_CG_RDMA] = res->n_rdma > 0;
  used[AL_CG_NET_CLS] = used[AL_CG_NET_PRIO] = res->network != NULL;
  used[AL_CG_DEVICES] = res->n_devices > 0;
  for (int c = 0; c < AL_CG__COUNT; c++)
    if (used[c] && h->where[c] == h->unified)
      return true;
  return false;
}

int
al_cgroup_create_for (const struct al_cgroup_host *host, const char *path,
                      const struct al_resources *res, struct al_cgroup **ret_cgroup,
                      struct al_error *err)
{
  unsigned skip = host->layout == AL_CGROUP_HYBRID && host->unified >= 0
                         && !needs_unified (host, res)
                     ? 1u << host->unified
                     : 0;
  return create_cgroup (host, path, skip, ret_cgroup, err);
}

int
al_cgroup_create_minimal (const struct al_cgroup_host *host, const char *path,
                          const struct al_resources *res, struct al_cgroup **ret_cgroup,
                          struct al_error *err)
{
  if (host->layout == AL_CGROUP_V2)
    return create_cgroup (host, path, 0, ret_cgroup, err);
  /* What the limits, the kill (freezer), the CPU time, the peaks and the
   * OOM count need; nothing else. */
  bool used[AL_CG__COUNT] = { false };
  used[AL_CG_MEMORY] = used[AL_CG_PIDS] = used[AL_CG_CPUACCT] = used[AL_CG_FREEZER] = true;
  used[AL_CG_CPU] = res && res->cpu != NULL;
  used[AL_CG_CPUSET] = res && res->cpu != NULL && (res->cpu->cpus || res->cpu->mems);
  used[AL_CG_BLKIO] = res && res->block_io != NULL;
  used[AL_CG_HUGETLB] = res && res->n_hugepage_limits > 0;
  used[AL_CG_RDMA] = res && res->n_rdma > 0;
  used[AL_CG_NET_CLS] = used[AL_CG_NET_PRIO] = res && res->network != NULL;
  used[AL_CG_DEVICES] = res && res->n_devices > 0;
  unsigned keep = 0;
  for (int c = 0; c < AL_CG__COUNT; c++)
    if (used[c] && host->where[c] >= 0)
      keep |= 1u << host->where[c];
  if (host->unified >= 0 && !needs_unified (host, res))
    keep &= ~(1u << host->unified);
  return create_cgroup (host, path, ~keep, ret_cgroup, err);
}

static int
create_cgroup (const struct al_cgroup_host *host, const char *path, unsigned skip,
               struct al_cgroup **ret_cgroup, struct al_error *err)
{
  cleanup_free char *p = NULL;
  int r = al_cg_normalize ("cgroup path", path, &p, err);
  if (r < 0)
    return r;
  r = check_target (host, NULL, "cgroup path", p, err);
  if (r < 0)
    return r;
  cleanup_cgroup struct al_cgroup *cg = cgroup_new (host, p);
  if (cg == NULL)
    return al_error_set (err, ENOMEM, "create cgroup");
  cg->owned = true;

  bool made[AL_CG_MAX_HIERARCHIES] = { false };
  for (size_t i = 0; i < host->n && r == 0; i++)
    {
      const struct al_cg_hierarchy *hi = &host->h[i];
      if (hi->fd < 0 || (skip >> i & 1))
        continue;
      /* v1/hybrid: the parents usually exist already; try the leaf first. */
      bool pure_v2 = hi->v2 && host->layout == AL_CGROUP_V2;
      if (!pure_v2 && mkdirat (hi->fd, p + 1, 0755) == 0)
        goto made;
      if (!pure_v2 && errno != ENOENT)
        {
          r = errno == EEXIST ? al_error_reason (err, EEXIST,
                                                 "cgroup `%s` already exists in `%s` (left over "
                                                 "from an earlier container? remove it or use "
                                                 "another id)",
                                                 p, hi->mount)
                              : al_error_set (err, errno, "create cgroup `%s` in `%s`", p, hi->mount);
          break;
        }
      r = mkdir_parents (hi->fd, p, hi->mount, err);
      if (r == 0 && pure_v2)
        for (size_t k = 0; k < sizeof v2_wanted / sizeof v2_wanted[0]; k++)
          {
            if (!(hi->controllers >> v2_wanted[k] & 1))
              continue;
            struct al_error e = { 0 };
            if (al_cg_v2_enable (hi->fd, p, v2_names[v2_wanted[k]], &e) < 0)
              al_cg_warn (host, "cgroup `%s`: %s", p, e.msg);
          }
      if (r < 0)
        break;
      if (mkdirat (hi->fd, p + 1, 0755) < 0)
        {
          if (errno == EEXIST)
            r = al_error_reason (err, EEXIST,
                                 "cgroup `%s` already exists in `%s` (left over "
                                 "from an earlier container? remove it or use another id)",
                                 p, hi->mount);
          else
            r = al_error_set (err, errno, "create cgroup `%s` in `%s`", p, hi->mount);
          break;
        }
    made:
      made[i] = true;
      cg->fd[i] = openat (hi->fd, p + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (cg->fd[i] < 0)
        {
          r = al_error_set (err, errno, "open cgroup `%s` in `%s`", p, hi->mount);
          break;
        }
      if (!hi->v2 && (hi->controllers >> AL_CG_CPUSET & 1))
        r = cpuset_fill_chain (hi->fd, p, err);
    }
  if (r < 0)
    {
      for (size_t i = 0; i < host->n; i++)
        if (made[i] && unlinkat (host->h[i].fd, p + 1, AT_REMOVEDIR) == 0)
          prune_ancestors (host, i, p);
      return r;
    }
  *ret_cgroup = al_steal_ptr (&cg);
  return 0;
}

int
al_cgroup_enter (const struct al_cgroup *cg, pid_t pid, struct al_error *err)
{
  for (size_t i = 0; i < cg->host->n; i++)
    {
      if (cg->fd[i] < 0)
        continue;
      int r = al_cg_writef (cg->fd[i], "cgroup.procs", err, "%d", (int) pid);
      if (r < 0)
        return al_error_wrap (err, "move pid %d into cgroup `%s` in `%s`", (int) pid, cg->path,
                              cg->host->h[i].mount);
    }
  return 0;
}

/* -------------------------------------------------------------- validate */

#define PIDS_LIMIT_MAX 4194304 /* PID_MAX_LIMIT */

static int
check_mem_value (const char *name, bool has, int64_t v, bool zero_ok, struct al_error *err)
{
  if (!has || v == -1)
    return 0;
  if (v < -1)
    return al_error_reason (err, EINVAL,
                            "linux.resources.memory.%s: %" PRId64 " is negative "
                            "(use -1 for unlimited)",
                            name, v);
  if (v == 0 && !zero_ok)
    return al_error_reason (err, EINVAL,
                            "linux.resources.memory.%s: 0 would allow no memory "
                            "at all (use -1 for unlimited)",
                            name);
  return 0;
}

static int
validate_device_pair (const char *field, int64_t major, int64_t minor, struct al_error *err)
{
  if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff)
    return al_error_reason (err, EINVAL, "%s: %" PRId64 ":%" PRId64 " is not a device number",
                            field, major, minor);
  return 0;
}

static bool
valid_word (const char *s, size_t max)
{
  size_t len = strlen (s);
  if (len == 0 || len > max)
    return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) s[i] <= ' ' || s[i] == 0x7f)
      return false;
  return true;
}

static bool
valid_page_size (const char *s)
{
  size_t digits = strspn (s, "0123456789");
  return digits > 0 && s[0] != '0'
         && (strcmp (s + digits, "KB") == 0 || strcmp (s + digits, "MB") == 0
             || strcmp (s + digits, "GB") == 0);
}

static int
validate_resources (const struct al_resources *res, struct al_error *err)
{
  int r;
  const struct al_memory *m = res->memory;
  if (m)
    {
      if ((r = check_mem_value ("limit", m->has_limit, m->limit, false, err)) < 0
          || (r = check_mem_value ("reservation", m->has_reservation, m->reservation, true, err))
                 < 0
          || (r = check_mem_value ("swap", m->has_swap, m->swap, false, err)) < 0
          || (r = check_mem_value ("kernelTCP", m->has_kernel_tcp, m->kernel_tcp, false, err)) < 0)
        return r;
      if (m->has_swap && m->swap != -1 && m->has_limit && m->limit != -1 && m->swap < m->limit)
        return al_error_reason (err, EINVAL,
                                "linux.resources.memory.swap: %" PRId64 " is below "
                                "memory.limit %" PRId64 " (swap is the memory+swap total)",
                                m->swap, m->limit);
      if (m->has_swappiness && m->swappiness > 100)
        return al_error_reason (err, EINVAL,
                                "linux.resources.memory.swappiness: %" PRIu64 " is not in 0..100",
                                m->swappiness);
    }
  const struct al_cpu *c = res->cpu;
  if (c)
    {
      if (c->has_shares && (c->shares < 2 || c->shares > 262144))
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.shares: %" PRIu64 " is not in "
                                "2..262144",
                                c->shares);
      if (c->has_quota && c->quota != -1 && c->quota < 1000)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.quota: %" PRId64 " is below "
                                "the kernel's minimum of 1000 microseconds (use -1 for no "
                                "quota)",
                                c->quota);
      if (c->has_period && (c->period < 1000 || c->period > 1000000))
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.period: %" PRIu64 " is not in "
                                "1000..1000000 microseconds",
                                c->period);
      if (c->has_burst && c->has_quota && c->quota > 0 && c->burst > (uint64_t) c->quota)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.burst: %" PRIu64 " is larger "
                                "than the quota %" PRId64,
                                c->burst, c->quota);
      if (c->has_realtime_runtime && c->realtime_runtime < -1)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.realtimeRuntime: %" PRId64 " is negative",
                                c->realtime_runtime);
      if (c->has_realtime_period && c->realtime_period == 0)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.realtimePeriod: must be "
                                "positive");
      if (c->has_realtime_runtime && c->has_realtime_period && c->realtime_runtime > 0
          && (uint64_t) c->realtime_runtime > c->realtime_period)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.realtimeRuntime: %" PRId64
                                " is longer than realtimePeriod %" PRIu64,
                                c->realtime_runtime, c->realtime_period);
      if (c->has_idle && c->idle != 0 && c->idle != 1)
        return al_error_reason (err, EINVAL,
                                "linux.resources.cpu.idle: %" PRId64 " is not 0 "
                                "or 1",
                                c->idle);
      uint64_t bits[CPU_LIST_MAX / 64];
      if (c->cpus
          && (r
              = al_cg_parse_cpu_list ("linux.resources.cpu.cpus", c->cpus, bits, CPU_LIST_MAX, err))
                 < 0)
        return r;
      if (c->mems
          && (r
              = al_cg_parse_cpu_list ("linux.resources.cpu.mems", c->mems, bits, CPU_LIST_MAX, err))
                 < 0)
        return r;
    }
  if (res->pids && res->pids->has_limit)
    {
      int64_t l = res->pids->limit;
      /* 0 is a real limit (runtime-spec 1.3, runc 1.4), see cgroup.h */
      if (l < -1)
        return al_error_reason (err, EINVAL,
                                "linux.resources.pids.limit: %" PRId64 " is "
                                "negative (use -1 for unlimited)",
                                l);
      if (l > PIDS_LIMIT_MAX)
        return al_error_reason (err, EINVAL,
                                "linux.resources.pids.limit: %" PRId64 " is above "
                                "the kernel's maximum of %d",
                                l, PIDS_LIMIT_MAX);
    }
  const struct al_block_io *b = res->block_io;
  if (b)
    {
      if (b->has_weight && (b->weight < 1 || b->weight > 1000))
        return al_error_reason (err, EINVAL,
                                "linux.resources.blockIO.weight: %u is not in "
                                "1..1000",
                                (unsigned) b->weight);
      if (b->has_leaf_weight && (b->leaf_weight < 1 || b->leaf_weight > 1000))
        return al_error_reason (err, EINVAL,
                                "linux.resources.blockIO.leafWeight: %u is not in "
                                "1..1000",
                                (unsigned) b->leaf_weight);
      for (size_t i = 0; i < b->n_weight_devices; i++)
        {
          const struct al_weight_device *d = &b->weight_devices[i];
          if ((r = validate_device_pair ("linux.resources.blockIO.weightDevice", d->major, d->minor,
                                         err))
              < 0)
            return r;
          if ((d->has_weight && (d->weight < 1 || d->weight > 1000))
              || (d->has_leaf_weight && (d->leaf_weight < 1 || d->leaf_weight > 1000)))
            return al_error_reason (err, EINVAL,
                                    "linux.resources.blockIO.weightDevice: weight "
                                    "for %" PRId64 ":%" PRId64 " is not in 1..1000",
                                    d->major, d->minor);
        }
      const struct al_throttle_list *lists[] = { &b->throttle_read_bps, &b->throttle_write_bps,
                                                 &b->throttle_read_iops, &b->throttle_write_iops };
      for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < lists[k]->n; i++)
          if ((r
               = validate_device_pair ("linux.resources.blockIO throttle",
                                       lists[k]->devices[i].major, lists[k]->devices[i].minor, err))
              < 0)
            return r;
    }
  for (size_t i = 0; i < res->n_hugepage_limits; i++)
    if (!valid_page_size (res->hugepage_limits[i].page_size))
      return al_error_reason (err, EINVAL,
                              "linux.resources.hugepageLimits[%zu].pageSize: `%s` "
                              "is not a size like 2MB, 1GB or 64KB",
                              i, res->hugepage_limits[i].page_size);
  if (res->network)
    for (size_t i = 0; i < res->network->n_priorities; i++)
      if (!valid_word (res->network->priorities[i].name, 15))
        return al_error_reason (err, EINVAL,
                                "linux.resources.network.priorities[%zu].name: `%s` "
                                "is not an interface name",
                                i, res->network->priorities[i].name);
  for (size_t i = 0; i < res->n_rdma; i++)
    if (!valid_word (res->rdma[i].device, 64))
      return al_error_reason (err, EINVAL, "linux.resources.rdma: `%s` is not a device name",
                              res->rdma[i].device);
  for (size_t i = 0; i < res->n_devices; i++)
    {
      const struct al_device_rule *d = &res->devices[i];
      if (d->type != AL_DEVICE_RULE_ALL && d->type != AL_DEVICE_RULE_CHAR
          && d->type != AL_DEVICE_RULE_BLOCK)
        return al_error_reason (err, EINVAL, "linux.resources.devices[%zu].type: not a, b or c", i);
      if (d->major < -1 || d->major > 0xfff || d->minor < -1 || d->minor > 0xfffff)
        return al_error_reason (err, EINVAL,
                                "linux.resources.devices[%zu]: %" PRId64 ":%" PRId64
                                " is not a device number",
                                i, d->major, d->minor);
    }
  for (size_t i = 0; i < res->unified.n; i++)
    {
      const char *k = res->unified.keys[i];
      if (k[0] == '\0' || strchr (k, '/') || strcmp (k, ".") == 0 || strcmp (k, "..") == 0)
        return al_error_reason (err, EINVAL,
                                "linux.resources.unified: `%s` is not a file name "
                                "in the cgroup",
                                k);
      if (strcmp (k, "cgroup.procs") == 0 || strcmp (k, "cgroup.threads") == 0
          || strcmp (k, "cgroup.kill") == 0 || strcmp (k, "cgroup.subtree_control") == 0
          || strcmp (k, "cgroup.type") == 0)
        return al_error_reason (err, EPERM,
                                "linux.resources.unified.%s: moving, killing or "
                                "restructuring through `unified` is refused",
                                k);
    }
  return 0;
}

/* ---------------------------------------------------------------- apply */

/* The leaf fd serving controller c: 1 with *fd and *v2 set, 0 if the
 * controller is nowhere, <0 on error.  For v2 the controller is enabled
 * down to the leaf first. */
static int
controller_fd (const struct al_cgroup *cg, enum al_cg_controller c, const char *field, int *fd,
               bool *v2, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[c];
  if (idx < 0)
    return 0;
  if (cg->fd[idx] < 0)
    return al_error_reason (err, ENOENT, "%s: cgroup `%s` does not exist in `%s`", field, cg->path,
                            h->h[idx].mount);
  *fd = cg->fd[idx];
  *v2 = h->h[idx].v2;
  if (*v2 && !al_cg_v2_has (*fd, v2_names[c]))
    {
      int r = al_cg_v2_enable (h->h[idx].fd, cg->path, v2_names[c], err);
      if (r < 0)
        return al_error_wrap (err, "%s", field);
      if (!al_cg_v2_has (*fd, v2_names[c]))
        return al_error_reason (err, ENOTSUP, "%s: the %s controller is not enabled for `%s`",
                                field, v2_names[c], cg->path);
    }
  return 1;
}

static int
unavailable (const char *field, const char *controller, struct al_error *err)
{
  return al_error_reason (err, ENOTSUP, "linux.resources.%s: %s controller is not mounted", field,
                          controller);
}

/* The first memory field that differs from the kernel default, or NULL. */
static const char *
memory_non_default (const struct al_memory *m)
{
  if (m->has_limit && m->limit != -1)
    return "memory.limit";
  if (m->has_reservation && m->reservation != -1)
    return "memory.reservation";
  if (m->has_swap && m->swap != -1)
    return "memory.swap";
  if (m->has_kernel_tcp && m->kernel_tcp != -1)
    return "memory.kernelTCP";
  if (m->has_swappiness)
    return "memory.swappiness";
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    return "memory.disableOOMKiller";
  if (m->has_use_hierarchy && !m->use_hierarchy)
    return "memory.useHierarchy";
  return NULL;
}

static const char *
cpu_non_default (const struct al_cpu *c)
{
  if (c->has_shares && c->shares != 1024)
    return "cpu.shares";
  if (c->has_quota && c->quota != -1)
    return "cpu.quota";
  if (c->has_period && c->period != 100000)
    return "cpu.period";
  if (c->has_burst && c->burst != 0)
    return "cpu.burst";
  if (c->has_realtime_runtime && c->realtime_runtime != 0)
    return "cpu.realtimeRuntime";
  if (c->has_realtime_period && c->realtime_period != 1000000)
    return "cpu.realtimePeriod";
  if (c->has_idle && c->idle != 0)
    return "cpu.idle";
  return NULL;
}

static int
apply_memory (const struct al_cgroup *cg, const struct al_memory *m, struct al_error *err)
{
  if (m->has_kernel && m->kernel != -1)
    al_cg_warn (cg->host, "linux.resources.memory.kernel: ignored (kernel memory limits are "
                          "gone from current kernels; it is accounted in the memory limit)");
  int fd = -1;
  bool v2 = false;
  int r = controller_fd (cg, AL_CG_MEMORY, "linux.resources.memory", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    {
      const char *f = memory_non_default (m);
      return f ? unavailable (f, "memory", err) : 0;
    }
  return v2 ? al_cg_v2_apply_memory (cg, fd, m, err) : al_cg_v1_apply_memory (cg, fd, m, err);
}

static int
apply_cpu (const struct al_cgroup *cg, const struct al_cpu *c, struct al_error *err)
{
  int fd = -1;
  bool v2 = false;
  const char *f = cpu_non_default (c);
  if (f || c->has_shares || c->has_quota || c->has_period || c->has_burst || c->has_realtime_runtime
      || c->has_realtime_period || c->has_idle)
    {
      int r = controller_fd (cg, AL_CG_CPU, "linux.resources.cpu", &fd, &v2, err);
      if (r < 0)
        return r;
      if (r == 0 && f)
        return unavailable (f, "cpu", err);
      if (r > 0)
        {
          r = v2 ? al_cg_v2_apply_cpu (cg, fd, c, err) : al_cg_v1_apply_cpu (cg, fd, c, err);
          if (r < 0)
            return r;
        }
    }
  bool want_cpus = c->cpus && c->cpus[0], want_mems = c->mems && c->mems[0];
  if (!want_cpus && !want_mems)
    return 0;
  int r = controller_fd (cg, AL_CG_CPUSET, "linux.resources.cpu", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    return unavailable (want_cpus ? "cpu.cpus" : "cpu.mems", "cpuset", err);
  return v2 ? al_cg_v2_apply_cpuset (fd, c, err) : al_cg_v1_apply_cpuset (fd, c, err);
}

static int
apply_pids (const struct al_cgroup *cg, const struct al_pids *p, struct al_error *err)
{
  if (!p->has_limit)
    return 0;
  int fd = -1;
  bool v2 = false;
  int r = controller_fd (cg, AL_CG_PIDS, "linux.resources.pids", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    return p->limit == -1 ? 0 : unavailable ("pids.limit", "pids", err);
  return v2 ? al_cg_v2_apply_pids (fd, p, err) : al_cg_v1_apply_pids (fd, p, err);
}

static bool
block_io_empty (const struct al_block_io *b)
{
  return !b->has_weight && !b->has_leaf_weight && b->n_weight_devices == 0
         && b->throttle_read_bps.n == 0 && b->throttle_write_bps.n == 0
         && b->throttle_read_iops.n == 0 && b->throttle_write_iops.n == 0;
}

static int
apply_block_io (const struct al_cgroup *cg, const struct al_block_io *b, struct al_error *err)
{
  if (block_io_empty (b))
    return 0;
  int fd = -1;
  bool v2 = false;
  int r = controller_fd (cg, AL_CG_BLKIO, "linux.resources.blockIO", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    return unavailable ("blockIO", cg->host->layout == AL_CGROUP_V2 ? "io" : "blkio", err);
  return v2 ? al_cg_v2_apply_io (fd, b, err) : al_cg_v1_apply_blkio (fd, b, err);
}

static int
apply_hugetlb (const struct al_cgroup *cg, const struct al_resources *res, struct al_error *err)
{
  if (res->n_hugepage_limits == 0)
    return 0;
  int fd = -1;
  bool v2 = false;
  int r = controller_fd (cg, AL_CG_HUGETLB, "linux.resources.hugepageLimits", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    return unavailable ("hugepageLimits", "hugetlb", err);
  return v2 ? al_cg_v2_apply_hugetlb (fd, res->hugepage_limits, res->n_hugepage_limits, err)
            : al_cg_v1_apply_hugetlb (fd, res->hugepage_limits, res->n_hugepage_limits, err);
}

static int
apply_network (const struct al_cgroup *cg, const struct al_network *n, struct al_error *err)
{
  int fd = -1;
  bool v2 = false;
  if (n->has_class_id && n->class_id != 0)
    {
      int r = controller_fd (cg, AL_CG_NET_CLS, "linux.resources.network", &fd, &v2, err);
      if (r < 0)
        return r;
      if (r == 0 || v2)
        return unavailable ("network.classID", "net_cls", err);
      if ((r = al_cg_v1_apply_net_cls (fd, n, err)) < 0)
        return r;
    }
  if (n->n_priorities > 0)
    {
      int r = controller_fd (cg, AL_CG_NET_PRIO, "linux.resources.network", &fd, &v2, err);
      if (r < 0)
        return r;
      if (r == 0 || v2)
        return unavailable ("network.priorities", "net_prio", err);
      if ((r = al_cg_v1_apply_net_prio (fd, n, err)) < 0)
        return r;
    }
  return 0;
}

static int
apply_rdma (const struct al_cgroup *cg, const struct al_resources *res, struct al_error *err)
{
  if (res->n_rdma == 0)
    return 0;
  int fd = -1;
  bool v2 = false;
  int r = controller_fd (cg, AL_CG_RDMA, "linux.resources.rdma", &fd, &v2, err);
  if (r < 0)
    return r;
  if (r == 0)
    return unavailable ("rdma", "rdma", err);
  return v2 ? al_cg_v2_apply_rdma (fd, res->rdma, res->n_rdma, err)
            : al_cg_v1_apply_rdma (fd, res->rdma, res->n_rdma, err);
}

static int
apply_devices (const struct al_cgroup *cg, const struct al_resources *res, struct al_error *err)
{
  if (res->n_devices == 0)
    return 0;
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[AL_CG_DEVICES];
  if (idx >= 0)
    {
      if (cg->fd[idx] < 0)
        return al_error_reason (err, ENOENT,
                                "linux.resources.devices: cgroup `%s` does not "
                                "exist in `%s`",
                                cg->path, h->h[idx].mount);
      return al_cg_v1_apply_devices (cg->fd[idx], res->devices, res->n_devices, err);
    }
  if (h->unified < 0 || cg->fd[h->unified] < 0)
    return unavailable ("devices", "devices", err);
  cleanup_free struct bpf_insn *insns = NULL;
  size_t n;
  int r = al_cg_devices_bpf_build (res->devices, res->n_devices, &insns, &n, err);
  if (r == 0)
    r = al_cg_devices_bpf_attach (cg->fd[h->unified], insns, n, err);
  return r < 0 ? al_error_wrap (err, "linux.resources.devices") : 0;
}

int
al_cgroup_apply (const struct al_cgroup *cg, const struct al_resources *res, struct al_error *err)
{
  if (res == NULL)
    return 0;
  int r = validate_resources (res, err);
  if (r < 0)
    return r;
  if (res->unified.n > 0 && cg->host->layout != AL_CGROUP_V2)
    return al_error_reason (err, ENOTSUP,
                            "linux.resources.unified: needs a cgroup v2 host "
                            "(this one is %s)",
                            al_cgroup_layout_name (cg->host->layout));
  if ((res->memory && (r = apply_memory (cg, res->memory, err)) < 0)
      || (res->cpu && (r = apply_cpu (cg, res->cpu, err)) < 0)
      || (res->pids && (r = apply_pids (cg, res->pids, err)) < 0)
      || (res->block_io && (r = apply_block_io (cg, res->block_io, err)) < 0)
      || (r = apply_hugetlb (cg, res, err)) < 0
      || (res->network && (r = apply_network (cg, res->network, err)) < 0)
      || (r = apply_rdma (cg, res, err)) < 0 || (r = apply_devices (cg, res, err)) < 0)
    return r;
  if (res->unified.n > 0)
    {
      /* The spec wants the controller a key belongs to enabled for it. */
      for (size_t i = 0; i < res->unified.n; i++)
        {
          const char *k = res->unified.keys[i];
          int c = controller_by_name (v2_names, k, strcspn (k, "."));
          int cfd;
          bool cv2;
          if (c >= 0 && (r = controller_fd (cg, c, "linux.resources.unified", &cfd, &cv2, err)) < 0)
            return r;
        }
      int fd = cg->fd[cg->host->unified];
      if (fd < 0)
        return al_error_reason (err, ENOENT, "linux.resources.unified: cgroup `%s` is missing",
                                cg->path);
      return al_cg_v2_apply_unified (fd, &res->unified, err);
    }
  return 0;
}

/* ------------------------------------------------------------ processes */

/* Where processes are listed from: every hierarchy holds them all; prefer
 * the one whose freezer (if any) kill-all uses. */
static int
pid_source (const struct al_cgroup *cg)
{
  const struct al_cgroup_host *h = cg->host;
  const enum al_cg_controller order[] = { AL_CG_FREEZER, AL_CG_PIDS, AL_CG_MEMORY, AL_CG_CPU };
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
    {
      int idx = h->where[order[k]];
      if (idx >= 0 && cg->fd[idx] >= 0 && !h->h[idx].v2)
        return idx;
    }
  if (h->unified >= 0 && cg->fd[h->unified] >= 0)
    return h->unified;
  for (size_t i = 0; i < h->n; i++)
    if (cg->fd[i] >= 0)
      return (int) i;
  return -1;
}

struct pid_list
{
  pid_t *v;
  size_t n, cap;
};

static int
collect_pids (int fd, struct pid_list *l, int depth, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  int r = al_cg_read (fd, "cgroup.procs", &buf, err);
  if (r < 0)
    return r;
  for (char *p = buf; *p;)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (v > 0)
        {
          if (l->n == l->cap)
            {
              size_t ncap = l->cap ? l->cap * 2 : 64;
              pid_t *nv = realloc (l->v, ncap * sizeof *nv);
              if (nv == NULL)
                return al_error_set (err, ENOMEM, "list cgroup processes");
              l->v = nv;
              l->cap = ncap;
            }
          l->v[l->n++] = (pid_t) v;
        }
      p = end;
      while (*p == '\n')
        p++;
    }
  if (depth >= AL_CG_MAX_DEPTH)
    return 0;
  cleanup_close int dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "open cgroup directory");
  cleanup_dir DIR *d = fdopendir (dfd);
  if (d == NULL)
    return al_error_set (err, errno, "read cgroup directory");
  dfd = -1;
  for (struct dirent *de; (de = readdir (d));)
    {
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_close int sub
          = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (sub < 0)
        continue; /* removed meanwhile */
      if ((r = collect_pids (sub, l, depth + 1, err)) < 0 && r != -ENOENT)
        return r;
    }
  return 0;
}

int
al_cgroup_pids (const struct al_cgroup *cg, pid_t **ret_pids, size_t *ret_n, struct al_error *err)
{
  int src = pid_source (cg);
  if (src < 0)
    return al_error_set (err, ENOENT, "cgroup `%s`", cg->path);
  struct pid_list l = { 0 };
  int r = collect_pids (cg->fd[src], &l, 0, err);
  if (r < 0)
    {
      free (l.v);
      return al_error_wrap (err, "list processes of cgroup `%s`", cg->path);
    }
  *ret_pids = l.v;
  *ret_n = l.n;
  return 0;
}

/* The freezer to use: 1 with *fd and *v2, 0 if none. */
static int
freezer_fd (const struct al_cgroup *cg, int *fd, bool *v2)
{
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[AL_CG_FREEZER];
  if (idx >= 0 && cg->fd[idx] >= 0)
    {
      *fd = cg->fd[idx];
      *v2 = false;
      return 1;
    }
  if (h->unified >= 0 && cg->fd[h->unified] >= 0
      && al_cg_exists (cg->fd[h->unified], "cgroup.freeze"))
    {
      *fd = cg->fd[h->unified];
      *v2 = true;
      return 1;
    }
  return 0;
}

static int
set_frozen (const struct al_cgroup *cg, bool frozen, struct al_error *err)
{
  int fd = -1;
  bool v2 = false;
  if (!freezer_fd (cg, &fd, &v2))
    return al_error_reason (err, ENOTSUP,
                            "cgroup `%s`: no freezer (the freezer controller "
                            "is not mounted and cgroup.freeze is unavailable)",
                            cg->path);
  int r = v2 ? al_cg_v2_freeze (fd, frozen, err) : al_cg_v1_freeze (fd, frozen, err);
  if (r < 0)
    return al_error_wrap (err, "%s cgroup `%s`", frozen ? "freeze" : "thaw", cg->path);
  return 0;
}

int
al_cgroup_freeze (const struct al_cgroup *cg, struct al_error *err)
{
  return set_frozen (cg, true, err);
}

int
al_cgroup_thaw (const struct al_cgroup *cg, struct al_error *err)
{
  return set_frozen (cg, false, err);
}

int
al_cgroup_is_frozen (const struct al_cgroup *cg, bool *ret_frozen, struct al_error *err)
{
  int fd = -1;
  bool v2 = false;
  if (!freezer_fd (cg, &fd, &v2))
    {
      *ret_frozen = false;
      return 0;
    }
  return v2 ? al_cg_v2_is_frozen (fd, ret_frozen, err) : al_cg_v1_is_frozen (fd, ret_frozen, err);
}

/* airlock's own cgroups as /proc/self/cgroup says now, per host hierarchy. */
static int
read_own_now (const struct al_cgroup_host *h, char **own, struct al_error *err)
{
  cleanup_free char *self = NULL, *mountinfo = NULL;
  int r = al_read_file (AT_FDCWD, "/proc/self/cgroup", 1u << 20, &self, NULL, err);
  if (r < 0)
    return r;
  r = al_read_file (AT_FDCWD, "/proc/self/mountinfo", 16u << 20, &mountinfo, NULL, err);
  if (r < 0)
    return r;
  /* Same parse as detection, then match hierarchies by mount point. */
  cleanup_free struct al_cgroup_host *now = calloc (1, sizeof *now);
  cleanup_free struct parsed *p = calloc (1, sizeof *p);
  if (now == NULL || p == NULL)
    return al_error_set (err, ENOMEM, "read own cgroup");
  r = host_parse_common (now, p, mountinfo, self, h->parent + 1, err);
  if (r == 0)
    for (size_t i = 0; i < h->n; i++)
      for (size_t j = 0; j < now->n; j++)
        if (strcmp (h->h[i].mount, now->h[j].mount) == 0 && now->h[j].own)
          {
            own[i] = strdup (now->h[j].own);
            if (own[i] == NULL)
              r = al_error_set (err, ENOMEM, "read own cgroup");
          }
  host_clear (now);
  return r;
}

/* Independent of any path reasoning: a cgroup that lists airlock's own
 * process is never killed (freezing it would freeze airlock itself). */
static int
check_not_member (const struct al_cgroup *cg, struct al_error *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int r = al_cgroup_pids (cg, &pids, &n, err);
  if (r < 0)
    return r;
  pid_t self = getpid ();
  for (size_t i = 0; i < n; i++)
    if (pids[i] == self)
      return al_error_reason (err, EPERM,
                              "kill-all: cgroup `%s` is airlock's own cgroup "
                              "(pid %d is in it)",
                              cg->path, (int) self);
  return 0;
}

int
al_cgroup_check_killable (const struct al_cgroup *cg, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  const char *field = "kill-all";
  cleanup_free char *p = NULL;
  int r = al_cg_normalize (field, cg->path, &p, err);
  if (r < 0)
    {
      err->errnum = EPERM; /* refused, whatever made the path unusable */
      return -EPERM;
    }
  if (strcmp (p, cg->path) != 0)
    return al_error_reason (err, EPERM, "%s: cgroup path `%s` is not in canonical form", field,
                            cg->path);
  r = check_target (h, NULL, field, p, err);
  if (r < 0)
    return r;
  char *own[AL_CG_MAX_HIERARCHIES] = { NULL };
  r = read_own_now (h, own, err);
  if (r == 0)
    r = check_target (h, own, field, p, err);
  for (size_t i = 0; i < AL_CG_MAX_HIERARCHIES; i++)
    free (own[i]);
  if (r < 0)
    return r;
  if (!strictly_below (h->parent, p) && !cg->owned)
    return al_error_reason (err, EPERM,
                            "%s: cgroup `%s` is outside the airlock parent `%s` "
                            "and airlock did not create it",
                            field, p, h->parent);
  if ((r = check_not_member (cg, err)) < 0)
    return r;
  bool any = false;
  for (size_t i = 0; i < h->n; i++)
    {
      if (cg->fd[i] < 0)
        continue;
      struct statfs sfs;
      struct stat st;
      if (fstatfs (cg->fd[i], &sfs) < 0 || fstat (cg->fd[i], &st) < 0)
        return al_error_set (err, errno, "%s: cgroup `%s`", field, p);
      unsigned long want = h->h[i].v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
      if ((unsigned long) sfs.f_type != want || !S_ISDIR (st.st_mode))
        return al_error_reason (err, EPERM, "%s: `%s` in `%s` is not a cgroup directory", field, p,
                                h->h[i].mount);
      any = true;
    }
  if (!any)
    return al_error_reason (err, ENOENT, "%s: cgroup `%s` does not resolve in any hierarchy", field,
                            p);
  return 0;
}

static int
wait_empty (const struct al_cgroup *cg, long budget_ms, size_t *ret_left, struct al_error *err)
{
  long deadline = al_cg_now_ms () + budget_ms;
  for (long step = 1;; step = step < 32 ? step * 2 : step)
    {
      cleanup_free pid_t *pids = NULL;
      size_t n = 0;
      int r = al_cgroup_pids (cg, &pids, &n, err);
      if (r < 0)
        return r;
      *ret_left = n;
      if (n == 0 || al_cg_now_ms () >= deadline)
        return 0;
      al_cg_sleep_ms (step);
    }
}

int
al_cgroup_kill_all (const struct al_cgroup *cg, struct al_error *err)
{
  int r = al_cgroup_check_killable (cg, err);
  if (r < 0)
    return r;
  const struct al_cgroup_host *h = cg->host;
  size_t left = 0;

  if (h->layout == AL_CGROUP_V2)
    {
      r = al_cg_v2_kill (cg->fd[h->unified], err);
      if (r == 0)
        {
          r = wait_empty (cg, 5000, &left, err);
          if (r < 0)
            return r;
          if (left == 0)
            return 0;
        }
      else if (r != -ENOTSUP)
        return al_error_wrap (err, "kill cgroup `%s`", cg->path);
      /* no cgroup.kill (before 5.14): the freeze loop below */
    }

  int ffd = -1;
  bool fv2 = false;
  bool can_freeze = freezer_fd (cg, &ffd, &fv2) == 1;
  for (int round = 0; round < KILL_ROUNDS; round++)
    {
      cleanup_free pid_t *pids = NULL;
      size_t n = 0;
      if ((r = al_cgroup_pids (cg, &pids, &n, err)) < 0)
        return r;
      if (n == 0)
        return 0;
      for (size_t i = 0; i < n; i++)
        if (pids[i] == getpid ())
          return al_error_reason (err, EPERM,
                                  "kill-all: cgroup `%s` is airlock's own cgroup "
                                  "(pid %d is in it)",
                                  cg->path, (int) getpid ());
      if (can_freeze)
        {
          /* Frozen members can neither fork nor exit, so the list read
           * after freezing is complete and none of its pids is reused
           * before the signal lands.  A freeze that times out still
           * leaves most members stopped: kill them anyway. */
          struct al_error ignored = { 0 };
          if (fv2)
            al_cg_v2_freeze (ffd, true, &ignored);
          else
            al_cg_v1_freeze (ffd, true, &ignored);
          free (pids);
          pids = NULL;
          n = 0;
          r = al_cgroup_pids (cg, &pids, &n, err);
        }
      for (size_t i = 0; i < n; i++)
        kill (pids[i], SIGKILL);
      if (can_freeze)
        {
          struct al_error terr = { 0 };
          int t = fv2 ? al_cg_v2_freeze (ffd, false, &terr) : al_cg_v1_freeze (ffd, false, &terr);
          if (t < 0 && r == 0)
            {
              *err = terr;
              r = al_error_wrap (err, "thaw cgroup `%s`", cg->path);
            }
        }
      if (r < 0)
        return r;
      if ((r = wait_empty (cg, 100 + 20L * round, &left, err)) < 0)
        return r;
      if (left == 0)
        return 0;
    }
  return al_error_reason (err, EBUSY,
                          "kill cgroup `%s`: %zu processes survived %d rounds of "
                          "SIGKILL",
                          cg->path, left, KILL_ROUNDS);
}

/* --------------------------------------------------------------- remove */

/* rmdir dir name below parent, sub-cgroups first. */
static int
rmdir_tree (int parent, const char *name, int depth)
{
  if (unlinkat (parent, name, AT_REMOVEDIR) == 0)
    return 0;
  if (errno != EBUSY && errno != ENOTEMPTY)
    return -errno;
  int saved = errno;
  if (depth >= AL_CG_MAX_DEPTH)
    return -saved;
  cleanup_close int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    return -errno;
  fd = -1;
  bool had_children = false;
  for (struct dirent *de; (de = readdir (d));)
    {
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      had_children = true;
      int r = rmdir_tree (dirfd (d), de->d_name, depth + 1);
      if (r < 0 && r != -ENOENT)
        return r;
    }
  if (!had_children)
    return -saved;
  return unlinkat (parent, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int
al_cgroup_remove (struct al_cgroup *cg, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  for (size_t i = 0; i < h->n; i++)
    {
      if (h->h[i].fd < 0)
        continue;
      /* The usual case in one call: an empty leaf goes at once. */
      if (unlinkat (h->h[i].fd, cg->path + 1, AT_REMOVEDIR) == 0 || errno == ENOENT)
        {
          if (cg->fd[i] >= 0)
            {
              close (cg->fd[i]);
              cg->fd[i] = -1;
            }
          prune_ancestors (h, i, cg->path);
          continue;
        }
      const char *base;
      cleanup_close int parent = parent_dir_fd (h->h[i].fd, cg->path, &base);
      if (parent < 0)
        {
          if (errno == ENOENT)
            continue;
          return al_error_set (err, errno, "remove cgroup `%s` in `%s`", cg->path, h->h[i].mount);
        }
      long deadline = al_cg_now_ms () + REMOVE_BUDGET_MS;
      int r;
      for (long step = 1;; step = step < 16 ? step * 2 : step)
        {
          r = rmdir_tree (parent, base, 0);
          if (r == 0 || r == -ENOENT || (r != -EBUSY && r != -ENOTEMPTY)
              || al_cg_now_ms () >= deadline)
            break;
          al_cg_sleep_ms (step);
        }
      if (r == -EBUSY || r == -ENOTEMPTY)
        {
          cleanup_free pid_t *pids = NULL;
          size_t n = 0;
          struct al_error ignored = { 0 };
          al_cgroup_pids (cg, &pids, &n, &ignored);
          return al_error_reason (err, EBUSY,
                                  "remove cgroup `%s` in `%s`: still busy after "
                                  "%d ms (%zu processes left)",
                                  cg->path, h->h[i].mount, REMOVE_BUDGET_MS, n);
        }
      if (r < 0 && r != -ENOENT)
        return al_error_set (err, -r, "remove cgroup `%s` in `%s`", cg->path, h->h[i].mount);
      if (cg->fd[i] >= 0)
        {
          close (cg->fd[i]);
          cg->fd[i] = -1;
        }
      prune_ancestors (h, i, cg->path);
    }
  return 0;
}

/* ----------------------------------------------------------------- stats */

static int
pids_stats (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  if (!al_cg_exists (fd, "pids.current"))
    return 0; /* v2: controller not enabled here */
  int r = al_cg_read_u64 (fd, "pids.current", &st->pids_current, err);
  if (r == 0)
    r = al_cg_read_u64 (fd, "pids.max", &st->pids_limit, err);
  if (r < 0)
    return r;
  st->has_pids = true;
  return 0;
}

/* v1 reports "unlimited" as PAGE_COUNTER_MAX pages: anything this large. */
#define V1_UNLIMITED_MIN (1ull << 62)

/* An optional number: 0 when the file is missing or unreadable. */
static uint64_t
read_opt_u64 (int fd, const char *file, bool *found)
{
  uint64_t v = 0;
  struct al_error ignored = { 0 };
  if (al_cg_read_u64 (fd, file, &v, &ignored) < 0)
    return 0;
  if (found)
    *found = true;
  return v;
}

static uint64_t
read_opt_key (int fd, const char *file, const char *key)
{
  uint64_t v = 0;
  struct al_error ignored = { 0 };
  if (al_cg_read_key (fd, file, key, &v, &ignored) < 0)
    return 0;
  return v;
}

static size_t
read_u64_list (int fd, const char *file, uint64_t *v, size_t max)
{
  cleanup_free char *buf = NULL;
  struct al_error ignored = { 0 };
  if (al_cg_read (fd, file, &buf, &ignored) < 0)
    return 0;
  size_t n = 0;
  for (char *p = buf; n < max;)
    {
      char *end;
      unsigned long long x = strtoull (p, &end, 10);
      if (end == p)
        break;
      v[n++] = x;
      p = end;
    }
  return n;
}

/* "<prefix>usage_in_bytes" and friends (v1) into c. */
static void
v1_mem_counter (int fd, const char *prefix, struct al_cgroup_mem_counter *c)
{
  char f[64];
  bool found = false;
  snprintf (f, sizeof f, "%susage_in_bytes", prefix);
  c->usage = read_opt_u64 (fd, f, &found);
  if (!found)
    return;
  snprintf (f, sizeof f, "%smax_usage_in_bytes", prefix);
  c->max = read_opt_u64 (fd, f, NULL);
  snprintf (f, sizeof f, "%sfailcnt", prefix);
  c->failcnt = read_opt_u64 (fd, f, NULL);
  snprintf (f, sizeof f, "%slimit_in_bytes", prefix);
  c->limit = read_opt_u64 (fd, f, NULL);
  if (c->limit >= V1_UNLIMITED_MIN)
    c->limit = UINT64_MAX;
  c->has = true;
}

static void
memory_stat_raw (int fd, struct al_cgroup_stats *st, bool v2)
{
  cleanup_free char *buf = NULL;
  struct al_error ignored = { 0 };
  if (al_cg_read (fd, "memory.stat", &buf, &ignored) < 0)
    return;
  for (char *save = NULL, *line = strtok_r (buf, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char key[48];
      unsigned long long v;
      if (sscanf (line, "%47s %llu", key, &v) != 2)
        continue;
      if (strcmp (key, v2 ? "file" : "cache") == 0)
        st->memory_cache = v;
      if (st->n_memory_stat < AL_CGROUP_STATS_MAX_KEYS)
        {
          struct al_cgroup_stat_entry *e = &st->memory_stat[st->n_memory_stat++];
          snprintf (e->key, sizeof e->key, "%s", key);
          e->value = v;
        }
    }
}

static void
io_add (struct al_cgroup_io_entry *v, size_t *n, unsigned major, unsigned minor, const char *op,
        uint64_t value)
{
  if (*n >= AL_CGROUP_STATS_MAX_IO)
    return;
  struct al_cgroup_io_entry *e = &v[(*n)++];
  e->major = major;
  e->minor = minor;
  snprintf (e->op, sizeof e->op, "%s", op);
  e->value = value;
}

/* v1 "8:0 Read 4096" lines (the "Total N" summary line is skipped). */
static void
v1_io_list (int fd, const char *file, struct al_cgroup_io_entry *v, size_t *n)
{
  cleanup_free char *buf = NULL;
  struct al_error ignored = { 0 };
  if (al_cg_read (fd, file, &buf, &ignored) < 0)
    return;
  for (char *save = NULL, *line = strtok_r (buf, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      unsigned major, minor;
      char op[16];
      unsigned long long value;
      if (sscanf (line, "%u:%u %15s %llu", &major, &minor, op, &value) == 4)
        io_add (v, n, major, minor, op, value);
    }
}

static void
v2_io_stat (int fd, struct al_cgroup_stats *st)
{
  cleanup_free char *buf = NULL;
  struct al_error ignored = { 0 };
  if (al_cg_read (fd, "io.stat", &buf, &ignored) < 0)
    return;
  for (char *save = NULL, *line = strtok_r (buf, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      unsigned major, minor;
      int off = 0;
      if (sscanf (line, "%u:%u%n", &major, &minor, &off) != 2)
        continue;
      for (char *s2 = NULL, *tok = strtok_r (line + off, " ", &s2); tok;
           tok = strtok_r (NULL, " ", &s2))
        {
          unsigned long long v;
          if (sscanf (tok, "rbytes=%llu", &v) == 1)
            io_add (st->io_bytes, &st->n_io_bytes, major, minor, "Read", v);
          else if (sscanf (tok, "wbytes=%llu", &v) == 1)
            io_add (st->io_bytes, &st->n_io_bytes, major, minor, "Write", v);
          else if (sscanf (tok, "rios=%llu", &v) == 1)
            io_add (st->io_ops, &st->n_io_ops, major, minor, "Read", v);
          else if (sscanf (tok, "wios=%llu", &v) == 1)
            io_add (st->io_ops, &st->n_io_ops, major, minor, "Write", v);
        }
    }
}

/* hugetlb.<size>.usage_in_bytes (v1) / hugetlb.<size>.current (v2) for
 * every size present in the leaf. */
static void
hugetlb_stats (int fd, bool v2, struct al_cgroup_stats *st)
{
  cleanup_close int dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return;
  cleanup_dir DIR *d = fdopendir (dfd);
  if (d == NULL)
    return;
  dfd = -1;
  const char *suffix = v2 ? ".current" : ".usage_in_bytes";
  for (struct dirent *de; (de = readdir (d)) && st->n_hugetlb < AL_CGROUP_STATS_MAX_HUGE;)
    {
      const char *name = de->d_name;
      size_t len = strlen (name), slen = strlen (suffix);
      if (strncmp (name, "hugetlb.", 8) != 0 || len <= 8 + slen
          || strcmp (name + len - slen, suffix) != 0)
        continue;
      size_t zlen = len - 8 - slen;
      if (zlen >= sizeof st->hugetlb[0].size || memchr (name + 8, '.', zlen))
        continue; /* hugetlb.2MB.rsvd.current and the like */
      struct al_cgroup_hugetlb_stat *hs = &st->hugetlb[st->n_hugetlb++];
      snprintf (hs->size, sizeof hs->size, "%.*s", (int) zlen, name + 8);
      char f[96];
      hs->usage = read_opt_u64 (fd, name, NULL);
      if (v2)
        {
          snprintf (f, sizeof f, "hugetlb.%s.events", hs->size);
          hs->failcnt = read_opt_key (fd, f, "max");
        }
      else
        {
          snprintf (f, sizeof f, "hugetlb.%s.max_usage_in_bytes", hs->size);
          hs->max = read_opt_u64 (fd, f, NULL);
          snprintf (f, sizeof f, "hugetlb.%s.failcnt", hs->size);
          hs->failcnt = read_opt_u64 (fd, f, NULL);
        }
    }
}

/* What `events` shows beyond the basics: every file is optional. */
static int
stats_detail (const struct al_cgroup *cg, struct al_cgroup_stats *st, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[AL_CG_CPU];
  if (idx >= 0 && cg->fd[idx] >= 0 && al_cg_exists (cg->fd[idx], "cpu.stat"))
    {
      int fd = cg->fd[idx];
      uint64_t v = 0;
      struct al_error ignored = { 0 };
      if (al_cg_read_key (fd, "cpu.stat", "nr_periods", &v, &ignored) == 0)
        {
          st->has_throttling = true;
          st->cpu_periods = v;
          st->cpu_throttled_periods = read_opt_key (fd, "cpu.stat", "nr_throttled");
          st->cpu_throttled_ns = h->h[idx].v2
                                     ? read_opt_key (fd, "cpu.stat", "throttled_usec") * 1000
                                     : read_opt_key (fd, "cpu.stat", "throttled_time");
        }
    }
  idx = h->where[AL_CG_CPUACCT];
  if (idx >= 0 && cg->fd[idx] >= 0 && !h->h[idx].v2)
    {
      int fd = cg->fd[idx];
      st->n_percpu
          = read_u64_list (fd, "cpuacct.usage_percpu", st->cpu_percpu, AL_CGROUP_STATS_MAX_CPUS);
      size_t nu = read_u64_list (fd, "cpuacct.usage_percpu_user", st->cpu_percpu_user,
                                 AL_CGROUP_STATS_MAX_CPUS);
      size_t ns = read_u64_list (fd, "cpuacct.usage_percpu_sys", st->cpu_percpu_system,
                                 AL_CGROUP_STATS_MAX_CPUS);
      st->has_percpu_split = st->n_percpu > 0 && nu == st->n_percpu && ns == st->n_percpu;
    }
  idx = h->where[AL_CG_MEMORY];
  if (idx >= 0 && cg->fd[idx] >= 0)
    {
      int fd = cg->fd[idx];
      bool v2 = h->h[idx].v2;
      if (!v2)
        {
          v1_mem_counter (fd, "memory.memsw.", &st->swap);
          v1_mem_counter (fd, "memory.kmem.", &st->kernel);
          v1_mem_counter (fd, "memory.kmem.tcp.", &st->kernel_tcp);
        }
      else if (al_cg_exists (fd, "memory.swap.current"))
        {
          st->swap.has = true;
          st->swap.usage = read_opt_u64 (fd, "memory.swap.current", NULL);
          st->swap.max = read_opt_u64 (fd, "memory.swap.peak", NULL);
          st->swap.limit = read_opt_u64 (fd, "memory.swap.max", NULL);
          st->swap.failcnt = read_opt_key (fd, "memory.swap.events", "max");
        }
      memory_stat_raw (fd, st, v2);
    }
  idx = h->where[AL_CG_HUGETLB];
  if (idx >= 0 && cg->fd[idx] >= 0)
    hugetlb_stats (cg->fd[idx], h->h[idx].v2, st);
  idx = h->where[AL_CG_BLKIO];
  if (idx >= 0 && cg->fd[idx] >= 0)
    {
      int fd = cg->fd[idx];
      if (h->h[idx].v2)
        v2_io_stat (fd, st);
      else
        {
          const char *b = al_cg_exists (fd, "blkio.throttle.io_service_bytes_recursive")
                              ? "blkio.throttle.io_service_bytes_recursive"
                              : "blkio.io_service_bytes_recursive";
          const char *o = al_cg_exists (fd, "blkio.throttle.io_serviced_recursive")
                              ? "blkio.throttle.io_serviced_recursive"
                              : "blkio.io_serviced_recursive";
          v1_io_list (fd, b, st->io_bytes, &st->n_io_bytes);
          v1_io_list (fd, o, st->io_ops, &st->n_io_ops);
        }
    }
  (void) err;
  return 0;
}

int
al_cgroup_stats (const struct al_cgroup *cg, struct al_cgroup_stats *ret_stats,
                 struct al_error *err)
{
  /* filled in place: the struct is too big to copy around */
  struct al_cgroup_stats *st = ret_stats;
  memset (st, 0, sizeof *st);
  const struct al_cgroup_host *h = cg->host;
  int r = 0;
  int idx = h->where[AL_CG_PIDS];
  if (idx >= 0 && cg->fd[idx] >= 0)
    r = pids_stats (cg->fd[idx], st, err);
  idx = h->where[AL_CG_MEMORY];
  if (r == 0 && idx >= 0 && cg->fd[idx] >= 0)
    r = h->h[idx].v2 ? al_cg_v2_stats_memory (cg->fd[idx], st, err)
                     : al_cg_v1_stats_memory (cg->fd[idx], st, err);
  /* CPU time: v1 cpuacct, else the v2 core file cpu.stat */
  idx = h->where[AL_CG_CPUACCT];
  if (r == 0 && idx >= 0 && cg->fd[idx] >= 0)
    r = al_cg_v1_stats_cpu (cg->fd[idx], st, err);
  else if (r == 0 && h->unified >= 0 && cg->fd[h->unified] >= 0)
    r = al_cg_v2_stats_cpu (cg->fd[h->unified], st, err);
  idx = h->where[AL_CG_BLKIO];
  if (r == 0 && idx >= 0 && cg->fd[idx] >= 0)
    r = h->h[idx].v2 ? al_cg_v2_stats_io (cg->fd[idx], st, err)
                     : al_cg_v1_stats_io (cg->fd[idx], st, err);
  if (r == 0)
    r = stats_detail (cg, st, err);
  if (r < 0)
    return al_error_wrap (err, "stats of cgroup `%s`", cg->path);
  return 0;
}

int
al_cgroup_usage (const struct al_cgroup *cg, bool memory, struct al_cgroup_stats *st,
                 struct al_error *err)
{
  memset (st, 0, sizeof *st);
  const struct al_cgroup_host *h = cg->host;
  int r = 0;
  int idx = h->where[AL_CG_PIDS];
  if (idx >= 0 && cg->fd[idx] >= 0)
    {
      r = al_cg_read_u64 (cg->fd[idx], "pids.current", &st->pids_current, err);
      st->has_pids = r == 0;
      /* The kernel's own high-water mark, where it keeps one (6.1 has
       * pids.peak on v1, v2 got it later): exact, unlike samples. */
      if (r == 0 && memory)
        st->pids_peak = read_opt_u64 (cg->fd[idx], "pids.peak", &st->has_pids_peak);
    }
  idx = h->where[AL_CG_CPUACCT];
  if (r == 0 && idx >= 0 && cg->fd[idx] >= 0)
    r = al_cg_read_u64 (cg->fd[idx], "cpuacct.usage", &st->cpu_usage_ns, err);
  else if (r == 0 && h->unified >= 0 && cg->fd[h->unified] >= 0)
    {
      uint64_t usec = 0;
      r = al_cg_read_key (cg->fd[h->unified], "cpu.stat", "usage_usec", &usec, err);
      st->cpu_usage_ns = usec * 1000;
    }
  else
    return r < 0 ? al_error_wrap (err, "usage of cgroup `%s`", cg->path) : 0;
  st->has_cpu = r == 0;
  if (r < 0)
    return al_error_wrap (err, "usage of cgroup `%s`", cg->path);
  if (!memory)
    return 0;
  idx = h->where[AL_CG_MEMORY];
  if (idx < 0 || cg->fd[idx] < 0)
    return 0;
  bool v2 = h->h[idx].v2;
  r = al_cg_read_u64 (cg->fd[idx], v2 ? "memory.peak" : "memory.max_usage_in_bytes",
                      &st->memory_peak, err);
  st->has_memory_peak = r == 0;
  if (r == 0 || r == -ENOENT)
    r = al_cgroup_oom_kills (cg, &st->oom_kills, err);
  st->has_memory = r == 0;
  if (r < 0)
    return al_error_wrap (err, "usage of cgroup `%s`", cg->path);
  return 0;
}

/* ------------------------------------------------------------ oom watch */

int
al_cgroup_oom_kills (const struct al_cgroup *cg, uint64_t *ret, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[AL_CG_MEMORY];
  if (idx < 0 || cg->fd[idx] < 0)
    return al_error_reason (err, ENOTSUP, "cgroup `%s`: no memory controller", cg->path);
  *ret = 0;
  int r = al_cg_read_key (cg->fd[idx], h->h[idx].v2 ? "memory.events" : "memory.oom_control",
                          "oom_kill", ret, err);
  if (r == -ENOENT && !al_cg_exists (cg->fd[idx], h->h[idx].v2 ? "memory.events"
                                                               : "memory.oom_control"))
    return al_error_set (err, ENOENT, "cgroup `%s`: no OOM counter", cg->path);
  return r == -ENOENT ? 0 : r; /* a kernel without the key counts nothing */
}

int
al_cgroup_oom_watch (const struct al_cgroup *cg, int *ret_fd, struct al_error *err)
{
  const struct al_cgroup_host *h = cg->host;
  int idx = h->where[AL_CG_MEMORY];
  if (idx < 0 || cg->fd[idx] < 0)
    return al_error_reason (err, ENOTSUP, "cgroup `%s`: no memory controller to watch for OOM",
                            cg->path);
  int fd = cg->fd[idx];
  if (h->h[idx].v2)
    {
      if (!al_cg_exists (fd, "memory.events"))
        return al_error_reason (err, ENOTSUP,
                                "cgroup `%s`: the memory controller is not enabled "
                                "(no memory.events)",
                                cg->path);
      cleanup_close int in = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
      if (in < 0)
        return al_error_set (err, errno, "inotify");
      char path[64];
      snprintf (path, sizeof path, "/proc/self/fd/%d/memory.events", fd);
      if (inotify_add_watch (in, path, IN_MODIFY | IN_DELETE_SELF | IN_IGNORED) < 0)
        return al_error_set (err, errno, "watch memory.events of cgroup `%s`", cg->path);
      *ret_fd = al_steal_fd (&in);
      return 0;
    }
  cleanup_close int efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0)
    return al_error_set (err, errno, "eventfd");
  cleanup_close int ofd = openat (fd, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (ofd < 0)
    return al_error_set (err, errno, "open memory.oom_control of cgroup `%s`", cg->path);
  int r = al_cg_writef (fd, "cgroup.event_control", err, "%d %d", efd, ofd);
  if (r < 0)
    return al_error_wrap (err, "register an OOM notification for cgroup `%s`", cg->path);
  /* the registration holds its own reference to memory.oom_control */
  *ret_fd = al_steal_fd (&efd);
  return 0;
}
