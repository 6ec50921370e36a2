/* bench-exec.c — time COUNT sequential runs of one or more commands and
   report each command's peak RSS.  Used by tests/bench/run-bench.sh.

     bench-exec [-n COUNT] -- CMD [ARG...] [--- CMD2 [ARG...]]...

   Each of COUNT iterations runs CMD, waits for it, then CMD2, ... .  In
   every argument the two characters %i stand for the iteration number
   (0 .. COUNT-1), so each start can use its own container id or bundle.
   Commands are started with posix_spawn (vfork-like, so the helper adds
   as little as it can to each start) and reaped with wait4; a command
   that does not exit 0 stops the run with status 1.

   Prints one line:
     ms_per_iter=F rss_kib=K1[,K2...] cpu_ms_per_iter=C n=COUNT
   ms_per_iter is wall-clock (CLOCK_MONOTONIC) from the first spawn to the
   last reap divided by COUNT; rss_kib is, per command, the largest
   ru_maxrss that wait4 returned over the COUNT runs.  ru_maxrss of a
   reaped child is the high-water RSS of that process or of any single
   descendant it reaped itself (the larger, not the sum); see getrusage(2).
   cpu_ms_per_iter is user+system CPU time of the commands and of the
   descendants they reaped, per iteration (kernel work done later in
   worker threads, e.g. network namespace teardown, is not in it).

     bench-exec -m [-o FILE] [-p USEC] -- CMD [ARG...]

   Memory mode: run CMD once (stdout to FILE if -o) and measure the peak
   resident set of that one process, not of its descendants: VmHWM of
   /proc/PID/status.  The process is polled every USEC microseconds
   (default 1000) and, to catch growth after the last poll, also read
   when it is about to exit: it is attached with PTRACE_SEIZE and
   PTRACE_O_TRACEEXIT (its children are not traced), and at the exit stop
   its memory still exists.  Signals it receives are passed on unchanged.
   Prints one line:
     hwm_kib=K poll_hwm_kib=P poll_rss_max_kib=R exit_anon_kib=A
     exit_file_kib=F polls=N ms=T status=S
   hwm_kib is VmHWM at the exit stop (the figure to use); poll_hwm_kib and
   poll_rss_max_kib are the largest VmHWM and VmRSS that polling saw
   (lower bounds, a cross-check); exit_anon_kib and exit_file_kib split
   the resident set at the exit stop into anonymous memory (heap, stacks,
   data) and file pages (the binary's and libraries' text, shared with
   other processes); ms is the wall-clock run time; status is CMD's exit
   status.  Exits 1 if CMD did not exit 0.  ru_maxrss of
   wait4 is not used here: it includes the largest descendant the process
   reaped itself, e.g. a sandbox's init and program.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 8

static double
ms_since (const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static long
field (const char *buf, const char *name)
{
  const char *p = strstr (buf, name);
  return p != NULL ? strtol (p + strlen (name), NULL, 10) : 0;
}

/* VmHWM and VmRSS of PID in KiB, and if ANON is not NULL, RssAnon and
   RssFile; 0 if gone or without memory (zombie).  */
static void
read_vm (pid_t pid, long *hwm, long *rss, long *anon, long *file)
{
  char path[64], buf[4096];
  *hwm = *rss = 0;
  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  *hwm = field (buf, "\nVmHWM:");
  *rss = field (buf, "\nVmRSS:");
  if (anon != NULL)
    {
      *anon = field (buf, "\nRssAnon:");
      *file = field (buf, "\nRssFile:");
    }
}

