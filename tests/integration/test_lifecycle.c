/* Lifecycle integration tests: the OCI runtime-spec 1.2 lifecycle
 * (create, start, state, kill, delete) and the CLI surface clients use
 * (run, list, global flags), driven through the built airlock binary on a
 * busybox bundle.  Every test ends by checking that the container left
 * nothing behind (h_assert_clean). */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static struct h_bundle b;
static char host_dir[64]; /* a host directory a test must not touch */

static void
fini (void)
{
  h_bundle_fini (&b);
  if (host_dir[0])
    h_remove_tree (host_dir);
}

TestSuite (lifecycle, .fini = fini);

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *const sleep_args[] = { "sleep", "30", NULL };

static void
init_with (const char *const *args)
{
  h_bundle_init (&b, args);
}

static void
assert_status (struct h_result *r, int expected, const char *what)
{
  cr_assert_eq (r->status, expected, "%s: status %d, expected %d; stdout: %s; stderr: %s", what,
                r->status, expected, r->out, r->err);
}

static void
assert_fails_with (struct h_result *r, const char *needle, const char *what)
{
  cr_assert (r->status > 0 && r->status < 128, "%s: status %d, expected a failure; stderr: %s",
             what, r->status, r->err);
  cr_assert_not_null (strstr (r->err, needle), "%s: stderr does not mention `%s`: %s", what, needle,
                      r->err);
}

/* Run `airlock ARGV` expecting exit status 0. */
static void
ok (const char *const *argv)
{
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, argv);
  assert_status (&r, 0, argv[0]);
  h_result_free (&r);
}

static const char *
state_status (json_t *st)
{
  return st ? json_string_value (json_object_get (st, "status")) : NULL;
}

static pid_t
state_pid (json_t *st)
{
  return st ? (pid_t) json_integer_value (json_object_get (st, "pid")) : 0;
}

static void
assert_state (const char *id, const char *status)
{
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st, "%s: no state", id);
  cr_assert_str_eq (state_status (st), status, "%s: status %s, expected %s", id, state_status (st),
                    status);
  json_decref (st);
}

