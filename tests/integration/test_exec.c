/* test_exec.c — `airlock exec` and `airlock ps` on a running busybox
 * container: the exec'd process shares the init's namespaces and cgroup,
 * gets the command-line overrides (env, cwd, user, caps, no_new_privs) or
 * a --process object (file or stdin), detaches with a pid file, gets a
 * terminal through a console socket, holds no host fds, and fails clearly
 * (stopped or unknown container, missing or non-executable program).
 * Every test ends with delete --force and h_assert_clean.  Needs root. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
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

TestSuite (exec, .fini = fini);

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The init: leaves a file in the container's own /dev/shm (a tmpfs the
 * host does not see), then sleeps. */
static const char *const init_args[]
    = { "sh", "-c", "echo from-init > /dev/shm/marker; exec sleep 300", NULL };

/* Waits inside the container until the init's marker is there. */
#define WAIT_MARKER                                                                                \
  "i=0; while [ ! -e /dev/shm/marker ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "

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

/* `airlock run --detach id` of the bundle as it is; returns the init pid. */
static pid_t
start (const char *id)
{
  h_bundle_save (&b);
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--detach", id));
  assert_status (&r, 0, "run --detach");
  h_result_free (&r);
  json_t *st = h_wait_status (&b, id, "running", 10);
  cr_assert_not_null (st, "%s never ran", id);
  pid_t pid = (pid_t) json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  cr_assert_gt (pid, 0);
  return pid;
}

static void
init_running (const char *id, pid_t *ret_pid)
{
  h_bundle_init (&b, init_args);
  pid_t pid = start (id);
  if (ret_pid)
    *ret_pid = pid;
}

static void
finish (const char *id)
{
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", "--force", id));
  assert_status (&r, 0, "delete --force");
  h_result_free (&r);
  h_assert_clean (&b, id);
}

/* The "type:[inode]" of a namespace link. */
static void
ns_link (pid_t pid, const char *ns, char *buf, size_t size)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns);
  ssize_t n = readlink (path, buf, size - 1);
  cr_assert_gt (n, 0, "readlink %s: %s", path, strerror (errno));
  buf[n] = '\0';
}

static char *
proc_file (pid_t pid, const char *name)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, name);
  char *s = h_read_file (path);
  cr_assert_not_null (s, "read %s: %s", path, strerror (errno));
  return s;
}

/* ------------------------------------------------------------------ tests */

Test (exec, joins_the_container)
{
  const char *id = h_id ("exec-join");
  pid_t init;
  init_running (id, &init);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", id, "sh", "-c",
                   WAIT_MARKER "echo pid=$$; tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; "
                               "cat /dev/shm/marker; for n in pid mnt uts ipc net; do "
                               "readlink /proc/self/ns/$n; done"));
  assert_status (&r, 0, "exec");

  /* Not the init, but in its pid namespace: pid 1 there is the sleep. */
  cr_assert_null (strstr (r.out, "pid=1\n"), "exec'd process is pid 1: %s", r.out);
  cr_assert_not_null (strstr (r.out, "pid="), "%s", r.out);
  cr_assert_not_null (strstr (r.out, "sleep 300 \n"), "/proc/1 is not the init: %s", r.out);
  const char *hostname = json_string_value (json_object_get (b.config, "hostname"));
  char want[256];
  snprintf (want, sizeof want, "\n%s\n", hostname ? hostname : "");
  cr_assert_not_null (strstr (r.out, want), "hostname is not the container's (%s): %s", want,
                      r.out);
  /* Its mount namespace: the init's file in the container's /dev/shm. */
  cr_assert_not_null (strstr (r.out, "from-init\n"), "init's file not visible: %s", r.out);
  static const char *const nss[] = { "pid", "mnt", "uts", "ipc", "net" };
  for (size_t i = 0; i < 5; i++)
    {
      char theirs[128], mine[128];
      ns_link (init, nss[i], theirs, sizeof theirs);
      ns_link (getpid (), nss[i], mine, sizeof mine);
      cr_assert_str_neq (theirs, mine, "the init shares the %s namespace of the host", nss[i]);
      snprintf (want, sizeof want, "%s\n", theirs);
      cr_assert_not_null (strstr (r.out, want), "exec'd process is not in the init's %s: %s",
                          theirs, r.out);
    }
  h_result_free (&r);
  finish (id);
}

Test (exec, exit_status_propagates)
{
  const char *id = h_id ("exec-status");
  init_running (id, NULL);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "sh", "-c", "echo out; echo err >&2; exit 7"));
  assert_status (&r, 7, "exec exit 7");
  cr_assert_str_eq (r.out, "out\n");
  cr_assert_not_null (strstr (r.err, "err\n"), "%s", r.err);
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "true"));
  assert_status (&r, 0, "exec true");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "sh", "-c", "kill -TERM $$"));
  assert_status (&r, 128 + SIGTERM, "exec killed by SIGTERM");
  h_result_free (&r);
  finish (id);
}

