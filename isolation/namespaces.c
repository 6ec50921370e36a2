/* namespaces.c — see namespaces.h. */
#include "config.h"

#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const int ns_flags[AL_NS__COUNT] = {
  [AL_NS_PID] = CLONE_NEWPID,   [AL_NS_NETWORK] = CLONE_NEWNET, [AL_NS_MOUNT] = CLONE_NEWNS,
  [AL_NS_IPC] = CLONE_NEWIPC,   [AL_NS_UTS] = CLONE_NEWUTS,     [AL_NS_USER] = CLONE_NEWUSER,
  [AL_NS_CGROUP] = CLONE_NEWCGROUP, [AL_NS_TIME] = CLONE_NEWTIME,
};

static const char *const ns_names[AL_NS__COUNT] = {
  [AL_NS_PID] = "pid", [AL_NS_NETWORK] = "network", [AL_NS_MOUNT] = "mount",
  [AL_NS_IPC] = "ipc", [AL_NS_UTS] = "uts",         [AL_NS_USER] = "user",
  [AL_NS_CGROUP] = "cgroup", [AL_NS_TIME] = "time",
};

int
al_ns_type_flag (enum al_namespace_type type)
{
  return type < AL_NS__COUNT ? ns_flags[type] : 0;
}

/* Made by the init itself once it stands in its cgroups (al_ns_set_names),
 * not by clone3: a cgroup namespace is rooted at the cgroup of its
 * creator, and the v1 hierarchies are only entered after the clone; a time
 * namespace takes its offsets only before any process is in it. */
#define LATE_NS_FLAGS (CLONE_NEWCGROUP | CLONE_NEWTIME)

static uint64_t
created_flags (const struct al_config *c)
{
  uint64_t flags = 0;
  if (c->linux_spec == NULL)
    return 0;
  for (size_t i = 0; i < c->linux_spec->n_namespaces; i++)
    {
      const struct al_namespace *ns = &c->linux_spec->namespaces[i];
      if (ns->path == NULL)
        flags |= (uint64_t) ns_flags[ns->type];
    }
  return flags;
}

uint64_t
al_ns_clone_flags (const struct al_config *c)
{
  return created_flags (c) & ~(uint64_t) LATE_NS_FLAGS;
}

void
al_ns_close_joined (int fds[AL_NS__COUNT])
{
  for (int t = 0; t < AL_NS__COUNT; t++)
    if (fds[t] >= 0)
      {
        close (fds[t]);
        fds[t] = -1;
      }
}

/* The entry of /proc/self/ns for each type. */
static const char *const proc_ns_names[AL_NS__COUNT] = {
  [AL_NS_PID] = "pid", [AL_NS_NETWORK] = "net", [AL_NS_MOUNT] = "mnt",
  [AL_NS_IPC] = "ipc", [AL_NS_UTS] = "uts",     [AL_NS_USER] = "user",
  [AL_NS_CGROUP] = "cgroup", [AL_NS_TIME] = "time",
};

/* Whether fd is the namespace of that type the caller is in.  The init
 * opens the joined namespaces before it leaves airlock's, so "ours" there
 * is the host's (or whatever airlock runs in). */
static bool
is_own_namespace (int fd, enum al_namespace_type type)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/ns/%s", proc_ns_names[type]);
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

/* The namespace a sysctl key belongs to (as rootfs.c decides it), or
 * AL_NS__COUNT. */
static enum al_namespace_type
sysctl_namespace (const char *key)
{
  char k[256];
  snprintf (k, sizeof k, "%s", key);
  if (strchr (k, '/'))
    for (char *p = k; *p; p++)
      if (*p == '/')
        *p = '.';
  if (strncmp (k, "net.", 4) == 0)
    return AL_NS_NETWORK;
  if (strncmp (k, "fs.mqueue.", 10) == 0 || strncmp (k, "kernel.msg", 10) == 0
      || strcmp (k, "kernel.sem") == 0 || strncmp (k, "kernel.shm", 10) == 0)
    return AL_NS_IPC;
  if (strcmp (k, "kernel.domainname") == 0 || strcmp (k, "kernel.hostname") == 0)
    return AL_NS_UTS;
  return AL_NS__COUNT;
}