static bool
pid_alive (pid_t pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return false;
  char *line = fgets (buf, sizeof buf, f);
  fclose (f);
  char *paren = line ? strrchr (line, ')') : NULL;
  return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static bool
wait_pid_gone (pid_t pid, int timeout_ms)
{
  for (int t = 0; t < timeout_ms; t += 20)
    {
      if (!pid_alive (pid))
        return true;
      usleep (20 * 1000);
    }
  return !pid_alive (pid);
}

/* A detached container running sleep_args; returns its init pid. */
static pid_t
run_detached (const char *id)
{
  ok (ARGS ("run", "--detach", id));
  json_t *st = h_state (&b, id);
  cr_assert_str_eq (state_status (st), "running", "%s after run --detach", id);
  pid_t pid = state_pid (st);
  cr_assert_gt (pid, 0);
  cr_assert (pid_alive (pid), "%s: init %d is not alive", id, (int) pid);
  json_decref (st);
  return pid;
}

static void
delete_force_and_check (const char *id)
{
  ok (ARGS ("delete", "--force", id));
  h_assert_clean (&b, id);
}

/* `airlock run` in a thread, so the test can act while it waits. */
struct bg_run
{
  pthread_t thread;
  const char *id;
  struct h_result r;
};

static void *
bg_main (void *data)
{
  struct bg_run *bg = data;
  h_airlock (&bg->r, &b, NULL, 30, ARGS ("run", bg->id));
  return NULL;
}

static void
bg_start (struct bg_run *bg, const char *id)
{
  bg->id = id;
  cr_assert_eq (pthread_create (&bg->thread, NULL, bg_main, bg), 0);
  json_t *st = h_wait_status (&b, id, "running", 20);
  cr_assert_not_null (st, "%s never ran", id);
  json_decref (st);
}

static void
bg_join (struct bg_run *bg)
{
  cr_assert_eq (pthread_join (bg->thread, NULL), 0);
}

/* ------------------------------------------------------------------ run */

Test (lifecycle, run_stdio_is_inherited)
{
  init_with (ARGS ("sh", "-c", "echo out-line; echo err-line >&2; read x; echo got-$x"));
  const char *id = h_id ("itest-run");
  struct h_result r;
  h_airlock (&r, &b, "stdin-word\n", 30, ARGS ("run", id));
  assert_status (&r, 0, "run");
  cr_assert_str_eq (r.out, "out-line\ngot-stdin-word\n");
  cr_assert_str_eq (r.err, "err-line\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (lifecycle, run_exit_status_propagates)
{
  init_with (ARGS ("sh", "-c", "exit 7"));
  const char *id = h_id ("itest-exit");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_status (&r, 7, "run sh -c 'exit 7'");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (lifecycle, run_killed_init_is_128_plus_signal)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-sig");
  struct bg_run bg = { 0 };
  bg_start (&bg, id);
  ok (ARGS ("kill", id, "KILL"));
  bg_join (&bg);
  assert_status (&bg.r, 128 + SIGKILL, "run killed by SIGKILL");
  h_result_free (&bg.r);
  h_assert_clean (&b, id);
}

Test (lifecycle, run_signal_without_pid_namespace)
{
  /* Without a pid namespace the init is not a namespace init, so its own
   * SIGTERM kills it: 128+15. */
  init_with (ARGS ("sh", "-c", "kill -TERM $$; sleep 5"));
  json_t *ns = json_object_get (json_object_get (b.config, "linux"), "namespaces");
  for (size_t i = 0; i < json_array_size (ns); i++)
    if (strcmp (json_string_value (json_object_get (json_array_get (ns, i), "type")), "pid") == 0)
      {
        json_array_remove (ns, i);
        break;
      }
  h_bundle_save (&b);
  const char *id = h_id ("itest-term");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_status (&r, 128 + SIGTERM, "run sh killing itself with SIGTERM");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (lifecycle, run_detach_returns_with_container_running)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-detach");
  struct h_result r;
  /* A short timeout: run --detach must not wait for the 30 s sleep. */
  h_airlock (&r, &b, NULL, 10, ARGS ("run", "--detach", id));
  assert_status (&r, 0, "run --detach");
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_str_eq (state_status (st), "running");
  pid_t pid = state_pid (st);
  json_decref (st);
  cr_assert (pid_alive (pid), "init %d is not alive after run --detach", (int) pid);
  delete_force_and_check (id);
  cr_assert (wait_pid_gone (pid, 5000), "init %d survived delete --force", (int) pid);
}

/* ------------------------------------------------------------ lifecycle */

Test (lifecycle, create_start_stop_delete)
{
  /* Running for long enough to be seen running right after start. */
  init_with (ARGS ("sh", "-c", "sleep 3"));
  const char *id = h_id ("itest-life");
  ok (ARGS ("create", id));

  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  cr_assert_str_eq (state_status (st), "created");
  cr_assert_str_eq (json_string_value (json_object_get (st, "id")), id);
  cr_assert_str_eq (json_string_value (json_object_get (st, "ociVersion")), "1.2.0");
  cr_assert_str_eq (json_string_value (json_object_get (st, "bundle")), b.dir);
  pid_t pid = state_pid (st);
  json_decref (st);
  cr_assert_gt (pid, 0, "a created container has its init's pid");
  cr_assert (pid_alive (pid), "created init %d is not alive", (int) pid);

  /* The user process has not run yet: the init still is airlock. */
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  char *cmdline = h_read_file (path);
  cr_assert_not_null (cmdline);
  cr_assert_null (strstr (cmdline, "sleep"), "the process ran before start");
  free (cmdline);

  ok (ARGS ("start", id));
  st = h_state (&b, id);
  cr_assert_str_eq (state_status (st), "running");
  cr_assert_eq (state_pid (st), pid, "start keeps the init pid");
  json_decref (st);

  st = h_wait_status (&b, id, "stopped", 20);
  cr_assert_not_null (st, "%s never stopped", id);
  json_decref (st);

  /* A stopped container can be deleted without --force. */
  ok (ARGS ("delete", id));
  cr_assert_null (h_state (&b, id), "state still readable after delete");
  h_assert_clean (&b, id);
}

Test (lifecycle, delete_created_needs_force)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-delc");
  ok (ARGS ("create", id));
  json_t *st = h_state (&b, id);
  pid_t pid = state_pid (st);
  json_decref (st);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", id));
  assert_fails_with (&r, "created", "delete of a created container");
  cr_assert_not_null (strstr (r.err, "--force"), "the error suggests --force: %s", r.err);
  h_result_free (&r);
  assert_state (id, "created");
  cr_assert (pid_alive (pid), "delete without --force killed the init");

  delete_force_and_check (id);
  cr_assert (wait_pid_gone (pid, 5000), "init %d survived delete --force", (int) pid);
}

Test (lifecycle, delete_running_needs_force)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-delr");
  pid_t pid = run_detached (id);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", id));
  assert_fails_with (&r, "running", "delete of a running container");
  h_result_free (&r);
  assert_state (id, "running");
  cr_assert (pid_alive (pid));

  delete_force_and_check (id);
  cr_assert (wait_pid_gone (pid, 5000), "init %d survived delete --force", (int) pid);
}

Test (lifecycle, delete_unknown_id)
{
  init_with (NULL);
  const char *id = h_id ("itest-nope");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", id));
  assert_fails_with (&r, id, "delete of an unknown id");
  cr_assert_not_null (strstr (r.err, "does not exist"), "%s", r.err);
  h_result_free (&r);

  /* containerd's shim deletes, then deletes again with --force. */
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", "--force", id));
  assert_status (&r, 0, "delete --force of an unknown id");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (lifecycle, delete_then_delete_force)
{
  init_with (ARGS ("true"));
  const char *id = h_id ("itest-dd");
  ok (ARGS ("create", id));
  ok (ARGS ("start", id));
  json_t *st = h_wait_status (&b, id, "stopped", 20);
  cr_assert_not_null (st);
  cr_assert_eq (state_pid (st), 0, "a stopped container reports pid 0");
  json_decref (st);
  ok (ARGS ("delete", id));
  ok (ARGS ("delete", "--force", id));
  h_assert_clean (&b, id);
}

Test (lifecycle, start_twice_fails)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-start2");
  ok (ARGS ("create", id));
  ok (ARGS ("start", id));
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("start", id));
  assert_fails_with (&r, "running", "second start");
  h_result_free (&r);
  assert_state (id, "running");
  delete_force_and_check (id);
}

