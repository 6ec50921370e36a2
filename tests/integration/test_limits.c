/* Resource limits enforced for real (linux.resources), the `events` verb
 * and OOM reporting, `update`, `pause`/`resume`, and refusals of bad
 * limits — driven through the built airlock on busybox bundles.
 *
 * Measurements come from the container's own cgroup (pids.current,
 * cpuacct.usage, memory.*; on a pure cgroup-v2 host, as in make check-vm,
 * the v2 files: memory.max, memory.events, cpu.max, cpu.stat usage_usec,
 * cgroup.events), never from the load of the machine, so the tests hold
 * on two busy cores.  The fork bomb runs only in a container
 * whose pids.max was read back as the configured limit before `start`.
 *
 * tests/fixtures/memhog.c is compiled here with `gcc -static` into each
 * bundle that needs it. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h_bundle b;

static void
fini (void)
{
  h_bundle_fini (&b);
}

TestSuite (limits, .fini = fini);

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define MIB (1024LL * 1024)

static void
ok (struct h_result *r, const char *what)
{
  cr_assert_eq (r->status, 0, "%s: status %d; stdout: %s; stderr: %s", what, r->status, r->out,
                r->err);
}

static void
fails_with (struct h_result *r, const char *needle, const char *what)
{
  cr_assert (r->status > 0 && r->status < 128, "%s: status %d, expected a failure; stderr: %s",
             what, r->status, r->err);
  cr_assert_not_null (strstr (r->err, needle), "%s: stderr does not mention `%s`: %s", what, needle,
                      r->err);
}

static void
run_ok (const char *what, const char *const *argv)
{
  struct h_result r;
  h_airlock (&r, &b, NULL, 60, argv);
  ok (&r, what);
  h_result_free (&r);
}

static long long
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* linux.resources of b.config (created when missing). */
static json_t *
resources (void)
{
  json_t *linux_ = json_object_get (b.config, "linux");
  cr_assert_not_null (linux_, "config.json has no linux object");
  json_t *res = json_object_get (linux_, "resources");
  if (res == NULL)
    {
      res = json_object ();
      json_object_set_new (linux_, "resources", res);
    }
  return res;
}

/* Set linux.resources.SECTION from JSON text. */
static void
set_resource (const char *section, const char *json)
{
  json_error_t e;
  json_t *v = json_loads (json, JSON_DECODE_ANY, &e);
  cr_assert_not_null (v, "bad test JSON `%s`: %s", json, e.text);
  json_object_set_new (resources (), section, v);
}

static void
writable_rootfs (void)
{
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
}

/* A file of the container's cgroup, or NULL: V1 in the v1 hierarchy of
 * ctrl on a v1(-hybrid) host, V2 on a pure cgroup-v2 host (h_cgroup_read).
 * Most files have one name on both: cg_read (id, "pids", "pids.max",
 * "pids.max"). */
static char *
cg_read (const char *id, const char *ctrl, const char *v1, const char *v2)
{
  return h_cgroup_read (id, ctrl, v1, v2);
}

static const char *
cg_name (const char *ctrl, const char *v1, const char *v2)
{
  static char name[128];
  if (h_cgroup_v2 ())
    snprintf (name, sizeof name, "airlock/<id>/%s", v2 ? v2 : "(none on v2)");
  else
    snprintf (name, sizeof name, "%s/airlock/<id>/%s", ctrl ? ctrl : "-",
              v1 ? v1 : "(none on v1)");
  return name;
}

/* A number file ("max" is -1). */
static long long
cg_num (const char *id, const char *ctrl, const char *v1, const char *v2)
{
  char *s = cg_read (id, ctrl, v1, v2);
  cr_assert_not_null (s, "%s: cannot read %s", id, cg_name (ctrl, v1, v2));
  long long v = strcmp (s, "max\n") == 0 ? -1 : atoll (s);
  free (s);
  return v;
}

