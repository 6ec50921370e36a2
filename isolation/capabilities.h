/* capabilities.h — the five capability sets of process.capabilities.
 *
 * What this module promises:
 * - al_caps_apply() leaves the calling process with exactly the configured
 *   sets: the bounding set reduced to `bounding`, effective / permitted /
 *   inheritable equal to their lists, the ambient set equal to `ambient`.
 *   Nothing is ever raised implicitly (CVE-2022-29162): an absent or empty
 *   list means an empty set, and inheritable or ambient capabilities the
 *   runtime itself inherited are cleared.
 * - Capabilities the running kernel does not know (at or above
 *   cap_max_bits()) are skipped in every set, as runc and crun do, so a
 *   config written for a newer kernel still runs.
 * - Before touching anything it checks what the kernel would refuse and
 *   names the culprit: an ambient capability not also permitted and
 *   inheritable, an effective one not permitted.
 * Call it after al_identity_apply() (which keeps the permitted set across
 * the uid switch) and before no_new_privs and seccomp.  It needs
 * CAP_SETPCAP in the permitted set when the bounding set shrinks.
 */
#ifndef AL_CAPABILITIES_H
#define AL_CAPABILITIES_H

#include <stddef.h>

#include "error.h"
#include "oci_config.h"

/* Apply caps exactly; NULL means all five sets empty. */
int al_caps_apply (const struct al_capabilities *caps, struct al_error *err);

/* Empty all five sets (sandbox run without --cap-add). */
int al_caps_drop_all (struct al_error *err);

/* Keep only caps[0..n) in the bounding, effective and permitted sets;
 * inheritable and ambient end up empty. */
int al_caps_keep (const int *caps, size_t n, struct al_error *err);

/* Resolve a capability name as a user types it: "CAP_NET_RAW", "NET_RAW"
 * or "net_raw" (no numbers, no "+ep" suffixes).  Names libcap knows but
 * the kernel does not are accepted; al_caps_apply skips them. */
int al_cap_from_name (const char *name, int *ret_cap, struct al_error *err);

/* al_cap_from_name on each of names[0..n), then al_caps_keep. */
int al_caps_keep_named (const char *const *names, size_t n, struct al_error *err);

#endif
