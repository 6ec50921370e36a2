/* cgroup_v1.c — the cgroup v1 file formats (Documentation/admin-guide/
 * cgroup-v1/): each function writes one controller's part of
 * linux.resources into the leaf directory fd it is given.  Values were
 * range-checked by cgroup.c; what is left here is file presence, write
 * ordering the kernel insists on, and naming the field when the kernel
 * says no.
 */
#include "config.h"

#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#define FREEZE_TIMEOUT_MS 5000

/* v1 reports "unlimited" as PAGE_COUNTER_MAX pages: anything this large. */
#define V1_UNLIMITED_MIN (1ull << 62)

static void
fmt_limit (char *buf, size_t size, int64_t v)
{
  if (v == -1)
    snprintf (buf, size, "-1");
  else
    snprintf (buf, size, "%" PRId64, v);
}

/* ----------------------------------------------------------------- memory */

static int
write_limit_and_swap (int fd, const struct al_memory *m, struct al_error *err)
{
  char lim[32], sw[32];
  fmt_limit (lim, sizeof lim, m->limit);
  fmt_limit (sw, sizeof sw, m->swap);
  bool has_memsw = al_cg_exists (fd, "memory.memsw.limit_in_bytes");
  bool want_swap = m->has_swap;
  if (want_swap && !has_memsw)
    {
      /* Without swap accounting, "no extra swap" and "unlimited" are the
       * only values that need no file. */
      if (m->swap != -1 && !(m->has_limit && m->swap == m->limit))
        return al_error_reason (err, ENOTSUP,
                                "linux.resources.memory.swap: swap accounting is "
                                "off on this kernel (memory.memsw.limit_in_bytes is missing; "
                                "boot with swapaccount=1)");
      want_swap = false;
    }

  int r;
  if (m->has_limit)
    {
      /* The kernel keeps limit <= memsw at every step: raising the limit
       * above the current memsw needs memsw first, lowering memsw below the
       * current limit needs the limit first.  Try limit first. */
      struct al_error first = { 0 };
      r = al_cg_write (fd, "memory.limit_in_bytes", lim, &first);
      if (r == -EINVAL && want_swap)
        {
          if ((r = al_cg_write (fd, "memory.memsw.limit_in_bytes", sw, err)) < 0)
            return al_error_wrap (err, "linux.resources.memory.swap");
          want_swap = false;
          r = al_cg_write (fd, "memory.limit_in_bytes", lim, &first);
        }
      if (r < 0)
        {
          *err = first;
          if (r == -EINVAL)
            return al_error_wrap (err, "linux.resources.memory.limit (above the memory+swap "
                                       "limit?)");
          if (r == -EBUSY)
            return al_error_wrap (err, "linux.resources.memory.limit (below current usage?)");
          return al_error_wrap (err, "linux.resources.memory.limit");
        }
    }
  if (want_swap && (r = al_cg_write (fd, "memory.memsw.limit_in_bytes", sw, err)) < 0)
    return al_error_wrap (err, "linux.resources.memory.swap");
  return 0;
}

