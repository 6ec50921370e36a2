/* test_named.c — named sandboxes end to end, through the built binary:
 * create, exec (changes persist, owners too), snapshot / rollback / diff /
 * commit / clone / destroy, list and inspect, expiry and gc, the audit
 * log, a rollback while an exec runs, `sandbox run --rollback` and
 * `--commit-to`, `create --init` (execs join it; operations restart it; a
 * killed keeper; an init that cannot start) and bad input (exit 125, the
 * sandbox as it was).
 *
 * The default root (the host's system directories) and, for commits, a
 * busybox image directory.  The backend is the store's default: overlay
 * here (/tmp is ext4); tests/unit/test_snapshot*.c cover both backends
 * file by file.
 *
 * Run from the build directory as root: ./tests/integration/test_named
 */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define FAIL 125

static struct h_bundle sb;

static void
init (void)
{
  memset (&sb, 0, sizeof sb);
  char tmpl[] = "/tmp/al-named-test-XXXXXX";
  cr_assert_not_null (mkdtemp (tmpl), "mkdtemp: %s", strerror (errno));
  chmod (tmpl, 0755);
  snprintf (sb.dir, sizeof sb.dir, "%s", tmpl);
  snprintf (sb.root, sizeof sb.root, "%s/state", tmpl);
}

static void
fini (void)
{
  if (sb.dir[0] == '\0')
    return;
  /* Destroy what a failed test left, then everything else. */
  struct h_result r;
  char dir[PATH_MAX + 16];
  snprintf (dir, sizeof dir, "%s/~named", sb.root);
  DIR *d = opendir (dir);
  for (struct dirent *e; d && (e = readdir (d)) != NULL;)
    if (e->d_name[0] != '.' && strcmp (e->d_name, "audit.log") != 0)
      {
        h_airlock (&r, &sb, NULL, 60, ARGS ("sandbox", "destroy", e->d_name));
        h_result_free (&r);
      }
  if (d)
    closedir (d);
  h_airlock (&r, &sb, NULL, 60, ARGS ("sandbox", "gc"));
  h_result_free (&r);
  h_remove_tree (sb.dir);
  rmdir (sb.dir);
}

TestSuite (named, .init = init, .fini = fini);

/* airlock --root ROOT sandbox ARGS...; asserts the exit status. */
static void
sbx (struct h_result *r, int want, const char *const *args)
{
  const char *argv[64] = { "sandbox" };
  size_t n = 1;
  for (; args[n - 1] && n < 63; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  h_airlock (r, &sb, NULL, 120, argv);
  if (want >= 0)
    cr_assert_eq (r->status, want, "sandbox %s %s: exit %d, expected %d\nstdout: %s\nstderr: %s",
                  args[0], args[1] ? args[1] : "", r->status, want, r->out, r->err);
}

/* The stdout of `sandbox exec NAME -- sh -c SCRIPT`, which must exit 0. */
static char *
sh (const char *name, const char *script)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("exec", name, "--", "/bin/sh", "-c", script));
  free (r.err);
  return r.out;
}

static void
expect_sh (const char *name, const char *script, const char *want)
{
  char *out = sh (name, script);
  cr_assert_str_eq (out, want, "`%s` in %s", script, name);
  free (out);
}

static void
create (const char *name)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", name));
  h_result_free (&r);
}

static bool
named_dir_exists (const char *name)
{
  char path[PATH_MAX + 80];
  struct stat st;
  snprintf (path, sizeof path, "%s/~named/%s", sb.root, name);
  return stat (path, &st) == 0;
}

Test (named, exec_changes_persist_with_their_owners)
{
  struct h_result cr;
  sbx (&cr, 0, ARGS ("create", "keep", "--cap-add", "CHOWN")); /* kept for every exec */
  h_result_free (&cr);
  /* / is the sandbox's (the host's system directories stay read-only). */
  char *out = sh ("keep", "echo one > /airlock-named && mkdir -p /work && touch /work/f && "
                          "chown 1000:1000 /work/f && echo ok");
  cr_assert_str_eq (out, "ok\n");
  free (out);
  /* A second exec sees them, owned by the same ids inside. */
  expect_sh ("keep", "cat /airlock-named; stat -c %u:%g /airlock-named /work/f",
             "one\n0:0\n1000:1000\n");
  /* The host's / is untouched. */
  struct stat st;
  cr_assert_neq (stat ("/airlock-named", &st), 0, "the write reached the host's /");
  /* And a fresh /tmp each time. */
  out = sh ("keep", "echo x > /tmp/t; echo ok");
  free (out);
  expect_sh ("keep", "ls /tmp | wc -l", "0\n");
}

