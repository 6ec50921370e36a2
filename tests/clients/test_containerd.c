/* test_containerd.c — containerd's ctr driving airlock through the runc v2
 * shim, as a user would:
 *
 *   ctr run --runc-binary $AIRLOCK --rm IMAGE ID echo hi
 *
 * The test binary starts its own containerd (setup-env.sh: root, state and
 * socket under a temp dir, CRI disabled), imports the fixture OCI archive,
 * and stops the daemon by its pid afterwards.  Tasks live in namespace
 * clients-<pid>, the shim's runtime root (--runc-root) is under the temp
 * dir and each container's cgroup under /airlock/clients-ctr-<pid>/.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients.h"

#define IMAGE "docker.io/library/airlock-busybox:latest"

static const char *
env (const char *name)
{
  const char *v = getenv (name);
  return v ? v : "";
}

/* ctr --address SOCK -n NS ARGS... */
static int
ctr_in (struct c_result *r, int timeout_s, const char *const *args)
{
  char sock[4096];
  snprintf (sock, sizeof sock, "%s/containerd/containerd.sock", env ("AL_CLIENTS_DIR"));
  const char *argv[64] = { "ctr", "--address", sock, "--namespace", env ("AL_CLIENTS_NS") };
  size_t n = 5;
  for (size_t i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return c_run (r, NULL, timeout_s, -1, argv);
}
#define CTR(r, ...) ctr_in (r, 60, (const char *[]) { __VA_ARGS__, NULL })

/* Kill, delete and remove container id (whatever is left of it). */
static void
remove_container (const char *id)
{
  struct c_result k;
  CTR (&k, "task", "kill", "--all", "--signal", "SIGKILL", id);
  c_result_free (&k);
  for (int i = 0; i < 50; i++)
    {
      CTR (&k, "task", "delete", id);
      int st = k.status;
      bool gone = strstr (k.err, "not found") != NULL;
      c_result_free (&k);
      if (st == 0 || gone)
        break;
      usleep (100000);
    }
  CTR (&k, "containers", "delete", id);
  c_result_free (&k);
}

/* Everything left in our namespace (after all tests). */
static void
cleanup_tasks (void)
{
  struct c_result r;
  CTR (&r, "containers", "list", "--quiet");
  char *save = NULL;
  for (char *id = strtok_r (r.out, "\n", &save); id; id = strtok_r (NULL, "\n", &save))
    remove_container (id);
  c_result_free (&r);
}

/* Ids this test created; the suite's fini removes them even when an
   assertion ended the test early (tests run in parallel, so only ours). */
static const char *created[8];
static int ncreated;

static const char *
new_id (void)
{
  const char *n = c_name ("ctr");
  if (ncreated < 8)
    created[ncreated++] = strdup (n);
  return n;
}

/* ------------------------------------------------------------ environment */

ReportHook (PRE_ALL) (struct criterion_test_set *set)
{
  (void) set;
  const char *dir = c_tempdir ("ctr");
  if (dir == NULL)
    {
      setenv ("AL_CLIENTS_ERROR", "mkdtemp failed", 1);
      return;
    }
  setenv ("AL_CLIENTS_DIR", dir, 1);
  char buf[4096];
  snprintf (buf, sizeof buf, "clients-%d", (int) getpid ());
  setenv ("AL_CLIENTS_NS", buf, 1);
  snprintf (buf, sizeof buf, "/airlock/clients-ctr-%d", (int) getpid ());
  setenv ("AL_CLIENTS_CGPARENT", buf, 1);

  struct c_result r;
  if (c_setup_env (&r, dir, "containerd") != 0)
    {
      char msg[8192];
      snprintf (msg, sizeof msg, "setup-env.sh containerd failed (%d): %s%s", r.status, r.out, r.err);
      setenv ("AL_CLIENTS_ERROR", msg, 1);
      fprintf (stderr, "# %s\n", msg);
      c_result_free (&r);
      return;
    }
  c_result_free (&r);

  char conf[4096], log[4096];
  snprintf (conf, sizeof conf, "%s/containerd.toml", dir);
  snprintf (log, sizeof log, "%s/containerd.log", dir);
  const char *argv[] = { "containerd", "--config", conf, NULL };
  pid_t pid = c_spawn (log, argv);
  if (pid <= 0)
    {
      setenv ("AL_CLIENTS_ERROR", "cannot start containerd", 1);
      return;
    }
  snprintf (buf, sizeof buf, "%d", (int) pid);
  setenv ("AL_CLIENTS_CONTAINERD_PID", buf, 1);

  bool up = false;
  for (int i = 0; i < 200 && !up; i++)
    {
      CTR (&r, "version");
      up = r.status == 0 && strstr (r.out, "Server:") != NULL;
      c_result_free (&r);
      if (!up)
        usleep (100000);
    }
  if (!up)
    {
      char msg[8192];
      snprintf (msg, sizeof msg, "containerd did not come up; see %s", log);
      setenv ("AL_CLIENTS_ERROR", msg, 1);
      fprintf (stderr, "# %s\n", msg);
      return;
    }
  char archive[8192];
  snprintf (archive, sizeof archive, "%s/busybox-oci.tar", dir);
  ctr_in (&r, 120, (const char *[]) { "images", "import", archive, NULL });
  if (r.status != 0)
    {
      char msg[8192];
      snprintf (msg, sizeof msg, "ctr images import failed (%d): %s%s", r.status, r.out, r.err);
      setenv ("AL_CLIENTS_ERROR", msg, 1);
      fprintf (stderr, "# %s\n", msg);
    }
  c_result_free (&r);
}

ReportHook (POST_ALL) (struct criterion_global_stats *stats)
{
  (void) stats;
  const char *dir = getenv ("AL_CLIENTS_DIR");
  if (dir == NULL)
    return;
  const char *p = getenv ("AL_CLIENTS_CONTAINERD_PID");
  if (p)
    {
      cleanup_tasks ();
      c_stop ((pid_t) atoi (p), 20);
    }
  const char *cg = getenv ("AL_CLIENTS_CGPARENT");
  if (cg)
    c_rmdir_cgroup (cg + 1);
  c_rmtree (dir);
}

static void
setup (void)
{
  const char *e = getenv ("AL_CLIENTS_ERROR");
  if (e)
    cr_assert_fail ("%s", e);
}

static void
teardown (void)
{
  for (int i = 0; i < ncreated; i++)
    remove_container (created[i]);
}

TestSuite (containerd, .init = setup, .fini = teardown);

#define EXPECT_STATUS(r, want)                                                                    \
  cr_assert_eq ((r)->status, (want), "exit %d, want %d\nstdout: %s\nstderr: %s", (r)->status,     \
                (want), (r)->out, (r)->err)

/* ctr run --runc-binary $AIRLOCK --runc-root DIR/runc-root --cgroup
 * /airlock/clients-ctr-<pid>/ID OPTS... IMAGE ID ARGS... */
static int
ctr_run (struct c_result *r, const char *id, const char *const *opts, const char *const *args)
{
  char root[4096], cg[512];
  snprintf (root, sizeof root, "%s/runc-root", env ("AL_CLIENTS_DIR"));
  snprintf (cg, sizeof cg, "%s/%s", env ("AL_CLIENTS_CGPARENT"), id);
  const char *argv[64] = { "run", "--runc-binary", c_airlock (), "--runc-root", root, "--cgroup", cg };
  size_t n = 7;
  for (size_t i = 0; opts[i]; i++)
    argv[n++] = opts[i];
  argv[n++] = IMAGE;
  argv[n++] = id;
  for (size_t i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return ctr_in (r, 120, argv);
}
#define OPTS(...) ((const char *[]) { __VA_ARGS__, NULL })
#define ARGS(...) ((const char *[]) { __VA_ARGS__, NULL })

/* airlock's state for id under the shim's runtime root is gone. */
static void
assert_no_state (const char *id)
{
  char path[4096];
  struct stat st;
  snprintf (path, sizeof path, "%s/runc-root/%s/%s", env ("AL_CLIENTS_DIR"), env ("AL_CLIENTS_NS"), id);
  cr_assert (stat (path, &st) < 0, "airlock state %s left behind", path);
  char cg[512];
  snprintf (cg, sizeof cg, "%s/%s", env ("AL_CLIENTS_CGPARENT") + 1, id);
  cr_assert (!c_cgroup_exists (cg), "cgroup %s left behind", cg);
}

/* Poll `ctr task ls` until id's status is want (10 s). */
static void
wait_status (const char *id, const char *want)
{
  char last[4096] = "";
  for (int i = 0; i < 100; i++)
    {
      struct c_result r;
      CTR (&r, "task", "list");
      snprintf (last, sizeof last, "%s", r.out);
      char *line = strstr (r.out, id);
      bool ok = false;
      if (line)
        {
          char *nl = strchr (line, '\n');
          if (nl)
            *nl = '\0';
          ok = strstr (line, want) != NULL;
        }
      c_result_free (&r);
      if (ok)
        return;
      usleep (100000);
    }
  cr_assert_fail ("task %s never became %s:\n%s", id, want, last);
}

static int
task_pid (const char *id)
{
  struct c_result r;
  CTR (&r, "task", "list");
  int pid = 0;
  char *line = strstr (r.out, id);
  if (line)
    sscanf (line + strlen (id), "%d", &pid);
  c_result_free (&r);
  return pid;
}

static void
assert_freezer (const char *id, const char *want)
{
  char path[512], state[64] = "";
  snprintf (path, sizeof path, "/sys/fs/cgroup/freezer%s/%s/freezer.state",
            env ("AL_CLIENTS_CGPARENT"), id);
  FILE *f = fopen (path, "r");
  cr_assert (f != NULL, "no freezer cgroup %s", path);
  cr_assert_eq (fscanf (f, "%63s", state), 1);
  fclose (f);
  cr_assert_str_eq (state, want, "%s", path);
}

/* ------------------------------------------------------------------ tests */

Test (containerd, run_rm_echo)
{
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--rm"), ARGS ("echo", "hi"));
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "hi\n");
  c_result_free (&r);
  CTR (&r, "containers", "list", "--quiet");
  cr_assert (strstr (r.out, id) == NULL, "container %s still listed", id);
  c_result_free (&r);
  assert_no_state (id);
}

Test (containerd, run_id_and_exit_code)
{
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--rm"), ARGS ("sh", "-c", "id -u; exit 7"));
  EXPECT_STATUS (&r, 7);
  cr_assert_str_eq (r.out, "0\n");
  c_result_free (&r);
  assert_no_state (id);
}

Test (containerd, detach_exec_ps_kill_delete)
{
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--detach"), ARGS ("sleep", "100"));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "RUNNING");
  int pid = task_pid (id);
  cr_assert (pid > 0);

  /* task ps -> `airlock ps --format json ID` */
  CTR (&r, "task", "ps", id);
  EXPECT_STATUS (&r, 0);
  char spid[32];
  snprintf (spid, sizeof spid, "%d", pid);
  cr_assert (strstr (r.out, spid) != NULL, "task ps does not list init %d:\n%s", pid, r.out);
  c_result_free (&r);

  /* task exec -> `airlock exec --process F --detach --pid-file P ID` */
  CTR (&r, "task", "exec", "--exec-id", "e1", id, "echo", "from-exec");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "from-exec\n");
  c_result_free (&r);
  CTR (&r, "task", "exec", "--exec-id", "e2", id, "sh", "-c", "exit 5");
  EXPECT_STATUS (&r, 5);
  c_result_free (&r);

  /* kill -> `airlock kill ID 9` */
  CTR (&r, "task", "kill", "--signal", "SIGKILL", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "STOPPED");

  /* task delete -> `airlock delete ID`, then `delete --force ID` again */
  CTR (&r, "task", "delete", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  CTR (&r, "containers", "delete", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  assert_no_state (id);
}

Test (containerd, kill_all_after_exit)
{
  /* `kill --all ID 9` of a container whose init already exited must not
     be an "unknown error" (the shim maps "container not running"). */
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--detach"), ARGS ("sh", "-c", "sleep 100 & sleep 100 & wait"));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "RUNNING");
  CTR (&r, "task", "kill", "--all", "--signal", "SIGKILL", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "STOPPED");
  CTR (&r, "task", "kill", "--all", "--signal", "SIGKILL", id);
  cr_assert (strstr (r.err, "unknown error after kill") == NULL, "%s", r.err);
  c_result_free (&r);
  CTR (&r, "task", "delete", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  CTR (&r, "containers", "delete", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  assert_no_state (id);
}

Test (containerd, pause_resume)
{
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--detach"), ARGS ("sleep", "100"));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "RUNNING");
  CTR (&r, "task", "pause", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "PAUSED");
  assert_freezer (id, "FROZEN");
  CTR (&r, "task", "resume", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "RUNNING");
  assert_freezer (id, "THAWED");
}

Test (containerd, run_tty)
{
  /* ctr -t wants a console on its own stdin: script(1) gives it one. */
  char sock[4096], root[4096], cg[512], cmd[16384];
  const char *id = new_id ();
  snprintf (sock, sizeof sock, "%s/containerd/containerd.sock", env ("AL_CLIENTS_DIR"));
  snprintf (root, sizeof root, "%s/runc-root", env ("AL_CLIENTS_DIR"));
  snprintf (cg, sizeof cg, "%s/%s", env ("AL_CLIENTS_CGPARENT"), id);
  snprintf (cmd, sizeof cmd,
            "ctr --address %s --namespace %s run --runc-binary %s --runc-root %s --cgroup %s "
            "--rm --tty %s %s sh -c 'test -t 0 && test -t 1 && echo tty-yes'",
            sock, env ("AL_CLIENTS_NS"), c_airlock (), root, cg, IMAGE, id);
  struct c_result r;
  const char *argv[] = { "script", "--quiet", "--return", "--command", cmd, "/dev/null", NULL };
  c_run (&r, NULL, 30, -1, argv);
  EXPECT_STATUS (&r, 0);
  cr_assert (strstr (r.out, "tty-yes") != NULL, "run -t: %s / %s", r.out, r.err);
  c_result_free (&r);
  assert_no_state (id);
}

/* The shim's own calls, replayed with the exact argv it uses, in an empty
 * environment (no PATH, XDG_RUNTIME_DIR empty):
 *   airlock --root R/NS --log B/log.json --log-format json ps --format json ID
 *   ... update --resources - ID      (specs.LinuxResources JSON on stdin)
 *   ... delete --force ID            (of an id already deleted: exit 0)
 * `ctr` 1.6 has no `task update`, so update is driven this way. */
static int
shim_call (struct c_result *r, const char *id, const char *stdin_data, const char *const *verb)
{
  char root[4096], log[4096];
  snprintf (root, sizeof root, "%s/runc-root/%s", env ("AL_CLIENTS_DIR"), env ("AL_CLIENTS_NS"));
  /* The shim logs to B/log.json; B is gone once the task is deleted, so
     these replays log beside it. */
  snprintf (log, sizeof log, "%s/shim-%s.log.json", env ("AL_CLIENTS_DIR"), id);
  const char *argv[32] = { "env", "-i", "XDG_RUNTIME_DIR=", c_airlock (), "--root", root,
                           "--log", log, "--log-format", "json" };
  size_t n = 10;
  for (size_t i = 0; verb[i] && n < 31; i++)
    argv[n++] = verb[i];
  argv[n] = NULL;
  return c_run (r, stdin_data, 30, -1, argv);
}

Test (containerd, shim_ps_update_delete_forms)
{
  struct c_result r;
  const char *id = new_id ();
  ctr_run (&r, id, OPTS ("--detach", "--memory-limit", "134217728"), ARGS ("sleep", "100"));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "RUNNING");
  int pid = task_pid (id);

  shim_call (&r, id, NULL, ARGS ("ps", "--format", "json", id));
  EXPECT_STATUS (&r, 0);
  char want[32];
  snprintf (want, sizeof want, "[%d]", pid);
  cr_assert_str_eq (r.out[0] ? strtok (r.out, "\n") : r.out, want, "ps --format json");
  c_result_free (&r);

  shim_call (&r, id, "{\"memory\":{\"limit\":67108864},\"cpu\":{\"shares\":512}}",
             ARGS ("update", "--resources", "-", id));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  char path[512];
  snprintf (path, sizeof path, "/sys/fs/cgroup/memory%s/%s/memory.limit_in_bytes",
            env ("AL_CLIENTS_CGPARENT"), id);
  FILE *f = fopen (path, "r");
  cr_assert (f != NULL, "no memory cgroup %s", path);
  long long limit = 0;
  cr_assert_eq (fscanf (f, "%lld", &limit), 1);
  fclose (f);
  cr_assert_eq (limit, 64LL << 20, "memory.limit_in_bytes %lld", limit);

  CTR (&r, "task", "kill", "--signal", "SIGKILL", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  wait_status (id, "STOPPED");
  CTR (&r, "task", "delete", id);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);

  /* gone now: the shim's second `delete --force ID` form exits 0, a plain
     delete does not */
  shim_call (&r, id, NULL, ARGS ("delete", "--force", id));
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  shim_call (&r, id, NULL, ARGS ("delete", id));
  cr_assert_neq (r.status, 0, "delete of a deleted container succeeded");
  c_result_free (&r);
}