/* "key N" of a flat keyed cgroup file; -1 if absent. */
static long long
cg_key (const char *id, const char *ctrl, const char *v1, const char *v2, const char *key)
{
  char *s = cg_read (id, ctrl, v1, v2);
  cr_assert_not_null (s, "%s: cannot read %s", id, cg_name (ctrl, v1, v2));
  long long v = -1;
  size_t klen = strlen (key);
  for (char *line = s; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
      v = atoll (line + klen + 1);
  free (s);
  return v;
}

/* The pids controller's files have the same names on v1 and v2. */
static long long
pids_num (const char *id, const char *file)
{
  return cg_num (id, "pids", file, file);
}

static long long
pids_key (const char *id, const char *file, const char *key)
{
  return cg_key (id, "pids", file, file, key);
}

/* CPU time of the container's cgroup in ns: cpuacct.usage on v1,
 * cpu.stat usage_usec on v2. */
static long long
cpu_usage_ns (const char *id)
{
  if (h_cgroup_v2 ())
    {
      long long us = cg_key (id, NULL, NULL, "cpu.stat", "usage_usec");
      cr_assert_geq (us, 0, "%s: no usage_usec in cpu.stat", id);
      return us * 1000;
    }
  char *s = cg_read (id, "cpuacct", "cpuacct.usage", NULL);
  if (s == NULL)
    s = cg_read (id, "cpu,cpuacct", "cpuacct.usage", NULL);
  cr_assert_not_null (s, "%s: no cpuacct.usage", id);
  long long v = atoll (s);
  free (s);
  return v;
}

static bool
file_exists_in_rootfs (const char *rel)
{
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/rootfs/%s", b.dir, rel);
  return access (path, F_OK) == 0;
}

static void
touch_in_rootfs (const char *rel)
{
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/rootfs/%s", b.dir, rel);
  h_write_file (path, "go\n");
}

static char *
read_in_rootfs (const char *rel)
{
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/rootfs/%s", b.dir, rel);
  return h_read_file (path);
}

/* Wait until rel exists in the rootfs; false after timeout_ms. */
static bool
wait_rootfs_file (const char *rel, long timeout_ms)
{
  for (long t = 0; t < timeout_ms; t += 50)
    {
      if (file_exists_in_rootfs (rel))
        return true;
      sleep_ms (50);
    }
  return file_exists_in_rootfs (rel);
}

/* gcc -static tests/fixtures/memhog.c -> rootfs/bin/memhog */
static void
install_memhog (void)
{
  const char *src = getenv ("AL_SRCDIR");
  char in[PATH_MAX], out[PATH_MAX + 32];
  snprintf (in, sizeof in, "%s/tests/fixtures/memhog.c", src && *src ? src : ".");
  snprintf (out, sizeof out, "%s/rootfs/bin/memhog", b.dir);
  const char *gcc = access ("/usr/bin/gcc", X_OK) == 0 ? "/usr/bin/gcc" : "/usr/bin/cc";
  struct h_result r;
  struct h_spawn s = { .timeout_s = 120 };
  h_spawn (&r, &s, ARGS (gcc, "-static", "-O1", "-o", out, in));
  cr_assert_eq (r.status, 0, "gcc -static memhog.c failed (%d): %s", r.status, r.err);
  h_result_free (&r);
}

static void
delete_force (const char *id)
{
  run_ok ("delete --force", ARGS ("delete", "--force", id));
}

/* `events --stats ID` parsed; asserts it worked and has the shape. */
static json_t *
stats_of (const char *id)
{
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("events", "--stats", id));
  ok (&r, "events --stats");
  json_error_t e;
  json_t *j = json_loads (r.out, 0, &e);
  cr_assert_not_null (j, "events --stats printed no JSON (%s): %s", e.text, r.out);
  h_result_free (&r);
  cr_assert_str_eq (json_string_value (json_object_get (j, "type")), "stats");
  cr_assert_str_eq (json_string_value (json_object_get (j, "id")), id);
  cr_assert (json_is_object (json_object_get (j, "data")), "no data object");
  return j;
}

static long long
jget (json_t *j, const char *path)
{
  char buf[256];
  snprintf (buf, sizeof buf, "%s", path);
  json_t *v = j;
  for (char *save = NULL, *k = strtok_r (buf, ".", &save); k; k = strtok_r (NULL, ".", &save))
    {
      v = json_object_get (v, k);
      cr_assert_not_null (v, "stats have no `%s` (at `%s`)", path, k);
    }
  cr_assert (json_is_integer (v), "stats `%s` is not an integer", path);
  return json_integer_value (v);
}

/* ------------------------------------------------------------ pids */