Test (named, snapshot_rollback_round_trip)
{
  create ("rt");
  char *out = sh ("rt", "mkdir /d && echo a > /d/a && echo c > /d/c && ln -s a /d/link && "
                        "ln /d/a /d/hard && chmod 750 /d/c && mkdir -p /e/sub && echo e > /e/sub/f && echo ok");
  free (out);
  struct h_result r;
  sbx (&r, 0, ARGS ("snapshot", "rt", "t1"));
  cr_assert_str_eq (r.out, "t1\n");
  h_result_free (&r);
  const char *state = "cat /d/a; stat -c '%a %h' /d/c /d/a; readlink /d/link; echo $(ls /d)";
  char *before = sh ("rt", state);
  cr_assert_str_eq (before, "a\n750 1\n644 2\na\na c hard link\n");

  /* Change, add, delete, replace a directory; then back to t1. */
  out = sh ("rt", "echo changed > /d/a && echo b > /d/b && rm /d/c /d/link && chmod 700 /d && "
                  "rm -rf /e && mkdir /e && echo n > /e/n && echo ok");
  free (out);
  sbx (&r, 0, ARGS ("diff", "rt"));
  cr_assert (strstr (r.out, "M /d/a\n"), "diff: %s", r.out);
  cr_assert (strstr (r.out, "A /d/b\n"), "diff: %s", r.out);
  cr_assert (strstr (r.out, "D /d/c\n"), "diff: %s", r.out);
  cr_assert (strstr (r.out, "D /e/sub\n") || strstr (r.out, "M /e\n"), "diff: %s", r.out);
  h_result_free (&r);
  sbx (&r, 0, ARGS ("rollback", "rt", "t1"));
  h_result_free (&r);
  char *after = sh ("rt", state);
  cr_assert_str_eq (after, before);
  expect_sh ("rt", "stat -c %a /d; test -e /d/b || echo no-b; echo $(find /e)",
             "755\nno-b\n/e /e/sub /e/sub/f\n");
  free (before);
  free (after);

  /* Rollback without a tag: the latest; --to-base: nothing of it. */
  out = sh ("rt", "echo again > /d/a; echo ok");
  free (out);
  sbx (&r, 0, ARGS ("rollback", "rt"));
  h_result_free (&r);
  expect_sh ("rt", "cat /d/a", "a\n");
  sbx (&r, 0, ARGS ("rollback", "rt", "--to-base"));
  h_result_free (&r);
  expect_sh ("rt", "test -e /d || echo gone", "gone\n");
  sbx (&r, 0, ARGS ("inspect", "rt"));
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert_not_null (j, "inspect: %s", r.out);
  cr_assert_eq (json_array_size (json_object_get (j, "snapshots")), 0, "%s", r.out);
  json_decref (j);
  h_result_free (&r);
}

Test (named, rollback_to_a_middle_tag_drops_later_ones)
{
  create ("mid");
  free (sh ("mid", "echo 1 > /v"));
  struct h_result r;
  sbx (&r, 0, ARGS ("snapshot", "mid", "one"));
  h_result_free (&r);
  free (sh ("mid", "echo 2 > /v"));
  sbx (&r, 0, ARGS ("snapshot", "mid"));
  cr_assert_str_neq (r.out, "\n", "an untagged snapshot gets a name");
  h_result_free (&r);
  free (sh ("mid", "echo 3 > /v"));
  sbx (&r, 0, ARGS ("rollback", "mid", "one"));
  h_result_free (&r);
  expect_sh ("mid", "cat /v", "1\n");
  sbx (&r, 0, ARGS ("inspect", "mid"));
  json_t *j = json_loads (r.out, 0, NULL);
  json_t *snaps = json_object_get (j, "snapshots");
  cr_assert_eq (json_array_size (snaps), 1, "%s", r.out);
  cr_assert_str_eq (json_string_value (json_object_get (json_array_get (snaps, 0), "tag")), "one");
  json_decref (j);
  h_result_free (&r);
}

Test (named, clone_is_independent)
{
  create ("src");
  free (sh ("src", "echo base > /f"));
  struct h_result r;
  sbx (&r, 0, ARGS ("clone", "src", "copy"));
  h_result_free (&r);
  expect_sh ("copy", "cat /f", "base\n");
  free (sh ("copy", "echo copy > /f; echo new > /only-copy"));
  expect_sh ("src", "cat /f; test -e /only-copy || echo none", "base\nnone\n");
  free (sh ("src", "echo src > /f"));
  expect_sh ("copy", "cat /f", "copy\n");
  sbx (&r, 0, ARGS ("destroy", "src"));
  h_result_free (&r);
  /* The clone outlives its source, ids and all. */
  expect_sh ("copy", "cat /f; stat -c %u /f", "copy\n0\n");
}

Test (named, commit_to_a_directory)
{
  struct h_bundle bb;
  h_bundle_init (&bb, NULL);
  char rootfs[PATH_MAX + 16], out_dir[PATH_MAX + 16];
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", bb.dir);
  snprintf (out_dir, sizeof out_dir, "%s/committed", sb.dir);
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "img", "--rootfs", rootfs));
  h_result_free (&r);
  /* The sandbox's root owns / (not the image's own directories, which
     belong to the host's root): it adds a tree, and deletes one it made
     in an earlier snapshot. */
  free (sh ("img", "mkdir -p /opt/app /opt/old && echo 1 > /opt/old/f && echo ok"));
  sbx (&r, 0, ARGS ("snapshot", "img"));
  h_result_free (&r);
  free (sh ("img", "echo patched > /opt/app/patch && rm -r /opt/old && echo ok"));
  sbx (&r, 0, ARGS ("commit", "img", "--to", out_dir));
  h_result_free (&r);
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/opt/app/patch", out_dir);
  char *text = h_read_file (path);
  cr_assert_str_eq (text ? text : "(none)", "patched\n");
  free (text);
  struct stat st;
  snprintf (path, sizeof path, "%s/opt/old", out_dir);
  cr_assert_neq (lstat (path, &st), 0, "a deleted tree came back in the commit");
  snprintf (path, sizeof path, "%s/bin/sh", out_dir);
  cr_assert_eq (lstat (path, &st), 0, "the base is not in the commit");
  /* The image itself is untouched. */
  snprintf (path, sizeof path, "%s/opt", rootfs);
  cr_assert_neq (stat (path, &st), 0, "commit wrote into the base image");
  h_bundle_fini (&bb);
}

