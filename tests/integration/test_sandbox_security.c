/* test_sandbox_security.c — what `airlock sandbox run` denies, observed
 * from inside: the built-in seccomp profile (each denied call fails with
 * its exact errno and the program goes on), --seccomp unconfined and
 * profile files, a setuid binary, capabilities, the four network modes,
 * /proc, /sys, /dev, the uid mapping and the pid namespace.
 *
 * Programs run inside are the host's /bin/sh and a probe
 * (tests/fixtures/sandbox_probe.c) compiled once per test binary (PRE_ALL)
 * into a directory bound read-only at /probe.  The probe runs each check named on its command
 * line and prints NAME=ok, NAME=<errno name> (EPERM, ENOSYS...) or
 * NAME=<value>; it refuses to run outside a user namespace, as some of
 * its checks (mount, reboot with a bad magic) only make sense where they
 * are denied.
 *
 * Every run uses the test's own --root and --result file, and after each
 * one the test checks nothing of it is left: no state entry but ~slots,
 * an empty ~sandbox, no airlock/<id> cgroup in any hierarchy, no mount
 * and no process under the test's directory (h_assert_clean), and for
 * --network private no alsb<slot> link.  Needs root.
 */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })
#define PROBE "/probe/probe"
#define UID_BASE 1000000000UL
#define IDS 65536UL

/* ------------------------------------------------------------ the probe */

/* The probe is tests/fixtures/sandbox_probe.c, compiled -static (the VM
 * tier serves it prebuilt: its guest has no compiler). */

/* Compiled once, in the runner, before any test: tests read the path (or
 * the error) from the environment they inherit. */
ReportHook (PRE_ALL) (struct criterion_test_set *set)
{
  (void) set;
  char dir[] = "/tmp/al-sbs-probe-XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      setenv ("AL_SBS_PROBE_ERROR", "mkdtemp /tmp/al-sbs-probe-XXXXXX failed", 1);
      return;
    }
  chmod (dir, 0755); /* --user 1000 runs it too */
  char src[PATH_MAX], bin[PATH_MAX];
  const char *srcdir = getenv ("AL_SRCDIR");
  snprintf (src, sizeof src, "%s/tests/fixtures/sandbox_probe.c", srcdir && *srcdir ? srcdir : ".");
  snprintf (bin, sizeof bin, "%s/probe", dir);
  setenv ("AL_SBS_PROBE_DIR", dir, 1);
  struct h_result r;
  struct h_spawn s = { .timeout_s = 120 };
  const char *cc = getenv ("CC");
  char cmd[PATH_MAX * 3];
  snprintf (cmd, sizeof cmd, "%s -static -O1 -Wall -o '%s' '%s' 2>&1", cc && *cc ? cc : "gcc",
            bin, src);
  h_spawn (&r, &s, ARGS ("/bin/sh", "-c", cmd));
  if (r.status != 0)
    {
      char msg[8192];
      snprintf (msg, sizeof msg, "compiling the probe failed (%d): %s", r.status, r.out);
      setenv ("AL_SBS_PROBE_ERROR", msg, 1);
      fprintf (stderr, "# %s\n", msg);
    }
  h_result_free (&r);
}

ReportHook (POST_ALL) (struct criterion_global_stats *stats)
{
  (void) stats;
  const char *dir = getenv ("AL_SBS_PROBE_DIR");
  if (dir && strncmp (dir, "/tmp/al-sbs-probe-", 18) == 0)
    {
      h_remove_tree (dir);
      rmdir (dir);
    }
}

/* ------------------------------------------------------------- fixture */

/* The test's directory (dir) and state root (root); no bundle. */
static struct h_bundle sb;
static int listeners[4] = { -1, -1, -1, -1 };
static pid_t bg_pid = -1; /* a run started in the background */

static void
init (void)
{
  memset (&sb, 0, sizeof sb);
  char tmpl[] = "/tmp/al-sbs-test-XXXXXX";
  cr_assert_not_null (mkdtemp (tmpl), "mkdtemp: %s", strerror (errno));
  chmod (tmpl, 0755);
  snprintf (sb.dir, sizeof sb.dir, "%s", tmpl);
  snprintf (sb.root, sizeof sb.root, "%s/state", tmpl);
}

/* Stop a run of ours (by its pid) that is still going: SIGTERM, which
 * airlock forwards and then cleans up after, and SIGKILL only if it is
 * still there 10 s later (that leaves its cgroup for `sandbox gc`).
 * Returns its status as h_spawn's. */