Test (limits, a_fork_bomb_stops_at_pids_max_and_the_host_keeps_working)
{
  h_bundle_init (&b, ARGS ("sh", "-c", "( b(){ b | b & }; b ) 2>/dev/null; exec sleep 60"));
  set_resource ("pids", "{\"limit\": 64}");
  h_bundle_save (&b);
  const char *id = h_id ("limits-bomb");
  run_ok ("create", ARGS ("create", id));

  /* Safety first: the bomb starts only under the limit, read back. */
  long long max = pids_num (id, "pids.max");
  if (max != 64)
    {
      delete_force (id);
      cr_assert_fail ("pids.max of the created container is %lld, not 64: the fork bomb is not "
                      "started",
                      max);
    }
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  long long init = json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  char *procs = cg_read (id, "pids", "cgroup.procs", "cgroup.procs");
  char want[32];
  snprintf (want, sizeof want, "%lld\n", init);
  bool inside = procs && (strncmp (procs, want, strlen (want)) == 0 || strstr (procs, want));
  free (procs);
  if (!inside)
    {
      delete_force (id);
      cr_assert_fail ("the init %lld is not in the pids cgroup: not started", init);
    }

  run_ok ("start the fork bomb", ARGS ("start", id));
  /* Let it press against the limit until forks are refused. */
  long long hits = 0, current = 0, peak = 0;
  for (int i = 0; i < 100 && hits < 50; i++)
    {
      sleep_ms (50);
      current = pids_num (id, "pids.current");
      peak = current > peak ? current : peak;
      hits = pids_key (id, "pids.events", "max");
    }
  /* pids.peak (6.x) catches what sampling misses */
  char *pk = cg_read (id, "pids", "pids.peak", "pids.peak");
  if (pk)
    peak = atoll (pk) > peak ? atoll (pk) : peak;
  free (pk);
  cr_assert_leq (peak, 64, "pids.current %lld went past the limit 64", peak);
  cr_assert_gt (hits, 0, "no fork was refused (pids.events max 0; current %lld)", current);
  cr_assert_geq (peak, 48, "the bomb did not get near the limit (peak %lld)", peak);

  /* The host still forks and runs programs. */
  struct h_result r;
  struct h_spawn s = { .timeout_s = 10 };
  h_spawn (&r, &s, ARGS ("/bin/sh", "-c", "echo host-alive"));
  cr_assert_eq (r.status, 0, "the host cannot run a program: %s", r.err);
  cr_assert_not_null (strstr (r.out, "host-alive"));
  h_result_free (&r);

  delete_force (id);
  h_assert_clean (&b, id);
  fprintf (stderr, "fork bomb: pids.max 64, peak pids.current %lld, refused forks %lld\n", peak,
           hits);
}

Test (limits, pids_limit_0_is_a_real_limit_and_minus_1_is_max)
{
  h_bundle_init (&b, ARGS ("sleep", "30"));
  set_resource ("pids", "{\"limit\": 0}");
  h_bundle_save (&b);
  const char *id = h_id ("limits-pid0");
  run_ok ("create with pids.limit 0", ARGS ("create", id));
  cr_assert_eq (pids_num (id, "pids.max"), 0, "pids.limit 0 is not pids.max 0");
  delete_force (id);
  h_assert_clean (&b, id);

  set_resource ("pids", "{\"limit\": -1}");
  h_bundle_save (&b);
  id = h_id ("limits-pidm1");
  run_ok ("create with pids.limit -1", ARGS ("create", id));
  cr_assert_eq (pids_num (id, "pids.max"), -1, "pids.limit -1 is not pids.max max");
  delete_force (id);
  h_assert_clean (&b, id);
}

/* ---------------------------------------------------------- memory */

struct events_thread
{
  const char *id;
  struct h_result r;
};

static void *
events_main (void *p)
{
  struct events_thread *t = p;
  h_airlock (&t->r, &b, NULL, 60, ARGS ("events", "--interval", "1s", t->id));
  return NULL;
}

