/* test_podman.c — podman driving airlock as a user would:
 *
 *   podman --runtime $AIRLOCK run --rm IMAGE echo hi
 *
 * with podman's own containers.conf/storage.conf/registries.conf under a
 * temp dir (setup-env.sh: vfs storage, cgroupfs manager, file events, no
 * network, the busybox fixture imported as localhost/airlock-busybox).
 * Each container goes under the cgroup parent /airlock/clients-podman-<pid>
 * so nothing lands outside airlock's subtree.  The environment is built
 * once per test binary (PRE_ALL) and removed after (POST_ALL).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients.h"

#define IMAGE "localhost/airlock-busybox:latest"

/* ------------------------------------------------------------ environment */

ReportHook (PRE_ALL) (struct criterion_test_set *set)
{
  (void) set;
  const char *dir = c_tempdir ("podman");
  if (dir == NULL)
    {
      setenv ("AL_CLIENTS_ERROR", "mkdtemp failed", 1);
      return;
    }
  setenv ("AL_CLIENTS_DIR", dir, 1);
  char path[4096], cg[128];
  snprintf (path, sizeof path, "%s/containers.conf", dir);
  setenv ("CONTAINERS_CONF", path, 1);
  snprintf (path, sizeof path, "%s/storage.conf", dir);
  setenv ("CONTAINERS_STORAGE_CONF", path, 1);
  snprintf (path, sizeof path, "%s/registries.conf", dir);
  setenv ("CONTAINERS_REGISTRIES_CONF", path, 1);
  snprintf (cg, sizeof cg, "/airlock/clients-podman-%d", (int) getpid ());
  setenv ("AL_CLIENTS_CGPARENT", cg, 1);
  struct c_result r;
  if (c_setup_env (&r, dir, "podman") != 0)
    {
      char msg[8192];
      snprintf (msg, sizeof msg, "setup-env.sh podman failed (%d): %s%s", r.status, r.out, r.err);
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
  /* Whatever a failed test left: podman removes it with airlock. */
  struct c_result r;
  const char *rm[] = { "podman", "--runtime", c_airlock (), "rm", "--all", "--force", "--time", "0", NULL };
  c_run (&r, NULL, 120, -1, rm);
  c_result_free (&r);
  const char *cg = getenv ("AL_CLIENTS_CGPARENT");
  if (cg)
    c_rmdir_cgroup (cg + 1);
  c_rmtree (dir);
}

static void
require_env (void)
{
  const char *e = getenv ("AL_CLIENTS_ERROR");
  if (e)
    cr_assert_fail ("%s", e);
}

/* Names this test created; the suite's fini removes them even when an
 * assertion ended the test early. */
static const char *created[8];
static int ncreated;

static const char *
new_name (void)
{
  const char *n = c_name ("podman");
  if (ncreated < 8)
    created[ncreated++] = strdup (n);
  return n;
}

/* podman --runtime $AIRLOCK ARGS... */
static int
podman_in (struct c_result *r, int extra_fd, const char *const *args)
{
  const char *argv[64] = { "podman", "--runtime", c_airlock () };
  size_t n = 3;
  for (size_t i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return c_run (r, NULL, 120, extra_fd, argv);
}
#define PODMAN(r, ...) podman_in (r, -1, (const char *[]) { __VA_ARGS__, NULL })
/* podman run with this binary's cgroup parent */
#define RUN(r, ...) \
  podman_in (r, -1, (const char *[]) { "run", "--cgroup-parent", getenv ("AL_CLIENTS_CGPARENT"), __VA_ARGS__, NULL })

static void
setup (void)
{
  require_env ();
}

static void
teardown (void)
{
  for (int i = 0; i < ncreated; i++)
    {
      struct c_result r;
      PODMAN (&r, "rm", "--force", "--time", "0", created[i]);
      c_result_free (&r);
    }
}

TestSuite (podman, .init = setup, .fini = teardown);

#define EXPECT_STATUS(r, want)                                                                    \
  cr_assert_eq ((r)->status, (want), "exit %d, want %d\nstdout: %s\nstderr: %s", (r)->status,     \
                (want), (r)->out, (r)->err)

/* The container is gone from podman's store. */
static void
assert_gone (const char *name)
{
  struct c_result r;
  PODMAN (&r, "container", "exists", name);
  cr_assert_eq (r.status, 1, "podman container exists %s: %d (%s)", name, r.status, r.err);
  c_result_free (&r);
}

/* ------------------------------------------------------------------ tests */

Test (podman, version_through_info)
{
  /* podman asks the runtime for `--version`. */
  struct c_result r;
  PODMAN (&r, "info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}");
  EXPECT_STATUS (&r, 0);
  cr_assert (strstr (r.out, "airlock version") != NULL, "info: %s", r.out);
  c_result_free (&r);
}

Test (podman, run_rm_echo)
{
  struct c_result r;
  const char *name = new_name ();
  RUN (&r, "--rm", "--name", name, IMAGE, "echo", "hi");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "hi\n");
  c_result_free (&r);
  assert_gone (name);
}

Test (podman, run_exit_code_propagates)
{
  struct c_result r;
  RUN (&r, "--rm", "--name", new_name (), IMAGE, "sh", "-c", "exit 7");
  EXPECT_STATUS (&r, 7);
  c_result_free (&r);
}

Test (podman, run_missing_executable_is_127)
{
  struct c_result r;
  RUN (&r, "--rm", "--name", new_name (), IMAGE, "/no/such/program");
  EXPECT_STATUS (&r, 127);
  cr_assert (strstr (r.err, "/no/such/program") != NULL, "%s", r.err);
  c_result_free (&r);
}

Test (podman, run_not_executable_is_126)
{
  struct c_result r;
  RUN (&r, "--rm", "--name", new_name (), IMAGE, "/etc/passwd");
  EXPECT_STATUS (&r, 126);
  cr_assert (strstr (r.err, "permission denied") != NULL, "%s", r.err);
  c_result_free (&r);
}

Test (podman, detach_exec_stop_rm)
{
  struct c_result r;
  const char *name = new_name ();
  /* The init exits 0 on SIGTERM: `podman stop` must deliver `kill ID 15`
     (as pid 1 it has no default action for it). */
  RUN (&r, "-d", "--name", name, IMAGE, "sh", "-c",
       "trap 'exit 0' TERM; while :; do sleep 0.1; done");
  EXPECT_STATUS (&r, 0);
  cr_assert (strlen (r.out) >= 64, "run -d printed no id: %s", r.out);
  c_result_free (&r);

  PODMAN (&r, "exec", name, "echo", "from-exec");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "from-exec\n");
  c_result_free (&r);

  PODMAN (&r, "exec", name, "sh", "-c", "exit 5");
  EXPECT_STATUS (&r, 5);
  c_result_free (&r);

  PODMAN (&r, "exec", name, "/no/such/program");
  EXPECT_STATUS (&r, 127);
  c_result_free (&r);

  PODMAN (&r, "inspect", "--format", "{{.State.Status}}", name);
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "running\n");
  c_result_free (&r);

  PODMAN (&r, "stop", "--time", "10", name);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);

  PODMAN (&r, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name);
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "exited 0\n", "SIGTERM did not reach the init: %s", r.out);
  c_result_free (&r);

  PODMAN (&r, "rm", name);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  assert_gone (name);
}

