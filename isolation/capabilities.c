/* capabilities.c — see capabilities.h.
 *
 * The order matters, each step needing what the previous one left:
 *   1. check the lists against each other (nothing changed yet);
 *   2. raise effective to permitted: after setuid() with keepcaps the
 *      permitted set survives but effective is empty, and dropping from the
 *      bounding set needs CAP_SETPCAP in effective;
 *   3. drop from the bounding set;
 *   4. capset() effective / permitted / inheritable;
 *   5. clear the ambient set, so nothing the runtime inherited stays, and
 *      raise the configured ones (they need permitted + inheritable from 4).
 */
#include "config.h"

#include "capabilities.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cleanup.h"

#define CAP_NAME_MAX 64

static void
cap_freep (cap_t *c)
{
  if (*c)
    cap_free (*c);
}

#define cleanup_cap __attribute__ ((cleanup (cap_freep)))

/* "CAP_NET_RAW", or the number for one libcap does not name. */
static const char *
cap_name (int cap, char buf[CAP_NAME_MAX])
{
  char *name = cap_to_name ((cap_value_t) cap);
  if (name == NULL)
    snprintf (buf, CAP_NAME_MAX, "%d", cap);
  else
    {
      size_t i = 0;
      for (; name[i] && i < CAP_NAME_MAX - 1; i++)
        buf[i] = (char) toupper ((unsigned char) name[i]);
      buf[i] = '\0';
      cap_free (name);
    }
  return buf;
}

static bool
in_list (const struct al_cap_list *l, int cap)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->caps[i] == cap)
      return true;
  return false;
}

/* Step 1: what the kernel would refuse, named. */
static int
check_sets (const struct al_capabilities *caps, int nbits, struct al_error *err)
{
  char name[CAP_NAME_MAX];
  for (size_t i = 0; i < caps->ambient.n; i++)
    {
      int cap = caps->ambient.caps[i];
      if (cap < 0 || cap >= nbits)
        continue;
      bool p = in_list (&caps->permitted, cap);
      bool inh = in_list (&caps->inheritable, cap);
      if (!p || !inh)
        return al_error_reason (err, EPERM,
                                "process.capabilities.ambient[%zu]: %s is not also %s: an ambient "
                                "capability must be permitted and inheritable",
                                i, cap_name (cap, name),
                                !p && !inh ? "permitted and inheritable"
                                : !p       ? "permitted"
                                           : "inheritable");
    }
  for (size_t i = 0; i < caps->effective.n; i++)
    {
      int cap = caps->effective.caps[i];
      if (cap < 0 || cap >= nbits)
        continue;
      if (!in_list (&caps->permitted, cap))
        return al_error_reason (err, EPERM,
                                "process.capabilities.effective[%zu]: %s is not also permitted: "
                                "an effective capability must be permitted",
                                i, cap_name (cap, name));
    }
  return 0;
}

