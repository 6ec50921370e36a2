/* Hooks, the console socket, and the cgroup verbs (pause, resume, update),
 * driven through the built airlock binary on a busybox bundle.  Every test
 * ends by checking that the container left nothing behind. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h_bundle b;

static void
fini (void)
{
  h_bundle_fini (&b);
}

TestSuite (hooks, .fini = fini);
TestSuite (console, .fini = fini);
TestSuite (cgroup_verbs, .fini = fini);

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

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

/* ------------------------------------------------------------- hooks */

/* A hook script in the bundle directory that appends "NAME <stdin>" to
 * the log file; extra shell in `body` runs before. */
static char *
hook_script (const char *name, const char *body)
{
  char *path;
  cr_assert (asprintf (&path, "%s/hook-%s.sh", b.dir, name) > 0);
  char *text;
  cr_assert (asprintf (&text, "#!/bin/sh\n%s\nprintf '%%s %%s\\n' \"$1\" \"$(cat)\" >> %s/hooks.log\n",
                       body ? body : "", b.dir)
             > 0);
  h_write_file (path, text);
  chmod (path, 0755);
  free (text);
  return path;
}

static void
add_hook (const char *kind, const char *path, const char *arg, int timeout)
{
  json_t *hooks = json_object_get (b.config, "hooks");
  if (hooks == NULL)
    {
      hooks = json_object ();
      json_object_set_new (b.config, "hooks", hooks);
    }
  json_t *list = json_object_get (hooks, kind);
  if (list == NULL)
    {
      list = json_array ();
      json_object_set_new (hooks, kind, list);
    }
  json_t *h = json_pack ("{s:s, s:[s,s], s:[s]}", "path", path, "args", path, arg, "env",
                         "HOOK_ENV=yes");
  if (timeout > 0)
    json_object_set_new (h, "timeout", json_integer (timeout));
  json_array_append_new (list, h);
}

static char *
hooks_log (void)
{
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/hooks.log", b.dir);
  char *s = h_read_file (path);
  return s ? s : strdup ("");
}

Test (hooks, every_kind_runs_in_order_with_the_state_on_stdin)
{
  h_bundle_init (&b, ARGS ("true"));
  static const char *const kinds[]
      = { "prestart", "createRuntime", "createContainer", "poststart", "poststop" };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    {
      char *p = hook_script (kinds[i], NULL);
      add_hook (kinds[i], p, kinds[i], 0);
      free (p);
    }
  /* startContainer resolves inside the container: busybox's sh writes the
   * state it got into a file the test reads through the rootfs. */
  json_t *sc = json_pack ("{s:s, s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c",
                          "cat > /start-hook.json; hostname >> /start-hook.json");
  json_t *hooks = json_object_get (b.config, "hooks");
  json_object_set_new (hooks, "startContainer", json_pack ("[o]", sc));
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("hooks");

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  ok (&r, "create");
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  int pid = (int) json_integer_value (json_object_get (st, "pid"));
  json_decref (st);

  char *log = hooks_log ();
  cr_assert_not_null (strstr (log, "prestart {"), "prestart did not run: %s", log);
  cr_assert_not_null (strstr (log, "createRuntime {"), "%s", log);
  cr_assert_not_null (strstr (log, "createContainer {"), "%s", log);
  cr_assert_null (strstr (log, "poststart"), "poststart ran during create: %s", log);
  cr_assert (strstr (log, "prestart") < strstr (log, "createRuntime")
                 && strstr (log, "createRuntime") < strstr (log, "createContainer"),
             "wrong order: %s", log);
  char expect[256];
  snprintf (expect, sizeof expect, "\"id\":\"%s\"", id);
  cr_assert_not_null (strstr (log, expect), "the state names no id: %s", log);
  snprintf (expect, sizeof expect, "\"pid\":%d", pid);
  cr_assert_not_null (strstr (log, expect), "the state's pid is not the init's %d: %s", pid, log);
  free (log);

  h_airlock (&r, &b, NULL, 30, ARGS ("start", id));
  ok (&r, "start");
  h_result_free (&r);
  json_t *stopped = h_wait_status (&b, id, "stopped", 10);
  cr_assert_not_null (stopped);
  json_decref (stopped);
  log = hooks_log ();
  cr_assert_not_null (strstr (log, "poststart {"), "poststart did not run: %s", log);
  cr_assert_null (strstr (log, "poststop"), "poststop ran before delete: %s", log);
  free (log);

  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/start-hook.json", b.dir);
  char *start_state = h_read_file (path);
  cr_assert_not_null (start_state, "startContainer did not run inside the container");
  cr_assert_not_null (strstr (start_state, id), "%s", start_state);
  json_t *host = json_object_get (b.config, "hostname");
  if (host)
    cr_assert_not_null (strstr (start_state, json_string_value (host)),
                        "startContainer ran outside the container's uts namespace: %s",
                        start_state);
  free (start_state);

  h_airlock (&r, &b, NULL, 30, ARGS ("delete", id));
  ok (&r, "delete");
  h_result_free (&r);
  log = hooks_log ();
  cr_assert_not_null (strstr (log, "poststop {"), "poststop did not run: %s", log);
  free (log);
  h_assert_clean (&b, id);
}