/* A namespace joined by path that is the runtime's own is the host's:
 * hostname and sysctl would change the host through it (runc refuses
 * sysctls in the host's network namespace likewise). */
static int
check_own_namespace (const struct al_config *c, size_t i, const struct al_namespace *ns,
                     struct al_error *err)
{
  if (ns->type == AL_NS_UTS && (c->hostname || c->domainname))
    return al_error_reason (err, EPERM,
                            "hostname: linux.namespaces[%zu] `%s` is the host's uts namespace; "
                            "setting the hostname would rename the host",
                            i, ns->path);
  const struct al_string_map *map = &c->linux_spec->sysctl;
  for (size_t k = 0; k < map->n; k++)
    if (sysctl_namespace (map->keys[k]) == ns->type)
      return al_error_reason (err, EPERM,
                              "sysctl `%s`: linux.namespaces[%zu] `%s` is the host's %s "
                              "namespace; it would change the host",
                              map->keys[k], i, ns->path, ns_names[ns->type]);
  return 0;
}

int
al_ns_open_joined (const struct al_config *c, int ret_fds[AL_NS__COUNT], struct al_error *err)
{
  for (int t = 0; t < AL_NS__COUNT; t++)
    ret_fds[t] = -1;
  if (c->linux_spec == NULL)
    return 0;

  for (size_t i = 0; i < c->linux_spec->n_namespaces; i++)
    {
      const struct al_namespace *ns = &c->linux_spec->namespaces[i];
      if (ns->path == NULL)
        continue;
      int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int ret = al_error_set (err, errno, "linux.namespaces[%zu]: open %s namespace `%s`", i,
                                  ns_names[ns->type], ns->path);
          al_ns_close_joined (ret_fds);
          return ret;
        }
      ret_fds[ns->type] = fd;
      int kind = ioctl (fd, NS_GET_NSTYPE);
      if (kind < 0 || kind != ns_flags[ns->type])
        {
          int ret = al_error_reason (err, EINVAL,
                                     "linux.namespaces[%zu]: `%s` is not a %s namespace", i,
                                     ns->path, ns_names[ns->type]);
          al_ns_close_joined (ret_fds);
          return ret;
        }
      if (is_own_namespace (fd, ns->type))
        {
          int ret = check_own_namespace (c, i, ns, err);
          if (ret < 0)
            {
              al_ns_close_joined (ret_fds);
              return ret;
            }
        }
    }
  return 0;
}

int
al_ns_join (int fds[AL_NS__COUNT], struct al_error *err)
{
  /* The user namespace first: joining it grants the capabilities the
   * other setns() calls need when their namespaces belong to it. */
  static const enum al_namespace_type order[] = {
    AL_NS_USER, AL_NS_PID, AL_NS_NETWORK, AL_NS_IPC, AL_NS_UTS,
    AL_NS_CGROUP, AL_NS_TIME, AL_NS_MOUNT,
  };
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    {
      enum al_namespace_type t = order[i];
      if (fds[t] < 0)
        continue;
      if (setns (fds[t], ns_flags[t]) < 0)
        {
          int ret = al_error_set (err, errno, "join %s namespace", ns_names[t]);
          al_ns_close_joined (fds);
          return ret;
        }
      close (fds[t]);
      fds[t] = -1;
    }
  return 0;
}

static int
write_map (pid_t pid, const char *file, const struct al_id_mapping *m, size_t n,
           struct al_error *err)
{
  if (n == 0)
    return 0;
  char buf[AL_CONFIG_MAX_ID_MAPPINGS * 36];
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof buf; i++)
    len += (size_t) snprintf (buf + len, sizeof buf - len, "%u %u %u\n", m[i].container_id,
                              m[i].host_id, m[i].size);
  if (len >= sizeof buf)
    return al_error_reason (err, E2BIG, "%s: too many mappings", file);

  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "open `%s`", path);
  if (write (fd, buf, len) != (ssize_t) len)
    return al_error_set (err, errno, "write %s `%.*s`", path, (int) (len ? len - 1 : 0), buf);
  return 0;
}

