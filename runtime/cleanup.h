/* cleanup.h — scope-bound ownership.
 *
 * A variable declared with one of these attributes is released when it goes
 * out of scope.  Hand ownership out with the steal helpers:
 *
 *   cleanup_close int fd = open (...);
 *   ...
 *   return al_steal_fd (&fd);   // fd is now -1, nothing is closed
 *
 * cleanup_pid kills (SIGKILL) and reaps a child that was not handed out, so
 * an error path never leaves a process behind.
 */
#ifndef AL_CLEANUP_H
#define AL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void
al_freep (void *p)
{
  free (*(void **) p);
}

static inline void
al_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
al_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

static inline void
al_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
al_killpidp (pid_t *pid)
{
  if (*pid > 0)
    {
      int saved = errno;
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
      errno = saved;
    }
}

static inline void
al_freestrvp (char ***v)
{
  if (*v)
    {
      for (char **p = *v; *p; p++)
        free (*p);
      free (*v);
    }
}

#define cleanup_free __attribute__ ((cleanup (al_freep)))
#define cleanup_close __attribute__ ((cleanup (al_closep)))
#define cleanup_dir __attribute__ ((cleanup (al_closedirp)))
#define cleanup_file __attribute__ ((cleanup (al_fclosep)))
#define cleanup_pid __attribute__ ((cleanup (al_killpidp)))
#define cleanup_strv __attribute__ ((cleanup (al_freestrvp)))

static inline int
al_steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

static inline void *
al_steal_ptr (void *pp)
{
  void **p = (void **) pp;
  void *ret = *p;
  *p = NULL;
  return ret;
}

static inline pid_t
al_steal_pid (pid_t *pid)
{
  pid_t ret = *pid;
  *pid = 0;
  return ret;
}

#endif
