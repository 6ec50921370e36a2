/* hooks.h — OCI hooks: run each of a list in order, the container state
 * JSON on its stdin, within its timeout.
 *
 * Where each kind runs (runtime-spec 1.2, as runc and crun do it):
 *   prestart, createRuntime   airlock create, runtime namespace, after the
 *                             init made its namespaces and mounts, before
 *                             pivot_root (the init waits for them)
 *   createContainer           the init, container namespaces, before
 *                             pivot_root
 *   startContainer            the init, after `start`, before the execve
 *   poststart                 airlock start, after the process started
 *   poststop                  airlock delete, after everything is gone
 * A failing prestart/createRuntime/createContainer/startContainer hook
 * fails the operation; poststart and poststop failures are warnings.
 *
 * A hook that exits without reading its stdin does not kill airlock
 * (EPIPE is ignored, SIGPIPE never raised: MSG_NOSIGNAL is not available
 * for pipes, so the write end is written with SIGPIPE blocked).  A hook
 * past its timeout is SIGKILLed with its process group (it runs in a group
 * of its own, so what it started goes too) and is an error.
 */
#ifndef AL_HOOKS_H
#define AL_HOOKS_H

#include <stdbool.h>

#include "error.h"
#include "oci_config.h"

/* Run config hooks of kind in order; stop at the first failure.  Errors
 * read "hooks.createRuntime[1] `/usr/bin/x`: exited with status 3". */
int al_hooks_run (const struct al_config *c, enum al_hook_kind kind, const char *state_json,
                  struct al_error *err);

/* Every hook that runs in the runtime namespace (all kinds but
 * createContainer and startContainer, whose paths resolve in the
 * container) names an executable file: checked before create does
 * anything. */
int al_hooks_check (const struct al_config *c, struct al_error *err);

#endif