Test (hooks, create_container_runs_in_the_container_namespaces)
{
  h_bundle_init (&b, ARGS ("true"));
  char *p = hook_script ("cc", "hostname > \"$(dirname \"$0\")/cc-hostname\"");
  add_hook ("createContainer", p, "cc", 0);
  free (p);
  json_object_set_new (b.config, "hostname", json_string ("in-the-box"));
  h_bundle_save (&b);
  const char *id = h_id ("cc");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  ok (&r, "run");
  h_result_free (&r);
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/cc-hostname", b.dir);
  char *name = h_read_file (path);
  cr_assert_not_null (name);
  cr_assert_str_eq (name, "in-the-box\n");
  free (name);
  h_assert_clean (&b, id);
}

Test (hooks, a_failing_create_hook_fails_create_and_leaves_nothing)
{
  h_bundle_init (&b, ARGS ("true"));
  char *p = hook_script ("fail", "exit 3");
  add_hook ("createRuntime", p, "fail", 0);
  h_bundle_save (&b);
  const char *id = h_id ("hookfail");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  fails_with (&r, "exited with status 3", "create with a failing createRuntime hook");
  cr_assert_not_null (strstr (r.err, "hooks.createRuntime[0]"), "%s", r.err);
  h_result_free (&r);
  free (p);
  h_assert_clean (&b, id);
}

Test (hooks, a_hook_past_its_timeout_is_killed_and_fails_create)
{
  h_bundle_init (&b, ARGS ("true"));
  char *p = hook_script ("slow", "sleep 30");
  add_hook ("prestart", p, "slow", 1);
  h_bundle_save (&b);
  const char *id = h_id ("hookslow");
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  clock_gettime (CLOCK_MONOTONIC, &t1);
  fails_with (&r, "timed out", "create with a slow hook");
  cr_assert (t1.tv_sec - t0.tv_sec < 10, "the hook's timeout was not honoured (%ld s)",
             (long) (t1.tv_sec - t0.tv_sec));
  h_result_free (&r);
  free (p);
  h_assert_clean (&b, id);
}