/* -m: peak RSS of one process, see the comment at the top.  */
static int
measure_memory (char **argv, const char *out_path, long poll_us)
{
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  if (out_path != NULL)
    posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, out_path,
                                      O_WRONLY | O_CREAT | O_TRUNC, 0644);
  /* glibc's posix_spawn returns once the child has exec'd, so the attach
     comes a moment after the start; VmHWM only grows, so the read at the
     exit stop is exact whatever ran before it.  */
  /* SIGCHLD (a ptrace stop or the exit) ends the wait between polls at
     once, so a stopped CMD waits for the tracer microseconds, not up to a
     poll interval; CMD itself starts with an empty signal mask.  */
  sigset_t chld, none;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigemptyset (&none);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  posix_spawnattr_t attr;
  posix_spawnattr_init (&attr);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK);
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  pid_t pid;
  int rc = posix_spawnp (&pid, argv[0], &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&attr);
  if (rc != 0)
    {
      fprintf (stderr, "bench-exec: spawn %s: %s\n", argv[0], strerror (rc));
      return 1;
    }
  bool traced = ptrace (PTRACE_SEIZE, pid, NULL, (void *) PTRACE_O_TRACEEXIT) == 0;
  if (!traced)
    fprintf (stderr, "bench-exec: PTRACE_SEIZE: %s (using polls only)\n", strerror (errno));

  long exit_hwm = 0, exit_anon = 0, exit_file = 0, poll_hwm = 0, poll_rss = 0, polls = 0;
  int status = 0;
  for (;;)
    {
      long h, r;
      read_vm (pid, &h, &r, NULL, NULL);
      polls++;
      if (h > poll_hwm)
        poll_hwm = h;
      if (r > poll_rss)
        poll_rss = r;
      pid_t w;
      while ((w = waitpid (pid, &status, WNOHANG | __WALL)) == pid)
        {
          if (!WIFSTOPPED (status))
            goto done;
          int sig = WSTOPSIG (status), event = status >> 16, inject = 0;
          if (event == PTRACE_EVENT_EXIT)
            read_vm (pid, &exit_hwm, &r, &exit_anon, &exit_file);
          else if (event == 0)
            inject = sig; /* signal-delivery stop: deliver it */
          /* PTRACE_EVENT_STOP (group stop): resume, as it is not ours. */
          if (ptrace (PTRACE_CONT, pid, NULL, (void *) (long) inject) < 0 && errno != ESRCH)
            perror ("bench-exec: PTRACE_CONT");
        }
      if (w < 0 && errno != EINTR)
        {
          perror ("bench-exec: waitpid");
          return 1;
        }
      struct timespec ts = { poll_us / 1000000, (poll_us % 1000000) * 1000 };
      sigtimedwait (&chld, NULL, &ts);
    }
done:;
  double ms = ms_since (&t0);
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  printf ("hwm_kib=%ld poll_hwm_kib=%ld poll_rss_max_kib=%ld exit_anon_kib=%ld exit_file_kib=%ld"
          " polls=%ld ms=%.3f status=%d\n",
          traced ? exit_hwm : poll_hwm, poll_hwm, poll_rss, exit_anon, exit_file, polls, ms, code);
  if (traced && exit_hwm == 0)
    {
      fprintf (stderr, "bench-exec: no exit stop seen\n");
      return 1;
    }
  return code == 0 ? 0 : 1;
}

static char *
subst (const char *arg, long i)
{
  char num[24];
  size_t nl = (size_t) snprintf (num, sizeof num, "%ld", i);
  size_t len = strlen (arg);
  char *out = malloc (len * (nl + 1) + 1);
  if (out == NULL)
    {
      perror ("bench-exec: malloc");
      exit (2);
    }
  char *o = out;
  for (const char *p = arg; *p != '\0'; p++)
    {
      if (p[0] == '%' && p[1] == 'i')
        {
          memcpy (o, num, nl);
          o += nl;
          p++;
        }
      else
        *o++ = *p;
    }
  *o = '\0';
  return out;
}

