/* cmd_events.c — `airlock events [--stats] [--interval D] ID`: a
 * container's resource usage and OOM kills as runc prints them, one JSON
 * object per line.
 *
 *   --stats  one {"type":"stats","id":ID,"data":{...}} and exit
 *   default  a stats event every --interval (5s), and {"type":"oom","id":ID}
 *            for every OOM kill in the cgroup as it happens, until the
 *            container's init exits (or its cgroup goes away)
 *
 * data has runc's field names (types/events.go): cpu.usage {total, percpu,
 * percpu_kernel, percpu_user, kernel, user} and cpu.throttling {periods,
 * throttledPeriods, throttledTime}; memory {cache, usage, swap, kernel,
 * kernelTCP (each {usage, max, failcnt, limit}), raw (memory.stat),
 * event_count {max, oom_kill}}; pids {current, limit}; blkio
 * {ioServiceBytesRecursive, ioServicedRecursive}; hugetlb {SIZE: {usage,
 * max, failcnt}}.  Like runc, a limit of "max" is 0 for pids; for memory,
 * where runc prints the kernel's page-counter maximum, it is INT64_MAX
 * (JSON integers here are signed 64-bit).
 *
 * OOM kills are counted from memory.oom_control's oom_kill (v1) or
 * memory.events' oom_kill (v2); the cgroup's notification fd only wakes
 * the loop, so no kill is reported twice or lost between wake-ups. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "state.h"

#define DEFAULT_INTERVAL_MS 5000
#define OOM_POLL_MS 100

struct events_args
{
  const char *id;
  bool stats;
  long interval_ms;
};

enum
{
  OPT_STATS = 1000,
  OPT_INTERVAL,
};

static struct argp_option events_options[] = {
  { "stats", OPT_STATS, NULL, 0, "print the container's statistics once and exit", 0 },
  { "interval", OPT_INTERVAL, "DURATION", 0,
    "how often to print statistics (Go duration: 500ms, 5s, 1m; default 5s)", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

/* A Go time.Duration string ("1.5s", "300ms", "1m30s") -> milliseconds;
 * false on syntax errors or a non-positive result. */