static int
stop_child (pid_t pid)
{
  int st;
  kill (pid, SIGTERM);
  for (int i = 0; i < 100; i++)
    {
      if (waitpid (pid, &st, WNOHANG) == pid)
        return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
      usleep (100 * 1000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  return -1;
}

static void
fini (void)
{
  if (bg_pid > 0)
    {
      stop_child (bg_pid);
      bg_pid = -1;
    }
  for (int i = 0; i < 4; i++)
    if (listeners[i] >= 0)
      close (listeners[i]);
  if (sb.dir[0])
    {
      h_remove_tree (sb.dir);
      rmdir (sb.dir);
    }
}

TestSuite (sandbox_security, .init = init, .fini = fini);

static const char *
probe_dir (void)
{
  const char *e = getenv ("AL_SBS_PROBE_ERROR");
  cr_assert_null (e, "%s", e);
  const char *d = getenv ("AL_SBS_PROBE_DIR");
  cr_assert_not_null (d, "no probe (PRE_ALL did not run)");
  return d;
}

static void
path_in (char *buf, size_t size, const char *name)
{
  cr_assert_lt (snprintf (buf, size, "%s/%s", sb.dir, name), (int) size, "path too long");
}

/* ------------------------------------------------------------- a run */

#define MAX_ARGV 96

/* argv of: airlock --root ROOT sandbox run --result DIR/result.json
 * --bind PROBE_DIR:/probe:ro OPTS... -- PROG...  (static storage) */
static const char *const *
sandbox_argv (const char *const *opts, const char *const *prog)
{
  static char airlock[PATH_MAX], result[PATH_MAX], bind[PATH_MAX + 16];
  static const char *argv[MAX_ARGV];
  /* Absolute: runs start in the test's directory. */
  cr_assert_not_null (realpath (h_airlock_path (), airlock), "airlock `%s`: %s", h_airlock_path (),
                      strerror (errno));
  path_in (result, sizeof result, "result.json");
  snprintf (bind, sizeof bind, "%s:/probe:ro", probe_dir ());
  int n = 0;
  const char *head[]
      = { airlock, "--root", sb.root, "sandbox", "run", "--result", result, "--bind", bind };
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
    argv[n++] = head[i];
  for (; *opts && n < MAX_ARGV - 2; opts++)
    argv[n++] = *opts;
  argv[n++] = "--";
  for (; *prog && n < MAX_ARGV - 1; prog++)
    argv[n++] = *prog;
  argv[n] = NULL;
  return argv;
}

/* The last run's result record: its id and status ("" when there is no
 * record, e.g. a refused option). */
static char last_id[64], last_status[8];

static void
read_result (void)
{
  char path[PATH_MAX];
  path_in (path, sizeof path, "result.json");
  last_id[0] = last_status[0] = '\0';
  json_error_t e;
  json_t *j = json_load_file (path, 0, &e);
  if (j == NULL)
    return;
  const char *id = json_string_value (json_object_get (j, "id"));
  const char *st = json_string_value (json_object_get (j, "status"));
  snprintf (last_id, sizeof last_id, "%s", id ? id : "");
  snprintf (last_status, sizeof last_status, "%s", st ? st : "");
  json_decref (j);
  unlink (path);
}

/* Nothing of the last run is left: see the top of the file. */
static void
nothing_left (void)
{
  if (last_id[0])
    h_assert_clean (&sb, last_id);
  DIR *d = opendir (sb.root);
  if (d == NULL)
    {
      cr_assert_eq (errno, ENOENT, "open %s: %s", sb.root, strerror (errno));
      return;
    }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0
          || strcmp (e->d_name, "~slots") == 0 || strcmp (e->d_name, "~sandbox") == 0)
        continue;
      closedir (d);
      cr_assert_fail ("state left behind in %s: %s", sb.root, e->d_name);
    }
  closedir (d);
  char boxes[PATH_MAX + 16];
  snprintf (boxes, sizeof boxes, "%s/~sandbox", sb.root);
  d = opendir (boxes);
  while (d && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0
          || strcmp (e->d_name, "mnt") == 0) /* every run's mount point, kept */
        continue;
      closedir (d);
      cr_assert_fail ("run directory left behind: %s/%s", boxes, e->d_name);
    }
  if (d)
    closedir (d);
}

/* Run it (30 s at most), read the result record, check nothing is left. */
static int
sb_run (struct h_result *r, const char *const *opts, const char *const *prog)
{
  struct h_spawn s = { .timeout_s = 30, .cwd = sb.dir };
  h_spawn (r, &s, sandbox_argv (opts, prog));
  read_result ();
  nothing_left ();
  return r->status;
}

/* The probe with CHECKS; asserts it ran to its end (exit 0, "alive"). */
static void
sb_probe (struct h_result *r, const char *const *opts, const char *const *checks)
{
  const char *prog[MAX_ARGV] = { PROBE };
  int n = 1;
  for (; *checks && n < MAX_ARGV - 1; checks++)
    prog[n++] = *checks;
  prog[n] = NULL;
  sb_run (r, opts, prog);
  cr_assert_eq (r->status, 0, "probe: status %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out,
                r->err);
  cr_assert_not_null (strstr (r->out, "\nalive\n"), "probe did not reach its end:\n%s", r->out);
  cr_assert_str_eq (last_status, "OK", "result status %s", last_status);
}

/* The value of KEY in "KEY=VALUE" lines (carriage returns ignored), or
 * NULL.  Four buffers in turn. */
static const char *
val (const char *out, const char *key)
{
  static char ring[4][1024];
  static unsigned n;
  size_t klen = strlen (key);
  for (const char *line = out; line && *line;)
    {
      const char *end = strchr (line, '\n');
      size_t len = end ? (size_t) (end - line) : strlen (line);
      if (len > klen && strncmp (line, key, klen) == 0 && line[klen] == '=')
        {
          char *buf = ring[n++ % 4];
          size_t vlen = len - klen - 1;
          if (vlen >= sizeof ring[0])
            vlen = sizeof ring[0] - 1;
          memcpy (buf, line + klen + 1, vlen);
          buf[vlen] = '\0';
          buf[strcspn (buf, "\r")] = '\0';
          return buf;
        }
      line = end ? end + 1 : NULL;
    }
  return NULL;
}

static void
expect (const struct h_result *r, const char *key, const char *want)
{
  const char *v = val (r->out, key);
  cr_assert (v && strcmp (v, want) == 0, "%s: expected %s, got %s\nstdout:\n%s\nstderr:\n%s", key,
             want, v ? v : "(nothing)", r->out, r->err);
}

/* A number from a /proc/sys file, or dflt when it is not there. */
static long
sysctl_num (const char *path, long dflt)
{
  char *s = h_read_file (path);
  long v = s ? strtol (s, NULL, 10) : dflt;
  free (s);
  return v;
}

/* A TCP listener of the test on ADDR, port chosen by the kernel. */
static int
host_listener (const char *addr)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq (fd, 0, "socket: %s", strerror (errno));
  struct sockaddr_in sa = { .sin_family = AF_INET };
  cr_assert_eq (inet_pton (AF_INET, addr, &sa.sin_addr), 1);
  socklen_t len = sizeof sa;
  cr_assert_eq (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0, "bind: %s", strerror (errno));
  cr_assert_eq (listen (fd, 16), 0, "listen: %s", strerror (errno));
  cr_assert_eq (getsockname (fd, (struct sockaddr *) &sa, &len), 0);
  for (int i = 0; i < 4; i++)
    if (listeners[i] < 0)
      {
        listeners[i] = fd;
        break;
      }
  return ntohs (sa.sin_port);
}

/* The slot of a run, from the probe's "uidmap=0,BASE,65536". */
static unsigned long
slot_of (const struct h_result *r)
{
  const char *m = val (r->out, "uidmap");
  unsigned long inside, base, count;
  cr_assert (m && sscanf (m, "%lu,%lu,%lu", &inside, &base, &count) == 3, "no uidmap in:\n%s",
             r->out);
  cr_assert (base >= UID_BASE && (base - UID_BASE) % IDS == 0, "base %lu", base);
  return (base - UID_BASE) / IDS;
}