Test (lifecycle, start_stopped_fails)
{
  init_with (ARGS ("true"));
  const char *id = h_id ("itest-starts");
  ok (ARGS ("create", id));
  ok (ARGS ("start", id));
  json_decref (h_wait_status (&b, id, "stopped", 20));
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("start", id));
  assert_fails_with (&r, "stopped", "start of a stopped container");
  h_result_free (&r);
  ok (ARGS ("delete", id));
  h_assert_clean (&b, id);
}

Test (lifecycle, start_without_process_is_refused)
{
  init_with (NULL);
  json_object_del (b.config, "process");
  h_bundle_save (&b);
  const char *id = h_id ("itest-noproc");
  ok (ARGS ("create", id));
  assert_state (id, "created");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("start", id));
  assert_fails_with (&r, "process", "start without process");
  h_result_free (&r);
  assert_state (id, "created");
  delete_force_and_check (id);
}

Test (lifecycle, duplicate_id_refused)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-dup");
  pid_t pid = run_detached (id);
  static const char *const verbs[] = { "create", "run" };
  for (int i = 0; i < 2; i++)
    {
      struct h_result r;
      h_airlock (&r, &b, NULL, 30, ARGS (verbs[i], id));
      assert_fails_with (&r, "already exists", verbs[i]);
      h_result_free (&r);
    }
  json_t *st = h_state (&b, id);
  cr_assert_str_eq (state_status (st), "running", "the first container was touched");
  cr_assert_eq (state_pid (st), pid, "the first container's pid changed");
  json_decref (st);
  cr_assert (pid_alive (pid));
  delete_force_and_check (id);
}

Test (lifecycle, invalid_ids_refused)
{
  init_with (NULL);
  char long_id[300];
  memset (long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  const char *ids[] = { "a/b", "..", ".", "", "has space", "tab\tid", "../escape", long_id };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    {
      struct h_result r;
      h_airlock (&r, &b, NULL, 30, ARGS ("create", ids[i]));
      cr_assert (r.status > 0 && r.status < 128, "create `%s`: status %d", ids[i], r.status);
      cr_assert (strstr (r.err, "invalid container id") || strstr (r.err, "too long"),
                 "create `%s`: unclear error: %s", ids[i], r.err);
      h_result_free (&r);
    }
  /* Nothing was created, in the state root or next to it. */
  DIR *d = opendir (b.root);
  if (d)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        cr_assert (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0,
                   "left in the state root: %s", e->d_name);
      closedir (d);
    }
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/escape", b.dir);
  cr_assert_neq (access (path, F_OK), 0, "an id escaped the state root");
  h_assert_clean (&b, "escape");
}