/* With the host's system directories as base, a commit holds the
 * sandbox's own files, not a copy of the host's /usr. */
Test (named, commit_with_the_host_base)
{
  create ("host");
  free (sh ("host", "mkdir /proj && echo x > /proj/f && echo ok"));
  char out_dir[PATH_MAX + 16], path[PATH_MAX + 64];
  snprintf (out_dir, sizeof out_dir, "%s/out", sb.dir);
  struct h_result r;
  sbx (&r, 0, ARGS ("commit", "host", "--to", out_dir));
  h_result_free (&r);
  snprintf (path, sizeof path, "%s/proj/f", out_dir);
  char *text = h_read_file (path);
  cr_assert_str_eq (text ? text : "(none)", "x\n");
  free (text);
  snprintf (path, sizeof path, "%s/usr", out_dir);
  DIR *d = opendir (path);
  cr_assert_not_null (d, "no /usr mount point in the commit");
  int n = 0;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir (d);
  cr_assert_eq (n, 0, "the host's /usr was copied into the commit");
  /* Again, into the existing directory: it gets what changed. */
  free (sh ("host", "echo y > /proj/g && rm /proj/f && echo ok"));
  sbx (&r, 0, ARGS ("commit", "host", "--to", out_dir));
  h_result_free (&r);
  snprintf (path, sizeof path, "%s/proj/g", out_dir);
  text = h_read_file (path);
  cr_assert_str_eq (text ? text : "(none)", "y\n");
  free (text);
  struct stat st;
  snprintf (path, sizeof path, "%s/proj/f", out_dir);
  cr_assert_neq (lstat (path, &st), 0, "a deleted file stayed in the commit");
}

/* --commit-to: a transaction.  A failing run leaves DIR exactly as it
 * was; a passing one folds its changes in. */
Test (named, run_commit_to_is_a_transaction)
{
  struct h_bundle bb;
  h_bundle_init (&bb, NULL);
  char img[PATH_MAX + 16], path[PATH_MAX + 64];
  snprintf (img, sizeof img, "%s/rootfs", bb.dir);
  struct h_result r;
  /* The sandbox's root owns / (the image's own directories belong to the
     host's root): it adds /result and deletes /old. */
  snprintf (path, sizeof path, "%s/old", img);
  h_write_file (path, "old\n");
  sbx (&r, 1, ARGS ("run", "--rootfs", img, "--commit-to", img, "--", "/bin/sh", "-c",
                    "echo broken > /result; rm -f /old; exit 1"));
  h_result_free (&r);
  snprintf (path, sizeof path, "%s/result", img);
  struct stat st;
  cr_assert_neq (stat (path, &st), 0, "a failed run changed the image");
  snprintf (path, sizeof path, "%s/old", img);
  cr_assert_eq (lstat (path, &st), 0, "a failed run changed the image");

  sbx (&r, 0, ARGS ("run", "--rootfs", img, "--commit-to", img, "--", "/bin/sh", "-c",
                    "echo built > /result; rm -f /old"));
  h_result_free (&r);
  snprintf (path, sizeof path, "%s/result", img);
  char *text = h_read_file (path);
  cr_assert_str_eq (text ? text : "(none)", "built\n");
  free (text);
  snprintf (path, sizeof path, "%s/old", img);
  cr_assert_neq (lstat (path, &st), 0, "the deletion was not committed");
  snprintf (path, sizeof path, "%s/bin/sh", img);
  cr_assert_eq (lstat (path, &st), 0, "the commit lost the image's own files");
  /* Nothing kept: no named sandbox of the run. */
  sbx (&r, 0, ARGS ("list", "--format", "json"));
  cr_assert_str_eq (r.out, "[]\n");
  h_result_free (&r);
  h_bundle_fini (&bb);
}

