/* units.c — see units.h. */
#include "config.h"

#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* x >= 0, at most UINT64_MAX / 2: the smallest whole number >= x. */
static uint64_t
ceil_u64 (long double x)
{
  uint64_t i = (uint64_t) x;
  return (long double) i < x ? i + 1 : i;
}

/* The leading "123" or "1.5" of s: digits only, at most one '.', no sign,
 * no exponent.  Returns the length consumed (0: not a number). */
static size_t
scan_number (const char *s, long double *ret)
{
  size_t i = 0, digits = 0;
  long double v = 0, scale = 0;
  for (; s[i]; i++)
    {
      if (isdigit ((unsigned char) s[i]))
        {
          digits++;
          if (scale == 0)
            v = v * 10 + (s[i] - '0');
          else
            {
              v += (s[i] - '0') / scale;
              scale *= 10;
            }
        }
      else if (s[i] == '.' && scale == 0)
        scale = 10;
      else
        break;
    }
  if (digits == 0)
    return 0;
  *ret = v;
  return i;
}

int
al_parse_size (const char *what, const char *s, uint64_t *ret_bytes, struct al_error *err)
{
  long double v;
  size_t n = scan_number (s, &v);
  if (n == 0)
    goto bad;
  const char *u = s + n;
  long double mult = 1;
  static const char units[] = "KMGT";
  const char *pos = *u ? strchr (units, toupper ((unsigned char) *u)) : NULL;
  if (pos)
    {
      for (const char *p = units; p <= pos; p++)
        mult *= 1024;
      u++;
      if (strcasecmp (u, "iB") == 0)
        u += 2;
    }
  if (strcasecmp (u, "B") == 0)
    u++;
  if (*u != '\0' || (mult == 1 && strchr (s, '.')))
    goto bad;
  long double bytes = v * mult;
  if (bytes > (long double) (UINT64_MAX / 2))
    return al_error_reason (err, ERANGE, "%s: size `%s` is too large", what, s);
  *ret_bytes = ceil_u64 (bytes);
  return 0;
bad:
  return al_error_reason (err, EINVAL, "%s: invalid size `%s` (use a number with K, M, G or T)",
                          what, s);
}

int
al_parse_duration (const char *what, const char *s, uint64_t *ret_ms, struct al_error *err)
{
  long double v;
  size_t n = scan_number (s, &v);
  if (n == 0)
    goto bad;
  const char *u = s + n;
  long double ms;
  if (*u == '\0' || strcmp (u, "s") == 0)
    ms = v * 1000;
  else if (strcmp (u, "ms") == 0)
    ms = v;
  else if (strcmp (u, "m") == 0)
    ms = v * 60000;
  else if (strcmp (u, "h") == 0)
    ms = v * 3600000;
  else
    goto bad;
  if (ms > (long double) (UINT64_MAX / 2))
    return al_error_reason (err, ERANGE, "%s: duration `%s` is too long", what, s);
  *ret_ms = ceil_u64 (ms);
  return 0;
bad:
  return al_error_reason (err, EINVAL,
                          "%s: invalid duration `%s` (use seconds, or a number with ms, s, m or h)",
                          what, s);
}

int
al_parse_uint (const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
               struct al_error *err)
{
  uint64_t v = 0;
  const char *p = s;
  if (*p == '\0')
    goto bad;
  for (; *p; p++)
    {
      if (!isdigit ((unsigned char) *p))
        goto bad;
      unsigned d = (unsigned) (*p - '0');
      if (v > (UINT64_MAX - d) / 10)
        goto range;
      v = v * 10 + d;
    }
  if (v < min || v > max)
    goto range;
  *ret = v;
  return 0;
range:
  return al_error_reason (err, ERANGE, "%s: `%s` is out of range (%llu..%llu)", what, s,
                          (unsigned long long) min, (unsigned long long) max);
bad:
  return al_error_reason (err, EINVAL, "%s: `%s` is not a whole number", what, s);
}