Test (podman, exec_tty)
{
  struct c_result r;
  const char *name = new_name ();
  RUN (&r, "-d", "--name", name, IMAGE, "sleep", "100");
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  PODMAN (&r, "exec", "-t", name, "sh", "-c", "test -t 1 && echo tty-yes");
  EXPECT_STATUS (&r, 0);
  cr_assert (strstr (r.out, "tty-yes") != NULL, "exec -t: %s / %s", r.out, r.err);
  c_result_free (&r);
}

Test (podman, run_tty)
{
  struct c_result r;
  RUN (&r, "--rm", "-t", "--name", new_name (), IMAGE, "sh", "-c",
       "test -t 0 && test -t 1 && echo tty-yes; tty");
  EXPECT_STATUS (&r, 0);
  /* A pty turns \n into \r\n. */
  cr_assert (strstr (r.out, "tty-yes\r\n") != NULL, "run -t: %s / %s", r.out, r.err);
  cr_assert (strstr (r.out, "/dev/pts/") != NULL, "run -t: %s", r.out);
  c_result_free (&r);
}

Test (podman, network_none)
{
  struct c_result r;
  RUN (&r, "--rm", "--network", "none", "--name", new_name (), IMAGE, "sh", "-c",
       "cat /proc/net/dev; readlink /proc/self/ns/net");
  EXPECT_STATUS (&r, 0);
  cr_assert (strstr (r.out, " lo:") != NULL, "no loopback: %s", r.out);
  /* Only lo: header (2 lines) + lo + the ns link. */
  int lines = 0;
  for (const char *p = r.out; *p; p++)
    lines += *p == '\n';
  cr_assert_eq (lines, 4, "interfaces besides lo: %s", r.out);
  char host[64] = "";
  ssize_t n = readlink ("/proc/self/ns/net", host, sizeof host - 1);
  cr_assert (n > 0);
  host[n] = '\0';
  cr_assert (strstr (r.out, host) == NULL, "container shares the host netns %s", host);
  c_result_free (&r);
}