Test (named, run_rollback_policies)
{
  struct h_result r;
  /* on-failure: a failure leaves nothing. */
  sbx (&r, 3, ARGS ("run", "--rollback", "on-failure", "--", "/bin/sh", "-c", "echo x > /f; exit 3"));
  cr_assert_null (strstr (r.err, "kept"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, 0, ARGS ("list", "--format", "json"));
  cr_assert_str_eq (r.out, "[]\n");
  h_result_free (&r);
  /* on-failure and exit 0: kept, as a named sandbox. */
  sbx (&r, 0, ARGS ("run", "--rollback", "on-failure", "--", "/bin/sh", "-c", "echo kept > /f"));
  char name[64] = "";
  const char *k = strstr (r.err, "kept in sandbox `");
  cr_assert_not_null (k, "%s", r.err);
  sscanf (k + strlen ("kept in sandbox `"), "%63[^`]", name);
  h_result_free (&r);
  expect_sh (name, "cat /f", "kept\n");
  /* never: kept whatever the status. */
  sbx (&r, 4, ARGS ("run", "--rollback", "never", "--", "/bin/sh", "-c", "exit 4"));
  cr_assert_not_null (strstr (r.err, "kept in sandbox `run-"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, 0, ARGS ("list", "--format", "json"));
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert_eq (json_array_size (j), 2, "%s", r.out);
  json_decref (j);
  h_result_free (&r);
}

Test (named, list_inspect_and_audit)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "l1", "--owner", "ci", "--label", "job=42", "--memory", "256M"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("list"));
  cr_assert (strstr (r.out, "NAME") && strstr (r.out, "l1") && strstr (r.out, "ci"), "%s", r.out);
  h_result_free (&r);
  sbx (&r, 0, ARGS ("list", "--format", "json"));
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert_eq (json_array_size (j), 1, "%s", r.out);
  json_t *e = json_array_get (j, 0);
  cr_assert_str_eq (json_string_value (json_object_get (e, "name")), "l1");
  cr_assert_str_eq (json_string_value (json_object_get (e, "owner")), "ci");
  cr_assert_str_eq (json_string_value (json_object_get (e, "status")), "idle");
  cr_assert_str_eq (json_string_value (json_object_get (e, "backend")), "overlay");
  cr_assert_str_eq (json_string_value (json_object_get (json_object_get (e, "labels"), "job")),
                    "42");
  json_decref (j);
  h_result_free (&r);
  /* The exec starts from the options it was created with. */
  sbx (&r, 0, ARGS ("exec", "l1", "--result", "-", "--", "/bin/true"));
  j = json_loads (r.out, 0, NULL);
  cr_assert_not_null (j, "%s", r.out);
  cr_assert_eq (json_integer_value (json_object_get (json_object_get (j, "limits"), "memory")),
                256 << 20, "%s", r.out);
  json_decref (j);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("snapshot", "l1", "a/b"));
  h_result_free (&r);

  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/~named/audit.log", sb.root);
  char *log = h_read_file (path);
  cr_assert_not_null (log);
  const char *ops[] = { "create", "exec", "snapshot" };
  for (size_t i = 0; i < 3; i++)
    {
      char want[64];
      snprintf (want, sizeof want, "\"op\":\"%s\"", ops[i]);
      cr_assert (strstr (log, want), "no %s in the audit log:\n%s", ops[i], log);
    }
  cr_assert (strstr (log, "\"result\":\"error\""), "the failed snapshot is not audited:\n%s", log);
  for (char *line = log; *line;)
    {
      char *nl = strchr (line, '\n');
      cr_assert_not_null (nl, "unterminated audit line: %s", line);
      *nl = '\0';
      json_t *l = json_loads (line, 0, NULL);
      cr_assert (l && json_object_get (l, "time") && json_object_get (l, "user"), "%s", line);
      json_decref (l);
      line = nl + 1;
    }
  free (log);
}

Test (named, expiry_and_gc)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "short", "--expire", "1s"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("create", "long"));
  h_result_free (&r);
  free (sh ("short", "echo x > /f"));
  usleep (1200 * 1000);
  sbx (&r, 0, ARGS ("gc"));
  cr_assert_str_eq (r.out, "removed 1\n", "%s", r.err);
  h_result_free (&r);
  cr_assert_not (named_dir_exists ("short"), "gc left the expired sandbox");
  cr_assert (named_dir_exists ("long"), "gc destroyed a sandbox that has not expired");
  sbx (&r, FAIL, ARGS ("exec", "short", "--", "/bin/true"));
  cr_assert (strstr (r.err, "no sandbox `short`"), "%s", r.err);
  h_result_free (&r);
}

/* A rollback while an exec runs stops it (SG, 137), then rolls back. */
Test (named, rollback_stops_a_running_exec)
{
  create ("busy");
  free (sh ("busy", "echo 1 > /v"));
  struct h_result r;
  sbx (&r, 0, ARGS ("snapshot", "busy", "s"));
  h_result_free (&r);
  char script[] = "echo 2 > /v; exec sleep 60";
  pid_t child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      struct h_result cr;
      h_airlock (&cr, &sb, NULL, 90,
                 ARGS ("sandbox", "exec", "busy", "--timeout", "80s", "--", "/bin/sh", "-c", script));
      _exit (cr.status == 128 + SIGKILL ? 0 : 1);
    }
  /* Wait until it runs. */
  for (int i = 0; i < 200; i++)
    {
      sbx (&r, 0, ARGS ("inspect", "busy"));
      bool running = strstr (r.out, "\"running\"") != NULL;
      h_result_free (&r);
      if (running)
        break;
      usleep (50 * 1000);
    }
  usleep (300 * 1000);
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  sbx (&r, 0, ARGS ("rollback", "busy"));
  h_result_free (&r);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  int st;
  cr_assert_eq (waitpid (child, &st, 0), child);
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0, "the exec did not end with SIGKILL");
  cr_assert_lt (t1.tv_sec - t0.tv_sec, 30, "the rollback waited for the exec to end by itself");
  expect_sh ("busy", "cat /v", "1\n");
}