Test (exec, env_cwd_user_applied)
{
  const char *id = h_id ("exec-env");
  init_running (id, NULL);

  /* TERM is in the config's env: --env replaces it, FOO is appended. */
  struct h_result r;
  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", "--env", "FOO=bar baz", "-e", "TERM=dumb", "--cwd", "/tmp", "--user",
                   "65534:65534", "--additional-gids", "5", "-g", "7", id, "sh", "-c",
                   "echo \"foo=$FOO\"; echo \"term=$TERM\"; env | grep -c '^TERM='; pwd; id -u; "
                   "id -g; id -G; echo \"home=$HOME\""));
  assert_status (&r, 0, "exec with overrides");
  cr_assert_str_eq (r.out, "foo=bar baz\nterm=dumb\n1\n/tmp\n65534\n65534\n65534 5 7\n"
                           "home=/nonexistent\n");
  h_result_free (&r);

  /* Without overrides: the config's process (root, cwd /, its env). */
  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", id, "sh", "-c", "echo \"foo=$FOO\"; echo \"term=$TERM\"; pwd; id -u"));
  assert_status (&r, 0, "exec plain");
  cr_assert_str_eq (r.out, "foo=\nterm=xterm\n/\n0\n");
  h_result_free (&r);

  /* A command that looks like options is the command's. */
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "ls", "-d", "/tmp"));
  assert_status (&r, 0, "exec ls -d");
  cr_assert_str_eq (r.out, "/tmp\n");
  h_result_free (&r);
  finish (id);
}

static const char process_json[]
    = "{\"terminal\": false, \"user\": {\"uid\": 65534, \"gid\": 65534},"
      " \"args\": [\"sh\", \"-c\", \"echo $MARK; pwd; id -u\"],"
      " \"env\": [\"PATH=/bin:/usr/bin\", \"MARK=%s\"], \"cwd\": \"/tmp\"}";

Test (exec, process_file_and_stdin)
{
  const char *id = h_id ("exec-proc");
  init_running (id, NULL);

  char json[512], path[PATH_MAX + 32];
  snprintf (json, sizeof json, process_json, "from-file");
  snprintf (path, sizeof path, "%s/process.json", b.dir);
  h_write_file (path, json);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", "--process", path, id));
  assert_status (&r, 0, "exec --process FILE");
  cr_assert_str_eq (r.out, "from-file\n/tmp\n65534\n");
  h_result_free (&r);

  snprintf (json, sizeof json, process_json, "from-stdin");
  h_airlock (&r, &b, json, 30, ARGS ("exec", "-p", "-", id));
  assert_status (&r, 0, "exec --process -");
  cr_assert_str_eq (r.out, "from-stdin\n/tmp\n65534\n");
  h_result_free (&r);

  /* A bad object is named. */
  h_airlock (&r, &b, "{\"args\": []}", 30, ARGS ("exec", "--process", "-", id));
  assert_fails_with (&r, "args", "exec --process with empty args");
  h_result_free (&r);
  finish (id);
}