Test (hooks, a_missing_hook_fails_create_before_anything_is_made)
{
  h_bundle_init (&b, ARGS ("true"));
  add_hook ("poststart", "/nonexistent/airlock-hook", "x", 0);
  h_bundle_save (&b);
  const char *id = h_id ("hookmissing");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  fails_with (&r, "/nonexistent/airlock-hook", "create with a missing hook");
  cr_assert_not_null (strstr (r.err, "hooks.poststart[0]"), "%s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (hooks, failing_poststart_and_poststop_only_warn)
{
  h_bundle_init (&b, ARGS ("true"));
  char *p = hook_script ("warn", "exit 4");
  add_hook ("poststart", p, "warn", 0);
  add_hook ("poststop", p, "warn", 0);
  free (p);
  h_bundle_save (&b);
  const char *id = h_id ("hookwarn");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  ok (&r, "run with failing poststart/poststop hooks");
  cr_assert_not_null (strstr (r.err, "hooks.poststart[0]"), "no warning: %s", r.err);
  cr_assert_not_null (strstr (r.err, "hooks.poststop[0]"), "no warning: %s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (hooks, a_hook_that_does_not_read_stdin_does_not_kill_airlock)
{
  h_bundle_init (&b, ARGS ("true"));
  /* More state than a pipe holds, and a hook that exits at once. */
  json_t *ann = json_object ();
  char *big = malloc (200000);
  memset (big, 'x', 199999);
  big[199999] = '\0';
  json_object_set_new (ann, "big", json_string (big));
  free (big);
  json_object_set_new (b.config, "annotations", ann);
  add_hook ("prestart", "/bin/true", "x", 0);
  add_hook ("poststart", "/bin/true", "x", 0);
  h_bundle_save (&b);
  const char *id = h_id ("hookpipe");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  ok (&r, "run with hooks that ignore stdin");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (hooks, hooks_get_their_args_and_env)
{
  h_bundle_init (&b, ARGS ("true"));
  char *p = hook_script ("env", "echo \"$HOOK_ENV $1\" > \"$(dirname \"$0\")/env.out\"");
  add_hook ("createRuntime", p, "first-arg", 0);
  free (p);
  h_bundle_save (&b);
  const char *id = h_id ("hookenv");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", id));
  ok (&r, "run");
  h_result_free (&r);
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/env.out", b.dir);
  char *out = h_read_file (path);
  cr_assert_not_null (out);
  cr_assert_str_eq (out, "yes first-arg\n");
  free (out);
  h_assert_clean (&b, id);
}

/* ----------------------------------------------------------- console */

struct receiver
{
  int listen_fd;
  char path[108];
  char out[4096];
  int got_fd;
};

static void *
receive (void *data)
{
  struct receiver *rc = data;
  int c = accept4 (rc->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return NULL;
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  if (recvmsg (c, &msg, MSG_CMSG_CLOEXEC) > 0)
    {
      struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
      if (cm && cm->cmsg_type == SCM_RIGHTS)
        {
          int master;
          memcpy (&master, CMSG_DATA (cm), sizeof master);
          rc->got_fd = 1;
          size_t len = 0;
          ssize_t n;
          while (len + 1 < sizeof rc->out
                 && (n = read (master, rc->out + len, sizeof rc->out - 1 - len)) > 0)
            len += (size_t) n;
          rc->out[len] = '\0';
          close (master);
        }
    }
  close (c);
  return NULL;
}

static void
receiver_start (struct receiver *rc, pthread_t *t)
{
  memset (rc, 0, sizeof *rc);
  int n = snprintf (rc->path, sizeof rc->path, "%.80s/console.sock", b.dir);
  cr_assert (n > 0 && (size_t) n < sizeof rc->path && strlen (b.dir) <= 80,
             "bundle path too long for a socket");
  rc->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  cr_assert (strlen (rc->path) < sizeof a.sun_path, "bundle path too long for a socket");
  strcpy (a.sun_path, rc->path);
  cr_assert_eq (bind (rc->listen_fd, (struct sockaddr *) &a, sizeof a), 0, "bind: %m");
  cr_assert_eq (listen (rc->listen_fd, 1), 0);
  cr_assert_eq (pthread_create (t, NULL, receive, rc), 0);
}

Test (console, the_pty_master_goes_to_the_console_socket)
{
  h_bundle_init (&b, ARGS ("sh", "-c", "tty; stty size; ls -l /dev/console; echo done"));
  json_t *p = h_process (&b);
  json_object_set_new (p, "terminal", json_true ());
  json_object_set_new (p, "consoleSize", json_pack ("{s:i, s:i}", "height", 33, "width", 77));
  h_bundle_save (&b);
  struct receiver rc;
  pthread_t t;
  receiver_start (&rc, &t);
  const char *id = h_id ("tty");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--console-socket", rc.path, id));
  ok (&r, "run with a terminal");
  h_result_free (&r);
  pthread_join (t, NULL);
  close (rc.listen_fd);
  cr_assert (rc.got_fd, "no fd arrived on the console socket");
  cr_assert_not_null (strstr (rc.out, "/dev/pts/0"), "tty inside: %s", rc.out);
  cr_assert_not_null (strstr (rc.out, "33 77"), "consoleSize not applied: %s", rc.out);
  cr_assert_not_null (strstr (rc.out, "136,"), "/dev/console is not the pty: %s", rc.out);
  h_assert_clean (&b, id);
}

Test (console, a_terminal_without_a_console_socket_is_refused)
{
  h_bundle_init (&b, ARGS ("true"));
  json_object_set_new (h_process (&b), "terminal", json_true ());
  h_bundle_save (&b);
  const char *id = h_id ("notty");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  fails_with (&r, "console-socket", "create with a terminal and no socket");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (console, an_unreachable_console_socket_fails_create_cleanly)
{
  h_bundle_init (&b, ARGS ("true"));
  json_object_set_new (h_process (&b), "terminal", json_true ());
  h_bundle_save (&b);
  const char *id = h_id ("badsock");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", "--console-socket", "/nonexistent/sock", id));
  fails_with (&r, "/nonexistent/sock", "create with a missing socket");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

/* ------------------------------------------------------ cgroup verbs */

static long
counter (void)
{
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/tmp/count", b.dir);
  char *s = h_read_file (path);
  long v = s ? atol (s) : -1;
  free (s);
  return v;
}

/* The memory limit and the pids limit in the container's cgroup, on a
 * v1(-hybrid) host or a pure cgroup-v2 one (make check-vm). */
static char *
memory_limit (const char *id)
{
  char *s = h_cgroup_read (id, "memory", "memory.limit_in_bytes", "memory.max");
  cr_assert_not_null (s, "%s: cannot read the memory limit of its cgroup (%s)", id,
                      h_cgroup_v2 () ? "memory.max" : "memory.limit_in_bytes");
  return s;
}

static char *
pids_limit (const char *id)
{
  char *s = h_cgroup_read (id, "pids", "pids.max", "pids.max");
  cr_assert_not_null (s, "%s: cannot read pids.max of its cgroup", id);
  return s;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
  nanosleep (&ts, NULL);
}

Test (cgroup_verbs, pause_stops_progress_and_resume_restarts_it)
{
  h_bundle_init (&b, ARGS ("sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; "
                                       "mv /tmp/count.new /tmp/count; done"));
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_false ());
  h_bundle_save (&b);
  const char *id = h_id ("pause");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--detach", id));
  ok (&r, "run --detach");
  h_result_free (&r);
  for (int i = 0; i < 100 && counter () < 5; i++)
    sleep_ms (50);
  cr_assert_gt (counter (), 0, "the container makes no progress");

  h_airlock (&r, &b, NULL, 30, ARGS ("pause", id));
  ok (&r, "pause");
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_str_eq (json_string_value (json_object_get (st, "status")), "paused");
  json_decref (st);
  long a = counter ();
  sleep_ms (400);
  cr_assert_eq (counter (), a, "a paused container made progress");

  h_airlock (&r, &b, NULL, 30, ARGS ("pause", id));
  fails_with (&r, "paused", "pause of a paused container");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("resume", id));
  ok (&r, "resume");
  h_result_free (&r);
  sleep_ms (400);
  cr_assert_gt (counter (), a, "a resumed container makes no progress");
  st = h_state (&b, id);
  cr_assert_str_eq (json_string_value (json_object_get (st, "status")), "running");
  json_decref (st);

  h_airlock (&r, &b, NULL, 30, ARGS ("resume", id));
  fails_with (&r, "running", "resume of a running container");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("delete", "--force", id));
  ok (&r, "delete --force");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

Test (cgroup_verbs, update_changes_the_limits_of_a_running_container)
{
  h_bundle_init (&b, ARGS ("sleep", "30"));
  h_bundle_save (&b);
  const char *id = h_id ("update");
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--detach", id));
  ok (&r, "run --detach");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("update", "--memory", "200m", "--pids-limit", "70", id));
  ok (&r, "update with flags");
  h_result_free (&r);
  char *mem = memory_limit (id);
  char *pids = pids_limit (id);
  cr_assert_str_eq (mem, "209715200\n");
  cr_assert_str_eq (pids, "70\n");
  free (mem);
  free (pids);

  h_airlock (&r, &b, "{\"memory\": {\"limit\": 104857600}, \"pids\": {\"limit\": 50}}", 30,
             ARGS ("update", "--resources", "-", id));
  ok (&r, "update --resources -");
  h_result_free (&r);
  mem = memory_limit (id);
  pids = pids_limit (id);
  cr_assert_str_eq (mem, "104857600\n");
  cr_assert_str_eq (pids, "50\n");
  free (mem);
  free (pids);

  /* Bad values are refused and change nothing. */
  h_airlock (&r, &b, "{\"memory\": {\"limit\": \"lots\"}}", 30,
             ARGS ("update", "--resources", "-", id));
  fails_with (&r, "memory.limit", "update with a string limit");
  h_result_free (&r);
  h_airlock (&r, &b, NULL, 30, ARGS ("update", "--memory", "12x", id));
  cr_assert_neq (r.status, 0, "a bad size was accepted");
  h_result_free (&r);
  mem = memory_limit (id);
  cr_assert_str_eq (mem, "104857600\n");
  free (mem);

  h_airlock (&r, &b, NULL, 30, ARGS ("delete", "--force", id));
  ok (&r, "delete --force");
  h_result_free (&r);
  h_airlock (&r, &b, NULL, 30, ARGS ("update", "--memory", "100m", id));
  fails_with (&r, "does not exist", "update of a deleted container");
  h_result_free (&r);
  h_assert_clean (&b, id);
}