Test (podman, read_only_rootfs)
{
  struct c_result r;
  RUN (&r, "--rm", "--read-only", "--name", new_name (), IMAGE, "sh", "-c",
       "if touch /probe 2>/dev/null; then echo rw; else echo ro; fi; touch /tmp/ok && echo tmp-ok");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "ro\ntmp-ok\n");
  c_result_free (&r);
  /* and without --read-only the same probe writes */
  RUN (&r, "--rm", "--name", new_name (), IMAGE, "sh", "-c",
       "if touch /probe 2>/dev/null; then echo rw; else echo ro; fi");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "rw\n");
  c_result_free (&r);
}

Test (podman, cgroups_disabled)
{
  /* podman passes `--cgroup-manager disabled` (airlock is listed in
     runtime_supports_nocgroup) and sets no cgroupsPath. */
  struct c_result r;
  const char *argv[] = { "podman", "--runtime", c_airlock (), "run", "--rm", "--cgroups", "disabled",
                         "--name", new_name (), IMAGE, "echo", "no-cgroup", NULL };
  c_run (&r, NULL, 120, -1, argv);
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "no-cgroup\n");
  c_result_free (&r);
}

Test (podman, preserve_fds)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/fd3-%d", getenv ("AL_CLIENTS_DIR"), (int) getpid ());
  FILE *f = fopen (path, "w");
  cr_assert (f != NULL);
  fputs ("passed-through\n", f);
  fclose (f);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  cr_assert (fd >= 0);
  struct c_result r;
  podman_in (&r, fd,
             (const char *[]) { "run", "--cgroup-parent", getenv ("AL_CLIENTS_CGPARENT"), "--rm",
                                "--preserve-fds", "1", "--name", new_name (), IMAGE, "cat",
                                "/proc/self/fd/3", NULL });
  close (fd);
  unlink (path);
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "passed-through\n");
  c_result_free (&r);
}

static void
assert_freezer (const char *id, const char *want)
{
  char path[512], state[64] = "";
  snprintf (path, sizeof path, "/sys/fs/cgroup/freezer%s/libpod-%s/freezer.state",
            getenv ("AL_CLIENTS_CGPARENT"), id);
  FILE *f = fopen (path, "r");
  cr_assert (f != NULL, "no freezer cgroup %s", path);
  cr_assert_eq (fscanf (f, "%63s", state), 1);
  fclose (f);
  cr_assert_str_eq (state, want, "%s", path);
}

Test (podman, pause_unpause)
{
  struct c_result r;
  const char *name = new_name ();
  RUN (&r, "-d", "--name", name, IMAGE, "sleep", "100");
  EXPECT_STATUS (&r, 0);
  char id[128];
  snprintf (id, sizeof id, "%.64s", r.out);
  c_result_free (&r);
  PODMAN (&r, "pause", name);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  PODMAN (&r, "inspect", "--format", "{{.State.Status}}", name);
  cr_assert_str_eq (r.out, "paused\n");
  c_result_free (&r);
  assert_freezer (id, "FROZEN");
  PODMAN (&r, "unpause", name);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  assert_freezer (id, "THAWED");
  PODMAN (&r, "exec", name, "echo", "after-unpause");
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "after-unpause\n");
  c_result_free (&r);
}

Test (podman, update_memory)
{
  /* podman update -> `airlock update --resources=FILE ID`; the limit shows
     in the container's memory cgroup. */
  struct c_result r;
  const char *name = new_name ();
  RUN (&r, "-d", "--name", name, "--memory", "128m", IMAGE, "sleep", "100");
  EXPECT_STATUS (&r, 0);
  char id[128];
  snprintf (id, sizeof id, "%.64s", r.out);
  c_result_free (&r);
  PODMAN (&r, "update", "--memory", "64m", name);
  EXPECT_STATUS (&r, 0);
  c_result_free (&r);
  char path[512];
  snprintf (path, sizeof path, "/sys/fs/cgroup/memory%s/libpod-%s/memory.limit_in_bytes",
            getenv ("AL_CLIENTS_CGPARENT"), id);
  FILE *f = fopen (path, "r");
  cr_assert (f != NULL, "no memory cgroup %s", path);
  long long limit = 0;
  cr_assert_eq (fscanf (f, "%lld", &limit), 1);
  fclose (f);
  cr_assert_eq (limit, 64LL << 20, "memory.limit_in_bytes %lld", limit);
}

/* A runtime named "airlock" (so podman still passes the JSON log flags)
 * that appends its argv to log and runs $AIRLOCK. */
