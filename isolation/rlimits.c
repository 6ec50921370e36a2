/* rlimits.c — see rlimits.h. */
#include "config.h"

#include "rlimits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "cleanup.h"
#include "file.h"

/* "unlimited" or the number, for messages. */
static const char *
limit_str (uint64_t v, char buf[24])
{
  if (v == UINT64_MAX || v == (uint64_t) RLIM_INFINITY)
    return "unlimited";
  snprintf (buf, 24, "%" PRIu64, v);
  return buf;
}

static rlim_t
to_rlim (uint64_t v)
{
  return v == UINT64_MAX ? RLIM_INFINITY : (rlim_t) v;
}

/* fs.nr_open, or 0 when it cannot be read. */
static uint64_t
nr_open (void)
{
  cleanup_free char *buf = NULL;
  if (al_read_file (AT_FDCWD, "/proc/sys/fs/nr_open", 64, &buf, NULL, NULL) < 0)
    return 0;
  return strtoull (buf, NULL, 10);
}

static int
apply_one (size_t i, const struct al_rlimit *rl, struct al_error *err)
{
  const char *name = al_rlimit_name (rl->resource);
  if (name == NULL)
    return al_error_reason (err, EINVAL, "process.rlimits[%zu]: unknown resource %d", i,
                            rl->resource);
  char soft[24], hard[24], cur_hard[24];

  struct rlimit want = { .rlim_cur = to_rlim (rl->soft), .rlim_max = to_rlim (rl->hard) };
  if (prlimit (0, (__rlimit_resource_t) rl->resource, &want, NULL) == 0)
    return 0;

  int saved = errno;
  if (rl->resource == RLIMIT_NOFILE && (saved == EPERM || saved == EINVAL))
    {
      uint64_t max = nr_open ();
      if (max > 0 && (rl->hard > max || rl->soft > max))
        return al_error_reason (
            err, saved, "process.rlimits[%zu] %s: %s limit %s is above fs.nr_open (%" PRIu64 ")", i,
            name, rl->hard > max ? "hard" : "soft",
            limit_str (rl->hard > max ? rl->hard : rl->soft, hard), max);
    }
  struct rlimit cur;
  bool have_cur = prlimit (0, (__rlimit_resource_t) rl->resource, NULL, &cur) == 0;
  if (saved == EPERM && have_cur && cur.rlim_max != RLIM_INFINITY
      && (want.rlim_max == RLIM_INFINITY || want.rlim_max > cur.rlim_max))
    return al_error_set (err, EPERM, "process.rlimits[%zu] %s: cannot raise hard limit %s above %s",
                         i, name, limit_str (rl->hard, hard), limit_str (cur.rlim_max, cur_hard));
  return al_error_set (err, saved, "process.rlimits[%zu] %s: set soft %s hard %s", i, name,
                       limit_str (rl->soft, soft), limit_str (rl->hard, hard));
}

int
al_rlimits_apply (const struct al_rlimit *rlimits, size_t n, struct al_error *err)
{
  for (size_t i = 0; i < n; i++)
    {
      int r = apply_one (i, &rlimits[i], err);
      if (r < 0)
        return r;
    }
  return 0;
}