/* ------------------------------------------------------------- seccomp */

Test (sandbox_security, mount_denied)
{
  struct h_result r;
  /* The probe's target does not exist: with the filter out of the way the
   * kernel says ENOENT (see unconfined_lifts_the_filter), so EPERM here
   * is the filter's. */
  sb_probe (&r, NONE, ARGS ("mount", "fsopen"));
  expect (&r, "mount", "EPERM");
  expect (&r, "fsopen", "EPERM");
  h_result_free (&r);

  /* mount(8) as the sandbox's root fails (util-linux says 32, busybox 1). */
  sb_run (&r, NONE, ARGS ("/bin/sh", "-c", "mount -t tmpfs x /tmp; echo mount=$?"));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  const char *mst = val (r.out, "mount");
  cr_assert (mst && strcmp (mst, "0") != 0, "mount succeeded: %s", r.out);
  cr_assert_not_null (strstr (r.err, "permission denied"), "stderr: %s", r.err);
  h_result_free (&r);
}

Test (sandbox_security, unshare_user_denied)
{
  struct h_result r;
  sb_probe (&r, NONE, ARGS ("unshare_user", "unshare_net", "setns"));
  expect (&r, "unshare_user", "EPERM");
  expect (&r, "unshare_net", "EPERM");
  expect (&r, "setns", "EPERM");
  h_result_free (&r);

  sb_run (&r, NONE, ARGS ("/bin/sh", "-c", "unshare -U true; echo unshare=$?"));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  expect (&r, "unshare", "1");
  cr_assert_not_null (strstr (r.err, "Operation not permitted"), "stderr: %s", r.err);
  h_result_free (&r);
}

Test (sandbox_security, clone_newuser_denied)
{
  struct h_result r;
  /* A plain clone (fork) works; clone3 says ENOSYS so libc falls back. */
  sb_probe (&r, NONE, ARGS ("clone_newuser", "clone_plain", "clone3"));
  expect (&r, "clone_newuser", "EPERM");
  expect (&r, "clone_plain", "ok");
  expect (&r, "clone3", "ENOSYS");
  h_result_free (&r);
}