static void
make_logging_runtime (char *path, size_t size, char *log, size_t logsize)
{
  const char *dir = getenv ("AL_CLIENTS_DIR");
  char bindir[2048];
  snprintf (bindir, sizeof bindir, "%s/logbin-%d", dir, (int) getpid ());
  mkdir (bindir, 0755);
  snprintf (path, size, "%s/airlock", bindir);
  snprintf (log, logsize, "%s/argv.log", bindir);
  FILE *f = fopen (path, "w");
  cr_assert (f != NULL);
  fprintf (f, "#!/bin/sh\necho \"$*\" >> '%s'\nexec '%s' \"$@\"\n", log, c_airlock ());
  fclose (f);
  chmod (path, 0755);
}

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return strdup ("");
  char *buf = calloc (1, 1 << 16);
  fread (buf, 1, (1 << 16) - 1, f);
  fclose (f);
  return buf;
}

Test (podman, no_pivot_and_no_new_keyring)
{
  /* A second containers.conf with no_pivot_root and keyring = false makes
     podman pass --no-pivot and --no-new-keyring to create. */
  char conf[4096], alt[4096];
  const char *dir = getenv ("AL_CLIENTS_DIR");
  snprintf (conf, sizeof conf, "%s/containers.conf", dir);
  snprintf (alt, sizeof alt, "%s/containers-nopivot-%d.conf", dir, (int) getpid ());
  FILE *in = fopen (conf, "r"), *out = fopen (alt, "w");
  cr_assert (in && out);
  char line[4096];
  while (fgets (line, sizeof line, in))
    {
      fputs (line, out);
      if (strcmp (line, "[containers]\n") == 0)
        fputs ("keyring = false\n", out);
      if (strcmp (line, "[engine]\n") == 0)
        fputs ("no_pivot_root = true\n", out);
    }
  fclose (in);
  fclose (out);
  char runtime[4096], log[4096];
  make_logging_runtime (runtime, sizeof runtime, log, sizeof log);
  char env[4200];
  snprintf (env, sizeof env, "CONTAINERS_CONF=%s", alt);
  struct c_result r;
  const char *argv[] = { "env", env, "podman", "--runtime", runtime, "run", "--rm",
                         "--cgroup-parent", getenv ("AL_CLIENTS_CGPARENT"), "--name", new_name (),
                         IMAGE, "sh", "-c", "echo done", NULL };
  c_run (&r, NULL, 120, -1, argv);
  unlink (alt);
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "done\n");
  c_result_free (&r);
  char *calls = slurp (log);
  char *create = strstr (calls, " create ");
  cr_assert (create != NULL, "no create call: %s", calls);
  char *eol = strchr (create, '\n');
  if (eol)
    *eol = '\0';
  cr_assert (strstr (create, "--no-pivot") && strstr (create, "--no-new-keyring"),
             "create without --no-pivot/--no-new-keyring: %s", create);
  cr_assert (strstr (calls, "--log-format=json") != NULL, "no JSON log flags: %s", calls);
  free (calls);
}

/* podman with contrib/podman/containers.conf as shipped (setup-env.sh only
 * fills in $AIRLOCK and the temp dir's storage paths): `--runtime airlock`
 * resolves through [engine.runtimes], and `--cgroups disabled` works only
 * if runtime_supports_nocgroup names airlock. */
static int
podman_contrib (struct c_result *r, const char *const *args)
{
  char env[4200];
  snprintf (env, sizeof env, "CONTAINERS_CONF=%s/containers-contrib.conf", getenv ("AL_CLIENTS_DIR"));
  const char *argv[64] = { "env", env, "podman", "--runtime", "airlock" };
  size_t n = 5;
  for (size_t i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return c_run (r, NULL, 120, -1, argv);
}

Test (podman, contrib_containers_conf)
{
  struct c_result r;
  podman_contrib (&r, (const char *[]) { "info", "--format", "{{.Host.OCIRuntime.Path}}", NULL });
  EXPECT_STATUS (&r, 0);
  char want[4200];
  snprintf (want, sizeof want, "%s\n", c_airlock ());
  cr_assert_str_eq (r.out, want);
  c_result_free (&r);

  podman_contrib (&r, (const char *[]) { "run", "--rm", "--cgroup-parent", getenv ("AL_CLIENTS_CGPARENT"),
                                         "--name", new_name (), IMAGE, "sh", "-c",
                                         "echo contrib; ulimit -n", NULL });
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "contrib\n20000\n");
  c_result_free (&r);

  podman_contrib (&r, (const char *[]) { "run", "--rm", "--cgroups", "disabled", "--name", new_name (),
                                         IMAGE, "echo", "contrib-nocgroup", NULL });
  EXPECT_STATUS (&r, 0);
  cr_assert_str_eq (r.out, "contrib-nocgroup\n");
  c_result_free (&r);
}
