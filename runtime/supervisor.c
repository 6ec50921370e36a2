/* supervisor.c — see supervisor.h.
 *
 * Theory of operation
 * -------------------
 * The caller has started the child (for `sandbox run`, the container init)
 * and hands us its pid and, when it has one, its pidfd.  From then on the
 * supervisor is a single-threaded epoll loop over
 *
 *   pidfd        readable once the child has exited (a zombie we own);
 *   out/err fds  the read ends of the child's stdout and stderr pipes;
 *   wall timerfd one-shot, CLOCK_MONOTONIC, armed at entry for wall_ms;
 *   cpu timerfd  periodic (cpu_poll_ms): read the sandbox's CPU time through
 *                cpu_usage_ns() (the cgroup's) and compare with cpu_ms;
 *   grace timerfd armed when a signal is forwarded;
 *   signalfd     SIGINT, SIGTERM, SIGHUP, blocked for the duration.
 *
 * No work happens in signal handlers: there are none.  Limits are checked
 * in the loop, as isolate does.
 *
 * Output: every readable pipe is read in 64 KiB chunks.  Bytes up to
 * output_limit per stream are written to the sink; the rest are read,
 * counted and dropped, so the child never blocks on a full pipe and we
 * never buffer more than one chunk.  Exceeding the cap never kills: the run
 * goes on and its status is at least OL.
 *
 * Killing: a limit (wall or CPU), the grace period after a forwarded signal
 * or a second signal calls kill_all() — the cgroup kill, which reaches
 * double-forked and setsid'ed descendants — and always SIGKILLs the child
 * through its pidfd too, so a broken or absent kill_all still ends the
 * child.  Then the loop simply waits for the pidfd like any other exit.
 *
 * The end: when the pidfd fires, the child is reaped with the raw waitid
 * syscall on the pidfd (no pid reuse race) with its rusage: exit status or
 * signal, CPU time and peak RSS of the child and the descendants it reaped.
 * The pipes are then drained without blocking, up to their capacity: all
 * the child wrote before it exited is in there, and a descendant that still
 * holds a pipe open cannot keep us waiting.  A CPU callback is read once
 * more (the cgroup knows about unreaped descendants), the CPU limit is
 * checked once more (polling is coarse), after_exit() lets the cgroup layer
 * report an OOM kill, and al_result_classify() names the outcome by the
 * precedence in supervisor.h.
 *
 * Failure: anything that goes wrong after the child was accepted (epoll,
 * a callback, a read) kills the child and its sandbox, reaps it and
 * reports XX, so no path leaves a process running unsupervised.
 *
 * Events that race: a timer that fires in the same epoll batch as the pidfd
 * is ignored (the child finished first, as far as we can tell), and a
 * signal that arrives after the exit is consumed, not forwarded.
 */
#include "config.h"

#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define CHUNK_SIZE (64 * 1024)
/* Bytes one stream may consume per wake-up, so a flood on one pipe cannot
 * starve the timers and the other pipe. */
#define PUMP_BUDGET (16 * CHUNK_SIZE)
/* Drain bound after the exit when the fd is not a pipe (pty, socket). */
#define DRAIN_FALLBACK (1024 * 1024)
#define DEFAULT_CPU_POLL_MS 100
#define PROC_STAT_MAX 4096
#define KV_MAX 4096

enum
{
  EV_PIDFD,
  EV_OUT,
  EV_ERR,
  EV_WALL,
  EV_CPU,
  EV_GRACE,
  EV_SIGNAL,
};

struct stream
{
  int fd;          /* -1 when absent or at EOF */
  int sink;        /* -1 = drop; set to -1 after a failed write */
  int saved_flags; /* to restore; -1 = untouched */
};

struct supervisor
{
  const struct al_supervise_opts *o;
  struct al_supervise_result *r;
  int pidfd;
  int epfd;
  int wall_tfd;
  int cpu_tfd;
  int grace_tfd;
  int sig_fd;
  struct stream streams[2];
  char *buf;
  bool exited;
  struct timespec mono_start;
};

