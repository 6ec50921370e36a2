/* cgroup_v2.c — the cgroup v2 file formats (Documentation/admin-guide/
 * cgroup-v2.rst) and the device-cgroup eBPF program.
 *
 * v1-shaped values from config.json are converted the way runc and crun
 * do: cpu.shares -> cpu.weight, quota/period -> cpu.max, blkio weights ->
 * io.weight, memory+swap -> memory.swap.max, throttles -> io.max.  The
 * conversions are pure functions so they are tested on any host.
 */
#include "config.h"

#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#define FREEZE_TIMEOUT_MS 5000
#define BPF_MAX_RULES 4096 /* keeps the program far below BPF_COMPLEXITY_LIMIT_INSNS */
#define BPF_LOG_SIZE 16384

/* --------------------------------------------------------- pure conversions */

uint64_t
al_cg_shares_to_weight (uint64_t shares)
{
  /* runtime-spec / crun: [2, 262144] maps linearly onto [1, 10000] */
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
al_cg_blkio_weight_to_io (uint64_t weight)
{
  /* crun: [10, 1000] onto [1, 10000] */
  if (weight <= 10)
    return 1;
  if (weight >= 1000)
    return 10000;
  return 1 + ((weight - 10) * 9999) / 990;
}

int
al_cg_cpu_max_string (const struct al_cpu *c, const char *current, char *buf, size_t size,
                      struct al_error *err)
{
  char cur_quota[32] = "max";
  unsigned long long cur_period = 100000;
  if (current)
    {
      char q[32];
      unsigned long long p;
      if (sscanf (current, "%31s %llu", q, &p) == 2)
        {
          snprintf (cur_quota, sizeof cur_quota, "%s", q);
          cur_period = p;
        }
    }
  char quota[32];
  if (c->has_quota && c->quota == -1)
    snprintf (quota, sizeof quota, "max");
  else if (c->has_quota)
    snprintf (quota, sizeof quota, "%" PRId64, c->quota);
  else
    snprintf (quota, sizeof quota, "%s", cur_quota);
  unsigned long long period = c->has_period ? (unsigned long long) c->period : cur_period;
  int n = snprintf (buf, size, "%s %llu", quota, period);
  if (n < 0 || (size_t) n >= size)
    return al_error_set (err, ENAMETOOLONG, "cpu.max");
  return 0;
}

int
al_cg_swap_max_string (const struct al_memory *m, char *buf, size_t size, struct al_error *err)
{
  /* The spec's swap is memory+swap (the v1 memsw); v2 limits swap alone. */
  if (m->swap == -1)
    {
      snprintf (buf, size, "max");
      return 0;
    }
  if (!m->has_limit || m->limit == -1)
    return al_error_reason (err, EINVAL,
                            "linux.resources.memory.swap: a memory+swap limit "
                            "needs a memory limit on cgroup v2");
  if (m->swap < m->limit)
    return al_error_reason (err, EINVAL,
                            "linux.resources.memory.swap: %" PRId64 " is below "
                            "the memory limit %" PRId64,
                            m->swap, m->limit);
  snprintf (buf, size, "%" PRId64, m->swap - m->limit);
  return 0;
}

struct io_dev
{
  int64_t major, minor;
  bool set[4];
  uint64_t v[4];
};

int
al_cg_io_max_lines (const struct al_block_io *b, char **ret, struct al_error *err)
{
  static const char *const keys[4] = { "rbps", "wbps", "riops", "wiops" };
  const struct al_throttle_list *lists[4] = { &b->throttle_read_bps, &b->throttle_write_bps,
                                              &b->throttle_read_iops, &b->throttle_write_iops };
  size_t total = 0;
  for (size_t k = 0; k < 4; k++)
    total += lists[k]->n;
  cleanup_free struct io_dev *devs = calloc (total ? total : 1, sizeof *devs);
  if (devs == NULL)
    return al_error_set (err, ENOMEM, "io.max");
  size_t n = 0;
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < lists[k]->n; i++)
      {
        const struct al_throttle_device *t = &lists[k]->devices[i];
        size_t j = 0;
        while (j < n && !(devs[j].major == t->major && devs[j].minor == t->minor))
          j++;
        if (j == n)
          {
            devs[n].major = t->major;
            devs[n].minor = t->minor;
            n++;
          }
        devs[j].set[k] = true;
        devs[j].v[k] = t->rate;
      }
  /* each line is at most ~ 2*20 + 4*(6+20) bytes */
  cleanup_free char *out = malloc (n * 200 + 1);
  if (out == NULL)
    return al_error_set (err, ENOMEM, "io.max");
  size_t o = 0;
  out[0] = '\0';
  for (size_t j = 0; j < n; j++)
    {
      o += (size_t) sprintf (out + o, "%" PRId64 ":%" PRId64, devs[j].major, devs[j].minor);
      for (size_t k = 0; k < 4; k++)
        {
          if (!devs[j].set[k])
            continue;
          /* v1 takes 0 as "no limit"; v2 spells that "max" */
          if (devs[j].v[k] == 0)
            o += (size_t) sprintf (out + o, " %s=max", keys[k]);
          else
            o += (size_t) sprintf (out + o, " %s=%" PRIu64, keys[k], devs[j].v[k]);
        }
      out[o++] = '\n';
      out[o] = '\0';
    }
  *ret = al_steal_ptr (&out);
  return 0;
}

