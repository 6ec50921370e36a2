/* test_supervisor.c — the supervisor's event loop and result records
 * (runtime/supervisor.h), on plain /bin/sh children: no containers.
 *
 * Every process a test kills is one it started: its child, or a grandchild
 * that this test process adopts as a child subreaper. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "supervisor.h"

static char tmpdir[64];

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
setup (void)
{
  /* A hung test dies of SIGALRM instead of blocking the suite. */
  alarm (60);
  snprintf (tmpdir, sizeof tmpdir, "/tmp/al-sup-XXXXXX");
  cr_assert_not_null (mkdtemp (tmpdir));
}

static void
teardown (void)
{
  nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite (supervisor, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------ helpers */

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Start `sh -c script`.  out/err/ctl (may be NULL) get the read ends of pipes
 * that are the child's fd 1, 2 and 3. */
static pid_t
spawn (const char *script, int *out, int *err, int *ctl)
{
  int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
  int *want[3] = { out, err, ctl };

  for (int i = 0; i < 3; i++)
    if (want[i])
      cr_assert_eq (pipe2 (p[i], O_CLOEXEC), 0);

  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      for (int i = 0; i < 3; i++)
        if (want[i] && dup2 (p[i][1], i + 1) < 0)
          _exit (126);
      execl ("/bin/sh", "sh", "-c", script, (char *) NULL);
      _exit (127);
    }
  for (int i = 0; i < 3; i++)
    if (want[i])
      {
        close (p[i][1]);
        *want[i] = p[i][0];
      }
  return pid;
}

static struct al_supervise_opts
opts_for (pid_t pid)
{
  return (struct al_supervise_opts){
    .pid = pid,
    .pidfd = -1,
    .out_fd = -1,
    .err_fd = -1,
    .out_sink = -1,
    .err_sink = -1,
  };
}

/* Read from fd until `word` has been seen; the text goes to buf. */
static void
read_until (int fd, const char *word, char *buf, size_t size)
{
  size_t len = 0;
  buf[0] = '\0';
  while (!strstr (buf, word))
    {
      cr_assert_lt (len, size - 1, "no `%s` in `%s`", word, buf);
      ssize_t n = read (fd, buf + len, size - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      cr_assert_gt (n, 0, "EOF before `%s`; got `%s`", word, buf);
      len += (size_t) n;
      buf[len] = '\0';
    }
}

/* A child of ours (or an adopted orphan) is dead and reaped within 5 s;
 * returns its wait status.  If it still runs, kill it and fail. */
static int
expect_dies (pid_t pid)
{
  int status;
  for (int i = 0; i < 500; i++)
    {
      pid_t w = waitpid (pid, &status, WNOHANG);
      if (w == pid)
        return status;
      cr_assert_eq (w, 0, "waitpid %d: %s", (int) pid, strerror (errno));
      sleep_ms (10);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  cr_assert_fail ("pid %d survived", (int) pid);
  return -1;
}

/* The child was reaped by the supervisor: nothing left to wait for. */
static void
expect_reaped (pid_t pid)
{
  cr_assert_eq (waitpid (pid, NULL, WNOHANG), -1);
  cr_assert_eq (errno, ECHILD);
}

static int
memfd (void)
{
  int fd = memfd_create ("sink", MFD_CLOEXEC);
  cr_assert_geq (fd, 0);
  return fd;
}

static off_t
fd_size (int fd)
{
  struct stat st;
  cr_assert_eq (fstat (fd, &st), 0);
  return st.st_size;
}

/* ------------------------------------------------------------------ exits */

Test (supervisor, exit_zero_is_ok)
{
  pid_t pid = spawn ("exit 0", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid); /* pidfd -1: opened inside */
  struct al_supervise_result r;
  struct al_error err = { 0 };

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_OK);
  cr_assert_eq (r.exitcode, 0);
  cr_assert_eq (r.exitsig, 0);
  cr_assert_not (r.killed);
  cr_assert_eq (al_result_exit_code (&r), 0);
  cr_assert_geq (r.time_wall_s, 0.0);
  cr_assert_gt (r.max_rss_kib, 0);
  cr_assert (r.end.tv_sec >= r.start.tv_sec);
  expect_reaped (pid);
}

Test (supervisor, exit_three_is_re)
{
  pid_t pid = spawn ("exit 3", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };

  o.pidfd = (int) syscall (SYS_pidfd_open, pid, 0); /* the caller's own pidfd */
  cr_assert_geq (o.pidfd, 0);
  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_RE);
  cr_assert_eq (r.exitcode, 3);
  cr_assert_eq (r.exitsig, 0);
  cr_assert_eq (al_result_exit_code (&r), 3);
  /* Still open: the caller's descriptor is never closed. */
  cr_assert_geq (fcntl (o.pidfd, F_GETFD), 0);
  close (o.pidfd);
  expect_reaped (pid);
}

Test (supervisor, sigkill_is_sg)
{
  pid_t pid = spawn ("kill -KILL $$", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_SG);
  cr_assert_eq (r.exitsig, SIGKILL);
  cr_assert_eq (r.exitcode, 0);
  cr_assert_not (r.killed, "the supervisor did not kill it");
  cr_assert_eq (al_result_exit_code (&r), 137);
  expect_reaped (pid);
}

Test (supervisor, not_our_child_is_refused)
{
  /* A process this test started but that is not its child: a grandchild
   * orphaned to init.  It must be left alone. */
  int ctl;
  char buf[64];
  pid_t mid = spawn ("sleep 30 & echo $! >&3", NULL, NULL, &ctl);
  read_until (ctl, "\n", buf, sizeof buf);
  close (ctl);
  pid_t grandchild = (pid_t) atoi (buf);
  cr_assert_gt (grandchild, 0);
  cr_assert_eq (waitpid (mid, NULL, 0), mid);

  int gfd = (int) syscall (SYS_pidfd_open, grandchild, 0);
  cr_assert_geq (gfd, 0);
  struct al_supervise_opts o = opts_for (grandchild);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  double t0 = now_s ();
  int ret = al_supervise (&o, &r, &err);
  double elapsed = now_s () - t0;
  struct pollfd p = { .fd = gfd, .events = POLLIN };
  int exited = poll (&p, 1, 0);
  syscall (SYS_pidfd_send_signal, gfd, SIGKILL, NULL, 0); /* ours to clean up */
  close (gfd);
  cr_assert_eq (ret, -ECHILD, "%d %s", ret, err.msg);
  cr_assert_eq (exited, 0, "the supervisor touched a process that is not its child");
  cr_assert_lt (elapsed, 5.0, "refused at once, not after watching it (%.3f s)", elapsed);

  o = opts_for (0);
  cr_assert_eq (al_supervise (&o, &r, &err), -EINVAL);
}

/* ------------------------------------------------------------------ limits */

Test (supervisor, wall_timeout_is_to)
{
  pid_t pid = spawn ("sleep 5", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.wall_ms = 300;

  double t0 = now_s ();
  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  double elapsed = now_s () - t0;
  cr_assert_eq (r.status, AL_RESULT_TO);
  cr_assert (r.wall_timeout);
  cr_assert_not (r.cpu_timeout);
  cr_assert (r.killed);
  cr_assert_eq (r.exitsig, SIGKILL, "TO although the kill made it exit by SIGKILL");
  cr_assert_eq (al_result_exit_code (&r), 124);
  cr_assert_geq (r.time_wall_s, 0.29);
  cr_assert_lt (elapsed, 2.0, "took %.3f s", elapsed);
  expect_reaped (pid);
}

struct victims
{
  pid_t pids[2];
  int calls;
};

static int
kill_victims (void *data)
{
  struct victims *v = data;
  v->calls++;
  for (int i = 0; i < 2; i++)
    if (v->pids[i] > 0)
      kill (v->pids[i], SIGKILL);
  return 0;
}

/* Send SIGTERM to this process after ms, from a helper process. */
static pid_t
sigterm_me_in (int ms)
{
  pid_t me = getpid ();
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      sleep_ms (ms);
      kill (me, SIGTERM);
      _exit (0);
    }
  return pid;
}

static void
block_sigterm (sigset_t *old)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  cr_assert_eq (sigprocmask (SIG_BLOCK, &set, old), 0);
}