static int
pidfd_signal (int pidfd, int sig)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static double
ts_diff_s (const struct timespec *a, const struct timespec *b)
{
  return (double) (b->tv_sec - a->tv_sec) + (double) (b->tv_nsec - a->tv_nsec) / 1e9;
}

static uint64_t
ms_to_ns (uint64_t ms)
{
  return ms > UINT64_MAX / 1000000 ? UINT64_MAX : ms * 1000000;
}

/* ------------------------------------------------------------------ killing */

static int
kill_sandbox (struct supervisor *s, struct al_error *err)
{
  int ret = 0;

  s->r->killed = true;
  if (s->o->kill_all)
    {
      int k = s->o->kill_all (s->o->data);
      if (k < 0)
        ret = al_error_set (err, -k, "kill every process of the sandbox");
    }
  if (pidfd_signal (s->pidfd, SIGKILL) < 0 && errno != ESRCH && ret == 0)
    ret = al_error_set (err, errno, "kill pid %d", (int) s->o->pid);
  return ret;
}

/* ------------------------------------------------------------------ output */

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Read what the stream has, up to budget bytes, passing bytes under the cap
 * to the sink.  Stops at EAGAIN; EOF closes the stream. */
static int
pump (struct supervisor *s, int i, uint64_t budget, struct al_error *err)
{
  struct stream *st = &s->streams[i];
  struct al_supervise_result *r = s->r;
  uint64_t limit = s->o->output_limit;
  uint64_t done = 0;

  while (st->fd >= 0 && done < budget)
    {
      size_t want = budget - done < CHUNK_SIZE ? (size_t) (budget - done) : CHUNK_SIZE;
      ssize_t n = read (st->fd, s->buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      if (n < 0 && errno != EIO) /* EIO: a pty whose other side is gone */
        return al_error_set (err, errno, "read the child's %s",
                             i == AL_STDOUT ? "stdout" : "stderr");
      if (n <= 0)
        {
          epoll_ctl (s->epfd, EPOLL_CTL_DEL, st->fd, NULL);
          if (st->saved_flags >= 0)
            fcntl (st->fd, F_SETFL, st->saved_flags);
          st->fd = -1;
          return 0;
        }

      uint64_t before = r->out_bytes[i];
      uint64_t pass = (uint64_t) n;
      r->out_bytes[i] += (uint64_t) n;
      done += (uint64_t) n;
      if (limit > 0)
        {
          pass = before >= limit ? 0 : limit - before;
          if (pass > (uint64_t) n)
            pass = (uint64_t) n;
          if (r->out_bytes[i] > limit)
            r->output_truncated[i] = true;
        }
      /* A sink that fails (a closed pipe: EPIPE, SIGPIPE is blocked) only
       * stops the pass-through; the run goes on. */
      if (pass > 0 && st->sink >= 0 && write_all (st->sink, s->buf, (size_t) pass) < 0)
        st->sink = -1;
    }
  return 0;
}

static void
drain (struct supervisor *s, int i, struct al_error *err)
{
  struct stream *st = &s->streams[i];
  if (st->fd < 0)
    return;
  int size = fcntl (st->fd, F_GETPIPE_SZ);
  pump (s, i, size > 0 ? (uint64_t) size : DRAIN_FALLBACK, err);
}

/* ------------------------------------------------------------------ CPU */

/* utime+stime+cutime+cstime of an unreaped child, so the pid is ours. */
static int
proc_cpu_ns (pid_t pid, uint64_t *ret_ns, struct al_error *err)
{
  char path[64], buf[PROC_STAT_MAX];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "open `%s`", path);
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n < 0)
    return al_error_set (err, errno, "read `%s`", path);
  buf[n] = '\0';

  /* comm may hold spaces and parentheses: fields restart after the last ')'.
   * Then field 3 (state) ... 14 utime, 15 stime, 16 cutime, 17 cstime. */
  char *p = strrchr (buf, ')');
  if (!p)
    return al_error_reason (err, EINVAL, "parse `%s`", path);
  p++;
  uint64_t ticks = 0;
  for (int field = 3; field <= 17; field++)
    {
      while (*p == ' ')
        p++;
      if (*p == '\0')
        return al_error_reason (err, EINVAL, "parse `%s`: too few fields", path);
      char *end = p;
      while (*end && *end != ' ')
        end++;
      if (field >= 14)
        ticks += strtoull (p, NULL, 10);
      p = end;
    }
  long hz = sysconf (_SC_CLK_TCK);
  *ret_ns = ticks * (uint64_t) (1000000000L / (hz > 0 ? hz : 100));
  return 0;
}