/* ------------------------------------------------------------ controllers */

static bool
word_in (const char *list, const char *word)
{
  size_t len = strlen (word);
  for (const char *p = list; *p;)
    {
      p += strspn (p, " \n");
      size_t w = strcspn (p, " \n");
      if (w == len && strncmp (p, word, len) == 0)
        return true;
      p += w;
    }
  return false;
}

bool
al_cg_v2_has (int fd, const char *controller)
{
  cleanup_free char *buf = NULL;
  struct al_error ignored = { 0 };
  if (al_cg_read (fd, "cgroup.controllers", &buf, &ignored) < 0)
    return false;
  return word_in (buf, controller);
}

/* Enable controller in one level's cgroup.subtree_control. */
static int
enable_at (int fd, const char *level, const char *controller, struct al_error *err)
{
  cleanup_free char *on = NULL, *avail = NULL;
  int r = al_cg_read (fd, "cgroup.subtree_control", &on, err);
  if (r < 0)
    return r;
  if (word_in (on, controller))
    return 0;
  if ((r = al_cg_read (fd, "cgroup.controllers", &avail, err)) < 0)
    return r;
  if (!word_in (avail, controller))
    return al_error_reason (err, ENOTSUP, "the %s controller is not available in `%s`", controller,
                            level);
  struct al_error e = { 0 };
  r = al_cg_writef (fd, "cgroup.subtree_control", &e, "+%s", controller);
  if (r == -EBUSY)
    return al_error_reason (err, EBUSY,
                            "cannot enable %s below `%s`: it holds processes "
                            "itself (cgroup v2 allows controllers only below cgroups without "
                            "processes)",
                            controller, level);
  if (r < 0)
    {
      *err = e;
      return al_error_wrap (err, "enable %s below `%s`", controller, level);
    }
  return 0;
}