int
main (int argc, char **argv)
{
  long count = 20, poll_us = 1000;
  bool memory = false;
  const char *out_path = NULL;
  int opt;
  while ((opt = getopt (argc, argv, "+n:mo:p:")) != -1)
    {
      if (opt == 'n')
        count = strtol (optarg, NULL, 10);
      else if (opt == 'm')
        memory = true;
      else if (opt == 'o')
        out_path = optarg;
      else if (opt == 'p')
        poll_us = strtol (optarg, NULL, 10);
      else
        {
          fprintf (stderr, "usage: bench-exec [-n COUNT] -- CMD [ARG...] [--- CMD...]\n"
               "       bench-exec -m [-o FILE] [-p USEC] -- CMD [ARG...]\n");
          return 2;
        }
    }
  if (optind >= argc || count <= 0)
    {
      fprintf (stderr, "usage: bench-exec [-n COUNT] -- CMD [ARG...] [--- CMD...]\n"
               "       bench-exec -m [-o FILE] [-p USEC] -- CMD [ARG...]\n");
      return 2;
    }
  if (memory)
    return measure_memory (&argv[optind], out_path, poll_us > 0 ? poll_us : 1000);

  /* Split the remaining arguments at "---".  */
  char **cmds[MAX_CMDS];
  int ncmd = 0;
  cmds[ncmd++] = &argv[optind];
  for (int a = optind; a < argc; a++)
    if (strcmp (argv[a], "---") == 0)
      {
        argv[a] = NULL;
        if (ncmd == MAX_CMDS || a + 1 >= argc)
          {
            fprintf (stderr, "bench-exec: too many or empty commands\n");
            return 2;
          }
        cmds[ncmd++] = &argv[a + 1];
      }

  /* Prepare every argv up front so the timed loop only spawns and waits.  */
  char ***prepared = calloc ((size_t) (count * ncmd), sizeof *prepared);
  if (prepared == NULL)
    {
      perror ("bench-exec: calloc");
      return 2;
    }
  for (long i = 0; i < count; i++)
    for (int c = 0; c < ncmd; c++)
      {
        int n = 0;
        while (cmds[c][n] != NULL)
          n++;
        char **v = calloc ((size_t) n + 1, sizeof *v);
        if (v == NULL)
          {
            perror ("bench-exec: calloc");
            return 2;
          }
        for (int k = 0; k < n; k++)
          v[k] = subst (cmds[c][k], i);
        prepared[i * ncmd + c] = v;
      }

  long rss[MAX_CMDS] = { 0 };
  double cpu_ms = 0;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < count; i++)
    for (int c = 0; c < ncmd; c++)
      {
        char **v = prepared[i * ncmd + c];
        pid_t pid;
        int rc = posix_spawnp (&pid, v[0], NULL, NULL, v, environ);
        if (rc != 0)
          {
            fprintf (stderr, "bench-exec: spawn %s: %s\n", v[0], strerror (rc));
            return 1;
          }
        int status;
        struct rusage ru;
        pid_t w;
        do
          w = wait4 (pid, &status, 0, &ru);
        while (w < 0 && errno == EINTR);
        if (w < 0)
          {
            perror ("bench-exec: wait4");
            return 1;
          }
        if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
          {
            fprintf (stderr, "bench-exec: iteration %ld: `%s", i, v[0]);
            for (int k = 1; v[k] != NULL; k++)
              fprintf (stderr, " %s", v[k]);
            if (WIFEXITED (status))
              fprintf (stderr, "` exited %d\n", WEXITSTATUS (status));
            else
              fprintf (stderr, "` killed by signal %d\n", WTERMSIG (status));
            return 1;
          }
        cpu_ms += (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
                  + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        if (ru.ru_maxrss > rss[c])
          rss[c] = ru.ru_maxrss;
      }
  clock_gettime (CLOCK_MONOTONIC, &t1);

  double ms = ((double) (t1.tv_sec - t0.tv_sec) * 1e3
               + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6) / (double) count;
  printf ("ms_per_iter=%.3f rss_kib=", ms);
  for (int c = 0; c < ncmd; c++)
    printf ("%s%ld", c ? "," : "", rss[c]);
  printf (" cpu_ms_per_iter=%.3f n=%ld\n", cpu_ms / (double) count, count);
  return 0;
}