static int
read_cpu_ns (struct supervisor *s, uint64_t *ret_ns, struct al_error *err)
{
  if (s->o->cpu_usage_ns)
    {
      int ret = s->o->cpu_usage_ns (s->o->data, ret_ns);
      if (ret < 0)
        return al_error_set (err, -ret, "read the sandbox's CPU time");
      return 0;
    }
  return proc_cpu_ns (s->o->pid, ret_ns, err);
}

/* ------------------------------------------------------------------ events */

static void
read_timer (int fd)
{
  uint64_t ticks;
  while (read (fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
    ;
}

static int
arm_timer (int fd, uint64_t first_ms, uint64_t period_ms, struct al_error *err)
{
  struct itimerspec its = {
    .it_value = { (time_t) (first_ms / 1000), (long) (first_ms % 1000) * 1000000L },
    .it_interval = { (time_t) (period_ms / 1000), (long) (period_ms % 1000) * 1000000L },
  };
  if (timerfd_settime (fd, 0, &its, NULL) < 0)
    return al_error_set (err, errno, "arm a timer");
  return 0;
}

static int
on_signals (struct supervisor *s, struct al_error *err)
{
  struct signalfd_siginfo si;
  ssize_t n;

  while ((n = read (s->sig_fd, &si, sizeof si)) == (ssize_t) sizeof si)
    {
      if (s->exited)
        continue;
      if (s->r->forwarded_signal == 0)
        {
          s->r->forwarded_signal = (int) si.ssi_signo;
          if (pidfd_signal (s->pidfd, (int) si.ssi_signo) < 0 && errno != ESRCH)
            return al_error_set (err, errno, "forward signal %u to pid %d", si.ssi_signo,
                                 (int) s->o->pid);
          if (s->o->grace_ms > 0)
            {
              int ret = arm_timer (s->grace_tfd, s->o->grace_ms, 0, err);
              if (ret < 0)
                return ret;
              continue;
            }
        }
      int ret = kill_sandbox (s, err);
      if (ret < 0)
        return ret;
    }
  if (n < 0 && errno != EAGAIN && errno != EINTR)
    return al_error_set (err, errno, "read the signalfd");
  return 0;
}

static int
check_cpu (struct supervisor *s, struct al_error *err)
{
  uint64_t ns;
  if (s->r->cpu_timeout)
    return 0;
  int ret = read_cpu_ns (s, &ns, err);
  if (ret < 0)
    return ret;
  if (s->o->cpu_ms > 0 && ns > ms_to_ns (s->o->cpu_ms))
    {
      s->r->cpu_timeout = true;
      return kill_sandbox (s, err);
    }
  return 0;
}

static int
loop (struct supervisor *s, struct al_error *err)
{
  struct epoll_event evs[8];

  while (!s->exited)
    {
      int n = epoll_wait (s->epfd, evs, 8, -1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return al_error_set (err, errno, "epoll_wait");
        }
      /* The exit first: a limit that fires in the same batch came too late. */
      for (int i = 0; i < n; i++)
        if (evs[i].data.u32 == EV_PIDFD)
          s->exited = true;

      for (int i = 0; i < n; i++)
        {
          int ret = 0;
          switch (evs[i].data.u32)
            {
            case EV_OUT:
              ret = pump (s, AL_STDOUT, PUMP_BUDGET, err);
              break;
            case EV_ERR:
              ret = pump (s, AL_STDERR, PUMP_BUDGET, err);
              break;
            case EV_WALL:
              read_timer (s->wall_tfd);
              if (!s->exited)
                {
                  s->r->wall_timeout = true;
                  ret = kill_sandbox (s, err);
                }
              break;
            case EV_CPU:
              read_timer (s->cpu_tfd);
              if (!s->exited)
                ret = check_cpu (s, err);
              break;
            case EV_GRACE:
              read_timer (s->grace_tfd);
              if (!s->exited)
                ret = kill_sandbox (s, err);
              break;
            case EV_SIGNAL:
              ret = on_signals (s, err);
              break;
            default:
              break;
            }
          if (ret < 0)
            return ret;
        }
    }
  return 0;
}

/* ------------------------------------------------------------------ setup */

static int
watch (struct supervisor *s, int fd, uint32_t tag, struct al_error *err)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return al_error_set (err, errno, "epoll_ctl");
  return 0;
}

static int
new_timer (struct supervisor *s, int *fd, uint32_t tag, struct al_error *err)
{
  *fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (*fd < 0)
    return al_error_set (err, errno, "timerfd_create");
  return watch (s, *fd, tag, err);
}

static int
setup (struct supervisor *s, const sigset_t *forwarded, struct al_error *err)
{
  const struct al_supervise_opts *o = s->o;
  int ret;

  s->buf = malloc (CHUNK_SIZE);
  if (!s->buf)
    return al_error_set (err, ENOMEM, "allocate the output buffer");
  s->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epfd < 0)
    return al_error_set (err, errno, "epoll_create1");
  ret = watch (s, s->pidfd, EV_PIDFD, err);
  if (ret < 0)
    return ret;

  s->sig_fd = signalfd (-1, forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sig_fd < 0)
    return al_error_set (err, errno, "signalfd");
  ret = watch (s, s->sig_fd, EV_SIGNAL, err);
  if (ret < 0)
    return ret;

  for (int i = 0; i < 2; i++)
    {
      struct stream *st = &s->streams[i];
      if (st->fd < 0)
        continue;
      int flags = fcntl (st->fd, F_GETFL);
      if (flags < 0 || fcntl (st->fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return al_error_set (err, errno, "make the child's %s non-blocking",
                             i == AL_STDOUT ? "stdout" : "stderr");
      st->saved_flags = flags;
      ret = watch (s, st->fd, i == AL_STDOUT ? EV_OUT : EV_ERR, err);
      if (ret < 0)
        return ret;
    }

  ret = new_timer (s, &s->grace_tfd, EV_GRACE, err);
  if (ret < 0)
    return ret;
  if (o->wall_ms > 0)
    {
      ret = new_timer (s, &s->wall_tfd, EV_WALL, err);
      if (ret == 0)
        ret = arm_timer (s->wall_tfd, o->wall_ms, 0, err);
      if (ret < 0)
        return ret;
    }
  if (o->cpu_ms > 0 || o->cpu_usage_ns)
    {
      uint64_t period = o->cpu_poll_ms ? o->cpu_poll_ms : DEFAULT_CPU_POLL_MS;
      ret = new_timer (s, &s->cpu_tfd, EV_CPU, err);
      if (ret == 0)
        ret = arm_timer (s->cpu_tfd, period, period, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static void
teardown (struct supervisor *s)
{
  int *fds[] = { &s->epfd, &s->wall_tfd, &s->cpu_tfd, &s->grace_tfd, &s->sig_fd };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
  for (int i = 0; i < 2; i++)
    if (s->streams[i].fd >= 0 && s->streams[i].saved_flags >= 0)
      fcntl (s->streams[i].fd, F_SETFL, s->streams[i].saved_flags);
  if (s->pidfd >= 0 && s->pidfd != s->o->pidfd)
    close (s->pidfd);
  s->pidfd = -1;
  free (s->buf);
  s->buf = NULL;
}

/* ------------------------------------------------------------------ reaping */

static int
reap (struct supervisor *s, struct al_error *err)
{
  struct al_supervise_result *r = s->r;
  siginfo_t info;
  struct rusage ru;
  int which = s->pidfd >= 0 ? P_PIDFD : P_PID;
  long id = s->pidfd >= 0 ? s->pidfd : s->o->pid;

  for (;;)
    {
      memset (&info, 0, sizeof info);
      memset (&ru, 0, sizeof ru);
      /* The raw syscall: it has the rusage argument glibc's waitid lacks. */
      if (syscall (SYS_waitid, which, id, &info, WEXITED, &ru) == 0)
        break;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN && which == P_PIDFD) /* a caller's O_NONBLOCK pidfd */
        {
          struct pollfd p = { .fd = s->pidfd, .events = POLLIN };
          poll (&p, 1, -1);
          continue;
        }
      if (errno == EINVAL && which == P_PIDFD) /* kernel < 5.4 */
        {
          which = P_PID;
          id = s->o->pid;
          continue;
        }
      return al_error_set (err, errno, "reap pid %d", (int) s->o->pid);
    }
  if (info.si_code == CLD_EXITED)
    r->exitcode = info.si_status;
  else
    r->exitsig = info.si_status;
  r->time_cpu_s = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
                  + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
  r->max_rss_kib = ru.ru_maxrss;
  return 0;
}

/* After an internal error: make sure the child ends, then reap it. */
static void
stop_and_reap (struct supervisor *s)
{
  struct al_error ignored;
  if (s->pidfd >= 0)
    kill_sandbox (s, &ignored);
  else
    {
      s->r->killed = true;
      if (s->o->kill_all)
        s->o->kill_all (s->o->data);
      kill (s->o->pid, SIGKILL); /* unreaped child: the pid is still ours */
    }
  reap (s, &ignored);
}

/* ------------------------------------------------------------------ entry */

int
al_supervise (const struct al_supervise_opts *o, struct al_supervise_result *r,
              struct al_error *err)
{
  struct supervisor s = {
    .o = o,
    .r = r,
    .pidfd = -1,
    .epfd = -1,
    .wall_tfd = -1,
    .cpu_tfd = -1,
    .grace_tfd = -1,
    .sig_fd = -1,
    .streams = { { o->out_fd, o->out_sink, -1 }, { o->err_fd, o->err_sink, -1 } },
  };
  sigset_t forwarded, blocked, old_mask;
  struct timespec mono_end;
  siginfo_t probe;
  int ret;

  memset (r, 0, sizeof *r);
  if (o->pid <= 0)
    return al_error_reason (err, EINVAL, "supervise: no child pid");
  if (o->out_fd >= 0 && o->out_fd == o->err_fd)
    return al_error_reason (err, EINVAL, "supervise: stdout and stderr share fd %d", o->out_fd);
  /* Only our own unreaped child may be killed and reaped here. */
  memset (&probe, 0, sizeof probe);
  if (waitid (P_PID, (id_t) o->pid, &probe, WEXITED | WNOHANG | WNOWAIT) < 0)
    return al_error_set (err, errno, "supervise pid %d", (int) o->pid);

  /* Accepted: from here on every path reaps the child. */
  clock_gettime (CLOCK_REALTIME, &r->start);
  clock_gettime (CLOCK_MONOTONIC, &s.mono_start);

  sigemptyset (&forwarded);
  sigaddset (&forwarded, SIGINT);
  sigaddset (&forwarded, SIGTERM);
  sigaddset (&forwarded, SIGHUP);
  blocked = forwarded;
  sigaddset (&blocked, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &blocked, &old_mask);

  s.pidfd = o->pidfd >= 0 ? o->pidfd : (int) syscall (SYS_pidfd_open, o->pid, 0);
  if (s.pidfd < 0)
    ret = al_error_set (err, errno, "pidfd_open %d", (int) o->pid);
  else
    ret = setup (&s, &forwarded, err);
  if (ret == 0)
    ret = loop (&s, err);

  if (ret < 0)
    stop_and_reap (&s);
  else
    ret = reap (&s, err);
  if (ret < 0)
    {
      r->internal_error = true;
      al_error_wrap (err, "supervise pid %d", (int) o->pid);
    }
  clock_gettime (CLOCK_MONOTONIC, &mono_end);
  r->time_wall_s = ts_diff_s (&s.mono_start, &mono_end);

  if (s.buf)
    {
      struct al_error ignored;
      drain (&s, AL_STDOUT, &ignored);
      drain (&s, AL_STDERR, &ignored);
    }

  /* The cgroup also counts what the child did not reap; a /proc reader is
   * gone by now and fails, which is fine here. */
  if (o->cpu_usage_ns)
    {
      uint64_t ns;
      if (o->cpu_usage_ns (o->data, &ns) == 0 && (double) ns / 1e9 > r->time_cpu_s)
        r->time_cpu_s = (double) ns / 1e9;
    }
  if (o->cpu_ms > 0 && r->time_cpu_s * 1e9 > (double) ms_to_ns (o->cpu_ms))
    r->cpu_timeout = true;

  if (o->after_exit && !r->internal_error)
    {
      int a = o->after_exit (o->data, r);
      if (a < 0)
        {
          r->internal_error = true;
          ret = al_error_set (err, -a, "collect the sandbox's result");
        }
    }

  /* Consume what arrived for a run that is over, then restore the mask. */
  if (s.sig_fd >= 0)
    {
      struct signalfd_siginfo si;
      while (read (s.sig_fd, &si, sizeof si) == (ssize_t) sizeof si)
        ;
    }
  if (!sigismember (&old_mask, SIGPIPE))
    {
      sigset_t pipe_set;
      struct timespec zero = { 0, 0 };
      sigemptyset (&pipe_set);
      sigaddset (&pipe_set, SIGPIPE);
      while (sigtimedwait (&pipe_set, NULL, &zero) == SIGPIPE)
        ;
    }
  teardown (&s);
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);

  clock_gettime (CLOCK_REALTIME, &r->end);
  r->status = al_result_classify (r);
  return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------------ results */

enum al_result_status
al_result_classify (const struct al_supervise_result *r)
{
  if (r->internal_error)
    return AL_RESULT_XX;
  if (r->wall_timeout || r->cpu_timeout)
    return AL_RESULT_TO;
  if (r->oom_killed)
    return AL_RESULT_ML;
  if (r->exitsig != 0)
    return AL_RESULT_SG;
  if (r->exitcode != 0)
    return AL_RESULT_RE;
  if (r->output_truncated[AL_STDOUT] || r->output_truncated[AL_STDERR])
    return AL_RESULT_OL;
  return AL_RESULT_OK;
}

const char *
al_result_status_name (enum al_result_status s)
{
  switch (s)
    {
    case AL_RESULT_OK:
      return "OK";
    case AL_RESULT_OL:
      return "OL";
    case AL_RESULT_RE:
      return "RE";
    case AL_RESULT_SG:
      return "SG";
    case AL_RESULT_ML:
      return "ML";
    case AL_RESULT_TO:
      return "TO";
    case AL_RESULT_XX:
      return "XX";
    }
  return "XX";
}

int
al_result_exit_code (const struct al_supervise_result *r)
{
  switch (r->status)
    {
    case AL_RESULT_XX:
      return 125;
    case AL_RESULT_TO:
      return 124;
    default:
      break;
    }
  if (r->exitsig != 0)
    return 128 + r->exitsig;
  return r->exitcode;
}

/* Human-readable cause, or NULL for OK. */
static void
result_message (const struct al_supervise_result *r, char *buf, size_t size)
{
  const char *abbrev = r->exitsig ? sigabbrev_np (r->exitsig) : NULL;
  switch (r->status)
    {
    case AL_RESULT_OK:
      buf[0] = '\0';
      break;
    case AL_RESULT_XX:
      if (snprintf (buf, size, "%s", r->error[0] ? r->error : "internal error of the supervisor")
          >= (int) size)
        buf[size - 1] = '\0'; /* cut */
      break;
    case AL_RESULT_TO:
      snprintf (buf, size, "%s limit exceeded",
                r->wall_timeout && r->cpu_timeout ? "wall-clock and CPU time"
                : r->wall_timeout                 ? "wall-clock time"
                                                  : "CPU time");
      break;
    case AL_RESULT_ML:
      snprintf (buf, size, "memory limit exceeded");
      break;
    case AL_RESULT_SG:
      snprintf (buf, size, "killed by signal %d (SIG%s)", r->exitsig, abbrev ? abbrev : "?");
      break;
    case AL_RESULT_RE:
      snprintf (buf, size, "exited with status %d", r->exitcode);
      break;
    case AL_RESULT_OL:
      snprintf (buf, size, "output limit exceeded (%s)",
                r->output_truncated[AL_STDOUT] && r->output_truncated[AL_STDERR]
                    ? "stdout and stderr"
                : r->output_truncated[AL_STDOUT] ? "stdout"
                                                 : "stderr");
      break;
    }
}

static void
format_time (const struct timespec *ts, char *buf, size_t size)
{
  struct tm tm;
  char date[32];
  gmtime_r (&ts->tv_sec, &tm);
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%09ldZ", date, ts->tv_nsec);
}

/* path, atomically; "-" is our stdout. */
static int
write_record (const char *path, const char *text, size_t len, struct al_error *err)
{
  /* Atomic (a reader sees all of it or nothing), not fsynced: it is read
   * at once, and costs a run 0.6 ms less. */
  if (strcmp (path, "-") != 0)
    return al_write_runtime_file (AT_FDCWD, path, text, len, 0644, err);
  fflush (stdout);
  for (size_t off = 0; off < len;)
    {
      ssize_t w = write (STDOUT_FILENO, text + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return al_error_set (err, errno, "write the result record to stdout");
      off += (size_t) w;
    }
  return 0;
}

/* What the cgroup layer and the sandbox add to the record. */
static int
add_extra_json (const struct al_supervise_result *r, json_t *o)
{
  int bad = 0;
  if (r->has_memory_peak)
    bad |= json_object_set_new (o, "memory_peak", json_integer ((json_int_t) r->memory_peak));
  if (r->has_pids_peak)
    bad |= json_object_set_new (o, "pids_peak", json_integer ((json_int_t) r->pids_peak));
  if (r->id)
    bad |= json_object_set_new (o, "id", json_string (r->id));
  const struct al_result_limits *l = r->limits;
  if (l == NULL)
    return bad;
  json_t *lim = json_object ();
  if (lim == NULL || json_object_set_new (o, "limits", lim) < 0)
    return -1;
#define LIMIT_INT(name, v)                                                                         \
  if (v)                                                                                           \
  bad |= json_object_set_new (lim, name, json_integer ((json_int_t) (v)))
#define LIMIT_S(name, v)                                                                           \
  if (v)                                                                                           \
  bad |= json_object_set_new (lim, name, json_real ((double) (v) / 1000.0))
  LIMIT_INT ("memory", l->memory);
  LIMIT_INT ("memory_swap", l->memory_swap);
  LIMIT_INT ("pids", l->pids);
  LIMIT_S ("cpus", l->cpus_milli);
  LIMIT_S ("cpu_time", l->cpu_ms);
  LIMIT_S ("timeout", l->wall_ms);
  LIMIT_INT ("output", l->output);
  LIMIT_INT ("disk", l->disk);
  LIMIT_INT ("nofile", l->nofile);
  LIMIT_INT ("fsize", l->fsize);
#undef LIMIT_INT
#undef LIMIT_S
  if (l->network)
    bad |= json_object_set_new (lim, "network", json_string (l->network));
  return bad;
}

int
al_result_write_json (const struct al_supervise_result *r, const char *path, struct al_error *err)
{
  char message[AL_ERROR_MSG_MAX], start[64], end[64];
  result_message (r, message, sizeof message);
  format_time (&r->start, start, sizeof start);
  format_time (&r->end, end, sizeof end);

  json_auto_t *o = json_pack (
      "{s:s, s:i, s:i, s:i, s:b, s:b, s:b, s:b, s:i, s:f, s:f, s:I, s:I, s:b, s:I, s:b, s:s, s:s}",
      "status", al_result_status_name (r->status), "exit_code", al_result_exit_code (r), "exitcode",
      r->exitcode, "exitsig", r->exitsig, "killed", r->killed, "wall_timeout", r->wall_timeout,
      "cpu_timeout", r->cpu_timeout, "oom_killed", r->oom_killed, "forwarded_signal",
      r->forwarded_signal, "time", r->time_cpu_s, "time_wall", r->time_wall_s, "max_rss_kib",
      (json_int_t) r->max_rss_kib, "stdout_bytes", (json_int_t) r->out_bytes[AL_STDOUT],
      "stdout_truncated", r->output_truncated[AL_STDOUT], "stderr_bytes",
      (json_int_t) r->out_bytes[AL_STDERR], "stderr_truncated", r->output_truncated[AL_STDERR],
      "start", start, "end", end);
  if (!o)
    return al_error_set (err, ENOMEM, "build the result record");
  if (message[0] && json_object_set_new (o, "message", json_string (message)) < 0)
    return al_error_set (err, ENOMEM, "build the result record");
  if (add_extra_json (r, o) < 0)
    return al_error_set (err, ENOMEM, "build the result record");

  cleanup_free char *text = json_dumps (o, JSON_INDENT (2) | JSON_SORT_KEYS | JSON_REAL_PRECISION (12));
  if (!text)
    return al_error_set (err, ENOMEM, "serialise the result record");
  size_t len = strlen (text);
  text[len] = '\n'; /* json_dumps leaves room for the NUL: reuse it */
  return write_record (path, text, len + 1, err);
}

int
al_result_write_kv (const struct al_supervise_result *r, const char *path, struct al_error *err)
{
  char buf[KV_MAX], message[AL_ERROR_MSG_MAX];
  size_t len = 0;
  int n;

#define KV(...)                                                                                    \
  do                                                                                               \
    {                                                                                              \
      n = snprintf (buf + len, sizeof buf - len, __VA_ARGS__);                                     \
      if (n < 0 || (size_t) n >= sizeof buf - len)                                                 \
        return al_error_reason (err, EOVERFLOW, "result record longer than %d bytes", KV_MAX);     \
      len += (size_t) n;                                                                           \
    }                                                                                              \
  while (0)

  KV ("time:%.3f\n", r->time_cpu_s);
  KV ("time-wall:%.3f\n", r->time_wall_s);
  KV ("max-rss:%ld\n", r->max_rss_kib);
  if (r->exitsig)
    KV ("exitsig:%d\n", r->exitsig);
  else if (r->status != AL_RESULT_XX || r->exitcode)
    KV ("exitcode:%d\n", r->exitcode);
  if (r->killed)
    KV ("killed:1\n");
  if (r->oom_killed)
    KV ("cg-oom-killed:1\n");
  if (r->wall_timeout)
    KV ("timeout-wall:1\n");
  if (r->cpu_timeout)
    KV ("timeout-cpu:1\n");
  KV ("stdout-bytes:%" PRIu64 "\n", r->out_bytes[AL_STDOUT]);
  KV ("stdout-truncated:%d\n", r->output_truncated[AL_STDOUT] ? 1 : 0);
  KV ("stderr-bytes:%" PRIu64 "\n", r->out_bytes[AL_STDERR]);
  KV ("stderr-truncated:%d\n", r->output_truncated[AL_STDERR] ? 1 : 0);
  KV ("exit-code:%d\n", al_result_exit_code (r));
  KV ("status:%s\n", al_result_status_name (r->status));
  if (r->has_memory_peak)
    KV ("cg-mem:%" PRIu64 "\n", r->memory_peak / 1024);
  if (r->has_pids_peak)
    KV ("pids-peak:%" PRIu64 "\n", r->pids_peak);
  if (r->id)
    KV ("id:%s\n", r->id);
  const struct al_result_limits *l = r->limits;
#define LIMIT(name, fmt, v)                                                                        \
  if (l && (v))                                                                                    \
  KV ("limit-" name ":" fmt "\n", v)
  LIMIT ("memory", "%" PRIu64, l->memory);
  LIMIT ("memory-swap", "%" PRIu64, l->memory_swap);
  LIMIT ("pids", "%" PRIu64, l->pids);
  LIMIT ("cpus", "%.3f", (double) l->cpus_milli / 1000.0);
  LIMIT ("cpu-time", "%.3f", (double) l->cpu_ms / 1000.0);
  LIMIT ("wall-time", "%.3f", (double) l->wall_ms / 1000.0);
  LIMIT ("output", "%" PRIu64, l->output);
  LIMIT ("disk", "%" PRIu64, l->disk);
  LIMIT ("nofile", "%" PRIu64, l->nofile);
  LIMIT ("fsize", "%" PRIu64, l->fsize);
  LIMIT ("network", "%s", l->network);
#undef LIMIT
  result_message (r, message, sizeof message);
  if (message[0])
    KV ("message:%s\n", message);
#undef KV

  return write_record (path, buf, len, err);
}