Test (sandbox_security, ptrace_sibling_denied)
{
  struct h_result r;
  /* The probe forks a child and attaches to it: same uid, same sandbox. */
  sb_probe (&r, NONE, ARGS ("ptrace_attach", "ptrace_seize", "process_vm_readv"));
  expect (&r, "ptrace_attach", "EPERM");
  expect (&r, "ptrace_seize", "EPERM");
  expect (&r, "process_vm_readv", "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, keyctl_denied)
{
  struct h_result r;
  sb_probe (&r, NONE,
            ARGS ("add_key", "keyctl", "request_key", "x32_getpid", "x32_keyctl", "i386_getpid",
                  "i386_keyctl"));
  expect (&r, "add_key", "EPERM");
  expect (&r, "keyctl", "EPERM");
  expect (&r, "request_key", "EPERM");
  /* The x32 ABI: getpid passes the filter (this kernel has no x32: ENOSYS),
   * keyctl is stopped by it. */
  const char *x32 = val (r.out, "x32_getpid");
  cr_assert (x32 && (strcmp (x32, "ok") == 0 || strcmp (x32, "ENOSYS") == 0), "x32_getpid=%s",
             x32 ? x32 : "(nothing)");
  expect (&r, "x32_keyctl", "EPERM");
  /* The i386 ABI (int $0x80) only where the kernel has IA32 emulation. */
  const char *i386 = val (r.out, "i386_getpid");
  cr_assert_not_null (i386, "%s", r.out);
  if (strcmp (i386, "ok") == 0)
    expect (&r, "i386_keyctl", "EPERM");
  else
    cr_log_info ("no IA32 emulation here (i386_getpid=%s): i386 keyctl not checked", i386);
  h_result_free (&r);
}

Test (sandbox_security, bpf_denied)
{
  struct h_result r;
  /* An unprivileged BPF_MAP_CREATE is EPERM from the kernel too
   * (unprivileged_bpf_disabled); a bad command (EINVAL) and an oversized
   * attr (E2BIG) are not, when the call gets through. */
  sb_probe (&r, NONE, ARGS ("bpf", "bpf_bad_cmd", "bpf_e2big"));
  expect (&r, "bpf", "EPERM");
  expect (&r, "bpf_bad_cmd", "EPERM");
  expect (&r, "bpf_e2big", "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, perf_event_open_denied)
{
  struct h_result r;
  /* Self-monitoring of user time, which perf_event_paranoid <= 2 allows
   * anyone: the denial is the filter's. */
  sb_probe (&r, NONE, ARGS ("perf_event_open"));
  expect (&r, "perf_event_open", "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, userfaultfd_denied)
{
  struct h_result r;
  /* UFFD_USER_MODE_ONLY, which needs no privilege. */
  sb_probe (&r, NONE, ARGS ("userfaultfd", "io_uring_setup"));
  expect (&r, "userfaultfd", "EPERM");
  expect (&r, "io_uring_setup", "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, kexec_and_modules_denied)
{
  struct h_result r;
  sb_probe (&r, NONE,
            ARGS ("kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                  "reboot", "syslog", "open_by_handle_at"));
  static const char *const denied[]
      = { "kexec_load",    "kexec_file_load", "init_module", "finit_module",
          "delete_module", "reboot",          "syslog",      "open_by_handle_at" };
  for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
    expect (&r, denied[i], "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, personality_restricted)
{
  struct h_result r;
  /* The query and the ordinary personas (seccomp.h: PER_LINUX,
   * PER_LINUX32, UNAME26 with each) pass; READ_IMPLIES_EXEC,
   * ADDR_NO_RANDOMIZE and foreign personas do not. */
  sb_probe (&r, NONE,
            ARGS ("personality_query", "personality_0x8", "personality_0x20000",
                  "personality_0x20008", "personality_0x0400000", "personality_0x0040000",
                  "personality_0x6"));
  expect (&r, "personality_query", "0");
  expect (&r, "personality_0x8", "ok");
  expect (&r, "personality_0x20000", "ok");
  expect (&r, "personality_0x20008", "ok");
  expect (&r, "personality_0x0400000", "EPERM");
  expect (&r, "personality_0x0040000", "EPERM");
  expect (&r, "personality_0x6", "EPERM");
  h_result_free (&r);
}

Test (sandbox_security, tiocsti_denied)
{
  struct h_result r;
  /* A pty made inside, the controlling terminal of a new session: without
   * the filter TIOCSTI works there (unconfined_lifts_the_filter), so EPERM
   * is the filter's, also with bits above 32 set (the kernel ignores
   * them); an ordinary tty ioctl works. */
  sb_probe (&r, NONE, ARGS ("tty"));
  expect (&r, "tiocsti", "EPERM");
  expect (&r, "tiocsti_hi", "EPERM");
  expect (&r, "tiocgwinsz", "ok");
  h_result_free (&r);
}

/* A terminal for `sandbox run`: the controlling terminal of a new session
 * whose stdin, stdout and stderr it is, as when a user types the command.
 * Returns the run's exit status, what it wrote and how many bytes of
 * input wait in the terminal afterwards. */
static int
run_on_terminal (const char *const *opts, const char *const *prog, char **ret_out, int *ret_pending)
{
  int m = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  cr_assert_geq (m, 0, "posix_openpt: %s", strerror (errno));
  cr_assert_eq (grantpt (m), 0);
  cr_assert_eq (unlockpt (m), 0);
  char name[128];
  cr_assert_eq (ptsname_r (m, name, sizeof name), 0);
  int keep = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  cr_assert_geq (keep, 0, "open %s: %s", name, strerror (errno));
  const char *const *argv = sandbox_argv (opts, prog);
  fflush (NULL);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0, "fork: %s", strerror (errno));
  if (pid == 0)
    {
      setsid ();
      int s = open (name, O_RDWR);
      if (s < 0 || ioctl (s, TIOCSCTTY, 0) < 0 || dup2 (s, 0) < 0 || dup2 (s, 1) < 0
          || dup2 (s, 2) < 0)
        _exit (126);
      syscall (SYS_close_range, 3, ~0U, 0);
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  bg_pid = pid;
  char *out = NULL;
  size_t len = 0;
  FILE *mem = open_memstream (&out, &len);
  int status = -1;
  for (int waited_ms = 0;; waited_ms += 100)
    {
      struct pollfd p = { .fd = m, .events = POLLIN };
      if (poll (&p, 1, 100) == 1 && (p.revents & POLLIN))
        {
          char buf[4096];
          ssize_t n = read (m, buf, sizeof buf);
          if (n > 0)
            fwrite (buf, 1, (size_t) n, mem);
        }
      int st;
      if (status < 0 && waitpid (pid, &st, WNOHANG) == pid)
        {
          status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
          bg_pid = -1;
          waited_ms = 29700; /* drain a moment more */
        }
      if (waited_ms >= 30000)
        break;
    }
  if (status < 0)
    {
      stop_child (pid);
      bg_pid = -1;
    }
  int pending = -1;
  ioctl (keep, TIOCINQ, &pending);
  fclose (mem);
  close (keep);
  close (m);
  *ret_out = out;
  *ret_pending = pending;
  read_result ();
  nothing_left ();
  return status;
}

Test (sandbox_security, caller_terminal_cannot_be_pushed)
{
  char *out;
  int pending;
  int status = run_on_terminal (NONE, ARGS (PROBE, "tiocsti0"), &out, &pending);
  cr_assert_eq (status, 0, "status %d: %s", status, out);
  struct h_result r = { .out = out, .err = (char *) "" };
  expect (&r, "tiocsti0", "EPERM");
  cr_assert_eq (pending, 0, "%d bytes pushed into the caller's terminal", pending);
  free (out);
}

Test (sandbox_security, caller_terminal_cannot_be_pushed_unconfined)
{
  /* Without the filter only the kernel stands between the sandbox and its
   * caller's terminal: TIOCSTI needs CAP_SYS_ADMIN (which the sandbox
   * never has over the host) unless the terminal is the caller's own
   * controlling terminal.  It is, unless airlock gives the sandbox a
   * session of its own (setsid, as bubblewrap --new-session). */
  char *out;
  int pending;
  int status = run_on_terminal (ARGS ("--seccomp", "unconfined"), ARGS (PROBE, "tiocsti0"), &out,
                                &pending);
  cr_assert_eq (status, 0, "status %d: %s", status, out);
  struct h_result r = { .out = out, .err = (char *) "" };
  expect (&r, "tiocsti0", sysctl_num ("/proc/sys/dev/tty/legacy_tiocsti", 1) ? "EPERM" : "EIO");
  cr_assert_eq (pending, 0, "%d bytes pushed into the caller's terminal", pending);
  free (out);
}

Test (sandbox_security, denied_is_errno_not_kill)
{
  struct h_result r;
  /* One denied call after another, then "alive" and exit 0, status OK. */
  sb_probe (&r, NONE,
            ARGS ("keyctl", "mount", "ptrace_attach", "bpf", "unshare_user", "userfaultfd",
                  "kexec_load", "perf_event_open", "tty"));
  expect (&r, "keyctl", "EPERM");
  expect (&r, "tiocsti", "EPERM");
  h_result_free (&r);

  /* The same check sees a kill: a profile that kills on keyctl ends the
   * probe with SIGSYS before "alive". */
  char profile[PATH_MAX];
  path_in (profile, sizeof profile, "kill.json");
  h_write_file (profile, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                         "[\"keyctl\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}\n");
  sb_run (&r, ARGS ("--seccomp", profile), ARGS (PROBE, "keyctl"));
  cr_assert_eq (r.status, 128 + SIGSYS, "status %d: %s", r.status, r.err);
  cr_assert_null (strstr (r.out, "alive"), "%s", r.out);
  cr_assert_str_eq (last_status, "SG");
  h_result_free (&r);
}

Test (sandbox_security, unconfined_lifts_the_filter)
{
  struct h_result r;
  /* What the kernel alone says in the sandbox, given the host's knobs: no
   * EPERM from a filter where nothing else denies.  unshare_user last: it
   * leaves the probe in a user namespace of its own. */
  sb_probe (&r, ARGS ("--seccomp", "unconfined"),
            ARGS ("keyctl", "add_key", "perf_event_open", "userfaultfd", "mount", "ptrace_attach",
                  "clone3", "personality_0x0400000", "tty", "clone_newuser", "unshare_user"));
  expect (&r, "keyctl", "ok");
  expect (&r, "add_key", "ok");
  /* perf_event_paranoid 3 (a Debian patch) refuses with EACCES. */
  expect (&r, "perf_event_open",
          sysctl_num ("/proc/sys/kernel/perf_event_paranoid", 2) > 2 ? "EACCES" : "ok");
  expect (&r, "userfaultfd", "ok"); /* UFFD_USER_MODE_ONLY needs no privilege */
  expect (&r, "mount", "ENOENT");   /* looked up before the capability check */
  /* Yama: scope 1 lets a process trace its children, 2 and 3 do not. */
  expect (&r, "ptrace_attach",
          sysctl_num ("/proc/sys/kernel/yama/ptrace_scope", 0) >= 2 ? "EPERM" : "ok");
  expect (&r, "clone3", "ok");
  expect (&r, "personality_0x0400000", "ok");
  /* Its own session's terminal; with legacy_tiocsti 0 only CAP_SYS_ADMIN
   * may (EIO). */
  expect (&r, "tiocsti", sysctl_num ("/proc/sys/dev/tty/legacy_tiocsti", 1) ? "ok" : "EIO");
  /* User namespaces nest: even unconfined the sandbox owns nothing more on
   * the host.  (Debian's unprivileged_userns_clone 0 refuses.) */
  const char *userns
      = sysctl_num ("/proc/sys/kernel/unprivileged_userns_clone", 1) ? "ok" : "EPERM";
  expect (&r, "clone_newuser", userns);
  expect (&r, "unshare_user", userns);
  h_result_free (&r);
}

Test (sandbox_security, profile_file_errno)
{
  char profile[PATH_MAX];
  path_in (profile, sizeof profile, "mkdir.json");
  h_write_file (profile, "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                         " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
                         "\"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}\n");
  struct h_result r;
  /* Only mkdir: mkdirat and the rest work, keyctl included (the profile
   * replaces the built-in one). */
  sb_probe (&r, ARGS ("--seccomp", profile),
            ARGS ("mkdir", "/tmp/a", "mkdirat", "/tmp/b", "write", "/tmp/c", "keyctl"));
  expect (&r, "mkdir:/tmp/a", "ENOSYS");
  expect (&r, "mkdirat:/tmp/b", "ok");
  expect (&r, "write:/tmp/c", "ok");
  expect (&r, "keyctl", "ok");
  h_result_free (&r);

  sb_run (&r, ARGS ("--seccomp", profile),
          ARGS ("/bin/sh", "-c", "mkdir /tmp/d; echo mkdir=$?; echo x > /tmp/e && echo write=0"));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  expect (&r, "mkdir", "1");
  expect (&r, "write", "0");
  cr_assert_not_null (strstr (r.err, "Function not implemented"), "stderr: %s", r.err);
  h_result_free (&r);
}

Test (sandbox_security, profile_file_malformed)
{
  char profile[PATH_MAX];
  path_in (profile, sizeof profile, "bad.json");
  /* A trailing comma: the parser stops at the `]` of line 3, column 2. */
  h_write_file (profile,
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                " \"syscalls\": [ {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"},\n"
                " ]}\n");
  struct h_result r;
  sb_run (&r, ARGS ("--seccomp", profile), ARGS ("/bin/true"));
  cr_assert_eq (r.status, 125, "status %d: %s", r.status, r.err);
  char want[PATH_MAX + 16];
  snprintf (want, sizeof want, "%s:3:2:", profile);
  cr_assert_not_null (strstr (r.err, want), "stderr does not name `%s`: %s", want, r.err);
  cr_assert_not_null (strstr (r.err, "invalid JSON"), "stderr: %s", r.err);
  cr_assert_str_eq (last_status, "XX");
  h_result_free (&r);
}

Test (sandbox_security, profile_file_unknown_action)
{
  char profile[PATH_MAX];
  path_in (profile, sizeof profile, "action.json");
  h_write_file (profile,
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_BOGUS\"}]}\n");
  struct h_result r;
  sb_run (&r, ARGS ("--seccomp", profile), ARGS ("/bin/true"));
  cr_assert_eq (r.status, 125, "status %d: %s", r.status, r.err);
  cr_assert_not_null (strstr (r.err, "syscalls[0].action"), "stderr does not name the field: %s",
                      r.err);
  cr_assert_not_null (strstr (r.err, "SCMP_ACT_BOGUS"), "stderr: %s", r.err);
  cr_assert_str_eq (last_status, "XX");
  h_result_free (&r);
}

/* ------------------------------------------------- privileges and ids */

Test (sandbox_security, setuid_root_gains_nothing)
{
  /* A copy of the probe, owned by root, mode 4755: as --user 1000 its
   * euid stays 1000 (binds are nosuid, and no_new_privs). */
  char dir[PATH_MAX], bin[PATH_MAX + 16], src[PATH_MAX + 16], bind[PATH_MAX + 16];
  path_in (dir, sizeof dir, "suid");
  cr_assert_eq (mkdir (dir, 0755), 0, "mkdir: %s", strerror (errno));
  snprintf (bin, sizeof bin, "%s/idprobe", dir);
  snprintf (src, sizeof src, "%s/probe", probe_dir ());
  struct h_result c;
  struct h_spawn s = { .timeout_s = 30 };
  h_spawn (&c, &s, ARGS ("/bin/cp", src, bin));
  cr_assert_eq (c.status, 0, "cp: %s", c.err);
  h_result_free (&c);
  cr_assert_eq (chown (bin, 0, 0), 0);
  cr_assert_eq (chmod (bin, 04755), 0);
  struct stat st;
  cr_assert_eq (stat (bin, &st), 0);
  cr_assert (st.st_uid == 0 && (st.st_mode & S_ISUID), "not setuid root");

  snprintf (bind, sizeof bind, "%s:/suid:ro", dir);
  struct h_result r;
  sb_run (&r, ARGS ("--user", "1000", "--bind", bind), ARGS ("/suid/idprobe", "ids"));
  cr_assert_eq (r.status, 0, "status %d: %s%s", r.status, r.out, r.err);
  expect (&r, "ids", "1000,1000,1000,1000");
  h_result_free (&r);
}

Test (sandbox_security, capabilities_dropped)
{
  struct h_result r;
  static const char *const script
      = "for k in CapInh CapPrm CapEff CapBnd CapAmb; do "
        "printf '%s=%s\\n' $k $(awk -v k=$k: '$1 == k { print $2 }' /proc/self/status); done; "
        "/probe/probe rawsock";
  sb_run (&r, NONE, ARGS ("/bin/sh", "-c", script));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
  for (int i = 0; i < 5; i++)
    expect (&r, sets[i], "0000000000000000");
  expect (&r, "rawsock", "EPERM");
  h_result_free (&r);

  /* --cap-add NET_RAW: exactly bit 13, as root and as --user 1000 (ambient). */
  static const char *const users[] = { "0", "1000" };
  for (int u = 0; u < 2; u++)
    {
      sb_run (&r, ARGS ("--cap-add", "NET_RAW", "--user", users[u]),
              ARGS ("/bin/sh", "-c", script));
      cr_assert_eq (r.status, 0, "--user %s: status %d: %s", users[u], r.status, r.err);
      for (int i = 0; i < 5; i++)
        expect (&r, sets[i], "0000000000002000");
      expect (&r, "rawsock", "ok");
      h_result_free (&r);
    }
}

Test (sandbox_security, uid_mapping)
{
  /* A writable bind: dir owned by root, and a subdir owned by host uid 1000. */
  char rw[PATH_MAX], sub[PATH_MAX + 16], bind[PATH_MAX + 16];
  path_in (rw, sizeof rw, "rw");
  cr_assert_eq (mkdir (rw, 0711), 0);
  cr_assert_eq (chmod (rw, 0711), 0);
  snprintf (sub, sizeof sub, "%s/u1000", rw);
  cr_assert_eq (mkdir (sub, 0700), 0);
  cr_assert_eq (chown (sub, 1000, 1000), 0);
  snprintf (bind, sizeof bind, "%s:/rw", rw);

  struct h_result r;
  sb_run (&r, ARGS ("--bind", bind),
          ARGS ("/bin/sh", "-c",
                "awk '$5 == \"/rw\" { print \"rwopts=\" $6 }' /proc/self/mountinfo; "
                "/probe/probe uidmap gidmap write /rw/by-root"));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  cr_assert (strstr (r.out, "\nalive\n"), "%s", r.out);
  unsigned long base = UID_BASE + slot_of (&r) * IDS;
  char want[64];
  snprintf (want, sizeof want, "0,%lu,%lu", base, IDS);
  expect (&r, "uidmap", want);
  expect (&r, "uidmap_lines", "1");
  expect (&r, "gidmap", want);
  expect (&r, "gidmap_lines", "1");
  /* An idmapped bind shows host ids 0..65535 as the sandbox's 0..65535:
   * what its root writes is host root's.  A filesystem that cannot be
   * idmapped (tmpfs before Linux 6.3: the VM tier's guest) keeps the ids
   * of the user namespace: the host's root-owned directory is then not
   * the sandbox's to write. */
  const char *opts = val (r.out, "rwopts");
  cr_assert_not_null (opts, "no mountinfo line for /rw: %s", r.out);
  bool idmapped = strstr (opts, "idmapped") != NULL;
  if (!idmapped)
    {
      expect (&r, "write:/rw/by-root", "EACCES");
      cr_log_info ("bind not idmapped here (%s): the sandbox's root cannot write to it", opts);
      h_result_free (&r);
      return;
    }
  expect (&r, "write:/rw/by-root", "ok");
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/by-root", rw);
  struct stat st;
  cr_assert_eq (stat (path, &st), 0, "%s: %s", path, strerror (errno));
  uid_t expect_uid = idmapped ? 0 : (uid_t) base;
  cr_assert (st.st_uid == expect_uid && st.st_gid == expect_uid,
             "%s: owned by %u:%u, expected %u (bind %sidmapped)", path, st.st_uid, st.st_gid,
             expect_uid, idmapped ? "" : "not ");
  cr_log_info ("bind %s: the sandbox's root writes as host uid %u", idmapped ? "idmapped" : "plain",
               expect_uid);
  h_result_free (&r);

  if (idmapped)
    {
      /* And its uid 1000 is the host's 1000. */
      sb_run (&r, ARGS ("--bind", bind, "--user", "1000"), ARGS (PROBE, "write", "/rw/u1000/f"));
      cr_assert_eq (r.status, 0, "status %d: %s%s", r.status, r.out, r.err);
      expect (&r, "write:/rw/u1000/f", "ok");
      cr_assert_lt (snprintf (path, sizeof path, "%s/f", sub), (int) sizeof path);
      cr_assert_eq (stat (path, &st), 0, "%s: %s", path, strerror (errno));
      cr_assert (st.st_uid == 1000 && st.st_gid == 1000, "owned by %u:%u", st.st_uid, st.st_gid);
      h_result_free (&r);
    }
}

Test (sandbox_security, bind_cannot_plant_setuid_root)
{
  /* The sandbox has no capability at all, yet through an idmapped
   * writable bind its root owns what host root owns: it may create a file
   * and chmod it 4755 (an owner needs no capability to set S_ISUID), which
   * on the host is a setuid-root file outside any nosuid mount.  The file
   * written here is the one byte "x", not a program, in a 0700 directory,
   * and is removed at once. */
  char rw[PATH_MAX], bind[PATH_MAX + 16], path[PATH_MAX + 16];
  path_in (rw, sizeof rw, "plant");
  cr_assert_eq (mkdir (rw, 0700), 0);
  snprintf (bind, sizeof bind, "%s:/rw", rw);
  snprintf (path, sizeof path, "%s/planted", rw);
  struct h_result r;
  sb_probe (&r, ARGS ("--bind", bind),
            ARGS ("write", "/rw/planted", "chmod", "4755", "/rw/planted"));
  struct stat st;
  int sr = stat (path, &st);
  int serr = errno;
  unlink (path);
  if (sr < 0)
    {
      /* Refused outright: also fine. */
      cr_assert_eq (serr, ENOENT, "%s: %s", path, strerror (serr));
      cr_assert_str_neq (val (r.out, "write:/rw/planted"), "ok", "written, yet gone: %s", r.out);
      h_result_free (&r);
      return;
    }
  cr_assert (!((st.st_mode & S_ISUID) && st.st_uid == 0),
             "a capability-less sandbox made a setuid-root file on the host: %s owned by %u, "
             "mode %o (probe: %s)",
             path, st.st_uid, st.st_mode & 07777, val (r.out, "chmod:/rw/planted"));
  h_result_free (&r);
}

/* ------------------------------------------------------------- network */

Test (sandbox_security, network_none)
{
  int port = host_listener ("127.0.0.1");
  char target[64];
  snprintf (target, sizeof target, "127.0.0.1:%d", port);
  char key[80];
  snprintf (key, sizeof key, "connect:%s", target);
  struct h_result r;
  /* lo is down: no route even to 127.0.0.1, ours or the host's. */
  sb_probe (&r, NONE,
            ARGS ("connect", target, "selfconnect", "ls", "/sys/class/net", "cat",
                  "/sys/class/net/lo/operstate", "cat", "/sys/class/net/lo/flags"));
  expect (&r, key, "ENETUNREACH");
  expect (&r, "selfconnect", "ENETUNREACH");
  expect (&r, "ls:/sys/class/net", "lo");
  expect (&r, "cat:/sys/class/net/lo/operstate", "down");
  expect (&r, "cat:/sys/class/net/lo/flags", "0x8");
  h_result_free (&r);
}

Test (sandbox_security, network_loopback)
{
  int port = host_listener ("127.0.0.1");
  char target[64], key[80];
  snprintf (target, sizeof target, "127.0.0.1:%d", port);
  snprintf (key, sizeof key, "connect:%s", target);
  struct h_result r;
  sb_probe (&r, ARGS ("--network", "loopback"),
            ARGS ("selfconnect", "connect", target, "ls", "/sys/class/net", "cat",
                  "/sys/class/net/lo/flags"));
  expect (&r, "selfconnect", "ok");
  expect (&r, key, "ECONNREFUSED"); /* its own lo: nobody listens there */
  expect (&r, "ls:/sys/class/net", "lo");
  expect (&r, "cat:/sys/class/net/lo/flags", "0x9"); /* IFF_UP | IFF_LOOPBACK */
  h_result_free (&r);
}

Test (sandbox_security, network_host)
{
  /* Documented as not isolated: the host's loopback listener answers. */
  int port = host_listener ("127.0.0.1");
  char target[64], key[80];
  snprintf (target, sizeof target, "127.0.0.1:%d", port);
  snprintf (key, sizeof key, "connect:%s", target);
  struct h_result r;
  sb_probe (&r, ARGS ("--network", "host"), ARGS ("connect", target));
  expect (&r, key, "ok");
  h_result_free (&r);
}

/* A run in the background: stdout on a pipe read as it comes, stderr in
 * a file. */
struct bg
{
  pid_t pid;
  int out;
  char buf[16384];
  size_t len;
  char err_path[PATH_MAX];
};

static void
bg_start (struct bg *g, const char *const *argv)
{
  memset (g, 0, sizeof *g);
  int p[2];
  cr_assert_eq (pipe2 (p, O_CLOEXEC), 0);
  path_in (g->err_path, sizeof g->err_path, "bg.err");
  int err = open (g->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  cr_assert (err >= 0 && in >= 0);
  fflush (NULL);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0, "fork: %s", strerror (errno));
  if (pid == 0)
    {
      if (dup2 (in, 0) < 0 || dup2 (p[1], 1) < 0 || dup2 (err, 2) < 0 || chdir (sb.dir) < 0)
        _exit (126);
      syscall (SYS_close_range, 3, ~0U, 0);
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  bg_pid = g->pid = pid;
  close (p[1]);
  close (err);
  close (in);
  g->out = p[0];
}

/* Read until a line KEY=... has come (its value), EOF or timeout (NULL). */
static const char *
bg_await (struct bg *g, const char *key, int timeout_ms)
{
  for (int waited = 0; waited < timeout_ms; waited += 100)
    {
      const char *v = val (g->buf, key);
      if (v)
        return v;
      struct pollfd p = { .fd = g->out, .events = POLLIN };
      if (poll (&p, 1, 100) != 1)
        continue;
      ssize_t n = read (g->out, g->buf + g->len, sizeof g->buf - 1 - g->len);
      if (n <= 0)
        return val (g->buf, key);
      g->len += (size_t) n;
      g->buf[g->len] = '\0';
    }
  return val (g->buf, key);
}

/* Read to the end and reap it (killed after timeout_s); r as h_spawn's. */
static void
bg_finish (struct bg *g, struct h_result *r, int timeout_s)
{
  int status = -1;
  for (int waited = 0; waited < timeout_s * 1000; waited += 100)
    {
      struct pollfd p = { .fd = g->out, .events = POLLIN };
      ssize_t n = 0;
      if (poll (&p, 1, 100) == 1)
        {
          n = read (g->out, g->buf + g->len, sizeof g->buf - 1 - g->len);
          if (n > 0)
            {
              g->len += (size_t) n;
              g->buf[g->len] = '\0';
            }
        }
      int st;
      if (waitpid (g->pid, &st, WNOHANG) == g->pid)
        {
          status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
          break;
        }
      /* At end of file poll returns at once: wait the step out. */
      if (n <= 0 && (p.revents & (POLLHUP | POLLERR)))
        usleep (100 * 1000);
    }
  if (status < 0)
    stop_child (g->pid);
  bg_pid = -1;
  fcntl (g->out, F_SETFL, O_NONBLOCK);
  ssize_t n;
  while ((n = read (g->out, g->buf + g->len, sizeof g->buf - 1 - g->len)) > 0)
    {
      g->len += (size_t) n;
      g->buf[g->len] = '\0';
    }
  close (g->out);
  r->status = status;
  r->out = strdup (g->buf);
  r->err = h_read_file (g->err_path);
  if (r->err == NULL)
    r->err = strdup ("");
}

static bool
link_exists (const char *name)
{
  char path[128];
  snprintf (path, sizeof path, "/sys/class/net/%s", name);
  return access (path, F_OK) == 0;
}

Test (sandbox_security, network_private)
{
  int port = host_listener ("127.0.0.1");
  char target[64], key[80];
  snprintf (target, sizeof target, "127.0.0.1:%d", port);
  snprintf (key, sizeof key, "connect:%s", target);
  struct bg g;
  bg_start (&g, sandbox_argv (ARGS ("--network", "private", "--timeout", "25s"),
                              ARGS (PROBE, "uidmap", "netinfo", "eth0", "ls", "/sys/class/net",
                                    "connect", target, "serve")));
  const char *served_port = bg_await (&g, "serve", 15000);
  cr_assert_not_null (served_port, "the sandbox did not start serving:\n%s", g.buf);
  int inside_port = atoi (served_port);

  /* Inside: eth0 with the slot's /30, the default route via the host end,
   * only lo and eth0, and the host's loopback out of reach. */
  struct h_result early = { .out = g.buf, .err = (char *) "" };
  unsigned long slot = slot_of (&early);
  char inside[32], host_end[32], dflt[64], ifname[32];
  snprintf (inside, sizeof inside, "10.213.%lu.%lu", slot / 64, (slot % 64) * 4 + 2);
  snprintf (host_end, sizeof host_end, "10.213.%lu.%lu", slot / 64, (slot % 64) * 4 + 1);
  snprintf (dflt, sizeof dflt, "eth0,%s", host_end);
  snprintf (ifname, sizeof ifname, "alsb%lu", slot);
  expect (&early, "addr", inside);
  expect (&early, "netmask", "255.255.255.252");
  expect (&early, "default", dflt);
  expect (&early, "ls:/sys/class/net", "eth0,lo");
  expect (&early, key, "ECONNREFUSED");

  /* From the host: alsb<slot> exists while the run lasts, and the
   * sandbox's listener on 0.0.0.0 answers on the inside address. */
  cr_assert (link_exists (ifname), "no %s on the host while the run lasts", ifname);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) inside_port) };
  inet_pton (AF_INET, inside, &sa.sin_addr);
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int cr = connect (fd, (struct sockaddr *) &sa, sizeof sa);
  int cerr = errno;
  char hello[64] = "";
  ssize_t n = cr == 0 ? read (fd, hello, sizeof hello - 1) : -1;
  if (n > 0)
    hello[n] = '\0';
  close (fd);

  struct h_result r;
  bg_finish (&g, &r, 30);
  read_result ();
  cr_assert_eq (cr, 0, "connect %s:%d from the host: %s", inside, inside_port, strerror (cerr));
  cr_assert_str_eq (hello, "hello-from-sandbox\n");
  cr_assert_eq (r.status, 0, "status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
  expect (&r, "served", "ok");
  nothing_left ();

  /* The pair goes with the namespace, which the kernel tears down a moment
   * after the last process left. */
  for (int i = 0; i < 300 && link_exists (ifname); i++)
    usleep (100 * 1000);
  cr_assert (!link_exists (ifname), "%s still exists after the run", ifname);
  h_result_free (&r);
}

/* ------------------------------------------------------ what it can see */

Test (sandbox_security, proc_shows_only_the_sandbox)
{
  struct h_result r;
  sb_probe (&r, NONE, ARGS ("pid", "procs", "cat", "/proc/1/comm", "hostname"));
  /* pid 1 is airlock's init (it reaps and forwards signals), the program
   * its only child. */
  expect (&r, "pid", "2");
  expect (&r, "procs", "2");
  expect (&r, "cat:/proc/1/comm", "airlock-init");
  expect (&r, "hostname", "sandbox");
  h_result_free (&r);

  sb_run (
      &r, NONE,
      ARGS ("/bin/sh", "-c", "echo procs=$(ls /proc | grep -c '^[0-9]'); echo host=$(hostname)"));
  cr_assert_eq (r.status, 0, "status %d: %s", r.status, r.err);
  const char *n = val (r.out, "procs");
  /* init, sh, the command substitution's subshell, ls, grep */
  cr_assert (n && atoi (n) >= 2 && atoi (n) <= 5, "processes in /proc: %s", n ? n : "?");
  expect (&r, "host", "sandbox");
  h_result_free (&r);
}

Test (sandbox_security, sys_read_only)
{
  struct h_result r;
  sb_probe (&r, NONE,
            ARGS ("statvfs_ro", "/sys", "mkdirat", "/sys/al-probe", "statvfs_ro", "/proc/sys"));
  expect (&r, "statvfs_ro:/sys", "ro");
  expect (&r, "mkdirat:/sys/al-probe", "EROFS");
  expect (&r, "statvfs_ro:/proc/sys", "ro");
  h_result_free (&r);
}

Test (sandbox_security, dev_is_minimal)
{
  struct h_result r;
  sb_probe (&r, NONE, ARGS ("ls", "/dev", "blockdevs", "/dev", "cat", "/dev/vda"));
  const char *dev = val (r.out, "ls:/dev");
  cr_assert_not_null (dev, "%s", r.out);
  static const char *const required[]
      = { "null", "zero", "full", "random", "urandom", "tty", "pts", "shm" };
  static const char *const allowed[]
      = { "null", "zero", "full",  "random", "urandom", "tty",    "pts",    "shm",
          "ptmx", "fd",   "stdin", "stdout", "stderr",  "mqueue", "console" };
  char list[1024];
  snprintf (list, sizeof list, ",%s,", dev);
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    {
      char item[64];
      snprintf (item, sizeof item, ",%s,", required[i]);
      cr_assert_not_null (strstr (list, item), "/dev has no %s: %s", required[i], dev);
    }
  char copy[1024];
  snprintf (copy, sizeof copy, "%s", dev);
  for (char *save = NULL, *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      bool known = false;
      for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        known |= strcmp (t, allowed[i]) == 0;
      cr_assert (known, "/dev/%s in the sandbox (all: %s)", t, dev);
    }
  expect (&r, "blockdevs", "0");
  expect (&r, "cat:/dev/vda", "ENOENT");
  h_result_free (&r);
}

Test (sandbox_security, host_pids_invisible)
{
  char self[32], key[48];
  snprintf (self, sizeof self, "%d", (int) getpid ());
  snprintf (key, sizeof key, "kill0:%s", self);
  cr_assert_gt (getpid (), 1);
  struct h_result r;
  sb_probe (&r, NONE, ARGS ("kill0", "1", "kill0", self));
  expect (&r, "kill0:1", "ok"); /* its own pid 1: airlock's init */
  expect (&r, key, "ESRCH");
  h_result_free (&r);
}