Test (limits, a_memory_hog_is_oom_killed_at_its_limit_and_the_oom_is_reported)
{
  h_bundle_init (&b, ARGS ("sh", "-c",
                           "while [ ! -e /tmp/go ]; do sleep 0.1; done; memhog 256 > /tmp/hog.out; "
                           "echo $? > /tmp/hog.rc; sleep 30"));
  writable_rootfs ();
  set_resource ("memory", "{\"limit\": 33554432}");
  h_bundle_save (&b);
  install_memhog ();
  const char *id = h_id ("limits-oom");
  run_ok ("run --detach", ARGS ("run", "--detach", id));
  cr_assert_eq (cg_num (id, "memory", "memory.limit_in_bytes", "memory.max"), 32 * MIB);
  long long ooms_before = cg_key (id, "memory", "memory.oom_control", "memory.events", "oom_kill");
  cr_assert_eq (ooms_before, 0);

  struct events_thread t = { .id = id };
  pthread_t th;
  cr_assert_eq (pthread_create (&th, NULL, events_main, &t), 0);
  sleep_ms (2000); /* events is following before the hog starts (slow machines too) */
  touch_in_rootfs ("tmp/go");
  bool done = wait_rootfs_file ("tmp/hog.rc", 30000);

  /* While it runs: the kill is counted in the stats too. */
  json_t *j = stats_of (id);
  long long kills = jget (j, "data.memory.event_count.oom_kill");
  long long limit = jget (j, "data.memory.usage.limit");
  json_decref (j);
  char *rc = read_in_rootfs ("tmp/hog.rc");
  char *out = read_in_rootfs ("tmp/hog.out");
  sleep_ms (1000); /* events reports a kill within its 100 ms poll */
  delete_force (id); /* ends `events` (the init is gone) */
  pthread_join (th, NULL);

  cr_assert (done, "the hog neither finished nor died in 30 s");
  cr_assert_not_null (rc);
  cr_assert_eq (atoi (rc), 137, "memhog exited %s (expected SIGKILL from the OOM killer); out: %s",
                rc, out ? out : "");
  /* it died near its limit, not before */
  const char *last = out ? strstr (out, "allocated ") : NULL;
  long got = 0;
  for (const char *p = last; p; p = strstr (p + 1, "allocated "))
    got = atol (p + strlen ("allocated "));
  cr_assert (got >= 16 && got <= 32, "memhog got %ld MiB under a 32 MiB limit", got);
  cr_assert_geq (kills, 1, "events --stats shows no OOM kill");
  cr_assert_eq (limit, 32 * MIB);

  cr_assert_eq (t.r.status, 0, "events exited %d: %s", t.r.status, t.r.err);
  char want[256];
  snprintf (want, sizeof want, "{\"type\":\"oom\",\"id\":\"%s\"}", id);
  cr_assert_not_null (strstr (t.r.out, want), "events did not report the OOM kill: %s", t.r.out);
  cr_assert_not_null (strstr (t.r.out, "\"type\":\"stats\""), "events printed no stats: %s",
                      t.r.out);
  h_result_free (&t.r);
  free (rc);
  free (out);
  h_assert_clean (&b, id);
  fprintf (stderr, "oom: memhog killed after %ld MiB of a 32 MiB limit; oom_kill %lld; events "
                   "reported it\n",
           got, kills);
}

/* ------------------------------------------------------------- cpu */

