/* identity.h — who the container process runs as: process.user.
 *
 * What this module promises:
 * - al_identity_apply() sets the supplementary groups to exactly
 *   additionalGids (none when absent: the runtime's own groups never leak),
 *   then the real/effective/saved gid and uid, then the umask (0022 when
 *   the config has none).  Where a user namespace denies setgroups
 *   (/proc/self/setgroups is "deny") and no additional gids are asked for,
 *   setgroups is skipped rather than failed.
 * - With keep_caps the permitted capabilities survive the switch to a
 *   non-zero uid (PR_SET_KEEPCAPS); the effective set is emptied by the
 *   kernel and al_caps_apply() raises exactly the configured sets after.
 *   Without it the kernel's rules apply: a non-root uid ends with no
 *   capabilities.
 * - HOME comes from the container's own /etc/passwd, opened inside the
 *   container root (openat2 RESOLVE_IN_ROOT: a symlink cannot lead to the
 *   host's file), never followed into a FIFO or device, read up to
 *   AL_PASSWD_MAX_BYTES and parsed line by line; "/" when there is no
 *   passwd file or no entry for the uid (as runc does).
 * Failures name the config field: "process.user.uid 1000: ...".
 */
#ifndef AL_IDENTITY_H
#define AL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci_config.h"

#define AL_PASSWD_MAX_BYTES (4u << 20)
#define AL_DEFAULT_UMASK 0022

int al_identity_apply (const struct al_user *user, bool keep_caps, struct al_error *err);

/* The home directory of uid in root_dirfd's etc/passwd (root_dirfd: the
 * container root, or AT_FDCWD once it is "/" and the cwd), malloc'ed;
 * "/" when there is none. */
int al_passwd_home (int root_dirfd, uint32_t uid, char **ret_home, struct al_error *err);

/* env[0..n_env) plus "HOME=<al_passwd_home>" when no entry of env sets
 * HOME; a new NULL-terminated array (free it with each string) in
 * *ret_env, its length in *ret_n.  env itself is never modified. */
int al_env_with_home (char *const *env, size_t n_env, int root_dirfd, uint32_t uid, char ***ret_env,
                      size_t *ret_n, struct al_error *err);

#endif