int
al_cg_v2_enable (int root_fd, const char *path, const char *controller, struct al_error *err)
{
  char buf[4096];
  snprintf (buf, sizeof buf, "%s", path);
  int r = enable_at (root_fd, "/", controller, err);
  if (r < 0)
    return r;
  /* every level except the leaf: "/a/b/c" -> "a", "a/b" */
  for (char *s = strchr (buf + 1, '/'); s; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      cleanup_close int fd
          = openat (root_fd, buf + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        return al_error_set (err, errno, "open cgroup `%s`", buf);
      r = enable_at (fd, buf, controller, err);
      *s = '/';
      if (r < 0)
        return r;
    }
  return 0;
}

/* ------------------------------------------------------------------ apply */

int
al_cg_v2_apply_memory (const struct al_cgroup *cg, int fd, const struct al_memory *m,
                       struct al_error *err)
{
  int r;
  char buf[32];
  if (m->has_use_hierarchy && !m->use_hierarchy)
    return al_error_reason (err, ENOTSUP,
                            "linux.resources.memory.useHierarchy: cgroup v2 is "
                            "always hierarchical");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    return al_error_reason (err, ENOTSUP,
                            "linux.resources.memory.disableOOMKiller: cgroup v2 "
                            "cannot disable the OOM killer");
  if (m->has_swappiness)
    al_cg_warn (cg->host, "linux.resources.memory.swappiness: ignored (cgroup v2 has no "
                          "per-cgroup swappiness)");
  if (m->has_kernel_tcp && m->kernel_tcp != -1)
    al_cg_warn (cg->host, "linux.resources.memory.kernelTCP: ignored (cgroup v2 accounts TCP "
                          "buffers in memory.max)");
  if (m->has_check_before_update && m->check_before_update && m->has_limit && m->limit > 0)
    {
      uint64_t usage;
      if ((r = al_cg_read_u64 (fd, "memory.current", &usage, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.checkBeforeUpdate");
      if (usage > (uint64_t) m->limit)
        return al_error_reason (err, EBUSY,
                                "linux.resources.memory.limit: %" PRId64 " is below "
                                "the current usage %" PRIu64 " (checkBeforeUpdate)",
                                m->limit, usage);
    }
  if (m->has_limit)
    {
      if (m->limit == -1)
        snprintf (buf, sizeof buf, "max");
      else
        snprintf (buf, sizeof buf, "%" PRId64, m->limit);
      if ((r = al_cg_write (fd, "memory.max", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.limit");
    }
  if (m->has_reservation)
    {
      if (m->reservation == -1)
        snprintf (buf, sizeof buf, "max");
      else
        snprintf (buf, sizeof buf, "%" PRId64, m->reservation);
      if ((r = al_cg_write (fd, "memory.low", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.reservation");
    }
  if (m->has_swap)
    {
      struct al_memory mm = *m;
      if (!mm.has_limit)
        {
          /* update with swap alone: convert against the limit in force */
          uint64_t cur;
          if ((r = al_cg_read_u64 (fd, "memory.max", &cur, err)) < 0)
            return al_error_wrap (err, "linux.resources.memory.swap");
          mm.has_limit = true;
          mm.limit = cur == UINT64_MAX ? -1 : (int64_t) cur;
        }
      if ((r = al_cg_swap_max_string (&mm, buf, sizeof buf, err)) < 0)
        return r;
      if (!al_cg_exists (fd, "memory.swap.max"))
        {
          if (strcmp (buf, "0") != 0 && strcmp (buf, "max") != 0)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.memory.swap: swap accounting "
                                    "is off on this kernel (no memory.swap.max)");
        }
      else if ((r = al_cg_write (fd, "memory.swap.max", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.swap");
    }
  return 0;
}

int
al_cg_v2_apply_cpu (const struct al_cgroup *cg, int fd, const struct al_cpu *c,
                    struct al_error *err)
{
  int r;
  char buf[64];
  if ((c->has_realtime_runtime && c->realtime_runtime != 0)
      || (c->has_realtime_period && c->realtime_period != 1000000))
    return al_error_reason (err, ENOTSUP,
                            "linux.resources.cpu.realtime%s: cgroup v2 has no "
                            "realtime group scheduling",
                            c->has_realtime_runtime && c->realtime_runtime != 0 ? "Runtime"
                                                                                : "Period");
  if (c->has_shares)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, al_cg_shares_to_weight (c->shares));
      if ((r = al_cg_write (fd, "cpu.weight", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.cpu.shares");
    }
  bool burst_file = al_cg_exists (fd, "cpu.max.burst");
  if (c->has_burst && burst_file && c->has_quota)
    {
      /* burst <= quota at every step: lower the burst first (may fail while
       * the old quota is smaller; written again below) */
      struct al_error ignored = { 0 };
      al_cg_writef (fd, "cpu.max.burst", &ignored, "%" PRIu64, c->burst);
    }
  if (c->has_quota || c->has_period)
    {
      cleanup_free char *current = NULL;
      struct al_error ignored = { 0 };
      if (!(c->has_quota && c->has_period))
        al_cg_read (fd, "cpu.max", &current, &ignored);
      if ((r = al_cg_cpu_max_string (c, current, buf, sizeof buf, err)) < 0)
        return r;
      if ((r = al_cg_write (fd, "cpu.max", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.cpu.%s", c->has_quota ? "quota" : "period");
    }
  if (c->has_burst)
    {
      if (!burst_file)
        {
          if (c->burst != 0)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.cpu.burst: this kernel has "
                                    "no cpu.max.burst");
        }
      else if ((r = al_cg_writef (fd, "cpu.max.burst", err, "%" PRIu64, c->burst)) < 0)
        return al_error_wrap (err, "linux.resources.cpu.burst");
    }
  if (c->has_idle)
    {
      if (!al_cg_exists (fd, "cpu.idle"))
        {
          if (c->idle != 0)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.cpu.idle: this kernel has no "
                                    "cpu.idle");
        }
      else if ((r = al_cg_writef (fd, "cpu.idle", err, "%" PRId64, c->idle)) < 0)
        return al_error_wrap (err, "linux.resources.cpu.idle");
    }
  (void) cg;
  return 0;
}

int
al_cg_v2_apply_cpuset (int fd, const struct al_cpu *c, struct al_error *err)
{
  cleanup_close int parent = openat (fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0)
    return al_error_set (err, errno, "linux.resources.cpu: open parent cgroup");
  struct
  {
    const char *list, *field, *what, *file, *avail;
  } sets[2] = {
    { c->cpus, "linux.resources.cpu.cpus", "CPU", "cpuset.cpus", "cpuset.cpus.effective" },
    { c->mems, "linux.resources.cpu.mems", "memory node", "cpuset.mems", "cpuset.mems.effective" },
  };
  for (size_t i = 0; i < 2; i++)
    {
      if (sets[i].list == NULL || sets[i].list[strspn (sets[i].list, " \n")] == '\0')
        continue;
      cleanup_free char *avail = NULL;
      int r = al_cg_read (parent, sets[i].avail, &avail, err);
      if (r < 0)
        return al_error_wrap (err, "%s", sets[i].field);
      if ((r = al_cg_check_cpu_subset (sets[i].field, sets[i].what, sets[i].list, avail, err)) < 0)
        return r;
      if ((r = al_cg_write (fd, sets[i].file, sets[i].list, err)) < 0)
        return al_error_wrap (err, "%s", sets[i].field);
    }
  return 0;
}

int
al_cg_v2_apply_pids (int fd, const struct al_pids *p, struct al_error *err)
{
  int r = p->limit == -1 ? al_cg_write (fd, "pids.max", "max", err)
                         : al_cg_writef (fd, "pids.max", err, "%" PRId64, p->limit);
  return r < 0 ? al_error_wrap (err, "linux.resources.pids.limit") : 0;
}

int
al_cg_v2_apply_io (int fd, const struct al_block_io *b, struct al_error *err)
{
  int r;
  /* BFQ takes blkio's own scale; io.weight wants the converted one. */
  bool bfq = al_cg_exists (fd, "io.bfq.weight");
  bool iow = al_cg_exists (fd, "io.weight");
  if (b->has_leaf_weight)
    return al_error_reason (err, ENOTSUP,
                            "linux.resources.blockIO.leafWeight: cgroup v2 has no "
                            "leaf weights");
  if (b->has_weight || b->n_weight_devices > 0)
    {
      if (!bfq && !iow)
        return al_error_reason (err, ENOTSUP,
                                "linux.resources.blockIO.weight: no io.weight or "
                                "io.bfq.weight here");
      const char *file = bfq ? "io.bfq.weight" : "io.weight";
      if (b->has_weight)
        {
          uint64_t w = bfq ? b->weight : al_cg_blkio_weight_to_io (b->weight);
          if ((r = al_cg_writef (fd, file, err, "%" PRIu64, w)) < 0)
            return al_error_wrap (err, "linux.resources.blockIO.weight");
        }
      for (size_t i = 0; i < b->n_weight_devices; i++)
        {
          const struct al_weight_device *d = &b->weight_devices[i];
          if (d->has_leaf_weight)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.blockIO.weightDevice[%zu]."
                                    "leafWeight: cgroup v2 has no leaf weights",
                                    i);
          if (!d->has_weight)
            continue;
          uint64_t w = bfq ? d->weight : al_cg_blkio_weight_to_io (d->weight);
          if ((r = al_cg_writef (fd, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
                                 d->minor, w))
              < 0)
            return al_error_wrap (err, "linux.resources.blockIO.weightDevice[%zu]", i);
        }
    }
  cleanup_free char *lines = NULL;
  if ((r = al_cg_io_max_lines (b, &lines, err)) < 0)
    return r;
  /* io.max takes one device per write */
  for (char *line = lines; *line;)
    {
      char *nl = strchr (line, '\n');
      *nl = '\0';
      if ((r = al_cg_write (fd, "io.max", line, err)) < 0)
        return al_error_wrap (err, "linux.resources.blockIO throttle");
      line = nl + 1;
    }
  return 0;
}

int
al_cg_v2_apply_hugetlb (int fd, const struct al_hugepage_limit *l, size_t n, struct al_error *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char file[64], rsvd[80];
      snprintf (file, sizeof file, "hugetlb.%s.max", l[i].page_size);
      snprintf (rsvd, sizeof rsvd, "hugetlb.%s.rsvd.max", l[i].page_size);
      if (!al_cg_exists (fd, file))
        return al_error_reason (err, EINVAL,
                                "linux.resources.hugepageLimits[%zu].pageSize: "
                                "this host has no %s huge pages",
                                i, l[i].page_size);
      int r = al_cg_writef (fd, file, err, "%" PRIu64, l[i].limit);
      if (r == 0 && al_cg_exists (fd, rsvd))
        r = al_cg_writef (fd, rsvd, err, "%" PRIu64, l[i].limit);
      if (r < 0)
        return al_error_wrap (err, "linux.resources.hugepageLimits[%zu]", i);
    }
  return 0;
}

int
al_cg_v2_apply_rdma (int fd, const struct al_rdma *rd, size_t n, struct al_error *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char h[24] = "max", o[24] = "max";
      if (rd[i].has_hca_handles)
        snprintf (h, sizeof h, "%" PRIu32, rd[i].hca_handles);
      if (rd[i].has_hca_objects)
        snprintf (o, sizeof o, "%" PRIu32, rd[i].hca_objects);
      int r = al_cg_writef (fd, "rdma.max", err, "%s hca_handle=%s hca_object=%s", rd[i].device, h,
                            o);
      if (r < 0)
        return al_error_wrap (err, "linux.resources.rdma.%s", rd[i].device);
    }
  return 0;
}

int
al_cg_v2_apply_unified (int fd, const struct al_string_map *u, struct al_error *err)
{
  for (size_t i = 0; i < u->n; i++)
    {
      const char *key = u->keys[i];
      if (!al_cg_exists (fd, key))
        return al_error_reason (err, ENOENT,
                                "linux.resources.unified.%s: no such file in the "
                                "cgroup (unknown key, or its controller is unavailable)",
                                key);
      /* multi-line values (io.max for two devices) go one line per write */
      cleanup_free char *val = strdup (u->values[i]);
      if (val == NULL)
        return al_error_set (err, ENOMEM, "linux.resources.unified.%s", key);
      bool wrote = false;
      for (char *save = NULL, *line = strtok_r (val, "\n", &save); line;
           line = strtok_r (NULL, "\n", &save))
        {
          int r = al_cg_write (fd, key, line, err);
          if (r < 0)
            return al_error_wrap (err, "linux.resources.unified.%s", key);
          wrote = true;
        }
      if (!wrote)
        return al_error_reason (err, EINVAL, "linux.resources.unified.%s: empty value", key);
    }
  return 0;
}

/* ------------------------------------------------------------- processes */

int
al_cg_v2_is_frozen (int fd, bool *ret, struct al_error *err)
{
  uint64_t v = 0;
  int r = al_cg_read_key (fd, "cgroup.events", "frozen", &v, err);
  if (r == -ENOENT)
    return al_error_reason (err, ENOTSUP, "cgroup.events has no `frozen` key");
  if (r < 0)
    return r;
  *ret = v == 1;
  return 0;
}

int
al_cg_v2_freeze (int fd, bool frozen, struct al_error *err)
{
  int r = al_cg_write (fd, "cgroup.freeze", frozen ? "1" : "0", err);
  if (r < 0)
    return r;
  long start = al_cg_now_ms ();
  for (long step = 1;; step = step < 16 ? step * 2 : step)
    {
      bool now;
      if ((r = al_cg_v2_is_frozen (fd, &now, err)) < 0)
        return r;
      if (now == frozen)
        return 0;
      if (al_cg_now_ms () - start > FREEZE_TIMEOUT_MS)
        {
          if (frozen)
            {
              struct al_error ignored = { 0 };
              al_cg_write (fd, "cgroup.freeze", "0", &ignored);
            }
          return al_error_reason (err, ETIMEDOUT,
                                  "cgroup.events did not report frozen %d "
                                  "within %d ms",
                                  frozen, FREEZE_TIMEOUT_MS);
        }
      al_cg_sleep_ms (step);
    }
}

int
al_cg_v2_kill (int fd, struct al_error *err)
{
  if (!al_cg_exists (fd, "cgroup.kill"))
    return -ENOTSUP;
  return al_cg_write (fd, "cgroup.kill", "1", err);
}

/* ------------------------------------------------------------------ stats */

int
al_cg_v2_stats_memory (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  int r;
  if (!al_cg_exists (fd, "memory.current"))
    return 0; /* controller not enabled here */
  if ((r = al_cg_read_u64 (fd, "memory.current", &st->memory_usage, err)) < 0
      || (r = al_cg_read_u64 (fd, "memory.max", &st->memory_limit, err)) < 0)
    return r;
  if (al_cg_exists (fd, "memory.peak")) /* 5.19+ */
    {
      if ((r = al_cg_read_u64 (fd, "memory.peak", &st->memory_peak, err)) < 0)
        return r;
      st->has_memory_peak = true;
    }
  r = al_cg_read_key (fd, "memory.events", "oom_kill", &st->oom_kills, err);
  if (r < 0 && r != -ENOENT)
    return r;
  r = al_cg_read_key (fd, "memory.events", "max", &st->memory_limit_hits, err);
  if (r < 0 && r != -ENOENT)
    return r;
  st->has_memory = true;
  return 0;
}

int
al_cg_v2_stats_cpu (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  uint64_t usage, user = 0, sys = 0;
  int r = al_cg_read_key (fd, "cpu.stat", "usage_usec", &usage, err);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return r;
  al_cg_read_key (fd, "cpu.stat", "user_usec", &user, err);
  al_cg_read_key (fd, "cpu.stat", "system_usec", &sys, err);
  st->cpu_usage_ns = usage * 1000;
  st->cpu_user_ns = user * 1000;
  st->cpu_system_ns = sys * 1000;
  st->has_cpu = true;
  return 0;
}

int
al_cg_v2_stats_io (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  if (!al_cg_exists (fd, "io.stat"))
    return 0;
  cleanup_free char *buf = NULL;
  int r = al_cg_read (fd, "io.stat", &buf, err);
  if (r < 0)
    return r;
  /* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" */
  for (char *save = NULL, *tok = strtok_r (buf, " \n", &save); tok;
       tok = strtok_r (NULL, " \n", &save))
    {
      unsigned long long v;
      if (sscanf (tok, "rbytes=%llu", &v) == 1)
        st->io_read_bytes += v;
      else if (sscanf (tok, "wbytes=%llu", &v) == 1)
        st->io_write_bytes += v;
    }
  st->has_io = true;
  return 0;
}

/* ------------------------------------------------------- device eBPF */

/* struct bpf_insn from the uapi opcode fields; only the few forms the
 * device program needs. */
#define INSN(CODE, DST, SRC, OFF, IMM)                                                             \
  ((struct bpf_insn){                                                                              \
      .code = (CODE), .dst_reg = (DST), .src_reg = (SRC), .off = (OFF), .imm = (IMM) })
#define LDX_W(DST, SRC, OFF) INSN (BPF_LDX | BPF_MEM | BPF_W, DST, SRC, OFF, 0)
#define MOV32_REG(DST, SRC) INSN (BPF_ALU | BPF_MOV | BPF_X, DST, SRC, 0, 0)
#define MOV64_IMM(DST, IMM) INSN (BPF_ALU64 | BPF_MOV | BPF_K, DST, 0, 0, IMM)
#define AND32_IMM(DST, IMM) INSN (BPF_ALU | BPF_AND | BPF_K, DST, 0, 0, IMM)
#define RSH32_IMM(DST, IMM) INSN (BPF_ALU | BPF_RSH | BPF_K, DST, 0, 0, IMM)
#define JNE_IMM(DST, IMM, OFF) INSN (BPF_JMP | BPF_JNE | BPF_K, DST, 0, OFF, IMM)
#define JEQ_IMM(DST, IMM, OFF) INSN (BPF_JMP | BPF_JEQ | BPF_K, DST, 0, OFF, IMM)
#define EXIT_INSN() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum
{
  R_TMP = 1,    /* scratch (the context pointer is dead after the loads) */
  R_TYPE = 2,   /* BPF_DEVCG_DEV_BLOCK / _CHAR */
  R_ACCESS = 3, /* BPF_DEVCG_ACC_* bits of the request */
  R_MAJOR = 4,
  R_MINOR = 5,
};

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static unsigned
bpf_access (const struct al_device_rule *d)
{
  unsigned a = d->has_access
                   ? d->access
                   : AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE | AL_DEVICE_ACCESS_MKNOD;
  return ((a & AL_DEVICE_ACCESS_READ) ? BPF_DEVCG_ACC_READ : 0)
         | ((a & AL_DEVICE_ACCESS_WRITE) ? BPF_DEVCG_ACC_WRITE : 0)
         | ((a & AL_DEVICE_ACCESS_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0);
}

int
al_cg_devices_bpf_build (const struct al_device_rule *rules, size_t n, struct bpf_insn **ret_insns,
                         size_t *ret_n, struct al_error *err)
{
  if (n > BPF_MAX_RULES)
    return al_error_reason (err, E2BIG, "%zu device rules; at most %d", n, BPF_MAX_RULES);
  /* 6 loads + at most 8 per rule + 2 for the default */
  cleanup_free struct bpf_insn *p = calloc (6 + 8 * n + 2, sizeof *p);
  if (p == NULL)
    return al_error_set (err, ENOMEM, "device program");
  size_t k = 0;

  /* struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
   * access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_* */
  p[k++] = LDX_W (R_TYPE, 1, 0);
  p[k++] = AND32_IMM (R_TYPE, 0xffff);
  p[k++] = LDX_W (R_ACCESS, 1, 0);
  p[k++] = RSH32_IMM (R_ACCESS, 16);
  p[k++] = LDX_W (R_MAJOR, 1, 4);
  p[k++] = LDX_W (R_MINOR, 1, 8);

  /* The spec applies rules in order, so the last matching rule decides:
   * test them from the last one back and return at the first match. */
  bool unconditional = false;
  for (size_t i = n; i-- > 0 && !unconditional;)
    {
      const struct al_device_rule *d = &rules[i];
      unsigned acc = bpf_access (d);
      if (acc == 0)
        continue; /* allows or denies nothing */
      bool t = d->type != AL_DEVICE_RULE_ALL;
      bool a = acc != ACC_ALL; /* any request is a subset of / meets "rwm" */
      bool ma = d->major >= 0, mi = d->minor >= 0;
      /* checks, each "on mismatch jump past this rule's return" */
      int len = (t ? 1 : 0) + (a ? 3 : 0) + (ma ? 1 : 0) + (mi ? 1 : 0) + 2;
      int left = len;
      if (t)
        {
          left -= 1;
          p[k++] = JNE_IMM (
              R_TYPE, d->type == AL_DEVICE_RULE_BLOCK ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
              left);
        }
      if (a)
        {
          left -= 3;
          p[k++] = MOV32_REG (R_TMP, R_ACCESS);
          if (d->allow)
            {
              /* allow only if every requested bit is granted */
              p[k++] = AND32_IMM (R_TMP, (int32_t) (~acc & ACC_ALL));
              p[k++] = JNE_IMM (R_TMP, 0, left);
            }
          else
            {
              /* deny if any requested bit is denied */
              p[k++] = AND32_IMM (R_TMP, (int32_t) acc);
              p[k++] = JEQ_IMM (R_TMP, 0, left);
            }
        }
      if (ma)
        {
          left -= 1;
          p[k++] = JNE_IMM (R_MAJOR, (int32_t) d->major, left);
        }
      if (mi)
        {
          left -= 1;
          p[k++] = JNE_IMM (R_MINOR, (int32_t) d->minor, left);
        }
      p[k++] = MOV64_IMM (0, d->allow ? 1 : 0);
      p[k++] = EXIT_INSN ();
      /* a rule that matches everything ends the program: anything after
       * it would be unreachable, which the verifier rejects */
      unconditional = len == 2;
    }
  if (!unconditional)
    {
      /* nothing matched: allow, like a fresh v1 devices cgroup */
      p[k++] = MOV64_IMM (0, 1);
      p[k++] = EXIT_INSN ();
    }
  *ret_n = k;
  *ret_insns = al_steal_ptr (&p);
  return 0;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (__NR_bpf, cmd, attr, sizeof *attr);
}

int
al_cg_devices_bpf_attach (int fd, const struct bpf_insn *insns, size_t n, struct al_error *err)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) insns;
  attr.insn_cnt = (uint32_t) n;
  attr.license = (uint64_t) (uintptr_t) "GPL";
  cleanup_close int prog = sys_bpf (BPF_PROG_LOAD, &attr);
  if (prog < 0 && errno == EINVAL)
    {
      /* again with the verifier's log, to say why */
      char *vlog = malloc (BPF_LOG_SIZE);
      if (vlog)
        {
          vlog[0] = '\0';
          attr.log_buf = (uint64_t) (uintptr_t) vlog;
          attr.log_size = BPF_LOG_SIZE;
          attr.log_level = 1;
          prog = sys_bpf (BPF_PROG_LOAD, &attr);
          int saved = errno;
          if (prog < 0)
            {
              size_t len = strlen (vlog);
              while (len > 0 && vlog[len - 1] == '\n')
                vlog[--len] = '\0';
              const char *last = strrchr (vlog, '\n');
              al_error_reason (err, saved, "load device program: verifier: %s",
                               last ? last + 1 : vlog);
              free (vlog);
              return -saved;
            }
          free (vlog);
        }
    }
  if (prog < 0)
    return al_error_set (err, errno, "load device program");

  /* programs attached now (ours from an earlier apply) */
  uint32_t ids[64], flags = 0;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t) fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = 64;
  uint32_t old = 0;
  if (sys_bpf (BPF_PROG_QUERY, &attr) == 0)
    {
      old = attr.query.prog_cnt;
      flags = attr.query.attach_flags;
    }
  if (old > 64)
    return al_error_reason (err, E2BIG, "%u device programs attached already", old);

  /* Attach the new one before detaching old ones: meanwhile both apply,
   * which is stricter, never looser.  A single program attached without
   * BPF_F_ALLOW_MULTI is replaced by attaching without it. */
  bool multi = old == 0 || (flags & BPF_F_ALLOW_MULTI);
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) fd;
  attr.attach_bpf_fd = (uint32_t) prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = multi ? BPF_F_ALLOW_MULTI : 0;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    return al_error_set (err, errno, "attach device program");
  if (!multi)
    return 0;
  for (uint32_t i = 0; i < old; i++)
    {
      memset (&attr, 0, sizeof attr);
      attr.prog_id = ids[i];
      cleanup_close int ofd = sys_bpf (BPF_PROG_GET_FD_BY_ID, &attr);
      if (ofd < 0)
        continue; /* gone already */
      memset (&attr, 0, sizeof attr);
      attr.target_fd = (uint32_t) fd;
      attr.attach_bpf_fd = (uint32_t) ofd;
      attr.attach_type = BPF_CGROUP_DEVICE;
      if (sys_bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
        return al_error_set (err, errno, "detach old device program %u", ids[i]);
    }
  return 0;
}