Test (named, bad_input)
{
  struct h_result r;
  sbx (&r, FAIL, ARGS ("exec", "nope", "--", "/bin/true"));
  cr_assert (strstr (r.err, "no sandbox `nope`"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("create", "../x"));
  cr_assert (strstr (r.err, "sandbox name"), "%s", r.err);
  h_result_free (&r);
  create ("b1");
  sbx (&r, FAIL, ARGS ("create", "b1"));
  cr_assert (strstr (r.err, "sandbox `b1` already exists"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("rollback", "b1"));
  cr_assert (strstr (r.err, "b1"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("rollback", "b1", "nosuch"));
  cr_assert (strstr (r.err, "nosuch"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("snapshot", "b1", ".."));
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("snapshot", "b1", "a/b"));
  cr_assert (strstr (r.err, "a/b"), "%s", r.err);
  h_result_free (&r);
  free (sh ("b1", "echo v > /v"));
  sbx (&r, 0, ARGS ("snapshot", "b1", "v1"));
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("snapshot", "b1", "v1"));
  cr_assert (strstr (r.err, "v1"), "%s", r.err);
  h_result_free (&r);
  /* The sandbox is as it was. */
  expect_sh ("b1", "cat /v", "v\n");
  /* btrfs on a store that is not on btrfs: nothing is left. */
  sbx (&r, FAIL, ARGS ("create", "bt", "--backend", "btrfs"));
  cr_assert (strstr (r.err, "btrfs"), "%s", r.err);
  h_result_free (&r);
  cr_assert_not (named_dir_exists ("bt"), "a failed create left its directory");
  sbx (&r, FAIL, ARGS ("create", "bad", "--memory", "12XB"));
  h_result_free (&r);
  cr_assert_not (named_dir_exists ("bad"));
  sbx (&r, FAIL, ARGS ("commit", "b1"));
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("frobnicate", "b1"));
  h_result_free (&r);
}

/* airlock SIGKILLed in the middle of a commit: DIR is absent or whole,
 * nothing is left beside it once the next command (here gc) has run, and
 * the sandbox still works.  (Kills at each step of snapshot, rollback,
 * delete and commit are injected in tests/unit/test_snapshot.c.) */
Test (named, sigkill_during_commit)
{
  create ("big");
  free (sh ("big", "mkdir /data && cd /data && i=0; while [ $i -lt 3000 ]; do "
                   "echo $i > f$i; i=$((i+1)); done; echo ok"));
  char out_dir[PATH_MAX + 16];
  snprintf (out_dir, sizeof out_dir, "%s/out", sb.dir);
  for (int delay_ms = 20; delay_ms <= 320; delay_ms *= 2)
    {
      pid_t child = fork ();
      cr_assert_geq (child, 0);
      if (child == 0)
        {
          char root_opt[PATH_MAX + 16];
          snprintf (root_opt, sizeof root_opt, "%s", sb.root);
          execl (h_airlock_path (), "airlock", "--root", root_opt, "sandbox", "commit", "big",
                 "--to", out_dir, (char *) NULL);
          _exit (127);
        }
      usleep ((useconds_t) delay_ms * 1000);
      kill (child, SIGKILL); /* our own child, by its pid */
      int st;
      waitpid (child, &st, 0);
      /* Its commit's view process dies of PDEATHSIG a moment later (on a
       * slow machine, a while): until then it holds the sandbox's lock,
       * and gc leaves a sandbox in use alone.  The next command is the
       * one after it is gone. */
      char lock_path[PATH_MAX + 32];
      snprintf (lock_path, sizeof lock_path, "%s/~named/big/lock", sb.root);
      int lfd = open (lock_path, O_RDWR | O_CLOEXEC);
      cr_assert_geq (lfd, 0, "%s: %s", lock_path, strerror (errno));
      bool free_now = false;
      for (int i = 0; i < 200 && !(free_now = flock (lfd, LOCK_EX | LOCK_NB) == 0); i++)
        usleep (50 * 1000);
      close (lfd);
      cr_assert (free_now, "the killed commit's processes still hold the sandbox after 10 s");
      struct h_result r;
      sbx (&r, 0, ARGS ("gc"));
      h_result_free (&r);
      /* Nothing half-made beside DIR. */
      DIR *d = opendir (sb.dir);
      for (struct dirent *e; d && (e = readdir (d)) != NULL;)
        cr_assert (strncmp (e->d_name, "out", 3) != 0 || strcmp (e->d_name, "out") == 0,
                   "left beside DIR after a kill at %d ms: %s", delay_ms, e->d_name);
      if (d)
        closedir (d);
      /* DIR, if there, is whole. */
      char path[PATH_MAX + 64];
      snprintf (path, sizeof path, "%s/data", out_dir);
      d = opendir (path);
      if (d)
        {
          int n = 0;
          for (struct dirent *e; (e = readdir (d)) != NULL;)
            n += e->d_name[0] != '.';
          closedir (d);
          cr_assert_eq (n, 3000, "a partial commit after a kill at %d ms: %d files", delay_ms, n);
          h_remove_tree (out_dir);
          rmdir (out_dir);
        }
      else
        {
          struct stat st2;
          cr_assert_neq (stat (out_dir, &st2), 0, "DIR without its data after a kill at %d ms",
                         delay_ms);
        }
      expect_sh ("big", "ls /data | wc -l", "3000\n");
    }
}

/* A sandbox's ids stay reserved while it (or a clone) lives; deleted by
 * hand, any gc frees them. */
Test (named, id_range_reservation)
{
  create ("r1");
  struct h_result r;
  sbx (&r, 0, ARGS ("inspect", "r1"));
  json_t *j = json_loads (r.out, 0, NULL);
  int slot = (int) json_integer_value (json_object_get (j, "slot"));
  json_decref (j);
  h_result_free (&r);
  char slot_path[64];
  snprintf (slot_path, sizeof slot_path, "/run/airlock/~slots/%d", slot);
  char *lease = h_read_file (slot_path);
  cr_assert (lease && strncmp (lease, "reserved /", 10) == 0, "slot %d: %s", slot, lease);
  free (lease);
  /* A clone outlives its source: the reservation moves to it. */
  sbx (&r, 0, ARGS ("clone", "r1", "r2"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("destroy", "r1"));
  h_result_free (&r);
  lease = h_read_file (slot_path);
  cr_assert (lease && strstr (lease, "/~named/r2\n"), "slot %d after destroying r1: %s", slot,
             lease ? lease : "");
  free (lease);
  sbx (&r, 0, ARGS ("gc"));
  h_result_free (&r);
  lease = h_read_file (slot_path);
  cr_assert (lease && strstr (lease, "/~named/r2\n"), "gc freed the ids of a live sandbox");
  free (lease);
  /* Its directory deleted by hand: the next gc frees the range, whatever
     its --root (here one that does not exist). */
  char dir[PATH_MAX + 32];
  snprintf (dir, sizeof dir, "%s/~named/r2", sb.root);
  h_remove_tree (dir);
  rmdir (dir);
  struct h_bundle nowhere = sb;
  int len = snprintf (nowhere.root, sizeof nowhere.root, "%s/no-such-root", sb.dir);
  cr_assert (len > 0 && (size_t) len < sizeof nowhere.root);
  h_airlock (&r, &nowhere, NULL, 60, ARGS ("sandbox", "gc"));
  cr_assert_eq (r.status, 0, "gc --root %s: %s", nowhere.root, r.err);
  h_result_free (&r);
  lease = h_read_file (slot_path);
  cr_assert (lease && lease[0] == '\0', "slot %d still reserved: %s", slot, lease ? lease : "");
  free (lease);
}

/* The same commands on a state directory on btrfs: the store picks the
 * btrfs backend by itself (a loop-mounted image, in this test's own mount
 * namespace, so it goes with the test). */
Test (named, btrfs_backend_end_to_end)
{
  if (access ("/usr/sbin/mkfs.btrfs", X_OK) != 0 && access ("/sbin/mkfs.btrfs", X_OK) != 0)
    cr_skip_test ("mkfs.btrfs is not installed (btrfs-progs)");
  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  char img[PATH_MAX / 2], mnt[PATH_MAX / 2], cmd[3 * PATH_MAX];
  cr_assert_lt (strlen (sb.dir), sizeof img - 16);
  snprintf (img, sizeof img, "%.*s/btrfs.img", (int) (sizeof img - 16), sb.dir);
  snprintf (mnt, sizeof mnt, "%.*s/bt", (int) (sizeof mnt - 16), sb.dir);
  cr_assert_eq (mkdir (mnt, 0755), 0);
  int n = snprintf (cmd, sizeof cmd,
                    "truncate -s 512M %s && mkfs.btrfs -q %s >/dev/null && mount -o loop %s %s",
                    img, img, img, mnt);
  cr_assert (n > 0 && (size_t) n < sizeof cmd);
  int st = system (cmd);
  if (WIFEXITED (st) && WEXITSTATUS (st) != 0 && access ("/sys/module/btrfs", F_OK) != 0
      && access ("/proc/filesystems", R_OK) == 0)
    {
      char *fs = h_read_file ("/proc/filesystems");
      bool has = fs && strstr (fs, "btrfs");
      free (fs);
      if (!has)
        cr_skip_test ("this kernel has no btrfs");
    }
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0, "%s: status %d", cmd, st);
  n = snprintf (sb.root, sizeof sb.root, "%s/state", mnt);
  cr_assert (n > 0 && (size_t) n < sizeof sb.root);

  create ("b");
  struct h_result r;
  sbx (&r, 0, ARGS ("inspect", "b"));
  cr_assert (strstr (r.out, "\"backend\": \"btrfs\""), "%s", r.out);
  h_result_free (&r);
  free (sh ("b", "mkdir /d && echo 1 > /d/v && ln -s v /d/l && echo ok"));
  sbx (&r, 0, ARGS ("snapshot", "b", "one"));
  h_result_free (&r);
  free (sh ("b", "echo 2 > /d/v && rm /d/l && echo n > /d/new && echo ok"));
  sbx (&r, 0, ARGS ("diff", "b", "one"));
  cr_assert (strstr (r.out, "M /d/v\n") && strstr (r.out, "D /d/l\n") && strstr (r.out, "A /d/new\n"),
             "%s", r.out);
  h_result_free (&r);
  sbx (&r, 0, ARGS ("clone", "b", "c"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("rollback", "b", "one"));
  h_result_free (&r);
  expect_sh ("b", "cat /d/v; readlink /d/l; test -e /d/new || echo no-new; stat -c %u /d/v",
             "1\nv\nno-new\n0\n");
  expect_sh ("c", "cat /d/v; test -e /d/new && echo new", "2\nnew\n");
  sbx (&r, 0, ARGS ("destroy", "b"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("destroy", "c"));
  h_result_free (&r);
  char dir[PATH_MAX + 32];
  snprintf (dir, sizeof dir, "%s/~named", sb.root);
  DIR *d = opendir (dir);
  for (struct dirent *e; d && (e = readdir (d)) != NULL;)
    cr_assert (e->d_name[0] == '.' || strcmp (e->d_name, "audit.log") == 0, "left: %s",
               e->d_name);
  if (d)
    closedir (d);
  cr_assert_eq (umount (mnt), 0, "umount: %s", strerror (errno));
  n = snprintf (sb.root, sizeof sb.root, "%s/state", sb.dir);
  cr_assert (n > 0 && (size_t) n < sizeof sb.root);
}

/* ------------------------------------------------------- create --init */

/* A field of `sandbox inspect NAME` (malloc'd; "" when null). */
static char *
inspect_field (const char *name, const char *key)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("inspect", name));
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert_not_null (j, "inspect %s: %s", name, r.out);
  const char *v = json_string_value (json_object_get (j, key));
  char *ret = strdup (v ? v : "");
  json_decref (j);
  h_result_free (&r);
  return ret;
}

#define SLEEPERS "n=0; for c in /proc/[0-9]*/comm; do [ \"$(cat $c 2>/dev/null)\" = sleep ] && n=$((n+1)); done; echo $n"

/* The init runs from create on; an exec joins it: its /tmp (a fresh tmpfs
 * for a run of its own), its processes; a timeout kills the exec's
 * session and leaves the init; destroy takes it all. */
Test (named, init_keeps_running_and_exec_joins)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "svc", "--init", "--", "/bin/sh", "-c",
                    "echo up > /tmp/mark; echo started; exec sleep 600"));
  h_result_free (&r);
  char *status = inspect_field ("svc", "status");
  char *init_id = inspect_field ("svc", "init_id");
  cr_assert_str_eq (status, "running");
  cr_assert (strncmp (init_id, "sb-", 3) == 0, "init_id `%s`", init_id);
  free (status);

  expect_sh ("svc", "cat /tmp/mark", "up\n");
  expect_sh ("svc", SLEEPERS, "1\n");
  /* Nothing the supervisor blocks or ignores stays so in the process. */
  sbx (&r, 128 + SIGPIPE, ARGS ("exec", "svc", "--", "/bin/sh", "-c", "kill -PIPE $$; echo alive"));
  h_result_free (&r);
  sbx (&r, 128 + SIGTERM, ARGS ("exec", "svc", "--", "/bin/sh", "-c", "kill -TERM $$; echo alive"));
  h_result_free (&r);

  /* A timeout: the exec and what it started in its session die. */
  char result[PATH_MAX + 16];
  snprintf (result, sizeof result, "%s/exec.result", sb.dir);
  sbx (&r, 124, ARGS ("exec", "svc", "--timeout", "1s", "--result", result, "--", "/bin/sh", "-c",
                      "sleep 300 & sleep 300"));
  h_result_free (&r);
  char *rec = h_read_file (result);
  cr_assert (rec && strstr (rec, "\"status\": \"TO\""), "%s", rec ? rec : "no record");
  free (rec);
  /* Killed; gone (reaped by the sandbox's init) a moment later. */
  char *n = NULL;
  for (int i = 0; i < 100; i++)
    {
      free (n);
      n = sh ("svc", SLEEPERS);
      if (strcmp (n, "1\n") == 0)
        break;
      usleep (100 * 1000);
    }
  cr_assert_str_eq (n, "1\n", "the timed-out exec's session outlived it");
  free (n);
  expect_sh ("svc", "cat /tmp/mark", "up\n");

  /* What the init set up cannot change for one exec. */
  sbx (&r, FAIL, ARGS ("exec", "svc", "--memory", "1G", "--", "/bin/true"));
  cr_assert (strstr (r.err, "--memory") && strstr (r.err, "init is running"), "%s", r.err);
  h_result_free (&r);

  /* Its output went to init.log. */
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/~named/svc/init.log", sb.root);
  char *log = h_read_file (path);
  cr_assert (log && strcmp (log, "started\n") == 0, "init.log: %s", log ? log : "(none)");
  free (log);

  sbx (&r, 0, ARGS ("destroy", "svc"));
  h_result_free (&r);
  h_assert_clean (&sb, init_id);
  cr_assert_not (named_dir_exists ("svc"));
  free (init_id);
}

