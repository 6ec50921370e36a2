/* process.c — see process.h. */
#include "config.h"

#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* --------------------------------------------------------- oom_score_adj */

int
al_process_set_oom_score_adj (int value, struct al_error *err)
{
  char buf[16];
  int len = snprintf (buf, sizeof buf, "%d", value);
  cleanup_close int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "process.oomScoreAdj %d: open /proc/self/oom_score_adj",
                         value);
  ssize_t w;
  do
    w = write (fd, buf, (size_t) len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    {
      if (errno == EACCES)
        return al_error_set (err, errno,
                             "process.oomScoreAdj %d: lowering it needs CAP_SYS_RESOURCE", value);
      return al_error_set (err, errno, "process.oomScoreAdj %d: write /proc/self/oom_score_adj",
                           value);
    }
  if (w != len)
    return al_error_set (err, EIO, "process.oomScoreAdj %d: short write", value);
  return 0;
}

/* ----------------------------------------------------------- personality */

static const struct
{
  const char *name;
  unsigned long flag;
} personality_flags[] = {
  { "UNAME26", UNAME26 },
  { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
  { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
  { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
  { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
  { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
  { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
  { "SHORT_INODE", SHORT_INODE },
  { "WHOLE_SECONDS", WHOLE_SECONDS },
  { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
  { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
};

int
al_process_set_personality (const struct al_personality *p, struct al_error *err)
{
  unsigned long persona = p->domain == AL_PERSONALITY_LINUX32 ? PER_LINUX32 : PER_LINUX;
  for (size_t i = 0; i < p->n_flags; i++)
    {
      size_t k = 0;
      size_t n = sizeof personality_flags / sizeof personality_flags[0];
      while (k < n && strcmp (p->flags[i], personality_flags[k].name) != 0)
        k++;
      if (k == n)
        return al_error_reason (err, EINVAL, "linux.personality.flags[%zu]: unknown flag \"%.64s\"",
                                i, p->flags[i]);
      persona |= personality_flags[k].flag;
    }
  if (personality (persona) < 0)
    return al_error_set (err, errno, "linux.personality: set %s 0x%lx",
                         p->domain == AL_PERSONALITY_LINUX32 ? "LINUX32" : "LINUX", persona);
  return 0;
}

/* ------------------------------------------------------------ ioPriority */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

static const char *
ioprio_class_name (enum al_ioprio_class c)
{
  switch (c)
    {
    case AL_IOPRIO_CLASS_RT:
      return "IOPRIO_CLASS_RT";
    case AL_IOPRIO_CLASS_BE:
      return "IOPRIO_CLASS_BE";
    case AL_IOPRIO_CLASS_IDLE:
      return "IOPRIO_CLASS_IDLE";
    }
  return "?";
}

int
al_process_set_io_priority (enum al_ioprio_class io_class, int priority, struct al_error *err)
{
  if (priority < 0 || priority > 7)
    return al_error_reason (err, EINVAL, "process.ioPriority.priority %d: not in 0..7", priority);
  int value = ((int) io_class << IOPRIO_CLASS_SHIFT) | priority;
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
    return al_error_set (err, errno, "process.ioPriority %s %d: ioprio_set",
                         ioprio_class_name (io_class), priority);
  return 0;
}

/* ------------------------------------------------------------- scheduler */

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1); glibc 2.36 has no
 * wrapper.  An older kernel takes the larger size as long as the tail is
 * zero. */
struct al_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static const char *
sched_policy_name (int policy)
{
  static const char *const names[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
  };
  if (policy >= 0 && (size_t) policy < sizeof names / sizeof names[0])
    return names[policy];
  return "?";
}

int
al_process_set_scheduler (const struct al_scheduler *s, struct al_error *err)
{
  if (s->has_priority && s->priority < 0)
    return al_error_reason (err, EINVAL, "process.scheduler.priority %" PRId32 ": negative",
                            s->priority);
  struct al_sched_attr attr = {
    .size = sizeof attr,
    .sched_policy = (uint32_t) s->policy,
    .sched_flags = s->flags,
    .sched_nice = s->has_nice ? s->nice : 0,
    .sched_priority = s->has_priority ? (uint32_t) s->priority : 0,
    .sched_runtime = s->has_runtime ? s->runtime : 0,
    .sched_deadline = s->has_deadline ? s->deadline : 0,
    .sched_period = s->has_period ? s->period : 0,
  };
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    return al_error_set (err, errno, "process.scheduler %s: sched_setattr",
                         sched_policy_name (s->policy));
  return 0;
}

/* ------------------------------------------------------------ no_new_privs */

int
al_process_set_no_new_privs (struct al_error *err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return al_error_set (err, errno, "process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}

int
al_process_apply_attributes (const struct al_process *p, const struct al_personality *pers,
                             struct al_error *err)
{
  int r;
  if (p->has_oom_score_adj && (r = al_process_set_oom_score_adj (p->oom_score_adj, err)) < 0)
    return r;
  if (pers != NULL && (r = al_process_set_personality (pers, err)) < 0)
    return r;
  if (p->has_io_priority
      && (r = al_process_set_io_priority (p->io_priority_class, p->io_priority, err)) < 0)
    return r;
  if (p->scheduler != NULL && (r = al_process_set_scheduler (p->scheduler, err)) < 0)
    return r;
  return 0;
}

/* -------------------------------------------------------------- fd sweep */

static bool
is_kept (int fd, const int *keep, size_t n_keep)
{
  for (size_t i = 0; i < n_keep; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

/* Without close_range: walk /proc/self/fd. */
static int
sweep_proc (int first_fd, const int *keep, size_t n_keep, bool cloexec, struct al_error *err)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return al_error_set (err, errno, "close inherited fds: open /proc/self/fd");
  int self = dirfd (d);
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long fd = strtol (de->d_name, &end, 10);
      if (*end != '\0' || end == de->d_name || fd < first_fd || fd > INT_MAX || fd == self
          || is_kept ((int) fd, keep, n_keep))
        continue;
      if (cloexec)
        {
          int flags = fcntl ((int) fd, F_GETFD);
          if (flags >= 0 && fcntl ((int) fd, F_SETFD, flags | FD_CLOEXEC) < 0)
            return al_error_set (err, errno, "mark fd %ld close-on-exec", fd);
        }
      else
        close ((int) fd);
      errno = 0;
    }
  if (errno != 0)
    return al_error_set (err, errno, "close inherited fds: read /proc/self/fd");
  return 0;
}

static int
sweep (int first_fd, const int *keep, size_t n_keep, bool cloexec, struct al_error *err)
{
  if (first_fd < 0)
    return al_error_reason (err, EINVAL, "close inherited fds: bad first fd %d", first_fd);
  unsigned flags = cloexec ? CLOSE_RANGE_CLOEXEC : 0;

  /* The gaps between the kept fds, lowest first.  Quadratic in n_keep,
   * which is a handful; no allocation. */
  unsigned cur = (unsigned) first_fd;
  for (;;)
    {
      long next = -1;
      for (size_t i = 0; i < n_keep; i++)
        if (keep[i] >= 0 && (unsigned) keep[i] >= cur && (next < 0 || keep[i] < next))
          next = keep[i];
      if (next < 0 || (unsigned) next > cur)
        {
          unsigned last = next < 0 ? ~0U : (unsigned) next - 1;
          if (syscall (SYS_close_range, cur, last, flags) < 0)
            {
              if (errno == ENOSYS || errno == EINVAL)
                return sweep_proc (first_fd, keep, n_keep, cloexec, err);
              return al_error_set (err, errno, "close inherited fds %u..%u", cur, last);
            }
        }
      if (next < 0 || (unsigned) next == ~0U)
        return 0;
      cur = (unsigned) next + 1;
    }
}

int
al_close_fds_from (int first_fd, const int *keep, size_t n_keep, struct al_error *err)
{
  return sweep (first_fd, keep, n_keep, false, err);
}

int
al_cloexec_fds_from (int first_fd, const int *keep, size_t n_keep, struct al_error *err)
{
  return sweep (first_fd, keep, n_keep, true, err);
}

/* A decimal number with no sign, space or suffix. */
static bool
parse_decimal (const char *s, unsigned long max, unsigned long *ret)
{
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  char *end;
  unsigned long v = strtoul (s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  *ret = v;
  return true;
}

int
al_listen_fds (const char *listen_pid, const char *listen_fds, pid_t self, unsigned *ret_n,
               struct al_error *err)
{
  *ret_n = 0;
  unsigned long pid = 0, n = 0;
  if (listen_pid == NULL || listen_fds == NULL)
    return 0;
  if (!parse_decimal (listen_pid, INT_MAX, &pid))
    return al_error_reason (err, EINVAL, "LISTEN_PID \"%.32s\": not a process id", listen_pid);
  if (pid != (unsigned long) self)
    return 0; /* meant for another process */
  if (!parse_decimal (listen_fds, AL_MAX_PRESERVED_FDS, &n))
    return al_error_reason (err, EINVAL, "LISTEN_FDS \"%.32s\": not a count of at most %u",
                            listen_fds, AL_MAX_PRESERVED_FDS);
  *ret_n = (unsigned) n;
  return 0;
}
