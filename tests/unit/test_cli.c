/* CLI tests: run the built airlock binary ($AIRLOCK) as a user would and
 * check exit codes, stdout, stderr and the files it writes. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"
#include "oci_config.h"
#include "state.h"

struct run
{
  int status; /* exit code, or 128+signal */
  char *out;
  char *err;
};

static char tmp[64];

static void
setup_tmp (void)
{
  strcpy (tmp, "/tmp/al-cli-XXXXXX");
  cr_assert_not_null (mkdtemp (tmp));
}

static void
teardown_tmp (void)
{
  char cmd[128];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmp);
  cr_assert_eq (system (cmd), 0);
}

static const char *
airlock_path (void)
{
  const char *p = getenv ("AIRLOCK");
  return p ? p : "./airlock";
}

static char *
slurp (const char *path)
{
  char *buf = NULL;
  struct al_error err = { 0 };
  if (al_read_file (AT_FDCWD, path, 1 << 24, &buf, NULL, &err) < 0)
    cr_assert_fail ("%s", err.msg);
  return buf;
}

/* Run airlock with NULL-terminated args; stdout/stderr captured in files. */
static struct run
run_airlock (const char *arg, ...)
{
  const char *argv[64] = { airlock_path () };
  int argc = 1;
  va_list ap;
  va_start (ap, arg);
  for (const char *a = arg; a && argc < 63; a = va_arg (ap, const char *))
    argv[argc++] = a;
  va_end (ap);
  argv[argc] = NULL;

  char out_path[128], err_path[128];
  snprintf (out_path, sizeof out_path, "%s/.stdout", tmp);
  snprintf (err_path, sizeof err_path, "%s/.stderr", tmp);

  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      int o = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = open (err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2 (o, 1);
      dup2 (e, 2);
      execv (argv[0], (char **) argv);
      _exit (99);
    }
  int st;
  cr_assert_eq (waitpid (pid, &st, 0), pid);
  struct run r = { .status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st) };
  r.out = slurp (out_path);
  r.err = slurp (err_path);
  return r;
}

static void
run_free (struct run *r)
{
  free (r->out);
  free (r->err);
}

/* Make a container entry the way create will: through the state store. */
static void
make_entry (const char *id, pid_t pid, const char *annotation)
{
  struct al_error err = { 0 };
  struct al_state_handle *h = NULL;
  cr_assert_eq (al_state_open (tmp, id, AL_STATE_CREATE, &h, &err), 0, "%s", err.msg);
  struct al_state *st = al_state_new ();
  st->status = AL_STATUS_RUNNING;
  st->pid = pid;
  cr_assert_eq (al_state_pid_start_time (pid, &st->pid_start_time, &err), 0, "%s", err.msg);
  st->bundle = strdup ("/srv/bundle");
  st->rootfs = strdup ("/srv/bundle/rootfs");
  if (annotation)
    st->annotations = json_pack ("{s:s}", "org.test", annotation);
  cr_assert_eq (al_state_write (h, st, &err), 0, "%s", err.msg);
  al_state_free (st);
  al_state_close (h);
}

TestSuite (cli, .init = setup_tmp, .fini = teardown_tmp);

Test (cli, version_prints_version_commit_spec_and_features)
{
  struct run r = run_airlock ("--version", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "airlock version " PACKAGE_VERSION "\n"), "%s", r.out);
  cr_assert (strstr (r.out, "\ncommit: "), "%s", r.out);
  cr_assert (strstr (r.out, "\nspec: 1.2.0\n"), "%s", r.out);
  cr_assert (strstr (r.out, "+SECCOMP"), "%s", r.out);
  run_free (&r);

  r = run_airlock ("-v", NULL);
  cr_assert_eq (r.status, 0);
  cr_assert (strstr (r.out, "airlock version"));
  run_free (&r);
}

Test (cli, help_lists_commands)
{
  struct run r = run_airlock ("--help", NULL);
  cr_assert_eq (r.status, 0);
  for (const char *v = "features\0list\0spec\0state\0"; *v; v += strlen (v) + 1)
    cr_assert (strstr (r.out, v), "help lacks %s", v);
  cr_assert (strstr (r.out, "--root"));
  run_free (&r);

  r = run_airlock ("state", "--help", NULL);
  cr_assert_eq (r.status, 0);
  cr_assert (strstr (r.out, "Usage: airlock state"), "%s", r.out);
  run_free (&r);
}