static bool
parse_duration (const char *s, long *ret_ms)
{
  static const struct
  {
    const char *unit;
    double ms;
  } units[] = {
    { "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 }, { "s", 1e3 }, { "m", 60e3 },
    { "h", 3600e3 },
  };
  double total = 0;
  if (*s == '\0')
    return false;
  while (*s)
    {
      char *end;
      if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return false;
      errno = 0;
      double v = strtod (s, &end);
      if (end == s || errno)
        return false;
      s = end;
      size_t best = 0, best_len = 0;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        {
          size_t len = strlen (units[i].unit);
          if (len > best_len && strncmp (s, units[i].unit, len) == 0)
            {
              best = i;
              best_len = len;
            }
        }
      if (best_len == 0)
        return false;
      total += v * units[best].ms;
      s += best_len;
    }
  if (!(total >= 1) || total > 86400e3 * 365)
    return false;
  *ret_ms = (long) (total + 0.5);
  return true;
}

static error_t
parse_events (int key, char *arg, struct argp_state *state)
{
  struct events_args *a = state->input;
  switch (key)
    {
    case OPT_STATS:
      a->stats = true;
      return 0;
    case OPT_INTERVAL:
      if (!parse_duration (arg, &a->interval_ms))
        argp_error (state, "--interval: `%s` is not a duration of at least 1ms (e.g. 5s, 500ms)",
                    arg);
      return 0;
    default:
      /* The ID (struct's first member). */
      return al_cli_parse_id (key, arg, state);
    }
}

static struct argp events_argp = {
  events_options, parse_events, "ID",
  "Print a container's resource usage (--stats: once) and, until it stops, its OOM kills, as "
  "JSON lines like runc's.",
  NULL, NULL, NULL,
};

/* ------------------------------------------------------------ JSON */

/* JSON integers are signed: "unlimited" becomes INT64_MAX. */
static json_t *
jint (uint64_t v)
{
  return json_integer (v > (uint64_t) INT64_MAX ? INT64_MAX : (json_int_t) v);
}

static json_t *
u64_array (const uint64_t *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new (a, jint (v[i]));
  return a;
}

static json_t *
mem_entry (uint64_t usage, uint64_t max, uint64_t failcnt, uint64_t limit)
{
  return json_pack ("{s:o, s:o, s:o, s:o}", "limit", jint (limit), "usage", jint (usage), "max",
                    jint (max), "failcnt", jint (failcnt));
}

static json_t *
counter_entry (const struct al_cgroup_mem_counter *c)
{
  if (!c->has)
    return json_object ();
  return mem_entry (c->usage, c->max, c->failcnt, c->limit);
}

static json_t *
io_list (const struct al_cgroup_io_entry *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new (a, json_pack ("{s:I, s:I, s:s, s:o}", "major", (json_int_t) v[i].major,
                                         "minor", (json_int_t) v[i].minor, "op", v[i].op,
                                         "value", jint (v[i].value)));
  return a;
}

static json_t *
stats_json (const struct al_cgroup_stats *st)
{
  json_t *data = json_object ();
  if (data == NULL)
    return NULL;

  json_t *usage = json_object ();
  if (st->has_cpu)
    {
      json_object_set_new (usage, "total", jint (st->cpu_usage_ns));
      if (st->n_percpu)
        json_object_set_new (usage, "percpu", u64_array (st->cpu_percpu, st->n_percpu));
      if (st->has_percpu_split)
        {
          json_object_set_new (usage, "percpu_kernel",
                               u64_array (st->cpu_percpu_system, st->n_percpu));
          json_object_set_new (usage, "percpu_user", u64_array (st->cpu_percpu_user, st->n_percpu));
        }
      json_object_set_new (usage, "kernel", jint (st->cpu_system_ns));
      json_object_set_new (usage, "user", jint (st->cpu_user_ns));
    }
  json_t *thr = json_object ();
  if (st->has_throttling)
    {
      json_object_set_new (thr, "periods", jint (st->cpu_periods));
      json_object_set_new (thr, "throttledPeriods", jint (st->cpu_throttled_periods));
      json_object_set_new (thr, "throttledTime", jint (st->cpu_throttled_ns));
    }
  json_object_set_new (data, "cpu", json_pack ("{s:o, s:o}", "usage", usage, "throttling", thr));

  json_t *mem = json_object ();
  if (st->has_memory)
    {
      json_object_set_new (mem, "cache", jint (st->memory_cache));
      json_object_set_new (mem, "usage",
                           mem_entry (st->memory_usage, st->has_memory_peak ? st->memory_peak : 0,
                                      st->memory_limit_hits, st->memory_limit));
      json_object_set_new (mem, "swap", counter_entry (&st->swap));
      json_object_set_new (mem, "kernel", counter_entry (&st->kernel));
      json_object_set_new (mem, "kernelTCP", counter_entry (&st->kernel_tcp));
      json_t *raw = json_object ();
      for (size_t i = 0; raw && i < st->n_memory_stat; i++)
        json_object_set_new (raw, st->memory_stat[i].key, jint (st->memory_stat[i].value));
      json_object_set_new (mem, "raw", raw);
      json_object_set_new (mem, "event_count",
                           json_pack ("{s:o, s:o}", "max", jint (st->memory_limit_hits), "oom_kill",
                                      jint (st->oom_kills)));
    }
  json_object_set_new (data, "memory", mem);

  json_t *pids = json_object ();
  if (st->has_pids)
    {
      json_object_set_new (pids, "current", jint (st->pids_current));
      json_object_set_new (pids, "limit", jint (st->pids_limit == UINT64_MAX ? 0 : st->pids_limit));
    }
  json_object_set_new (data, "pids", pids);

  json_t *blkio = json_object ();
  if (st->n_io_bytes)
    json_object_set_new (blkio, "ioServiceBytesRecursive",
                         io_list (st->io_bytes, st->n_io_bytes));
  if (st->n_io_ops)
    json_object_set_new (blkio, "ioServicedRecursive", io_list (st->io_ops, st->n_io_ops));
  json_object_set_new (data, "blkio", blkio);

  json_t *huge = json_object ();
  for (size_t i = 0; huge && i < st->n_hugetlb; i++)
    json_object_set_new (huge, st->hugetlb[i].size,
                         json_pack ("{s:o, s:o, s:o}", "usage", jint (st->hugetlb[i].usage), "max",
                                    jint (st->hugetlb[i].max), "failcnt",
                                    jint (st->hugetlb[i].failcnt)));
  json_object_set_new (data, "hugetlb", huge);
  return data;
}

/* One event as a line on stdout, flushed (a pipe reader sees it now). */
static int
emit (const char *type, const char *id, json_t *data, struct al_error *err)
{
  json_t *ev = json_pack ("{s:s, s:s}", "type", type, "id", id);
  if (ev && data)
    json_object_set_new (ev, "data", data);
  else
    json_decref (data);
  char *s = ev ? json_dumps (ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref (ev);
  if (s == NULL)
    return al_error_set (err, ENOMEM, "events: build JSON");
  int r = printf ("%s\n", s) < 0 || fflush (stdout) != 0 ? -EIO : 0;
  free (s);
  if (r < 0)
    return al_error_set (err, errno ? errno : EIO, "events: write to stdout");
  return 0;
}

static int
emit_stats (const struct al_cgroup *cg, const char *id, struct al_error *err)
{
  cleanup_free struct al_cgroup_stats *st = malloc (sizeof *st);
  if (st == NULL)
    return al_error_set (err, ENOMEM, "events: stats");
  int r = al_cgroup_stats (cg, st, err);
  if (r < 0)
    return r;
  json_t *data = stats_json (st);
  if (data == NULL)
    return al_error_set (err, ENOMEM, "events: build JSON");
  return emit ("stats", id, data, err);
}

/* oom_kills now, or -1 when the cgroup cannot be read (gone). */
static long long
oom_count (const struct al_cgroup *cg)
{
  uint64_t n = 0;
  struct al_error ignored = { 0 };
  if (al_cgroup_oom_kills (cg, &n, &ignored) < 0)
    return -1;
  return (long long) n;
}

static long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The init's pidfd, only while it is still the recorded process. */
static int
init_pidfd (const struct al_state *st)
{
  if (st->pid <= 0)
    return -1;
  int fd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  if (fd < 0)
    return -1;
  unsigned long long start = 0;
  struct al_error ignored = { 0 };
  if (st->pid_start_time
      && (al_state_pid_start_time (st->pid, &start, &ignored) < 0 || start != st->pid_start_time))
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
drain (int fd)
{
  char buf[4096];
  while (read (fd, buf, sizeof buf) > 0)
    ;
}

static int
report_ooms (const struct al_cgroup *cg, const char *id, long long *seen, struct al_error *err)
{
  long long now = oom_count (cg);
  if (now < 0)
    return 1; /* gone */
  for (; *seen < now; (*seen)++)
    if (emit ("oom", id, NULL, err) < 0)
      return -1;
  return 0;
}

static int
follow (const struct al_cgroup *cg, const struct al_state *st, long interval_ms,
        struct al_error *err)
{
  cleanup_close int pidfd = init_pidfd (st);
  if (pidfd < 0)
    return 0; /* already stopped: nothing more will happen */
  cleanup_close int oomfd = -1;
  struct al_error ignored = { 0 };
  if (al_cgroup_oom_watch (cg, &oomfd, &ignored) < 0)
    oomfd = -1; /* no memory controller: no OOM events, stats still flow */
  long long seen = oom_count (cg);
  if (seen < 0)
    seen = 0;

  int r = emit_stats (cg, st->id, err);
  if (r < 0)
    return r == -ENOENT ? 0 : r;
  long next = now_ms () + interval_ms;
  for (;;)
    {
      struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = oomfd, .events = POLLIN } };
      long left = next - now_ms ();
      /* The counter is also polled every 100 ms: a v1 kernel may not
       * signal the eventfd when the OOM killer succeeds at once. */
      int timeout = (int) (left < 0 ? 0 : left);
      if (timeout > OOM_POLL_MS)
        timeout = OOM_POLL_MS;
      int n = poll (p, 2, timeout);
      if (n < 0 && errno != EINTR)
        return al_error_set (err, errno, "events: poll");
      if (oomfd >= 0 && (p[1].revents & POLLIN))
        drain (oomfd);
      if ((r = report_ooms (cg, st->id, &seen, err)) != 0)
        return r < 0 ? r : 0;
      if (p[0].revents)
        {
          /* The init is gone; a kill that ended it is counted by now. */
          r = report_ooms (cg, st->id, &seen, err);
          return r < 0 ? r : 0;
        }
      if (now_ms () >= next)
        {
          r = emit_stats (cg, st->id, err);
          if (r < 0)
            return r == -ENOENT ? 0 : r;
          next += interval_ms;
          if (next < now_ms ())
            next = now_ms () + interval_ms;
        }
    }
}

int
al_cmd_events (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct events_args a = { .interval_ms = DEFAULT_INTERVAL_MS };
  al_cli_parse (&events_argp, argc, argv, &a);

  struct al_state *st = NULL;
  int ret = al_state_load (cli->root, a.id, &st, err);
  if (ret < 0)
    return ret;

  struct al_cgroup_host *host = NULL;
  struct al_cgroup *cg = NULL;
  if (st->status == AL_STATUS_STOPPED)
    ret = al_error_reason (err, EINVAL, "%s: container is not running", a.id);
  else if (st->cgroup_path == NULL)
    ret = al_error_reason (err, ENOTSUP, "%s: the container has no cgroup", a.id);
  else if ((ret = al_container_open_cgroup (st, &cli->log, &host, &cg, err)) == 0 && cg == NULL)
    ret = al_error_reason (err, ENOENT, "%s: cgroup `%s` is gone", a.id, st->cgroup_path);
  if (ret == 0)
    ret = a.stats ? emit_stats (cg, a.id, err) : follow (cg, st, a.interval_ms, err);
  al_cgroup_free (cg);
  al_container_release_cgroup_host (host);
  al_state_free (st);
  return ret;
}