Test (exec, detach_pid_file_cgroup_and_ps)
{
  const char *id = h_id ("exec-detach");
  pid_t init;
  init_running (id, &init);

  char pid_file[PATH_MAX + 32];
  snprintf (pid_file, sizeof pid_file, "%s/exec.pid", b.dir);
  struct h_result r;
  time_t t0 = time (NULL);
  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", "--detach", "--pid-file", pid_file, id, "sleep", "123"));
  assert_status (&r, 0, "exec --detach");
  cr_assert_lt (time (NULL) - t0, 10, "exec --detach waited for the process");
  h_result_free (&r);

  char *text = h_read_file (pid_file);
  cr_assert_not_null (text, "no pid file");
  pid_t pid = (pid_t) atoi (text);
  free (text);
  cr_assert_gt (pid, 1);
  cr_assert_neq (pid, init);
  cr_assert_eq (kill (pid, 0), 0, "pid %d from the pid file is not alive", (int) pid);
  char *cmd = proc_file (pid, "cmdline");
  cr_assert_str_eq (cmd, "sleep", "pid file names %s, not the sleep", cmd);
  free (cmd);

  /* The init's cgroups, in every hierarchy, and its pid namespace. */
  char *cg_init = proc_file (init, "cgroup");
  char *cg_exec = proc_file (pid, "cgroup");
  cr_assert_not_null (strstr (cg_init, id), "init not in its cgroup: %s", cg_init);
  cr_assert_str_eq (cg_exec, cg_init, "exec'd process is not in the container's cgroups");
  free (cg_init);
  free (cg_exec);
  char a[128], c[128];
  ns_link (init, "pid", a, sizeof a);
  ns_link (pid, "pid", c, sizeof c);
  cr_assert_str_eq (a, c);

  /* ps: both, as host pids. */
  h_airlock (&r, &b, NULL, 30, ARGS ("ps", "--format", "json", id));
  assert_status (&r, 0, "ps --format json");
  json_t *arr = json_loads (r.out, 0, NULL);
  cr_assert (json_is_array (arr), "ps output is not a JSON array: %s", r.out);
  bool has_init = false, has_exec = false;
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    has_init |= json_integer_value (v) == init;
    has_exec |= json_integer_value (v) == pid;
  }
  cr_assert (has_init && has_exec, "ps lists %s, expected %d and %d", r.out, (int) init, (int) pid);
  json_decref (arr);
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("ps", id, "--", "-ef"));
  assert_status (&r, 0, "ps table");
  char line[64];
  snprintf (line, sizeof line, "%-8d sleep 123\n", (int) pid);
  cr_assert_not_null (strstr (r.out, line), "ps table lacks `%s`: %s", line, r.out);
  cr_assert_eq (strncmp (r.out, "PID", 3), 0, "%s", r.out);
  h_result_free (&r);

  finish (id);
  /* delete --force took the exec'd process with the container. */
  char stat_path[64];
  snprintf (stat_path, sizeof stat_path, "/proc/%d/stat", (int) pid);
  char *stat = h_read_file (stat_path);
  const char *paren = stat ? strrchr (stat, ')') : NULL;
  cr_assert (stat == NULL || (paren && paren[2] == 'Z'), "exec'd process survived delete: %s",
             stat);
  free (stat);
}

/* Receive one fd over a UNIX socket connection. */
static int
recv_fd (int sock)
{
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  if (recvmsg (sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  return fd;
}

Test (exec, tty_through_console_socket)
{
  const char *id = h_id ("exec-tty");
  init_running (id, NULL);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", "--tty", id, "true"));
  assert_fails_with (&r, "console-socket", "exec --tty without a console socket");
  h_result_free (&r);

  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int pn = snprintf (sa.sun_path, sizeof sa.sun_path, "%s/console.sock", b.dir);
  cr_assert (pn > 0 && (size_t) pn < sizeof sa.sun_path, "socket path too long");
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq (lfd, 0);
  cr_assert_eq (bind (lfd, (struct sockaddr *) &sa, sizeof sa), 0, "bind: %s", strerror (errno));
  cr_assert_eq (listen (lfd, 4), 0);

  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", "--detach", "--tty", "--console-socket", sa.sun_path, id, "sh", "-c",
                   "[ -t 0 ] && [ -t 1 ] && echo on-a-tty; tty; sleep 1"));
  assert_status (&r, 0, "exec --detach --tty");
  h_result_free (&r);

  struct pollfd p = { .fd = lfd, .events = POLLIN };
  cr_assert_eq (poll (&p, 1, 10000), 1, "airlock never connected to the console socket");
  int conn = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  cr_assert_geq (conn, 0);
  int master = recv_fd (conn);
  cr_assert_geq (master, 0, "no pty master received");

  char out[1024] = "";
  size_t len = 0;
  time_t deadline = time (NULL) + 10;
  while (strstr (out, "/dev/pts/") == NULL && time (NULL) < deadline && len < sizeof out - 1)
    {
      struct pollfd mp = { .fd = master, .events = POLLIN };
      if (poll (&mp, 1, 1000) <= 0)
        continue;
      ssize_t n = read (master, out + len, sizeof out - 1 - len);
      if (n <= 0)
        break;
      len += (size_t) n;
      out[len] = '\0';
    }
  cr_assert_not_null (strstr (out, "on-a-tty"), "stdin/stdout are not a terminal: %s", out);
  cr_assert_not_null (strstr (out, "/dev/pts/"), "tty(1) did not name a pty: %s", out);
  close (master);
  close (conn);
  close (lfd);
  finish (id);
}

Test (exec, stopped_and_unknown_containers)
{
  h_bundle_init (&b, ARGS ("true"));
  const char *id = h_id ("exec-stopped");
  h_bundle_save (&b);
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--detach", id));
  assert_status (&r, 0, "run --detach true");
  h_result_free (&r);
  json_t *st = h_wait_status (&b, id, "stopped", 10);
  cr_assert_not_null (st, "container never stopped");
  json_decref (st);

  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "true"));
  assert_fails_with (&r, "cannot exec in a stopped container", "exec into a stopped container");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("exec", "exec-no-such-container", "true"));
  assert_fails_with (&r, "exec-no-such-container: container does not exist",
                     "exec into an unknown container");
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("ps", "exec-no-such-container"));
  assert_fails_with (&r, "does not exist", "ps of an unknown container");
  h_result_free (&r);
  finish (id);
}