/* snapshot and rollback stop the init, act, and start it again on the
 * result: it sees the rolled-back root. */
Test (named, init_restarts_after_rollback)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "rb", "--init", "--", "/bin/sh", "-c",
                    "cat /v > /tmp/seen 2>/dev/null; exec sleep 600"));
  h_result_free (&r);
  char *first = inspect_field ("rb", "init_id");
  free (sh ("rb", "echo 1 > /v"));
  sbx (&r, 0, ARGS ("snapshot", "rb", "s1"));
  h_result_free (&r);
  char *second = inspect_field ("rb", "init_id");
  cr_assert_str_neq (second, "", "the init did not start again after the snapshot");
  cr_assert_str_neq (first, second);
  h_assert_clean (&sb, first);
  expect_sh ("rb", "cat /tmp/seen", "1\n");
  free (sh ("rb", "echo 2 > /v"));
  sbx (&r, 0, ARGS ("rollback", "rb", "s1"));
  h_result_free (&r);
  char *third = inspect_field ("rb", "init_id");
  cr_assert_str_neq (third, "");
  cr_assert_str_neq (third, second);
  h_assert_clean (&sb, second);
  expect_sh ("rb", "cat /v /tmp/seen", "1\n1\n");
  expect_sh ("rb", SLEEPERS, "1\n");
  free (first);
  free (second);
  free (third);
}

