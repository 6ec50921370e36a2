/* rlimits.h — process.rlimits.
 *
 * What this module promises:
 * - al_rlimits_apply() sets each listed limit, soft and hard at once, on the
 *   calling process, in list order; limits not listed keep what the
 *   process inherited.  UINT64_MAX is RLIM_INFINITY.
 * - A failure names the entry and what was refused, e.g.
 *     process.rlimits[0] RLIMIT_NOFILE: cannot raise hard limit 1048576
 *     above 524288: Operation not permitted
 *   (raising a hard limit needs CAP_SYS_RESOURCE; RLIMIT_NOFILE is also
 *   capped by fs.nr_open).
 * Call it in the container init before the uid switch and capability drop,
 * while CAP_SYS_RESOURCE may still be held.
 */
#ifndef AL_RLIMITS_H
#define AL_RLIMITS_H

#include <stddef.h>

#include "error.h"
#include "oci_config.h"

int al_rlimits_apply (const struct al_rlimit *rlimits, size_t n, struct al_error *err);

#endif