int
al_ns_write_id_maps (pid_t pid, const struct al_config *c, struct al_error *err)
{
  const struct al_linux *l = c->linux_spec;
  if (l == NULL)
    return 0;

  if (geteuid () != 0)
    {
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/setgroups", (int) pid);
      cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, "deny", 4) != 4)
        return al_error_set (err, errno, "write `%s`", path);
    }
  int ret = write_map (pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err);
  if (ret < 0)
    return al_error_wrap (err, "linux.uidMappings");
  ret = write_map (pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
  if (ret < 0)
    return al_error_wrap (err, "linux.gidMappings");
  return 0;
}

static int
write_time_offsets (const struct al_linux *l, struct al_error *err)
{
  char buf[128];
  size_t len = 0;
  if (l->time_offset_monotonic.present)
    len += (size_t) snprintf (buf + len, sizeof buf - len, "monotonic %" PRId64 " %" PRIu32 "\n",
                              l->time_offset_monotonic.secs, l->time_offset_monotonic.nanosecs);
  if (l->time_offset_boottime.present)
    len += (size_t) snprintf (buf + len, sizeof buf - len, "boottime %" PRId64 " %" PRIu32 "\n",
                              l->time_offset_boottime.secs, l->time_offset_boottime.nanosecs);
  if (len == 0)
    return 0;
  cleanup_close int fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "linux.timeOffsets: open /proc/self/timens_offsets");
  /* One write per clock: the kernel takes a line at a time. */
  for (char *line = buf; *line;)
    {
      char *nl = strchr (line, '\n');
      size_t n = (size_t) (nl - line) + 1;
      if (write (fd, line, n) != (ssize_t) n)
        return al_error_set (err, errno, "linux.timeOffsets: write `%.*s`", (int) n - 1, line);
      line = nl + 1;
    }
  return 0;
}

/* The cgroup and time namespaces the config creates (LATE_NS_FLAGS). */
static int
create_late_namespaces (const struct al_config *c, struct al_error *err)
{
  uint64_t late = created_flags (c) & LATE_NS_FLAGS;
  if (late & CLONE_NEWCGROUP)
    {
      if (unshare (CLONE_NEWCGROUP) < 0)
        return al_error_set (err, errno, "create the cgroup namespace");
    }
  if (late & CLONE_NEWTIME)
    {
      /* unshare() puts only our children in it: set the offsets while it
         is empty, then enter it ourselves. */
      if (unshare (CLONE_NEWTIME) < 0)
        return al_error_set (err, errno, "create the time namespace");
      int r = write_time_offsets (c->linux_spec, err);
      if (r < 0)
        return r;
      cleanup_close int fd = open ("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns (fd, CLONE_NEWTIME) < 0)
        return al_error_set (err, errno, "enter the time namespace");
    }
  else if (c->linux_spec
           && (c->linux_spec->time_offset_monotonic.present
               || c->linux_spec->time_offset_boottime.present))
    return al_error_reason (err, EINVAL, "linux.timeOffsets: needs a time namespace of its own");
  return 0;
}

int
al_ns_set_names (const struct al_config *c, struct al_error *err)
{
  int r = create_late_namespaces (c, err);
  if (r < 0)
    return r;
  if (c->hostname == NULL && c->domainname == NULL)
    return 0;
  const struct al_namespace *uts = al_config_find_namespace (c, AL_NS_UTS);
  if (uts == NULL)
    return al_error_reason (err, EINVAL, "hostname: needs a uts namespace of its own");
  if (c->hostname && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return al_error_set (err, errno, "hostname: set `%s`", c->hostname);
  if (c->domainname && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return al_error_set (err, errno, "domainname: set `%s`", c->domainname);
  return 0;
}