Test (supervisor, sigterm_ignored_escalates_to_kill_all)
{
  /* The child ignores SIGTERM and leaves a double-forked grandchild; the
   * grandchild is adopted by this test (subreaper), so killing it is ours. */
  cr_assert_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  sigset_t old;
  block_sigterm (&old);

  int ctl;
  char buf[128];
  pid_t pid = spawn ("trap '' TERM; ( sleep 60 & echo $! >&3 ); echo ready >&3;"
                     " while :; do sleep 0.1; done",
                     NULL, NULL, &ctl);
  read_until (ctl, "ready", buf, sizeof buf);
  close (ctl);
  pid_t grandchild = (pid_t) atoi (buf);
  cr_assert_gt (grandchild, 0);

  struct victims v = { { pid, grandchild }, 0 };
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.kill_all = kill_victims;
  o.data = &v;
  o.grace_ms = 300;
  o.wall_ms = 20000; /* only a bound */

  pid_t sender = sigterm_me_in (200);
  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (waitpid (sender, NULL, 0), sender);

  cr_assert_eq (r.forwarded_signal, SIGTERM);
  cr_assert_eq (v.calls, 1, "kill_all called %d times", v.calls);
  cr_assert (r.killed);
  cr_assert_not (r.wall_timeout);
  cr_assert_eq (r.status, AL_RESULT_SG);
  cr_assert_eq (r.exitsig, SIGKILL);
  cr_assert_eq (al_result_exit_code (&r), 137);
  int status = expect_dies (grandchild);
  cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  expect_reaped (pid);
  sigprocmask (SIG_SETMASK, &old, NULL);
}