int
al_cg_v1_apply_memory (const struct al_cgroup *cg, int fd, const struct al_memory *m,
                       struct al_error *err)
{
  int r;
  char buf[32];
  if (m->has_check_before_update && m->check_before_update && m->has_limit && m->limit > 0)
    {
      uint64_t usage;
      if ((r = al_cg_read_u64 (fd, "memory.usage_in_bytes", &usage, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.checkBeforeUpdate");
      if (usage > (uint64_t) m->limit)
        return al_error_reason (err, EBUSY,
                                "linux.resources.memory.limit: %" PRId64 " is below "
                                "the current usage %" PRIu64 " (checkBeforeUpdate)",
                                m->limit, usage);
    }
  if (m->has_use_hierarchy)
    {
      if ((r = al_cg_write (fd, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.useHierarchy%s",
                              m->use_hierarchy ? "" : " (this kernel is always hierarchical)");
    }
  if ((m->has_limit || m->has_swap) && (r = write_limit_and_swap (fd, m, err)) < 0)
    return r;
  if (m->has_reservation)
    {
      fmt_limit (buf, sizeof buf, m->reservation);
      if ((r = al_cg_write (fd, "memory.soft_limit_in_bytes", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.reservation");
    }
  if (m->has_kernel_tcp)
    {
      if (!al_cg_exists (fd, "memory.kmem.tcp.limit_in_bytes"))
        {
          if (m->kernel_tcp != -1)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.memory.kernelTCP: this "
                                    "kernel has no memory.kmem.tcp.limit_in_bytes");
        }
      else
        {
          fmt_limit (buf, sizeof buf, m->kernel_tcp);
          if ((r = al_cg_write (fd, "memory.kmem.tcp.limit_in_bytes", buf, err)) < 0)
            return al_error_wrap (err, "linux.resources.memory.kernelTCP");
        }
    }
  if (m->has_swappiness)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, m->swappiness);
      if ((r = al_cg_write (fd, "memory.swappiness", buf, err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.swappiness");
    }
  if (m->has_disable_oom_killer)
    {
      if ((r = al_cg_write (fd, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err)) < 0)
        return al_error_wrap (err, "linux.resources.memory.disableOOMKiller");
    }
  (void) cg;
  return 0;
}

/* -------------------------------------------------------------------- cpu */

/* Write a then b; if a is refused with EINVAL (the pair is only valid in
 * the other order, e.g. a shorter period under the current quota), write
 * b then a. */
static int
write_pair (int fd, const char *fa, const char *va, const char *fieldA, const char *fb,
            const char *vb, const char *fieldB, struct al_error *err)
{
  if (va == NULL && vb == NULL)
    return 0;
  if (va == NULL || vb == NULL)
    {
      int r = al_cg_write (fd, va ? fa : fb, va ? va : vb, err);
      return r < 0 ? al_error_wrap (err, "%s", va ? fieldA : fieldB) : 0;
    }
  struct al_error first = { 0 };
  int r = al_cg_write (fd, fa, va, &first);
  if (r == 0)
    {
      r = al_cg_write (fd, fb, vb, err);
      return r < 0 ? al_error_wrap (err, "%s", fieldB) : 0;
    }
  if (r != -EINVAL)
    {
      *err = first;
      return al_error_wrap (err, "%s", fieldA);
    }
  if ((r = al_cg_write (fd, fb, vb, err)) < 0)
    return al_error_wrap (err, "%s", fieldB);
  if ((r = al_cg_write (fd, fa, va, err)) < 0)
    return al_error_wrap (err, "%s", fieldA);
  return 0;
}

int
al_cg_v1_apply_cpu (const struct al_cgroup *cg, int fd, const struct al_cpu *c,
                    struct al_error *err)
{
  int r;
  char a[32], b[32];
  if (c->has_shares)
    {
      snprintf (a, sizeof a, "%" PRIu64, c->shares);
      if ((r = al_cg_write (fd, "cpu.shares", a, err)) < 0)
        return al_error_wrap (err, "linux.resources.cpu.shares");
    }
  bool burst_file = al_cg_exists (fd, "cpu.cfs_burst_us");
  if (c->has_burst && burst_file && c->has_quota)
    {
      /* the kernel keeps burst <= quota: lower the burst before the quota
       * (may fail while the old quota is smaller; written again below) */
      struct al_error ignored = { 0 };
      al_cg_writef (fd, "cpu.cfs_burst_us", &ignored, "%" PRIu64, c->burst);
    }
  if (c->has_period || c->has_quota)
    {
      if (!al_cg_exists (fd, "cpu.cfs_quota_us"))
        return al_error_reason (err, ENOTSUP,
                                "linux.resources.cpu.%s: CFS bandwidth control is "
                                "not available (no cpu.cfs_quota_us)",
                                c->has_quota ? "quota" : "period");
      snprintf (a, sizeof a, "%" PRIu64, c->period);
      snprintf (b, sizeof b, "%" PRId64, c->quota);
      if ((r = write_pair (fd, "cpu.cfs_period_us", c->has_period ? a : NULL,
                           "linux.resources.cpu.period", "cpu.cfs_quota_us",
                           c->has_quota ? b : NULL, "linux.resources.cpu.quota", err))
          < 0)
        return r;
    }
  if (c->has_burst)
    {
      if (!burst_file)
        {
          if (c->burst != 0)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.cpu.burst: this kernel has "
                                    "no cpu.cfs_burst_us");
        }
      else
        {
          snprintf (a, sizeof a, "%" PRIu64, c->burst);
          if ((r = al_cg_write (fd, "cpu.cfs_burst_us", a, err)) < 0)
            return al_error_wrap (err, "linux.resources.cpu.burst");
        }
    }
  if (c->has_realtime_period || c->has_realtime_runtime)
    {
      if (!al_cg_exists (fd, "cpu.rt_runtime_us"))
        {
          if ((c->has_realtime_runtime && c->realtime_runtime != 0)
              || (c->has_realtime_period && c->realtime_period != 1000000))
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.cpu.realtime%s: realtime "
                                    "group scheduling is not available (no cpu.rt_runtime_us)",
                                    c->has_realtime_runtime ? "Runtime" : "Period");
        }
      else
        {
          snprintf (a, sizeof a, "%" PRIu64, c->realtime_period);
          snprintf (b, sizeof b, "%" PRId64, c->realtime_runtime);
          if ((r = write_pair (fd, "cpu.rt_period_us", c->has_realtime_period ? a : NULL,
                               "linux.resources.cpu.realtimePeriod", "cpu.rt_runtime_us",
                               c->has_realtime_runtime ? b : NULL,
                               "linux.resources.cpu.realtimeRuntime", err))
              < 0)
            return r;
        }
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
      else
        {
          snprintf (a, sizeof a, "%" PRId64, c->idle);
          if ((r = al_cg_write (fd, "cpu.idle", a, err)) < 0)
            return al_error_wrap (err, "linux.resources.cpu.idle");
        }
    }
  (void) cg;
  return 0;
}

/* ----------------------------------------------------------------- cpuset */

static bool
blank (const char *s)
{
  return s[strspn (s, " \t\n")] == '\0';
}

int
al_cg_v1_cpuset_inherit (int parent_fd, int fd, struct al_error *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *mine = NULL, *theirs = NULL;
      int r = al_cg_read (fd, files[i], &mine, err);
      if (r < 0)
        return r;
      if (!blank (mine))
        continue;
      if ((r = al_cg_read (parent_fd, files[i], &theirs, err)) < 0)
        return r;
      theirs[strcspn (theirs, "\n")] = '\0';
      if ((r = al_cg_write (fd, files[i], theirs, err)) < 0)
        return r;
    }
  return 0;
}

static int
apply_cpuset_file (int fd, int parent, const char *field, const char *what, const char *file,
                   const char *parent_file, const char *list, struct al_error *err)
{
  if (list == NULL || blank (list))
    return 0;
  cleanup_free char *avail = NULL;
  int r = al_cg_read (parent, parent_file, &avail, err);
  if (r < 0)
    return al_error_wrap (err, "%s", field);
  if ((r = al_cg_check_cpu_subset (field, what, list, avail, err)) < 0)
    return r;
  if ((r = al_cg_write (fd, file, list, err)) < 0)
    return al_error_wrap (err, "%s", field);
  return 0;
}

int
al_cg_v1_apply_cpuset (int fd, const struct al_cpu *c, struct al_error *err)
{
  cleanup_close int parent = openat (fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0)
    return al_error_set (err, errno, "linux.resources.cpu: open parent cpuset");
  const char *pc
      = al_cg_exists (parent, "cpuset.effective_cpus") ? "cpuset.effective_cpus" : "cpuset.cpus";
  const char *pm
      = al_cg_exists (parent, "cpuset.effective_mems") ? "cpuset.effective_mems" : "cpuset.mems";
  int r = apply_cpuset_file (fd, parent, "linux.resources.cpu.cpus", "CPU", "cpuset.cpus", pc,
                             c->cpus, err);
  if (r == 0)
    r = apply_cpuset_file (fd, parent, "linux.resources.cpu.mems", "memory node", "cpuset.mems", pm,
                           c->mems, err);
  return r;
}

/* ------------------------------------------------------------------- pids */

int
al_cg_v1_apply_pids (int fd, const struct al_pids *p, struct al_error *err)
{
  char buf[32];
  if (p->limit == -1)
    snprintf (buf, sizeof buf, "max");
  else
    snprintf (buf, sizeof buf, "%" PRId64, p->limit);
  int r = al_cg_write (fd, "pids.max", buf, err);
  return r < 0 ? al_error_wrap (err, "linux.resources.pids.limit") : 0;
}

/* ------------------------------------------------------------------ blkio */

/* CFQ had blkio.weight; BFQ has blkio.bfq.weight. */
static const char *
pick (int fd, const char *a, const char *b)
{
  if (al_cg_exists (fd, a))
    return a;
  if (al_cg_exists (fd, b))
    return b;
  return NULL;
}

static int
write_throttles (int fd, const char *file, const char *field, const struct al_throttle_list *l,
                 struct al_error *err)
{
  for (size_t i = 0; i < l->n; i++)
    {
      const struct al_throttle_device *d = &l->devices[i];
      int r = al_cg_writef (fd, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                            d->rate);
      if (r < 0)
        return al_error_wrap (err, "linux.resources.blockIO.%s[%zu]", field, i);
    }
  return 0;
}

int
al_cg_v1_apply_blkio (int fd, const struct al_block_io *b, struct al_error *err)
{
  int r;
  const char *wfile = pick (fd, "blkio.weight", "blkio.bfq.weight");
  const char *wdfile = pick (fd, "blkio.weight_device", "blkio.bfq.weight_device");
  if (b->has_weight)
    {
      if (wfile == NULL)
        return al_error_reason (err, ENOTSUP,
                                "linux.resources.blockIO.weight: no proportional "
                                "I/O scheduler here (neither blkio.weight nor blkio.bfq.weight)");
      if ((r = al_cg_writef (fd, wfile, err, "%u", (unsigned) b->weight)) < 0)
        return al_error_wrap (err, "linux.resources.blockIO.weight");
    }
  if (b->has_leaf_weight)
    {
      if (!al_cg_exists (fd, "blkio.leaf_weight"))
        return al_error_reason (err, ENOTSUP,
                                "linux.resources.blockIO.leafWeight: this kernel "
                                "has no blkio.leaf_weight (CFQ only)");
      if ((r = al_cg_writef (fd, "blkio.leaf_weight", err, "%u", (unsigned) b->leaf_weight)) < 0)
        return al_error_wrap (err, "linux.resources.blockIO.leafWeight");
    }
  for (size_t i = 0; i < b->n_weight_devices; i++)
    {
      const struct al_weight_device *d = &b->weight_devices[i];
      if (d->has_weight)
        {
          if (wdfile == NULL)
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.blockIO.weightDevice: no "
                                    "per-device weight file here");
          if ((r = al_cg_writef (fd, wdfile, err, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                                 (unsigned) d->weight))
              < 0)
            return al_error_wrap (err, "linux.resources.blockIO.weightDevice[%zu]", i);
        }
      if (d->has_leaf_weight)
        {
          if (!al_cg_exists (fd, "blkio.leaf_weight_device"))
            return al_error_reason (err, ENOTSUP,
                                    "linux.resources.blockIO.weightDevice[%zu]."
                                    "leafWeight: this kernel has no blkio.leaf_weight_device",
                                    i);
          if ((r = al_cg_writef (fd, "blkio.leaf_weight_device", err, "%" PRId64 ":%" PRId64 " %u",
                                 d->major, d->minor, (unsigned) d->leaf_weight))
              < 0)
            return al_error_wrap (err, "linux.resources.blockIO.weightDevice[%zu]", i);
        }
    }
  if ((r = write_throttles (fd, "blkio.throttle.read_bps_device", "throttleReadBpsDevice",
                            &b->throttle_read_bps, err))
          < 0
      || (r = write_throttles (fd, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
                               &b->throttle_write_bps, err))
             < 0
      || (r = write_throttles (fd, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
                               &b->throttle_read_iops, err))
             < 0
      || (r = write_throttles (fd, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
                               &b->throttle_write_iops, err))
             < 0)
    return r;
  return 0;
}

/* ---------------------------------------------------------------- hugetlb */

int
al_cg_v1_apply_hugetlb (int fd, const struct al_hugepage_limit *l, size_t n, struct al_error *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char file[64], rsvd[80];
      snprintf (file, sizeof file, "hugetlb.%s.limit_in_bytes", l[i].page_size);
      snprintf (rsvd, sizeof rsvd, "hugetlb.%s.rsvd.limit_in_bytes", l[i].page_size);
      if (!al_cg_exists (fd, file))
        return al_error_reason (err, EINVAL,
                                "linux.resources.hugepageLimits[%zu].pageSize: "
                                "this host has no %s huge pages",
                                i, l[i].page_size);
      int r = al_cg_writef (fd, file, err, "%" PRIu64, l[i].limit);
      /* reservations are what the spec asks to limit when the kernel can */
      if (r == 0 && al_cg_exists (fd, rsvd))
        r = al_cg_writef (fd, rsvd, err, "%" PRIu64, l[i].limit);
      if (r < 0)
        return al_error_wrap (err, "linux.resources.hugepageLimits[%zu]", i);
    }
  return 0;
}

/* ------------------------------------------------------- net_cls/net_prio */

int
al_cg_v1_apply_net_cls (int fd, const struct al_network *n, struct al_error *err)
{
  int r = al_cg_writef (fd, "net_cls.classid", err, "%" PRIu32, n->class_id);
  return r < 0 ? al_error_wrap (err, "linux.resources.network.classID") : 0;
}

int
al_cg_v1_apply_net_prio (int fd, const struct al_network *n, struct al_error *err)
{
  for (size_t i = 0; i < n->n_priorities; i++)
    {
      int r = al_cg_writef (fd, "net_prio.ifpriomap", err, "%s %" PRIu32, n->priorities[i].name,
                            n->priorities[i].priority);
      if (r < 0)
        return al_error_wrap (err, "linux.resources.network.priorities[%zu]", i);
    }
  return 0;
}

/* ------------------------------------------------------------------- rdma */

int
al_cg_v1_apply_rdma (int fd, const struct al_rdma *r, size_t n, struct al_error *err)
{
  /* v1 and v2 share the rdma.max format */
  return al_cg_v2_apply_rdma (fd, r, n, err);
}

/* ---------------------------------------------------------------- devices */

int
al_cg_v1_device_rule_string (const struct al_device_rule *d, char *buf, size_t size)
{
  unsigned acc = d->has_access
                     ? d->access
                     : (AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE | AL_DEVICE_ACCESS_MKNOD);
  char major[24], minor[24], access[4];
  size_t a = 0;
  if (d->major < 0)
    snprintf (major, sizeof major, "*");
  else
    snprintf (major, sizeof major, "%" PRId64, d->major);
  if (d->minor < 0)
    snprintf (minor, sizeof minor, "*");
  else
    snprintf (minor, sizeof minor, "%" PRId64, d->minor);
  if (acc & AL_DEVICE_ACCESS_READ)
    access[a++] = 'r';
  if (acc & AL_DEVICE_ACCESS_WRITE)
    access[a++] = 'w';
  if (acc & AL_DEVICE_ACCESS_MKNOD)
    access[a++] = 'm';
  access[a] = '\0';
  return snprintf (buf, size, "%c %s:%s %s", (char) d->type, major, minor, access);
}

int
al_cg_v1_apply_devices (int fd, const struct al_device_rule *rules, size_t n, struct al_error *err)
{
  /* The spec's order is the kernel's: a leading deny-all ("a *:* rwm" to
   * devices.deny) switches the cgroup to allow-list mode and clears it,
   * then each allow adds an exception.  One fd per file serves every rule
   * (each write(2) is one rule). */
  cleanup_close int allow = -1, deny = -1;
  for (size_t i = 0; i < n; i++)
    {
      const struct al_device_rule *d = &rules[i];
      if (d->has_access && d->access == 0)
        continue; /* grants or denies nothing */
      int *target = d->allow ? &allow : &deny;
      const char *file = d->allow ? "devices.allow" : "devices.deny";
      if (*target < 0 && (*target = openat (fd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return al_error_set (err, errno, "linux.resources.devices[%zu]: open %s", i, file);
      char buf[64];
      al_cg_v1_device_rule_string (d, buf, sizeof buf);
      size_t len = strlen (buf);
      if (write (*target, buf, len) != (ssize_t) len)
        return al_error_set (err, errno, "linux.resources.devices[%zu]: write `%s` to %s", i, buf,
                             file);
    }
  return 0;
}

/* ---------------------------------------------------------------- freezer */

static int
read_state (int fd, char *buf, size_t size, struct al_error *err)
{
  cleanup_free char *s = NULL;
  int r = al_cg_read (fd, "freezer.state", &s, err);
  if (r < 0)
    return r;
  s[strcspn (s, "\n")] = '\0';
  snprintf (buf, size, "%s", s);
  return 0;
}

int
al_cg_v1_freeze (int fd, bool frozen, struct al_error *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  int r = al_cg_write (fd, "freezer.state", want, err);
  if (r < 0)
    return r;
  long start = al_cg_now_ms ();
  for (long step = 1, tries = 0;; step = step < 16 ? step * 2 : step, tries++)
    {
      char state[32];
      if ((r = read_state (fd, state, sizeof state, err)) < 0)
        return r;
      if (strcmp (state, want) == 0)
        return 0;
      if (al_cg_now_ms () - start > FREEZE_TIMEOUT_MS)
        {
          if (frozen)
            {
              struct al_error ignored = { 0 };
              al_cg_write (fd, "freezer.state", "THAWED", &ignored);
            }
          return al_error_reason (err, ETIMEDOUT, "freezer.state is still %s after %d ms", state,
                                  FREEZE_TIMEOUT_MS);
        }
      /* A task stuck in FREEZING sometimes needs the request again. */
      if (tries % 16 == 15 && (r = al_cg_write (fd, "freezer.state", want, err)) < 0)
        return r;
      al_cg_sleep_ms (step);
    }
}

int
al_cg_v1_is_frozen (int fd, bool *ret, struct al_error *err)
{
  char state[32];
  int r = read_state (fd, state, sizeof state, err);
  if (r < 0)
    return r;
  *ret = strcmp (state, "FROZEN") == 0;
  return 0;
}

/* ------------------------------------------------------------------ stats */

int
al_cg_v1_stats_memory (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  int r;
  if ((r = al_cg_read_u64 (fd, "memory.usage_in_bytes", &st->memory_usage, err)) < 0
      || (r = al_cg_read_u64 (fd, "memory.limit_in_bytes", &st->memory_limit, err)) < 0)
    return r;
  if (st->memory_limit >= V1_UNLIMITED_MIN)
    st->memory_limit = UINT64_MAX;
  if (al_cg_read_u64 (fd, "memory.max_usage_in_bytes", &st->memory_peak, err) == 0)
    st->has_memory_peak = true;
  r = al_cg_read_key (fd, "memory.oom_control", "oom_kill", &st->oom_kills, err);
  if (r < 0 && r != -ENOENT)
    return r;
  /* A charge is checked against memory+swap first, then memory: with
   * memsw == limit the hits land on the memsw counter.  Each failed charge
   * counts on one of them only, so the sum counts every hit once. */
  uint64_t memsw_hits = 0;
  if ((r = al_cg_read_u64 (fd, "memory.failcnt", &st->memory_limit_hits, err)) < 0)
    return r;
  if (al_cg_exists (fd, "memory.memsw.failcnt")
      && (r = al_cg_read_u64 (fd, "memory.memsw.failcnt", &memsw_hits, err)) < 0)
    return r;
  st->memory_limit_hits += memsw_hits;
  st->has_memory = true;
  return 0;
}

int
al_cg_v1_stats_cpu (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  int r = al_cg_read_u64 (fd, "cpuacct.usage", &st->cpu_usage_ns, err);
  if (r < 0)
    return r;
  /* cpuacct.stat counts USER_HZ ticks */
  long hz = sysconf (_SC_CLK_TCK);
  uint64_t user = 0, sys = 0;
  if (hz > 0 && al_cg_read_key (fd, "cpuacct.stat", "user", &user, err) == 0
      && al_cg_read_key (fd, "cpuacct.stat", "system", &sys, err) == 0)
    {
      st->cpu_user_ns = user * (1000000000ull / (uint64_t) hz);
      st->cpu_system_ns = sys * (1000000000ull / (uint64_t) hz);
    }
  st->has_cpu = true;
  return 0;
}

int
al_cg_v1_stats_io (int fd, struct al_cgroup_stats *st, struct al_error *err)
{
  const char *file
      = pick (fd, "blkio.throttle.io_service_bytes_recursive", "blkio.io_service_bytes_recursive");
  if (file == NULL)
    return 0;
  cleanup_free char *buf = NULL;
  int r = al_cg_read (fd, file, &buf, err);
  if (r < 0)
    return r;
  /* "8:0 Read 4096" ... "Total 8192" */
  for (char *line = buf; *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      char dev[32], op[16];
      unsigned long long v;
      if (sscanf (line, "%31s %15s %llu", dev, op, &v) == 3)
        {
          if (strcmp (op, "Read") == 0)
            st->io_read_bytes += v;
          else if (strcmp (op, "Write") == 0)
            st->io_write_bytes += v;
        }
      if (nl == NULL)
        break;
      line = nl + 1;
    }
  st->has_io = true;
  return 0;
}
