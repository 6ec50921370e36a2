/* namespaces.h — Linux namespaces from an OCI config.
 *
 * A namespace listed without a path is created by the clone3() that starts
 * the container init (al_ns_clone_flags); one listed with a path is joined
 * by the init with setns() (al_ns_join), the user namespace first so the
 * others are joined with its privileges.  The parent writes the uid/gid
 * maps of a new user namespace (al_ns_write_id_maps) before the init runs
 * past its first sync point.  The cgroup and time namespaces are the
 * exception: the init creates them itself (al_ns_set_names) once it stands
 * in its cgroups, so the cgroup namespace is rooted at the container's
 * cgroup, and the time offsets are written before anything enters it.
 */
#ifndef AL_NAMESPACES_H
#define AL_NAMESPACES_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci_config.h"

/* CLONE_NEW* flags of the namespaces clone3 creates: those the config
 * lists without a path, but cgroup and time. */
uint64_t al_ns_clone_flags (const struct al_config *c);

/* The CLONE_NEW* flag of one namespace type. */
int al_ns_type_flag (enum al_namespace_type type);

/* Open every namespace the config joins by path (O_RDONLY | O_CLOEXEC) and
 * check it is a namespace of the declared type.  Fds land in ret_fds,
 * indexed by type, -1 where nothing is joined.  Done before any setns, as
 * paths stop resolving once the mount namespace changes. */
int al_ns_open_joined (const struct al_config *c, int ret_fds[AL_NS__COUNT], struct al_error *err);

/* setns() into every open fd of al_ns_open_joined, user namespace first;
 * closes them. */
int al_ns_join (int fds[AL_NS__COUNT], struct al_error *err);

/* Close what al_ns_open_joined opened. */
void al_ns_close_joined (int fds[AL_NS__COUNT]);

/* Write /proc/PID/{setgroups,uid_map,gid_map} from the config's mappings.
 * setgroups is set to "deny" only when the caller is not root in its own
 * user namespace (as the kernel then requires). */
int al_ns_write_id_maps (pid_t pid, const struct al_config *c, struct al_error *err);

/* After the joins, in the init: create the cgroup namespace and the time
 * namespace (with linux.timeOffsets) the config asks for, then set hostname
 * and domainname (needs a uts namespace of its own; an error otherwise, as
 * the spec requires). */
int al_ns_set_names (const struct al_config *c, struct al_error *err);

#endif