Test (limits, a_cpu_quota_of_20_percent_holds_a_spinner_to_20_percent)
{
  h_bundle_init (&b, ARGS ("sh", "-c", "while :; do :; done"));
  /* High shares: on a busy machine the spinner still wins its 20% from
   * sibling containers, so the quota, not contention, is what binds. */
  set_resource ("cpu", "{\"quota\": 20000, \"period\": 100000, \"shares\": 16384}");
  h_bundle_save (&b);
  const char *id = h_id ("limits-cpu");
  run_ok ("run --detach", ARGS ("run", "--detach", id));
  /* the quota and period, as configured, in the cgroup */
  if (h_cgroup_v2 ())
    {
      char *max = cg_read (id, NULL, NULL, "cpu.max");
      cr_assert_not_null (max, "%s: cannot read cpu.max", id);
      cr_assert_str_eq (max, "20000 100000\n", "cpu.max");
      free (max);
    }
  else
    {
      cr_assert_eq (cg_num (id, "cpu", "cpu.cfs_quota_us", NULL), 20000);
      cr_assert_eq (cg_num (id, "cpu", "cpu.cfs_period_us", NULL), 100000);
    }
  sleep_ms (300);

  /* Usage over a measured 2 s of wall time, up to five windows: too
   * little may be a machine too busy to give even 20% (the quota then
   * never binds), too much a stalled tick; a quota that does not hold is
   * over in every window. */
  double pct = 0;
  long long throttled = 0;
  for (int attempt = 0; attempt < 5; attempt++)
    {
      long long thr0 = cg_key (id, "cpu", "cpu.stat", "cpu.stat", "nr_throttled");
      long long u0 = cpu_usage_ns (id), t0 = now_ns ();
      sleep_ms (2000);
      long long u1 = cpu_usage_ns (id), t1 = now_ns ();
      throttled = cg_key (id, "cpu", "cpu.stat", "cpu.stat", "nr_throttled") - thr0;
      pct = 100.0 * (double) (u1 - u0) / (double) (t1 - t0);
      fprintf (stderr, "cpu quota 20%%: %.1f%% of one CPU over %.2f s (throttled %lld periods)\n",
               pct, (double) (t1 - t0) / 1e9, throttled);
      if (pct >= 15.0 && pct <= 25.0)
        break;
    }
  cr_assert_leq (pct, 25.0, "the spinner used %.1f%% of a CPU under a 20%% quota", pct);
  cr_assert_geq (pct, 15.0, "the spinner got only %.1f%% of a CPU (throttled %lld periods)", pct,
                 throttled);
  cr_assert_gt (throttled, 0, "the quota never throttled the spinner");
  delete_force (id);
  h_assert_clean (&b, id);
}

/* ---------------------------------------------------------- update */

#define SPAWN20 "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1000 & done"

Test (limits, update_raises_the_pids_limit_of_a_running_container_and_more_forks_succeed)
{
  h_bundle_init (&b, ARGS ("sh", "-c",
                           "while [ ! -e /tmp/go1 ]; do sleep 0.1; done; ( " SPAWN20 " ) 2>/dev/null; "
                           "while [ ! -e /tmp/go2 ]; do read -t 1 x <> /tmp/fifo; done; ( " SPAWN20
                           " ); echo done > /tmp/spawned; exec sleep 1000"));
  writable_rootfs ();
  set_resource ("pids", "{\"limit\": 8}");
  h_bundle_save (&b);
  /* the shell waits on a fifo with the `read` builtin: no fork at the limit */
  char fifo[PATH_MAX + 32];
  snprintf (fifo, sizeof fifo, "%s/rootfs/tmp/fifo", b.dir);
  cr_assert_eq (mkfifo (fifo, 0600), 0, "mkfifo: %s", strerror (errno));
  const char *id = h_id ("limits-upd");
  run_ok ("run --detach", ARGS ("run", "--detach", id));
  cr_assert_eq (pids_num (id, "pids.max"), 8);

  touch_in_rootfs ("tmp/go1");
  long long hits = 0;
  for (int i = 0; i < 100 && hits <= 0; i++)
    {
      sleep_ms (50);
      hits = pids_key (id, "pids.events", "max");
    }
  sleep_ms (300);
  long long before = pids_num (id, "pids.current");
  cr_assert_gt (hits, 0, "no fork was refused under pids.max 8");
  cr_assert_leq (before, 8);

  run_ok ("update --pids-limit 40", ARGS ("update", "--pids-limit", "40", id));
  cr_assert_eq (pids_num (id, "pids.max"), 40);
  touch_in_rootfs ("tmp/go2");
  bool spawned = wait_rootfs_file ("tmp/spawned", 15000);
  long long after = pids_num (id, "pids.current");
  cr_assert (spawned, "the second round of forks did not finish");
  cr_assert_geq (after, before + 18, "after the update only %lld processes (was %lld)", after,
                 before);
  cr_assert_leq (after, 40);
  delete_force (id);
  h_assert_clean (&b, id);
}

/* ---------------------------------------------------- pause, resume */