/* ----------------------------------------------------------------- kill */

/* An init that reports which signal reached it through its exit status. */
static const char *const trap_args[]
    = { "sh", "-c",
        "trap 'exit 3' TERM; trap 'exit 4' HUP; trap 'exit 5' USR1; "
        "touch /dev/shm/traps-set; while :; do sleep 0.1; done",
        NULL };

static void
kill_and_expect (const char *sig, int expected)
{
  init_with (trap_args);
  const char *id = h_id ("itest-kill");
  struct bg_run bg = { 0 };
  bg_start (&bg, id);
  /* Wait for sh to have installed its traps (seen through its root). */
  json_t *st = h_state (&b, id);
  char ready[128];
  snprintf (ready, sizeof ready, "/proc/%d/root/dev/shm/traps-set", (int) state_pid (st));
  json_decref (st);
  int waited = 0;
  while (access (ready, F_OK) != 0 && waited < 10000)
    {
      usleep (20 * 1000);
      waited += 20;
    }
  cr_assert_eq (access (ready, F_OK), 0, "the container never set its traps");
  struct h_result r;
  if (sig)
    h_airlock (&r, &b, NULL, 30, ARGS ("kill", id, sig));
  else
    h_airlock (&r, &b, NULL, 30, ARGS ("kill", id));
  assert_status (&r, 0, "kill");
  h_result_free (&r);
  bg_join (&bg);
  cr_assert_eq (bg.r.status, expected, "kill %s: run exited %d, expected %d; stderr: %s",
                sig ? sig : "(default)", bg.r.status, expected, bg.r.err);
  h_result_free (&bg.r);
  h_assert_clean (&b, id);
}

Test (lifecycle, kill_default_is_term) { kill_and_expect (NULL, 3); }
Test (lifecycle, kill_name_TERM) { kill_and_expect ("TERM", 3); }
Test (lifecycle, kill_name_SIGTERM) { kill_and_expect ("SIGTERM", 3); }
Test (lifecycle, kill_number_15) { kill_and_expect ("15", 3); }
Test (lifecycle, kill_name_HUP) { kill_and_expect ("HUP", 4); }
Test (lifecycle, kill_name_sigusr1_lowercase) { kill_and_expect ("sigusr1", 5); }
Test (lifecycle, kill_name_KILL) { kill_and_expect ("KILL", 128 + SIGKILL); }
Test (lifecycle, kill_name_SIGKILL) { kill_and_expect ("SIGKILL", 128 + SIGKILL); }
Test (lifecycle, kill_number_9) { kill_and_expect ("9", 128 + SIGKILL); }

Test (lifecycle, kill_invalid_signal)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-badsig");
  pid_t pid = run_detached (id);
  const char *bad[] = { "FOO", "0", "99", "65", "SIG", "9x", "SIGFOO" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct h_result r;
      h_airlock (&r, &b, NULL, 30, ARGS ("kill", id, bad[i]));
      cr_assert (r.status > 0 && r.status < 128, "kill %s: status %d", bad[i], r.status);
      char quoted[32];
      snprintf (quoted, sizeof quoted, "`%s`", bad[i]);
      cr_assert (strstr (r.err, "signal") && strstr (r.err, quoted),
                 "kill %s: the error does not name the signal: %s", bad[i], r.err);
      h_result_free (&r);
    }
  assert_state (id, "running");
  cr_assert (pid_alive (pid), "an invalid signal reached the init");
  delete_force_and_check (id);
}

Test (lifecycle, kill_stopped_and_unknown_fail)
{
  init_with (ARGS ("true"));
  const char *id = h_id ("itest-killst");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("kill", id, "KILL"));
  assert_fails_with (&r, "does not exist", "kill of an unknown id");
  h_result_free (&r);
  ok (ARGS ("create", id));
  ok (ARGS ("start", id));
  json_decref (h_wait_status (&b, id, "stopped", 20));
  h_airlock (&r, &b, NULL, 30, ARGS ("kill", id, "KILL"));
  assert_fails_with (&r, "container not running", "kill of a stopped container");
  h_result_free (&r);
  /* containerd's shim repeats kill --all after the task exited: runc
   * signals what is left in the cgroup (nothing here) and succeeds. */
  ok (ARGS ("kill", "--all", id, "KILL"));
  ok (ARGS ("delete", id));
  h_assert_clean (&b, id);
}

/* Processes of the container (root at its rootfs) whose cmdline is
 * "sleep ARG". */