static int
proc_stat_cpu_ns (void *data, uint64_t *ret_ns)
{
  pid_t pid = *(pid_t *) data;
  char path[64], buf[1024];
  unsigned long long utime, stime;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *f = fopen (path, "re");
  if (!f)
    return -errno;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  if (!p
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
             != 2)
    return -EINVAL;
  *ret_ns = (uint64_t) (utime + stime) * (1000000000ULL / (uint64_t) sysconf (_SC_CLK_TCK));
  return 0;
}

Test (supervisor, cpu_limit_with_callback_is_to)
{
  pid_t pid = spawn ("while :; do :; done", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.cpu_ms = 300;
  o.cpu_poll_ms = 50;
  o.cpu_usage_ns = proc_stat_cpu_ns;
  o.data = &pid;
  o.wall_ms = 30000; /* only a bound: a loaded box may give it little CPU */

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_TO);
  cr_assert (r.cpu_timeout);
  cr_assert_not (r.wall_timeout);
  cr_assert (r.killed);
  cr_assert_eq (r.exitsig, SIGKILL);
  cr_assert_geq (r.time_cpu_s, 0.3, "cpu %.3f", r.time_cpu_s);
  cr_assert_eq (al_result_exit_code (&r), 124);
  expect_reaped (pid);
}

Test (supervisor, cpu_limit_without_callback_reads_proc)
{
  pid_t pid = spawn ("while :; do :; done", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.cpu_ms = 200;
  o.wall_ms = 30000;

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_TO);
  cr_assert (r.cpu_timeout);
  cr_assert_not (r.wall_timeout);
  cr_assert_geq (r.time_cpu_s, 0.2, "cpu %.3f", r.time_cpu_s);
  expect_reaped (pid);
}

/* ------------------------------------------------------------------ output */