/* Step 2. */
static int
raise_effective_to_permitted (struct al_error *err)
{
  cleanup_cap cap_t cur = cap_get_proc ();
  if (cur == NULL)
    return al_error_set (err, errno, "read process capabilities");
  if (cap_fill (cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0)
    return al_error_set (err, errno, "copy permitted capabilities to effective");
  if (cap_set_proc (cur) < 0)
    return al_error_set (err, errno, "raise effective capabilities");
  return 0;
}

/* Step 3. */
static int
drop_bounding (const struct al_cap_list *keep, int nbits, struct al_error *err)
{
  char name[CAP_NAME_MAX];
  for (int cap = 0; cap < nbits; cap++)
    {
      if (in_list (keep, cap))
        continue;
      /* Drop straight away (one call; dropping twice is harmless); only
       * a refusal needs the read: a capability already gone is fine. */
      if (prctl (PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) == 0)
        continue;
      if (errno == EINVAL) /* the kernel has fewer than libcap thought */
        break;
      int drop_errno = errno;
      int r = prctl (PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0);
      if (r == 0)
        continue;
      if (r < 0)
        return al_error_set (err, errno, "process.capabilities.bounding: read %s",
                             cap_name (cap, name));
      if (drop_errno == EPERM)
        return al_error_reason (err, EPERM,
                                "process.capabilities.bounding: cannot drop %s: CAP_SETPCAP "
                                "is not permitted to the runtime",
                                cap_name (cap, name));
      return al_error_set (err, drop_errno, "process.capabilities.bounding: drop %s",
                           cap_name (cap, name));
    }
  return 0;
}

static int
fill_set (cap_t c, cap_flag_t flag, const struct al_cap_list *l, int nbits)
{
  for (size_t i = 0; i < l->n; i++)
    {
      cap_value_t v = (cap_value_t) l->caps[i];
      if (v < 0 || v >= nbits)
        continue;
      if (cap_set_flag (c, flag, 1, &v, CAP_SET) < 0)
        return -errno;
    }
  return 0;
}

static bool
has_flag (cap_t c, cap_value_t v, cap_flag_t flag)
{
  cap_flag_value_t value = CAP_CLEAR;
  return cap_get_flag (c, v, flag, &value) == 0 && value == CAP_SET;
}

/* Why capset() said EPERM: the first configured capability the runtime
 * cannot grant. */
static int
explain_capset_eperm (const struct al_capabilities *caps, cap_t old, int nbits,
                      struct al_error *err)
{
  char name[CAP_NAME_MAX];
  for (size_t i = 0; i < caps->permitted.n; i++)
    {
      int cap = caps->permitted.caps[i];
      if (cap >= 0 && cap < nbits && !has_flag (old, cap, CAP_PERMITTED))
        return al_error_reason (err, EPERM,
                                "process.capabilities.permitted[%zu]: %s is not permitted to the "
                                "runtime, so it cannot be granted",
                                i, cap_name (cap, name));
    }
  for (size_t i = 0; i < caps->inheritable.n; i++)
    {
      int cap = caps->inheritable.caps[i];
      if (cap >= 0 && cap < nbits && !has_flag (old, cap, CAP_INHERITABLE)
          && prctl (PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0) != 1)
        return al_error_reason (err, EPERM,
                                "process.capabilities.inheritable[%zu]: %s is not in the bounding "
                                "set, so it cannot be inheritable",
                                i, cap_name (cap, name));
    }
  return al_error_set (err, EPERM,
                       "process.capabilities: set effective, permitted and "
                       "inheritable");
}

/* Step 4. */
static int
set_eip (const struct al_capabilities *caps, int nbits, struct al_error *err)
{
  cleanup_cap cap_t old = cap_get_proc ();
  if (old == NULL)
    return al_error_set (err, errno, "read process capabilities");
  cleanup_cap cap_t c = cap_init ();
  if (c == NULL)
    return al_error_set (err, errno, "allocate capability state");
  int r;
  if ((r = fill_set (c, CAP_EFFECTIVE, &caps->effective, nbits)) < 0
      || (r = fill_set (c, CAP_PERMITTED, &caps->permitted, nbits)) < 0
      || (r = fill_set (c, CAP_INHERITABLE, &caps->inheritable, nbits)) < 0)
    return al_error_set (err, -r, "build capability sets");
  if (cap_set_proc (c) < 0)
    {
      if (errno == EPERM)
        return explain_capset_eperm (caps, old, nbits, err);
      return al_error_set (err, errno,
                           "process.capabilities: set effective, permitted and "
                           "inheritable");
    }
  return 0;
}

/* Step 5. */
static int
set_ambient (const struct al_cap_list *ambient, int nbits, struct al_error *err)
{
  char name[CAP_NAME_MAX];
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
      /* A kernel without ambient capabilities (< 4.3) has none to clear. */
      if (errno != EINVAL || ambient->n > 0)
        return al_error_set (err, errno, "process.capabilities.ambient: clear the ambient set");
    }
  for (size_t i = 0; i < ambient->n; i++)
    {
      int cap = ambient->caps[i];
      if (cap < 0 || cap >= nbits)
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) cap, 0, 0) < 0)
        return al_error_set (err, errno, "process.capabilities.ambient[%zu]: raise %s", i,
                             cap_name (cap, name));
    }
  return 0;
}

int
al_caps_apply (const struct al_capabilities *caps, struct al_error *err)
{
  static const struct al_capabilities none;
  if (caps == NULL)
    caps = &none;

  int nbits = (int) cap_max_bits ();
  int r;
  if ((r = check_sets (caps, nbits, err)) < 0 || (r = raise_effective_to_permitted (err)) < 0
      || (r = drop_bounding (&caps->bounding, nbits, err)) < 0)
    return r;
  if ((r = set_eip (caps, nbits, err)) < 0 || (r = set_ambient (&caps->ambient, nbits, err)) < 0)
    return r;
  return 0;
}

int
al_caps_drop_all (struct al_error *err)
{
  return al_caps_apply (NULL, err);
}

int
al_caps_keep (const int *caps, size_t n, struct al_error *err)
{
  struct al_cap_list list = { .caps = (int *) caps, .n = n };
  struct al_capabilities c = { .bounding = list, .effective = list, .permitted = list };
  return al_caps_apply (&c, err);
}

int
al_cap_from_name (const char *name, int *ret_cap, struct al_error *err)
{
  char full[CAP_NAME_MAX];
  const char *bare = strncasecmp (name, "CAP_", 4) == 0 ? name + 4 : name;
  size_t len = strlen (bare);
  bool plain = len > 0 && len < sizeof full - 4;
  for (size_t i = 0; plain && i < len; i++)
    plain = isalpha ((unsigned char) bare[i]) || bare[i] == '_';
  cap_value_t value = 0;
  if (plain)
    {
      snprintf (full, sizeof full, "cap_%s", bare);
      for (char *p = full; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      plain = cap_from_name (full, &value) == 0;
    }
  if (!plain)
    return al_error_reason (err, EINVAL, "unknown capability \"%.*s\"", 64, name);
  *ret_cap = value;
  return 0;
}

int
al_caps_keep_named (const char *const *names, size_t n, struct al_error *err)
{
  cleanup_free int *caps = calloc (n > 0 ? n : 1, sizeof *caps);
  if (caps == NULL)
    return al_error_set (err, ENOMEM, "resolve capability names");
  for (size_t i = 0; i < n; i++)
    {
      int r = al_cap_from_name (names[i], &caps[i], err);
      if (r < 0)
        return r;
    }
  return al_caps_keep (caps, n, err);
}
