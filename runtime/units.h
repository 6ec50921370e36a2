/* units.h — sizes and durations as people type them on a command line.
 *
 * What this module promises:
 * - al_parse_size(): a non-negative decimal number (a fraction is allowed
 *   with a suffix: "1.5G") with an optional binary suffix, case-insensitive:
 *   K, M, G, T (powers of 1024), optionally followed by "B" or "iB"
 *   ("512M", "512MB", "512MiB", "64k"); a bare number or "B" is bytes.
 *   Anything else ("12XB", "-1", "", "1e3", "5 M") is -EINVAL, a result past
 *   UINT64_MAX -ERANGE, each with one line naming the option:
 *     --memory: invalid size `12XB` (use a number with K, M, G or T)
 * - al_parse_duration(): a non-negative decimal number of seconds with an
 *   optional unit: ms, s, m, h ("30s", "1.5", "500ms", "2m").  The result is
 *   whole milliseconds, rounded up (so a limit never shrinks to 0 by
 *   rounding).  Errors as above.
 * Nothing is allocated; what = the option's name, for messages.
 */
#ifndef AL_UNITS_H
#define AL_UNITS_H

#include <stdint.h>

#include "error.h"

int al_parse_size (const char *what, const char *s, uint64_t *ret_bytes, struct al_error *err);
int al_parse_duration (const char *what, const char *s, uint64_t *ret_ms, struct al_error *err);
/* A decimal integer in [min, max] (no sign, no suffix). */
int al_parse_uint (const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
                   struct al_error *err);

#endif
