/* error.c — see error.h. */
#include "config.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
al_error_code (const struct al_error *err)
{
  if (err == NULL || err->errnum == 0)
    return -EINVAL;
  return -err->errnum;
}

int
al_error_setv (struct al_error *err, int errnum, const char *fmt, va_list ap)
{
  if (err == NULL)
    return errnum ? -errnum : -EINVAL;

  err->errnum = errnum;
  int n = vsnprintf (err->msg, sizeof err->msg, fmt, ap);
  if (n < 0)
    n = 0;
  if (errnum != 0 && (size_t) n < sizeof err->msg)
    snprintf (err->msg + n, sizeof err->msg - n, ": %s", strerror (errnum));
  return al_error_code (err);
}

int
al_error_set (struct al_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int ret = al_error_setv (err, errnum, fmt, ap);
  va_end (ap);
  return ret;
}

int
al_error_reason (struct al_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int ret = al_error_setv (err, 0, fmt, ap);
  va_end (ap);
  if (err)
    err->errnum = errnum;
  return errnum ? -errnum : ret;
}

int
al_error_wrap (struct al_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return -EINVAL;

  char prefix[AL_ERROR_MSG_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);

  /* Truncation is fine: the cause stays readable up to the limit. */
  char joined[AL_ERROR_MSG_MAX];
  size_t plen = strnlen (prefix, sizeof joined - 1);
  memcpy (joined, prefix, plen);
  size_t len = plen;
  for (const char *sep = ": "; *sep && len < sizeof joined - 1; sep++)
    joined[len++] = *sep;
  size_t olen = strnlen (err->msg, sizeof err->msg);
  if (olen > sizeof joined - 1 - len)
    olen = sizeof joined - 1 - len;
  memcpy (joined + len, err->msg, olen);
  len += olen;
  joined[len] = '\0';
  memcpy (err->msg, joined, len + 1);
  return al_error_code (err);
}

void
al_error_clear (struct al_error *err)
{
  if (err == NULL)
    return;
  err->errnum = 0;
  err->msg[0] = '\0';
}