Test (supervisor, stdout_cap_passes_exactly_the_cap)
{
  int out;
  pid_t pid = spawn ("yes | head -c 100000", &out, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.out_fd = out;
  o.out_sink = memfd ();
  o.output_limit = 1000;

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (fd_size (o.out_sink), 1000);
  char buf[1001];
  cr_assert_eq (pread (o.out_sink, buf, 1000, 0), 1000);
  for (int i = 0; i < 1000; i++)
    cr_assert_eq (buf[i], i % 2 ? '\n' : 'y', "byte %d", i);
  cr_assert_eq (r.out_bytes[AL_STDOUT], 100000);
  cr_assert (r.output_truncated[AL_STDOUT]);
  cr_assert_not (r.output_truncated[AL_STDERR]);
  cr_assert_eq (r.exitcode, 0);
  cr_assert_eq (r.status, AL_RESULT_OL);
  cr_assert_not (r.killed, "the cap never kills");
  cr_assert_eq (al_result_exit_code (&r), 0);
  /* The fd's flags are the caller's again. */
  cr_assert_eq (fcntl (out, F_GETFL) & O_NONBLOCK, 0);
  close (out);
  close (o.out_sink);
  expect_reaped (pid);
}

Test (supervisor, both_streams_capped_separately)
{
  int out, errfd;
  /* More than a pipe holds on each: both must be read while it runs. */
  pid_t pid = spawn ("yes o | head -c 100000; yes e | head -c 200000 >&2;"
                     " yes | head -c 1000",
                     &out, &errfd, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.out_fd = out;
  o.err_fd = errfd;
  o.out_sink = memfd ();
  o.err_sink = memfd ();
  o.output_limit = 1000;
  o.wall_ms = 20000; /* only a bound */

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.out_bytes[AL_STDOUT], 101000);
  cr_assert_eq (r.out_bytes[AL_STDERR], 200000);
  cr_assert_eq (fd_size (o.out_sink), 1000);
  cr_assert_eq (fd_size (o.err_sink), 1000);
  char c;
  cr_assert_eq (pread (o.err_sink, &c, 1, 998), 1);
  cr_assert_eq (c, 'e', "stderr's sink holds stderr");
  cr_assert_eq (pread (o.out_sink, &c, 1, 998), 1);
  cr_assert_eq (c, 'o', "stdout's sink holds stdout");
  cr_assert (r.output_truncated[AL_STDOUT]);
  cr_assert (r.output_truncated[AL_STDERR]);
  cr_assert_eq (r.status, AL_RESULT_OL);
  cr_assert_not (r.wall_timeout);
  expect_reaped (pid);
  close (out);
  close (errfd);
  close (o.out_sink);
  close (o.err_sink);
}

Test (supervisor, output_at_cap_is_not_truncated_and_re_outranks_ol)
{
  int out, errfd;
  pid_t pid = spawn ("head -c 1000 /dev/zero; yes | head -c 3000 >&2; exit 2", &out, &errfd, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.out_fd = out;
  o.err_fd = errfd;
  o.out_sink = memfd ();
  o.output_limit = 1000; /* stderr dropped (-1): still counted */

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (r.out_bytes[AL_STDOUT], 1000);
  cr_assert_eq (fd_size (o.out_sink), 1000);
  cr_assert_not (r.output_truncated[AL_STDOUT], "exactly the cap is not over it");
  cr_assert_eq (r.out_bytes[AL_STDERR], 3000);
  cr_assert (r.output_truncated[AL_STDERR]);
  cr_assert_eq (r.status, AL_RESULT_RE);
  cr_assert_eq (al_result_exit_code (&r), 2);
  close (out);
  close (errfd);
  close (o.out_sink);
}

Test (supervisor, descendant_holding_the_pipe_does_not_block)
{
  cr_assert_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  int out, ctl;
  char buf[64];
  pid_t pid = spawn ("sleep 30 & echo $! >&3; echo hi", &out, NULL, &ctl);
  read_until (ctl, "\n", buf, sizeof buf);
  close (ctl);
  pid_t straggler = (pid_t) atoi (buf);
  cr_assert_gt (straggler, 0);

  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.out_fd = out;
  o.out_sink = memfd ();
  o.wall_ms = 10000;

  double t0 = now_s ();
  int ret = al_supervise (&o, &r, &err);
  double elapsed = now_s () - t0;
  kill (straggler, SIGKILL); /* adopted by this test: ours */
  expect_dies (straggler);
  cr_assert_eq (ret, 0, "%s", err.msg);
  cr_assert_eq (r.status, AL_RESULT_OK);
  cr_assert_not (r.wall_timeout);
  cr_assert_eq (r.out_bytes[AL_STDOUT], 3);
  cr_assert_eq (fd_size (o.out_sink), 3);
  cr_assert_lt (elapsed, 5.0, "took %.3f s", elapsed);
  close (out);
  close (o.out_sink);
}

/* ------------------------------------------------------------------ signals */

Test (supervisor, sigterm_is_forwarded)
{
  sigset_t old, after;
  block_sigterm (&old);
  sigset_t entry;
  sigprocmask (SIG_SETMASK, NULL, &entry);

  int ctl;
  char buf[64];
  pid_t pid
      = spawn ("trap 'exit 5' TERM; echo ready >&3; while :; do sleep 0.1; done", NULL, NULL, &ctl);
  read_until (ctl, "ready", buf, sizeof buf);
  close (ctl);

  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.grace_ms = 10000;
  o.wall_ms = 20000;

  /* Delivered to the supervising process while it is in its loop. */
  pid_t sender = sigterm_me_in (200);
  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (waitpid (sender, NULL, 0), sender);
  cr_assert_eq (r.forwarded_signal, SIGTERM);
  cr_assert_eq (r.status, AL_RESULT_RE);
  cr_assert_eq (r.exitcode, 5);
  cr_assert_not (r.killed);
  cr_assert_eq (al_result_exit_code (&r), 5);

  /* The mask is the caller's again, and the signal was consumed. */
  sigprocmask (SIG_SETMASK, NULL, &after);
  for (int sig = 1; sig < 32; sig++)
    cr_assert_eq (sigismember (&after, sig), sigismember (&entry, sig), "signal %d", sig);
  sigset_t pending;
  sigpending (&pending);
  cr_assert_not (sigismember (&pending, SIGTERM));
  expect_reaped (pid);
  sigprocmask (SIG_SETMASK, &old, NULL);
}

/* Whether pid has SIGTERM blocked (SigBlk in /proc/PID/status), polled
 * for up to 10 s. */
static bool
sigterm_blocked_in (pid_t pid)
{
  char path[64], line[256];
  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  for (int i = 0; i < 1000; i++)
    {
      FILE *f = fopen (path, "re");
      cr_assert_not_null (f);
      unsigned long long mask = 0;
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "SigBlk: %llx", &mask) == 1)
          break;
      fclose (f);
      if (mask & (1ULL << (SIGTERM - 1)))
        return true;
      sleep_ms (10);
    }
  return false;
}