static int
count_sleepers (const char *arg)
{
  char rootfs[PATH_MAX + 16];
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", b.dir);
  struct stat want;
  cr_assert_eq (stat (rootfs, &want), 0);
  int n = 0;
  DIR *d = opendir ("/proc");
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      char *end;
      long pid = strtol (e->d_name, &end, 10);
      if (*end || pid <= 0 || !pid_alive ((pid_t) pid))
        continue;
      char path[64];
      struct stat st;
      snprintf (path, sizeof path, "/proc/%ld/root", pid);
      if (stat (path, &st) < 0 || st.st_dev != want.st_dev || st.st_ino != want.st_ino)
        continue;
      snprintf (path, sizeof path, "/proc/%ld/cmdline", pid);
      FILE *f = fopen (path, "re");
      if (f == NULL)
        continue;
      char buf[256] = "";
      size_t len = fread (buf, 1, sizeof buf - 1, f);
      fclose (f);
      if (len > 6 && strcmp (buf, "sleep") == 0 && strcmp (buf + 6, arg) == 0)
        n++;
    }
  closedir (d);
  return n;
}

static bool
wait_sleepers (const char *arg, int expected, int timeout_ms)
{
  for (int t = 0; t < timeout_ms; t += 50)
    {
      if (count_sleepers (arg) == expected)
        return true;
      usleep (50 * 1000);
    }
  return count_sleepers (arg) == expected;
}

Test (lifecycle, kill_all_signals_every_process)
{
  /* The init survives TERM (it has a handler); its children do not. */
  init_with (
      ARGS ("sh", "-c", "trap 'true' TERM; sleep 301 & sleep 302 & while :; do sleep 0.1; done"));
  const char *id = h_id ("itest-killall");
  pid_t pid = run_detached (id);
  cr_assert (wait_sleepers ("301", 1, 5000), "the container's children did not start");
  cr_assert (wait_sleepers ("302", 1, 5000));

  /* Without --all only the init is signalled. */
  ok (ARGS ("kill", id, "TERM"));
  usleep (300 * 1000);
  cr_assert_eq (count_sleepers ("301"), 1, "kill without --all reached a child");

  ok (ARGS ("kill", "--all", id, "TERM"));
  cr_assert (wait_sleepers ("301", 0, 5000), "kill --all missed a child");
  cr_assert (wait_sleepers ("302", 0, 5000), "kill --all missed a child");
  cr_assert (pid_alive (pid), "the init died of a TERM it handles");
  assert_state (id, "running");
  delete_force_and_check (id);
}

/* ---------------------------------------------------- pid file and fds */

Test (lifecycle, pid_file_has_the_init_pid)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-pidf");
  char pidfile[PATH_MAX + 16];
  snprintf (pidfile, sizeof pidfile, "%s/init.pid", b.dir);
  ok (ARGS ("create", "--pid-file", pidfile, id));
  char *content = h_read_file (pidfile);
  cr_assert_not_null (content, "no pid file written");
  json_t *st = h_state (&b, id);
  char want[32];
  snprintf (want, sizeof want, "%d", (int) state_pid (st));
  json_decref (st);
  cr_assert_str_eq (content, want, "pid file `%s`, state pid %s", content, want);
  free (content);

  /* A relative --pid-file is relative to airlock's cwd (the bundle). */
  const char *id2 = h_id ("itest-pidf");
  ok (ARGS ("run", "--detach", "--pid-file", "rel.pid", id2));
  snprintf (pidfile, sizeof pidfile, "%s/rel.pid", b.dir);
  content = h_read_file (pidfile);
  cr_assert_not_null (content, "no relative pid file written");
  st = h_state (&b, id2);
  snprintf (want, sizeof want, "%d", (int) state_pid (st));
  json_decref (st);
  cr_assert_str_eq (content, want);
  free (content);

  ok (ARGS ("delete", "--force", id));
  ok (ARGS ("delete", "--force", id2));
  h_assert_clean (&b, id);
  h_assert_clean (&b, id2);
}

static int
open_data_file (const char *name, const char *content)
{
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/%s", b.dir, name);
  h_write_file (path, content);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  return fd;
}