/* An init that ends by itself: its record stays, and execs run alone
 * again (a fresh /tmp), on the root it changed. */
Test (named, exec_runs_alone_once_the_init_ended)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "once", "--init", "--", "/bin/sh", "-c",
                    "echo x > /made-by-init; echo t > /tmp/t; exit 3"));
  h_result_free (&r);
  char path[PATH_MAX + 64];
  snprintf (path, sizeof path, "%s/~named/once/init.result", sb.root);
  char *rec = NULL;
  for (int i = 0; i < 100 && (rec = h_read_file (path)) == NULL; i++)
    usleep (50 * 1000);
  cr_assert (rec && strstr (rec, "\"exit_code\": 3"), "init.result: %s", rec ? rec : "(none)");
  free (rec);
  char *status = NULL;
  for (int i = 0; i < 100; i++)
    {
      free (status);
      status = inspect_field ("once", "status");
      if (strcmp (status, "idle") == 0)
        break;
      usleep (50 * 1000);
    }
  cr_assert_str_eq (status, "idle");
  free (status);
  expect_sh ("once", "cat /made-by-init; ls /tmp", "x\n");
}

/* An init that cannot start fails the create, and leaves nothing. */
Test (named, init_that_cannot_start_leaves_nothing)
{
  struct h_result r;
  sbx (&r, FAIL, ARGS ("create", "broken", "--init", "--", "/no/such/program"));
  cr_assert (strstr (r.err, "--init") && strstr (r.err, "/no/such/program"), "%s", r.err);
  h_result_free (&r);
  cr_assert_not (named_dir_exists ("broken"));
  sbx (&r, 0, ARGS ("list", "--format", "json"));
  cr_assert_str_eq (r.out, "[]\n");
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("create", "broken", "--init"));
  cr_assert (strstr (r.err, "--init: missing PROGRAM"), "%s", r.err);
  h_result_free (&r);
  sbx (&r, FAIL, ARGS ("create", "broken", "--", "/bin/true"));
  cr_assert (strstr (r.err, "unexpected argument `/bin/true`"), "%s", r.err);
  h_result_free (&r);
  cr_assert_not (named_dir_exists ("broken"));
  /* The failed create is in the audit log. */
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/~named/audit.log", sb.root);
  char *audit = h_read_file (path);
  cr_assert (audit && strstr (audit, "\"op\":\"create\",\"sandbox\":\"broken\""), "%s",
             audit ? audit : "");
  free (audit);
}