Test (supervisor, forked_supervisor_forwards_sigterm)
{
  /* As `sandbox run` will: a supervising process that receives SIGTERM
   * from outside.  It reports the result over a pipe. */
  int res[2], ctl;
  char buf[64];
  cr_assert_eq (pipe2 (res, O_CLOEXEC), 0);
  sigset_t old;
  block_sigterm (&old); /* inherited by the supervisor: no early-death window */

  pid_t sup = fork ();
  cr_assert_geq (sup, 0);
  if (sup == 0)
    {
      struct al_supervise_result r;
      struct al_error err = { 0 };
      pid_t pid = spawn ("trap 'exit 5' TERM; echo ready >&3; while :; do sleep 0.1; done", NULL,
                         NULL, &ctl);
      read_until (ctl, "ready", buf, sizeof buf);
      close (ctl);
      sigprocmask (SIG_SETMASK, &old, NULL); /* now only al_supervise blocks it */
      struct al_supervise_opts o = opts_for (pid);
      o.grace_ms = 10000;
      o.wall_ms = 20000;
      if (write (res[1], "go", 2) != 2)
        _exit (1);
      int ret = al_supervise (&o, &r, &err);
      if (ret < 0 || write (res[1], &r, sizeof r) != (ssize_t) sizeof r)
        _exit (1);
      _exit (0);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  close (res[1]);
  cr_assert_eq (read (res[0], buf, 2), 2);
  /* Only al_supervise blocks SIGTERM in there: wait until it has. */
  cr_assert (sigterm_blocked_in (sup), "the supervisor never blocked SIGTERM");
  kill (sup, SIGTERM);

  struct al_supervise_result r;
  ssize_t n = read (res[0], &r, sizeof r);
  int status;
  cr_assert_eq (waitpid (sup, &status, 0), sup);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "supervisor status %#x", status);
  cr_assert_eq (n, (ssize_t) sizeof r);
  cr_assert_eq (r.forwarded_signal, SIGTERM);
  cr_assert_eq (r.status, AL_RESULT_RE);
  cr_assert_eq (r.exitcode, 5);
  close (res[0]);
}

/* ------------------------------------------------------------------ callbacks */

static int
oom_after_exit (void *data, struct al_supervise_result *r)
{
  (*(int *) data)++;
  r->oom_killed = r->exitsig == SIGKILL;
  return 0;
}