Test (limits, pause_freezes_every_process_and_resume_thaws_them)
{
  h_bundle_init (&b, ARGS ("sh", "-c", "(while :; do :; done) & while :; do :; done"));
  set_resource ("cpu", "{\"quota\": 50000, \"period\": 100000}");
  h_bundle_save (&b);
  const char *id = h_id ("limits-pause");
  run_ok ("run --detach", ARGS ("run", "--detach", id));
  sleep_ms (300);
  run_ok ("pause", ARGS ("pause", id));
  /* frozen, not still freezing, once pause returns */
  if (h_cgroup_v2 ())
    cr_assert_eq (cg_key (id, NULL, NULL, "cgroup.events", "frozen"), 1,
                  "cgroup.events of a paused container is not frozen 1");
  else
    {
      char *fs = cg_read (id, "freezer", "freezer.state", NULL);
      cr_assert_not_null (fs);
      cr_assert_str_eq (fs, "FROZEN\n");
      free (fs);
    }
  long long u0 = cpu_usage_ns (id);
  sleep_ms (800);
  long long frozen_ns = cpu_usage_ns (id) - u0;
  cr_assert_lt (frozen_ns, 5000000LL, "a paused container used %lld ns of CPU in 0.8 s", frozen_ns);

  run_ok ("resume", ARGS ("resume", id));
  if (h_cgroup_v2 ())
    cr_assert_eq (cg_key (id, NULL, NULL, "cgroup.events", "frozen"), 0,
                  "cgroup.events of a resumed container is not frozen 0");
  else
    {
      char *fs = cg_read (id, "freezer", "freezer.state", NULL);
      cr_assert_not_null (fs);
      cr_assert_str_eq (fs, "THAWED\n");
      free (fs);
    }
  u0 = cpu_usage_ns (id);
  sleep_ms (800);
  long long thawed_ns = cpu_usage_ns (id) - u0;
  cr_assert_gt (thawed_ns, 20000000LL, "a resumed container used only %lld ns of CPU in 0.8 s",
                thawed_ns);
  delete_force (id);
  h_assert_clean (&b, id);
  fprintf (stderr, "pause: %lld ns CPU frozen, %lld ns thawed (0.8 s each)\n", frozen_ns,
           thawed_ns);
}

/* ---------------------------------------------------------- events */

Test (limits, events_stats_report_memory_and_pids_that_move_with_the_workload)
{
  h_bundle_init (&b, ARGS ("sh", "-c",
                           "while [ ! -e /tmp/go ]; do read -t 1 x <> /tmp/fifo; done; "
                           "memhog 24 60 > /tmp/hog.out "
                           "& for i in 1 2 3 4 5 6; do sleep 1000 & done; sleep 1000"));
  writable_rootfs ();
  set_resource ("memory", "{\"limit\": 134217728}");
  set_resource ("pids", "{\"limit\": 32}");
  h_bundle_save (&b);
  install_memhog ();
  /* the shell waits on a fifo (`read` is a builtin): a steady pids count */
  char fifo[PATH_MAX + 32];
  snprintf (fifo, sizeof fifo, "%s/rootfs/tmp/fifo", b.dir);
  cr_assert_eq (mkfifo (fifo, 0600), 0, "mkfifo: %s", strerror (errno));
  const char *id = h_id ("limits-ev");
  run_ok ("run --detach", ARGS ("run", "--detach", id));

  json_t *j = stats_of (id);
  long long mem0 = jget (j, "data.memory.usage.usage");
  long long pids0 = jget (j, "data.pids.current");
  cr_assert_eq (jget (j, "data.pids.limit"), 32);
  cr_assert_eq (jget (j, "data.memory.usage.limit"), 128 * MIB);
  cr_assert_gt (jget (j, "data.cpu.usage.total"), 0);
  cr_assert (json_is_object (json_object_get (json_object_get (j, "data"), "hugetlb")));
  cr_assert (json_is_object (json_object_get (json_object_get (j, "data"), "blkio")));
  cr_assert (json_is_object (
      json_object_get (json_object_get (json_object_get (j, "data"), "memory"), "raw")));
  json_decref (j);

  touch_in_rootfs ("tmp/go");
  long long mem1 = mem0, pids1 = pids0;
  for (int i = 0; i < 100 && (mem1 < mem0 + 20 * MIB || pids1 < pids0 + 7); i++)
    {
      sleep_ms (100);
      j = stats_of (id);
      mem1 = jget (j, "data.memory.usage.usage");
      pids1 = jget (j, "data.pids.current");
      json_decref (j);
    }
  cr_assert_geq (mem1, mem0 + 20 * MIB, "memory usage did not follow the hog: %lld -> %lld", mem0,
                 mem1);
  cr_assert_geq (pids1, pids0 + 7, "pids.current did not follow the forks: %lld -> %lld", pids0,
                 pids1);
  /* and the numbers are the cgroup's */
  long long cur = pids_num (id, "pids.current");
  cr_assert (cur >= pids1 - 1 && cur <= pids1 + 1, "pids: stats %lld, cgroup %lld", pids1, cur);

  /* --interval is validated */
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("events", "--interval", "soon", id));
  cr_assert_neq (r.status, 0, "--interval soon was accepted");
  cr_assert_not_null (strstr (r.err, "interval"), "%s", r.err);
  h_result_free (&r);

  delete_force (id);
  h_airlock (&r, &b, NULL, 30, ARGS ("events", "--stats", id));
  fails_with (&r, "does not exist", "events of a deleted container");
  h_result_free (&r);
  h_assert_clean (&b, id);
  fprintf (stderr, "events: memory %lld -> %lld bytes, pids %lld -> %lld\n", mem0, mem1, pids0,
           pids1);
}

