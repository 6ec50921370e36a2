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
   worker threads, e.g. network namespace teardown, is not in it).  */

#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 8

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
  long count = 20;
  int opt;
  while ((opt = getopt (argc, argv, "+n:")) != -1)
    {
      if (opt == 'n')
        count = strtol (optarg, NULL, 10);
      else
        {
          fprintf (stderr, "usage: bench-exec [-n COUNT] -- CMD [ARG...] [--- CMD...]\n");
          return 2;
        }
    }
  if (optind >= argc || count <= 0)
    {
      fprintf (stderr, "usage: bench-exec [-n COUNT] -- CMD [ARG...] [--- CMD...]\n");
      return 2;
    }

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