Test (supervisor, after_exit_reports_oom_as_ml)
{
  int calls = 0;
  pid_t pid = spawn ("kill -KILL $$", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.after_exit = oom_after_exit;
  o.data = &calls;

  cr_assert_eq (al_supervise (&o, &r, &err), 0, "%s", err.msg);
  cr_assert_eq (calls, 1);
  cr_assert (r.oom_killed);
  cr_assert_eq (r.status, AL_RESULT_ML);
  cr_assert_eq (al_result_exit_code (&r), 137);
}

static int
failing_kill_all (void *data)
{
  (*(int *) data)++;
  return -EACCES;
}

Test (supervisor, failed_kill_all_is_xx_and_still_reaps)
{
  int calls = 0;
  pid_t pid = spawn ("sleep 5", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.wall_ms = 200;
  o.kill_all = failing_kill_all;
  o.data = &calls;
  /* A non-blocking pidfd: the reap after the failure must still wait. */
  o.pidfd = (int) syscall (SYS_pidfd_open, pid, O_NONBLOCK);
  cr_assert_geq (o.pidfd, 0);

  int ret = al_supervise (&o, &r, &err);
  cr_assert_eq (ret, -EACCES, "%d", ret);
  cr_assert_neq (strstr (err.msg, "kill every process"), NULL, "%s", err.msg);
  cr_assert_geq (calls, 1);
  cr_assert_eq (r.status, AL_RESULT_XX);
  cr_assert_eq (al_result_exit_code (&r), 125);
  cr_assert_eq (r.exitsig, SIGKILL, "the child itself was still killed");
  expect_reaped (pid);
  close (o.pidfd);
}

static int
failing_cpu (void *data, uint64_t *ns)
{
  return -EIO;
}

Test (supervisor, failed_cpu_reading_is_xx)
{
  pid_t pid = spawn ("sleep 5", NULL, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_supervise_result r;
  struct al_error err = { 0 };
  o.cpu_ms = 1000;
  o.cpu_poll_ms = 20;
  o.cpu_usage_ns = failing_cpu;

  cr_assert_eq (al_supervise (&o, &r, &err), -EIO);
  cr_assert_eq (r.status, AL_RESULT_XX);
  cr_assert (r.killed);
  expect_reaped (pid);
}

/* ------------------------------------------------------------------ records */

Test (supervisor, classify_precedence)
{
  struct al_supervise_result r;

  memset (&r, 0, sizeof r);
  cr_assert_eq (al_result_classify (&r), AL_RESULT_OK);
  r.output_truncated[AL_STDERR] = true;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_OL);
  r.exitcode = 1;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_RE);
  r.exitcode = 0;
  r.exitsig = SIGSEGV;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_SG);
  r.oom_killed = true;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_ML);
  r.cpu_timeout = true;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_TO);
  r.cpu_timeout = false;
  r.wall_timeout = true;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_TO);
  r.internal_error = true;
  cr_assert_eq (al_result_classify (&r), AL_RESULT_XX);

  const char *names[] = { "OK", "OL", "RE", "SG", "ML", "TO", "XX" };
  for (int s = AL_RESULT_OK; s <= AL_RESULT_XX; s++)
    cr_assert_str_eq (al_result_status_name ((enum al_result_status) s), names[s]);

  memset (&r, 0, sizeof r);
  r.exitsig = SIGSEGV;
  r.status = al_result_classify (&r);
  cr_assert_eq (al_result_exit_code (&r), 128 + SIGSEGV);
}

/* A record from a real run: exit 3 after 2000 bytes on stdout, cap 500. */
static void
real_result (struct al_supervise_result *r)
{
  int out;
  pid_t pid = spawn ("yes | head -c 2000; exit 3", &out, NULL, NULL);
  struct al_supervise_opts o = opts_for (pid);
  struct al_error err = { 0 };
  o.out_fd = out;
  o.output_limit = 500;
  cr_assert_eq (al_supervise (&o, r, &err), 0, "%s", err.msg);
  close (out);
}