Test (lifecycle, preserve_fds_passes_exactly_n)
{
  /* ls lists its own directory fd too: the first free number. */
  init_with (ARGS ("sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd | tr '\\n' ' '"));
  int fds[3] = { open_data_file ("fd3", "three\n"), open_data_file ("fd4", "four\n"),
                 open_data_file ("fd5", "five\n") };
  const char *id = h_id ("itest-fds");
  struct h_spawn s = { .timeout_s = 30, .fds = fds, .n_fds = 3 };
  struct h_result r;
  h_airlock_ex (&r, &b, &s, ARGS ("run", "--preserve-fds", "2", id));
  assert_status (&r, 0, "run --preserve-fds 2");
  cr_assert_str_eq (r.out, "three\nfour\n0 1 2 3 4 5 ", "fd 5 of airlock leaked or 3/4 missing");
  h_result_free (&r);
  h_assert_clean (&b, id);

  /* Without --preserve-fds nothing above 2 gets in. */
  h_set_args (&b, ARGS ("sh", "-c", "ls /proc/self/fd | tr '\\n' ' '"));
  h_bundle_save (&b);
  const char *id2 = h_id ("itest-fds");
  h_airlock_ex (&r, &b, &s, ARGS ("run", id2));
  assert_status (&r, 0, "run");
  cr_assert_str_eq (r.out, "0 1 2 3 ", "an fd of airlock leaked into the container");
  h_result_free (&r);
  for (int i = 0; i < 3; i++)
    close (fds[i]);
  h_assert_clean (&b, id2);
}

/* ----------------------------------------------------------------- list */

Test (lifecycle, list_shows_containers)
{
  init_with (sleep_args);
  const char *id1 = h_id ("itest-list");
  const char *id2 = h_id ("itest-list");
  pid_t pid1 = run_detached (id1);
  ok (ARGS ("create", id2));

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("list"));
  assert_status (&r, 0, "list");
  cr_assert_not_null (strstr (r.out, "STATUS"), "no table header: %s", r.out);
  char *l1 = strstr (r.out, id1), *l2 = strstr (r.out, id2);
  cr_assert (l1 && l2, "list misses a container: %s", r.out);
  cr_assert_not_null (strstr (r.out, "running"));
  cr_assert_not_null (strstr (r.out, "created"));
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("list", "-q"));
  assert_status (&r, 0, "list -q");
  char want[256];
  snprintf (want, sizeof want, "%s\n%s\n", id1, id2);
  cr_assert_str_eq (r.out, want);
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("list", "--format", "json"));
  assert_status (&r, 0, "list --format json");
  json_t *arr = json_loads (r.out, 0, NULL);
  cr_assert (json_is_array (arr), "not a JSON array: %s", r.out);
  cr_assert_eq (json_array_size (arr), 2);
  json_t *e0 = json_array_get (arr, 0), *e1 = json_array_get (arr, 1);
  cr_assert_str_eq (json_string_value (json_object_get (e0, "id")), id1);
  cr_assert_str_eq (json_string_value (json_object_get (e0, "status")), "running");
  cr_assert_eq (json_integer_value (json_object_get (e0, "pid")), pid1);
  cr_assert_str_eq (json_string_value (json_object_get (e0, "bundle")), b.dir);
  cr_assert_str_eq (json_string_value (json_object_get (e1, "id")), id2);
  cr_assert_str_eq (json_string_value (json_object_get (e1, "status")), "created");
  json_decref (arr);
  h_result_free (&r);

  /* One bundle: the check for processes covers both containers. */
  ok (ARGS ("delete", "--force", id1));
  ok (ARGS ("delete", "--force", id2));
  h_assert_clean (&b, id1);
  h_assert_clean (&b, id2);
  h_airlock (&r, &b, NULL, 30, ARGS ("list", "-q"));
  assert_status (&r, 0, "list -q");
  cr_assert_str_eq (r.out, "", "deleted containers still listed");
  h_result_free (&r);
}

/* ------------------------------------------------------------ bad input */