Test (cli, usage_errors_exit_1_with_help_hint)
{
  struct run r = run_airlock (NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "no command given"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("frobnicate", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "airlock: unknown command `frobnicate'"), "%s", r.err);
  cr_assert (strstr (r.err, "--help"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("--no-such-option", "list", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "no-such-option"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("--root", tmp, "state", "--bogus", "x", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "bogus"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("--root", tmp, "state", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "missing container ID"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("--root", tmp, "state", "a", "b", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "unexpected argument `b`"), "%s", r.err);
  run_free (&r);

  r = run_airlock ("--log-format", "xml", "list", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "unknown format `xml`"), "%s", r.err);
  run_free (&r);
}

Test (cli, state_of_unknown_container)
{
  struct run r = run_airlock ("--root", tmp, "state", "nosuch", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert_str_eq (r.err, "airlock: state: nosuch: container does not exist\n");
  cr_assert_str_eq (r.out, "");
  run_free (&r);

  /* The default root too (nothing was created there by this test). */
  r = run_airlock ("state", "nosuch-airlock-test", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert_str_eq (r.err, "airlock: state: nosuch-airlock-test: container does not exist\n");
  run_free (&r);
}

Test (cli, state_refuses_invalid_ids)
{
  const char *bad[] = { "../etc", "a/b", "..", "." };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct run r = run_airlock ("--root", tmp, "state", bad[i], NULL);
      cr_assert_eq (r.status, 1, "%s", bad[i]);
      cr_assert (strstr (r.err, "invalid container id"), "%s: %s", bad[i], r.err);
      run_free (&r);
    }
}

Test (cli, state_prints_oci_state)
{
  make_entry ("web", getpid (), "yes");
  struct run r = run_airlock ("--root", tmp, "state", "web", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  json_error_t jerr;
  json_t *j = json_loads (r.out, 0, &jerr);
  cr_assert_not_null (j, "%s: %s", jerr.text, r.out);
  cr_assert_str_eq (json_string_value (json_object_get (j, "ociVersion")), "1.2.0");
  cr_assert_str_eq (json_string_value (json_object_get (j, "id")), "web");
  cr_assert_str_eq (json_string_value (json_object_get (j, "status")), "running");
  cr_assert_eq (json_integer_value (json_object_get (j, "pid")), getpid ());
  cr_assert_str_eq (json_string_value (json_object_get (j, "bundle")), "/srv/bundle");
  cr_assert_str_eq (json_string_value (json_object_get (json_object_get (j, "annotations"), "org.test")), "yes");
  json_decref (j);
  run_free (&r);
}

Test (cli, state_of_dead_process_reads_stopped)
{
  pid_t child = fork ();
  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  make_entry ("gone", child, NULL);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);

  struct run r = run_airlock ("--root", tmp, "state", "gone", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert_str_eq (json_string_value (json_object_get (j, "status")), "stopped");
  cr_assert_eq (json_integer_value (json_object_get (j, "pid")), 0);
  json_decref (j);
  run_free (&r);
}

Test (cli, list_table_json_and_quiet)
{
  struct run r = run_airlock ("--root", tmp, "list", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strncmp (r.out, "ID ", 3) == 0, "%s", r.out);
  cr_assert_eq (strchr (r.out, '\n') - r.out + 1, (long) strlen (r.out), "only a header: %s", r.out);
  run_free (&r);

  r = run_airlock ("--root", tmp, "list", "--format", "json", NULL);
  cr_assert_eq (r.status, 0);
  cr_assert_str_eq (r.out, "[]\n");
  run_free (&r);

  make_entry ("b-two", getpid (), NULL);
  make_entry ("a-one", getpid (), "x");

  r = run_airlock ("--root", tmp, "list", "-q", NULL);
  cr_assert_eq (r.status, 0);
  cr_assert_str_eq (r.out, "a-one\nb-two\n");
  run_free (&r);

  r = run_airlock ("--root", tmp, "list", NULL);
  cr_assert_eq (r.status, 0);
  cr_assert (strstr (r.out, "a-one"), "%s", r.out);
  cr_assert (strstr (r.out, "running"), "%s", r.out);
  cr_assert (strstr (r.out, "/srv/bundle"), "%s", r.out);
  run_free (&r);

  r = run_airlock ("--root", tmp, "list", "-f", "json", NULL);
  cr_assert_eq (r.status, 0);
  json_t *j = json_loads (r.out, 0, NULL);
  cr_assert (json_is_array (j), "%s", r.out);
  cr_assert_eq (json_array_size (j), 2);
  json_t *first = json_array_get (j, 0);
  cr_assert_str_eq (json_string_value (json_object_get (first, "id")), "a-one");
  cr_assert_str_eq (json_string_value (json_object_get (first, "status")), "running");
  cr_assert_eq (json_integer_value (json_object_get (first, "pid")), getpid ());
  cr_assert_not_null (json_object_get (first, "created"));
  json_decref (j);
  run_free (&r);

  r = run_airlock ("--root", tmp, "list", "--format", "yaml", NULL);
  cr_assert_eq (r.status, 1);
  run_free (&r);
}

Test (cli, list_of_missing_root_is_empty)
{
  char root[128];
  snprintf (root, sizeof root, "%s/never-created", tmp);
  struct run r = run_airlock ("--root", root, "list", "-q", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_str_eq (r.out, "");
  run_free (&r);
  struct stat st;
  cr_assert_eq (stat (root, &st), -1, "list must not create the root");
}

Test (cli, json_log_gets_error_line)
{
  char log[128];
  snprintf (log, sizeof log, "%s/log.json", tmp);
  struct run r = run_airlock ("--root", tmp, "--log", log, "--log-format", "json", "state", "nosuch", NULL);
  cr_assert_eq (r.status, 1);
  cr_assert_str_eq (r.err, "airlock: state: nosuch: container does not exist\n");
  run_free (&r);

  cleanup_free char *text = slurp (log);
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  cr_assert_not_null (j, "not one JSON line: %s (%s)", text, jerr.text);
  cr_assert_str_eq (json_string_value (json_object_get (j, "level")), "error");
  cr_assert_str_eq (json_string_value (json_object_get (j, "msg")), "nosuch: container does not exist");
  const char *when = json_string_value (json_object_get (j, "time"));
  cr_assert (when && strlen (when) > 20 && when[strlen (when) - 1] == 'Z', "%s", text);
  json_decref (j);
}

Test (cli, text_log_gets_error_line)
{
  char log[128];
  snprintf (log, sizeof log, "%s/log.txt", tmp);
  struct run r = run_airlock ("--root", tmp, "--log", log, "state", "nosuch", NULL);
  cr_assert_eq (r.status, 1);
  run_free (&r);
  cleanup_free char *text = slurp (log);
  cr_assert_str_eq (text, "airlock: state: nosuch: container does not exist\n");
}

Test (cli, global_compat_options_are_accepted)
{
  struct run r = run_airlock ("--root", tmp, "--systemd-cgroup", "--debug", "--cgroup-manager", "disabled",
                              "list", "-q", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  run_free (&r);
  r = run_airlock ("--cgroup-manager", "bogus", "list", NULL);
  cr_assert_eq (r.status, 1);
  run_free (&r);
}

static struct al_config *
load_config (const char *dir)
{
  char path[256];
  snprintf (path, sizeof path, "%s/config.json", dir);
  struct al_config *c = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_config_load (AT_FDCWD, path, &c, &err), 0, "spec output refused: %s", err.msg);
  return c;
}

Test (cli, spec_writes_a_config_airlock_accepts)
{
  struct run r = run_airlock ("spec", "--bundle", tmp, NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  run_free (&r);

  struct al_config *c = load_config (tmp);
  cr_assert_str_eq (c->oci_version, "1.2.0");
  cr_assert_str_eq (c->root_path, "rootfs");
  cr_assert (c->root_readonly);
  cr_assert_not_null (c->process);
  cr_assert_str_eq (c->process->args[0], "sh");
  cr_assert_str_eq (c->process->cwd, "/");
  cr_assert (c->process->no_new_privileges);
  cr_assert_eq (c->n_mounts, 7);
  cr_assert_eq (c->linux_spec->n_namespaces, 6);
  cr_assert_null (al_config_find_namespace (c, AL_NS_USER));
  cr_assert_not_null (al_config_find_namespace (c, AL_NS_NETWORK));
  al_config_free (c);

  /* A second spec never overwrites. */
  r = run_airlock ("spec", "--bundle", tmp, NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "config.json already exists"), "%s", r.err);
  run_free (&r);
}

Test (cli, spec_defaults_to_current_directory)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (chdir (tmp) < 0)
        _exit (98);
      execl (airlock_path (), airlock_path (), "spec", NULL);
      _exit (99);
    }
  int st;
  waitpid (pid, &st, 0);
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  struct al_config *c = load_config (tmp);
  al_config_free (c);
}

Test (cli, spec_rootless_maps_root_to_caller)
{
  struct run r = run_airlock ("spec", "--rootless", "--bundle", tmp, NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  run_free (&r);
  struct al_config *c = load_config (tmp);
  cr_assert_not_null (al_config_find_namespace (c, AL_NS_USER));
  cr_assert_null (al_config_find_namespace (c, AL_NS_NETWORK));
  cr_assert_eq (c->linux_spec->n_uid_mappings, 1);
  cr_assert_eq (c->linux_spec->uid_mappings[0].container_id, 0);
  cr_assert_eq (c->linux_spec->uid_mappings[0].host_id, geteuid ());
  cr_assert_eq (c->linux_spec->uid_mappings[0].size, 1);
  cr_assert_eq (c->linux_spec->gid_mappings[0].host_id, getegid ());
  cr_assert_null (c->linux_spec->resources);
  for (size_t i = 0; i < c->n_mounts; i++)
    cr_assert_str_neq (c->mounts[i].destination, "/sys/fs/cgroup");
  al_config_free (c);
}

Test (cli, spec_into_missing_bundle_fails_cleanly)
{
  char dir[128];
  snprintf (dir, sizeof dir, "%s/nope", tmp);
  struct run r = run_airlock ("spec", "--bundle", dir, NULL);
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "airlock: spec: open bundle"), "%s", r.err);
  cr_assert (strstr (r.err, "No such file or directory"), "%s", r.err);
  run_free (&r);
}

Test (cli, features_is_the_oci_document)
{
  struct run r = run_airlock ("features", NULL);
  cr_assert_eq (r.status, 0, "%s", r.err);
  json_error_t jerr;
  json_t *f = json_loads (r.out, 0, &jerr);
  cr_assert_not_null (f, "%s", jerr.text);
  cr_assert_str_eq (json_string_value (json_object_get (f, "ociVersionMin")), "1.0.0");
  cr_assert_not_null (json_string_value (json_object_get (f, "ociVersionMax")));
  cr_assert_eq (json_array_size (json_object_get (f, "hooks")), 6);
  json_t *lin = json_object_get (f, "linux");
  cr_assert_eq (json_array_size (json_object_get (lin, "namespaces")), 8);

  bool sys_admin = false;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (lin, "capabilities"), i, v)
    if (strcmp (json_string_value (v), "CAP_SYS_ADMIN") == 0)
      sys_admin = true;
  cr_assert (sys_admin);

  json_t *sc = json_object_get (lin, "seccomp");
  cr_assert (json_is_true (json_object_get (sc, "enabled")));
  bool x86_64 = false;
  json_array_foreach (json_object_get (sc, "archs"), i, v)
    if (strcmp (json_string_value (v), "SCMP_ARCH_X86_64") == 0)
      x86_64 = true;
  cr_assert (x86_64);
  cr_assert (json_is_true (json_object_get (json_object_get (lin, "cgroup"), "v1")));
  cr_assert (json_is_true (json_object_get (json_object_get (lin, "cgroup"), "v2")));

  bool rbind = false;
  json_array_foreach (json_object_get (f, "mountOptions"), i, v)
    if (strcmp (json_string_value (v), "rbind") == 0)
      rbind = true;
  cr_assert (rbind);
  json_decref (f);
  run_free (&r);
}

Test (cli, fixture_bundle_is_accepted)
{
  const char *src = getenv ("AL_SRCDIR");
  char cmd[512];
  snprintf (cmd, sizeof cmd, "AIRLOCK='%s' sh '%s/tests/fixtures/make-bundle.sh' '%s/bundle' echo 'hi \"there\"' >/dev/null",
            airlock_path (), src ? src : ".", tmp);
  cr_assert_eq (system (cmd), 0);

  char dir[128], path[192];
  snprintf (dir, sizeof dir, "%s/bundle", tmp);
  struct al_config *c = load_config (dir);
  cr_assert (!c->process->terminal);
  cr_assert_eq (c->process->n_args, 2);
  cr_assert_str_eq (c->process->args[0], "echo");
  cr_assert_str_eq (c->process->args[1], "hi \"there\"");
  al_config_free (c);

  /* Applets are hard links to the rootfs's busybox (never symlinks that
   * would resolve to the host's /bin/busybox from outside). */
  struct stat sh, st;
  snprintf (path, sizeof path, "%s/rootfs/bin/sh", dir);
  cr_assert_eq (lstat (path, &sh), 0);
  cr_assert (S_ISREG (sh.st_mode), "bin/sh is not a hard link");
  snprintf (path, sizeof path, "%s/rootfs/bin/busybox", dir);
  cr_assert_eq (stat (path, &st), 0);
  cr_assert (st.st_mode & S_IXUSR);
  cr_assert_eq (sh.st_ino, st.st_ino, "bin/sh is not busybox");
}