static int
count_entries (const char *dir)
{
  int n = 0;
  DIR *d = opendir (dir);
  cr_assert_not_null (d);
  struct dirent *de;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

Test (supervisor, json_record_has_the_documented_fields)
{
  struct al_supervise_result r;
  struct al_error err = { 0 };
  char path[128];
  struct stat before, after;

  real_result (&r);
  snprintf (path, sizeof path, "%s/result.json", tmpdir);
  FILE *f = fopen (path, "we");
  cr_assert_not_null (f);
  fputs ("old", f);
  fclose (f);
  cr_assert_eq (stat (path, &before), 0);

  cr_assert_eq (al_result_write_json (&r, path, &err), 0, "%s", err.msg);
  cr_assert_eq (stat (path, &after), 0);
  cr_assert_neq (before.st_ino, after.st_ino, "replaced by rename, not rewritten in place");
  cr_assert_eq (after.st_mode & 07777, 0644);
  cr_assert_eq (count_entries (tmpdir), 1, "no temporary file left behind");

  json_error_t jerr;
  json_t *o = json_load_file (path, 0, &jerr);
  cr_assert_not_null (o, "%s", jerr.text);
  cr_assert_str_eq (json_string_value (json_object_get (o, "status")), "RE");
  cr_assert_str_eq (json_string_value (json_object_get (o, "message")), "exited with status 3");
  cr_assert_eq (json_integer_value (json_object_get (o, "exit_code")), 3);
  cr_assert_eq (json_integer_value (json_object_get (o, "exitcode")), 3);
  cr_assert_eq (json_integer_value (json_object_get (o, "exitsig")), 0);
  cr_assert (json_is_false (json_object_get (o, "killed")));
  cr_assert (json_is_false (json_object_get (o, "wall_timeout")));
  cr_assert (json_is_false (json_object_get (o, "cpu_timeout")));
  cr_assert (json_is_false (json_object_get (o, "oom_killed")));
  cr_assert_eq (json_integer_value (json_object_get (o, "forwarded_signal")), 0);
  cr_assert (json_is_real (json_object_get (o, "time")));
  cr_assert (json_is_real (json_object_get (o, "time_wall")));
  cr_assert_float_eq (json_real_value (json_object_get (o, "time_wall")), r.time_wall_s, 1e-9);
  cr_assert_eq (json_integer_value (json_object_get (o, "max_rss_kib")), r.max_rss_kib);
  cr_assert_eq (json_integer_value (json_object_get (o, "stdout_bytes")), 2000);
  cr_assert (json_is_true (json_object_get (o, "stdout_truncated")));
  cr_assert_eq (json_integer_value (json_object_get (o, "stderr_bytes")), 0);
  cr_assert (json_is_false (json_object_get (o, "stderr_truncated")));
  const char *start = json_string_value (json_object_get (o, "start"));
  cr_assert_not_null (start);
  cr_assert_eq (strlen (start), strlen ("2026-01-01T00:00:00.000000000Z"), "%s", start);
  cr_assert_eq (start[strlen (start) - 1], 'Z');
  cr_assert_not_null (json_string_value (json_object_get (o, "end")));
  cr_assert_eq (json_object_size (o), 19);
  json_decref (o);

  /* OK has no message. */
  memset (&r, 0, sizeof r);
  cr_assert_eq (al_result_write_json (&r, path, &err), 0, "%s", err.msg);
  o = json_load_file (path, 0, &jerr);
  cr_assert_not_null (o);
  cr_assert_str_eq (json_string_value (json_object_get (o, "status")), "OK");
  cr_assert_null (json_object_get (o, "message"));
  json_decref (o);
}

Test (supervisor, kv_record_has_the_documented_fields)
{
  struct al_supervise_result r;
  struct al_error err = { 0 };
  char path[128], buf[4096];

  real_result (&r);
  snprintf (path, sizeof path, "%s/meta", tmpdir);
  cr_assert_eq (al_result_write_kv (&r, path, &err), 0, "%s", err.msg);
  cr_assert_eq (count_entries (tmpdir), 1);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  cr_assert_gt (n, 0);
  buf[n] = '\0';

  char expect[1024];
  snprintf (expect, sizeof expect,
            "time:%.3f\ntime-wall:%.3f\nmax-rss:%ld\nexitcode:3\n"
            "stdout-bytes:2000\nstdout-truncated:1\nstderr-bytes:0\nstderr-truncated:0\n"
            "exit-code:3\nstatus:RE\nmessage:exited with status 3\n",
            r.time_cpu_s, r.time_wall_s, r.max_rss_kib);
  cr_assert_str_eq (buf, expect);

  /* A timeout: exitsig instead of exitcode, killed, timeout-wall. */
  memset (&r, 0, sizeof r);
  r.exitsig = SIGKILL;
  r.killed = r.wall_timeout = true;
  r.status = al_result_classify (&r);
  cr_assert_eq (al_result_write_kv (&r, path, &err), 0, "%s", err.msg);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n] = '\0';
  cr_assert_str_eq (buf, "time:0.000\ntime-wall:0.000\nmax-rss:0\nexitsig:9\nkilled:1\n"
                         "timeout-wall:1\nstdout-bytes:0\nstdout-truncated:0\nstderr-bytes:0\n"
                         "stderr-truncated:0\nexit-code:124\nstatus:TO\n"
                         "message:wall-clock time limit exceeded\n");
}