static void
create_fails (const char *id, const char *needle, const char *what)
{
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  assert_fails_with (&r, needle, what);
  h_result_free (&r);
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_fails_with (&r, needle, what);
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (lifecycle, unknown_capability_fails_create)
{
  init_with (NULL);
  json_t *caps = json_object_get (h_process (&b), "capabilities");
  json_array_append_new (json_object_get (caps, "bounding"), json_string ("CAP_ITEST_BOGUS"));
  h_bundle_save (&b);
  create_fails (h_id ("itest-cap"), "CAP_ITEST_BOGUS", "unknown capability");
}

Test (lifecycle, missing_rootfs_fails)
{
  init_with (NULL);
  json_object_set_new (json_object_get (b.config, "root"), "path", json_string ("no-such-rootfs"));
  h_bundle_save (&b);
  create_fails (h_id ("itest-norootfs"), "no-such-rootfs", "missing rootfs");
}

Test (lifecycle, malformed_config_fails)
{
  init_with (NULL);
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/config.json", b.dir);
  h_write_file (path, "{ \"ociVersion\": \"1.2.0\",\n  \"process\": [ }\n");
  create_fails (h_id ("itest-badjson"), "config.json:2", "malformed config.json");
}

/* A host directory that the container must not touch. */
static void
make_host_dir (char *dir, size_t size)
{
  snprintf (dir, size, "/tmp/al-itest-host-XXXXXX");
  cr_assert_not_null (mkdtemp (dir));
  snprintf (host_dir, sizeof host_dir, "%s", dir);
}

static void
assert_host_dir_empty (const char *dir)
{
  DIR *d = opendir (dir);
  cr_assert_not_null (d, "%s is gone", dir);
  struct dirent *e;
  char found[256] = "";
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      snprintf (found, sizeof found, "%s", e->d_name);
  closedir (d);
  cr_assert_eq (found[0], '\0', "the container wrote %s/%s on the host", dir, found);
}

static void
add_tmpfs_mount (const char *dest)
{
  json_array_append_new (
      json_object_get (b.config, "mounts"),
      json_pack ("{s:s, s:s, s:s}", "destination", dest, "type", "tmpfs", "source", "tmpfs"));
}

Test (lifecycle, mount_destination_dotdot_refused)
{
  init_with (NULL);
  char host[64], dest[256];
  make_host_dir (host, sizeof host);
  snprintf (dest, sizeof dest, "/../../../../..%s/sub", host);
  add_tmpfs_mount (dest);
  /* Writable, so only the `..` check stands between the config and the host. */
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("itest-mntdd");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_fails_with (&r, dest, "mount destination with ..");
  cr_assert_not_null (strstr (r.err, "mounts["), "the error does not name the mount: %s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
  assert_host_dir_empty (host);
}

static void
symlink_escape (const char *host)
{
  char link[PATH_MAX + 16];
  snprintf (link, sizeof link, "%s/rootfs/escape", b.dir);
  cr_assert_eq (symlink (host, link), 0, "symlink %s: %s", link, strerror (errno));
}

Test (lifecycle, mount_destination_symlink_to_host_refused)
{
  init_with (NULL);
  char host[64];
  make_host_dir (host, sizeof host);
  symlink_escape (host);
  add_tmpfs_mount ("/escape/sub");
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("itest-mntsym");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_fails_with (&r, "/escape", "mount destination through a symlink");
  cr_assert_not_null (strstr (r.err, "mounts["), "the error does not name the mount: %s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
  assert_host_dir_empty (host);
}

Test (lifecycle, cwd_symlink_to_host_refused)
{
  init_with (ARGS ("sh", "-c", "pwd; touch pwned"));
  char host[64];
  make_host_dir (host, sizeof host);
  symlink_escape (host);
  json_object_set_new (h_process (&b), "cwd", json_string ("/escape/sub"));
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("itest-cwdsym");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  assert_fails_with (&r, "process.cwd", "cwd through a symlink to the host");
  h_result_free (&r);
  h_assert_clean (&b, id);
  assert_host_dir_empty (host);
}

Test (lifecycle, cwd_dotdot_stays_in_the_container)
{
  /* `..` at the container's root stays there (as in runc, which resolves
   * cwd inside the rootfs): either airlock refuses it, naming process.cwd,
   * or the process runs in a directory of the rootfs — never the host's. */
  init_with (ARGS ("sh", "-c", "pwd; touch pwned"));
  char host[64], cwd[256];
  make_host_dir (host, sizeof host);
  snprintf (cwd, sizeof cwd, "/../../../..%s/sub", host);
  json_object_set_new (h_process (&b), "cwd", json_string (cwd));
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("itest-cwddd");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  if (r.status != 0)
    assert_fails_with (&r, "process.cwd", "cwd with ..");
  else
    {
      char want[256], inside[PATH_MAX + 300];
      snprintf (want, sizeof want, "%s/sub\n", host);
      cr_assert_str_eq (r.out, want, "cwd resolved to %s", r.out);
      snprintf (inside, sizeof inside, "%s/rootfs%s/sub/pwned", b.dir, host);
      cr_assert_eq (access (inside, F_OK), 0, "the process did not write in its rootfs");
    }
  h_result_free (&r);
  h_assert_clean (&b, id);
  assert_host_dir_empty (host);
}

/* --------------------------------------------------------- global flags */

Test (lifecycle, log_file_json)
{
  init_with (NULL);
  json_object_set_new (json_object_get (b.config, "root"), "path", json_string ("no-such-rootfs"));
  h_bundle_save (&b);
  char log[PATH_MAX + 16];
  snprintf (log, sizeof log, "%s/airlock.log", b.dir);
  const char *id = h_id ("itest-log");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("--log", log, "--log-format", "json", "create", id));
  assert_fails_with (&r, "no-such-rootfs", "create with --log");
  h_result_free (&r);
  /* A second error appends to the same file. */
  h_airlock (&r, &b, NULL, 30, ARGS ("--log", log, "--log-format", "json", "delete", id));
  cr_assert_neq (r.status, 0);
  h_result_free (&r);

  char *content = h_read_file (log);
  cr_assert_not_null (content, "no log file");
  int lines = 0;
  bool rootfs_named = false, missing_named = false;
  for (char *save = NULL, *line = strtok_r (content, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      json_error_t jerr;
      json_t *o = json_loads (line, 0, &jerr);
      cr_assert_not_null (o, "log line is not JSON (%s): %s", jerr.text, line);
      cr_assert_str_eq (json_string_value (json_object_get (o, "level")), "error", "%s", line);
      cr_assert_not_null (json_string_value (json_object_get (o, "time")), "%s", line);
      const char *msg = json_string_value (json_object_get (o, "msg"));
      cr_assert_not_null (msg, "%s", line);
      rootfs_named |= strstr (msg, "no-such-rootfs") != NULL;
      missing_named |= strstr (msg, "does not exist") != NULL;
      json_decref (o);
      lines++;
    }
  free (content);
  cr_assert_eq (lines, 2, "expected 2 JSON log lines, got %d", lines);
  cr_assert (rootfs_named && missing_named, "the log lacks an error");
  h_assert_clean (&b, id);
}

static bool
cgroup_exists (const char *id)
{
  DIR *d = opendir ("/sys/fs/cgroup");
  cr_assert_not_null (d);
  struct dirent *e;
  bool found = false;
  while (!found && (e = readdir (d)) != NULL)
    {
      char path[PATH_MAX];
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/fs/cgroup/%s/airlock/%s", e->d_name, id);
      found = access (path, F_OK) == 0;
    }
  closedir (d);
  /* a pure cgroup-v2 host (make check-vm): /sys/fs/cgroup/airlock/<id> */
  char v2[PATH_MAX];
  snprintf (v2, sizeof v2, "/sys/fs/cgroup/airlock/%s", id);
  return found || access (v2, F_OK) == 0;
}

Test (lifecycle, cgroup_manager_disabled_creates_no_cgroup)
{
  init_with (sleep_args);
  /* By default the container has its cgroup... */
  const char *id = h_id ("itest-cg");
  run_detached (id);
  cr_assert (cgroup_exists (id), "no cgroup airlock/%s by default", id);
  delete_force_and_check (id);

  /* ...and with --cgroup-manager disabled none. */
  const char *id2 = h_id ("itest-nocg");
  ok (ARGS ("--cgroup-manager", "disabled", "run", "--detach", id2));
  assert_state (id2, "running");
  cr_assert (!cgroup_exists (id2), "--cgroup-manager disabled created a cgroup for %s", id2);
  ok (ARGS ("delete", "--force", id2));
  h_assert_clean (&b, id2);
}

Test (lifecycle, root_flag_is_honoured)
{
  init_with (sleep_args);
  const char *id = h_id ("itest-root");
  ok (ARGS ("create", id));
  char path[PATH_MAX + 300];
  snprintf (path, sizeof path, "%s/%s/state.json", b.root, id);
  cr_assert_eq (access (path, F_OK), 0, "no state under --root: %s", path);

  /* Another root does not see it. */
  char other[PATH_MAX + 16];
  snprintf (other, sizeof other, "%s/other-root", b.dir);
  struct h_result r;
  const char *argv[] = { h_airlock_path (), "--root", other, "state", id, NULL };
  struct h_spawn s = { .timeout_s = 30, .cwd = b.dir };
  h_spawn (&r, &s, argv);
  assert_fails_with (&r, "does not exist", "state under another root");
  h_result_free (&r);

  delete_force_and_check (id);
}