Test (exec, into_created_container)
{
  const char *id = h_id ("exec-created");
  h_bundle_init (&b, init_args);
  h_bundle_save (&b);
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("create", id));
  assert_status (&r, 0, "create");
  h_result_free (&r);

  /* runc allows exec before start; the init still waits. */
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "sh", "-c", "echo in-created; echo $$"));
  assert_status (&r, 0, "exec into a created container");
  cr_assert_eq (strncmp (r.out, "in-created\n", 11), 0, "%s", r.out);
  cr_assert_neq (atoi (r.out + 11), 1, "%s", r.out);
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_str_eq (json_string_value (json_object_get (st, "status")), "created");
  json_decref (st);
  finish (id);
}

Test (exec, missing_and_denied_executables)
{
  const char *id = h_id ("exec-noexe");
  init_running (id, NULL);

  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "no-such-program", "arg"));
  assert_fails_with (&r, "executable file not found in $PATH", "exec of a missing program");
  h_result_free (&r);

  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/bin/not-executable", b.dir);
  h_write_file (path, "#!/bin/sh\necho should-not-run\n");
  chmod (path, 0644);
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "/bin/not-executable"));
  assert_fails_with (&r, "permission denied", "exec of a non-executable file");
  cr_assert_null (strstr (r.out, "should-not-run"));
  h_result_free (&r);
  finish (id);
}

/* The exec'd shell's fds, listed by a child (an `ls` run as the shell
 * itself, or in it as a busybox nofork applet, would list its own). */
#define LIST_FDS "p=$$; (ls /proc/$p/fd); "

Test (exec, no_host_fds_leak_in)
{
  const char *id = h_id ("exec-fds");
  init_running (id, NULL);

  /* airlock gets fd 3 (a host file); the process must not see it. */
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/host-secret", b.dir);
  h_write_file (path, "host-secret-data\n");
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  int fds[1] = { fd };
  struct h_spawn s = { .fds = fds, .n_fds = 1 };

  struct h_result r;
  h_airlock_ex (&r, &b, &s, ARGS ("exec", id, "sh", "-c", LIST_FDS "true"));
  assert_status (&r, 0, "exec ls fds");
  cr_assert_str_eq (r.out, "0\n1\n2\n", "host fds leaked into the exec'd process: %s", r.out);
  h_result_free (&r);

  /* --preserve-fds 1 hands it over, as fd 3. */
  h_airlock_ex (&r, &b, &s, ARGS ("exec", "--preserve-fds", "1", id, "sh", "-c",
                                  LIST_FDS "cat <&3"));
  assert_status (&r, 0, "exec --preserve-fds 1");
  cr_assert_str_eq (r.out, "0\n1\n2\n3\nhost-secret-data\n", "%s", r.out);
  h_result_free (&r);
  close (fd);
  finish (id);
}

/* The CapEff line of /proc/self/status as the process sees it. */
static unsigned long long
cap_eff (const char *out)
{
  const char *p = strstr (out, "CapEff:");
  cr_assert_not_null (p, "%s", out);
  return strtoull (p + 7, NULL, 16);
}

Test (exec, capabilities_and_no_new_privs)
{
  const char *id = h_id ("exec-caps");
  h_bundle_init (&b, init_args);
  json_object_set_new (h_process (&b), "noNewPrivileges", json_false ());
  start (id);

  const char *script = "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status";
  struct h_result r;
  h_airlock (&r, &b, NULL, 30, ARGS ("exec", id, "sh", "-c", script));
  assert_status (&r, 0, "exec");
  unsigned long long base = cap_eff (r.out);
  cr_assert_eq (base & (1ULL << 12), 0, "CAP_NET_ADMIN already effective: %s", r.out);
  cr_assert_neq (base, 0, "%s", r.out);
  cr_assert_not_null (strstr (r.out, "NoNewPrivs:\t0"), "%s", r.out);
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30,
             ARGS ("exec", "--cap", "CAP_NET_ADMIN", "-c", "SYS_PTRACE", "--no-new-privs", id, "sh",
                   "-c", script));
  assert_status (&r, 0, "exec --cap --no-new-privs");
  unsigned long long eff = cap_eff (r.out);
  cr_assert_eq (eff, base | (1ULL << 12) | (1ULL << 19), "CapEff %llx, expected %llx", eff,
                base | (1ULL << 12) | (1ULL << 19));
  cr_assert_not_null (strstr (r.out, "NoNewPrivs:\t1"), "%s", r.out);
  h_result_free (&r);

  h_airlock (&r, &b, NULL, 30, ARGS ("exec", "--cap", "CAP_BOGUS", id, "true"));
  assert_fails_with (&r, "BOGUS", "exec --cap with an unknown capability");
  h_result_free (&r);
  finish (id);
}