/* kill -9 of the keeper: the init dies with it; the next exec runs alone
 * and gc removes what the run left.  A clone of a sandbox with an init
 * has one of its own. */
Test (named, init_keeper_killed_and_clone)
{
  struct h_result r;
  sbx (&r, 0, ARGS ("create", "kk", "--init", "--", "/bin/sleep", "600"));
  h_result_free (&r);
  sbx (&r, 0, ARGS ("clone", "kk", "kk2"));
  h_result_free (&r);
  char *status = inspect_field ("kk2", "status");
  cr_assert_str_eq (status, "running", "the clone's init");
  free (status);
  char *init_id = inspect_field ("kk", "init_id");
  json_t *st = h_state (&sb, init_id);
  cr_assert_not_null (st, "state of %s", init_id);
  int pid = (int) json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/status", pid);
  char *text = h_read_file (path);
  const char *pp = text ? strstr (text, "PPid:") : NULL;
  cr_assert_not_null (pp, "%s", path);
  pid_t keeper = (pid_t) atoi (pp + 5);
  free (text);
  cr_assert_gt (keeper, 1);
  cr_assert_eq (kill (keeper, SIGKILL), 0);
  status = NULL;
  for (int i = 0; i < 100; i++)
    {
      free (status);
      status = inspect_field ("kk", "status");
      if (strcmp (status, "idle") == 0)
        break;
      usleep (50 * 1000);
    }
  cr_assert_str_eq (status, "idle");
  free (status);
  expect_sh ("kk", "echo alone; ls /tmp", "alone\n");
  sbx (&r, 0, ARGS ("gc"));
  cr_assert_str_eq (r.out, "removed 1\n", "%s", r.err);
  h_result_free (&r);
  h_assert_clean (&sb, init_id);
  free (init_id);
  status = inspect_field ("kk2", "status");
  cr_assert_str_eq (status, "running", "the clone's init died with the source's keeper");
  free (status);
}

/* `sandbox rollback` returns once the dropped changes are renamed away;
 * a process of its own deletes them afterwards, with no other command
 * needed. */
Test (named, rollback_empties_the_trash_in_the_background)
{
  create ("bg");
  struct h_result r;
  sbx (&r, 0, ARGS ("snapshot", "bg", "s0"));
  h_result_free (&r);
  free (sh ("bg", "mkdir /many && cd /many && i=0; while [ $i -lt 2000 ]; do : > f$i; i=$((i+1)); done"));
  sbx (&r, 0, ARGS ("rollback", "bg", "s0"));
  h_result_free (&r);
  char store[PATH_MAX + 32];
  snprintf (store, sizeof store, "%s/~named/bg/store", sb.root);
  bool trash = true;
  for (int i = 0; i < 300 && trash; i++)
    {
      trash = false;
      DIR *d = opendir (store);
      for (struct dirent *e; d && (e = readdir (d)) != NULL;)
        trash |= strncmp (e->d_name, "trash-", 6) == 0;
      if (d)
        closedir (d);
      if (trash)
        usleep (100 * 1000);
    }
  cr_assert_not (trash, "the trash of the rollback is still there after 30 s");
  expect_sh ("bg", "[ -e /many ] && echo there || echo gone", "gone\n");
}