/* ------------------------------------------------------ bad limits */

struct bad_case
{
  const char *section, *json, *needle;
  const char *unless; /* skip the case when this path exists (controller mounted) */
};

static const struct bad_case bad_cases[] = {
  { "memory", "{\"limit\": -5}", "linux.resources.memory.limit" },
  { "memory", "{\"limit\": 0}", "linux.resources.memory.limit" },
  { "memory", "{\"limit\": 67108864, \"swap\": 1048576}", "linux.resources.memory.swap" },
  { "pids", "{\"limit\": -7}", "linux.resources.pids.limit" },
  { "pids", "{\"limit\": 1000000000000}", "linux.resources.pids.limit" },
  { "cpu", "{\"cpus\": \"0-4095\"}", "linux.resources.cpu.cpus" },
  { "cpu", "{\"cpus\": \"banana\"}", "linux.resources.cpu.cpus" },
  { "cpu", "{\"mems\": \"7\"}", "linux.resources.cpu.mems" },
  { "cpu", "{\"shares\": 1}", "linux.resources.cpu.shares" },
  { "cpu", "{\"quota\": 5}", "linux.resources.cpu.quota" },
  { "cpu", "{\"period\": 5000000}", "linux.resources.cpu.period" },
  { "blockIO", "{\"weight\": 5000}", "linux.resources.blockIO.weight" },
  { "hugepageLimits", "[{\"pageSize\": \"3XB\", \"limit\": 1}]", "hugepageLimits" },
  { "unified", "{\"../memory.max\": \"1\"}", "linux.resources.unified" },
  { "unified", "{\"no.such.file\": \"1\"}", "linux.resources.unified" },
  { "network", "{\"classID\": 5}", "linux.resources.network.classID", "/sys/fs/cgroup/net_cls" },
  { "rdma", "{\"mlx5_0\": {\"hcaHandles\": 3}}", "linux.resources.rdma", "/sys/fs/cgroup/rdma" },
};

Test (limits, bad_limits_are_refused_naming_the_field_and_leave_nothing_behind)
{
  h_bundle_init (&b, ARGS ("sleep", "30"));
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
    {
      const struct bad_case *c = &bad_cases[i];
      if (c->unless && access (c->unless, F_OK) == 0)
        {
          fprintf (stderr, "bad limits: %s %s not checked: %s exists\n", c->section, c->json,
                   c->unless);
          continue;
        }
      json_object_clear (resources ());
      set_resource (c->section, c->json);
      h_bundle_save (&b);
      const char *id = h_id ("limits-bad");
      struct h_result r;
      h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
      char what[256];
      snprintf (what, sizeof what, "create with %s %s", c->section, c->json);
      fails_with (&r, c->needle, what);
      h_result_free (&r);
      h_assert_clean (&b, id);
    }
  /* A controller that is missing is fine at its default value. */
  json_object_clear (resources ());
  set_resource ("network", "{\"classID\": 0}");
  h_bundle_save (&b);
  const char *id = h_id ("limits-netdef");
  run_ok ("create with network.classID 0", ARGS ("create", id));
  delete_force (id);
  h_assert_clean (&b, id);
}
