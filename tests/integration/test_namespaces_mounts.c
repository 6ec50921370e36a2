/* test_namespaces_mounts.c — namespace and root-filesystem isolation as
 * airlock sets it up, observed from inside a busybox container: the pid,
 * uts, network, ipc, mount, cgroup, user and time namespaces, joining a
 * namespace by path; bind/rbind/tmpfs/proc/sysfs/devpts/mqueue/cgroup
 * mounts and their options, propagation, mount destinations that try to
 * leave the root; pivot_root and --no-pivot, root.readonly, /dev, devices,
 * maskedPaths, readonlyPaths and sysctl.
 *
 * Each test builds its own bundle (harness.h) and ends with
 * h_assert_clean.  Needs root.  No test writes a sysctl of the host: the
 * refused keys are given the host's current value, so even a broken check
 * could not change anything.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
/* The mountinfo line of / (field 5), marked "ROOT ". */
#define ROOT_LINE "awk '$5 == \"/\" { print \"ROOT \" $0 }' /proc/self/mountinfo"

/* ---------------------------------------------------------------- helpers */

static void
bundle_sh (struct h_bundle *b, const char *script)
{
  h_bundle_init (b, ARGS ("sh", "-c", script));
}

static void
run_ok (struct h_result *r, struct h_bundle *b, const char *id)
{
  h_bundle_save (b);
  h_airlock (r, b, NULL, 60, ARGS ("run", id));
  cr_assert_eq (r->status, 0, "run %s: status %d\nstdout: %s\nstderr: %s", id, r->status, r->out,
                r->err);
}

static void
run_fails (struct h_result *r, struct h_bundle *b, const char *id, const char *want)
{
  h_bundle_save (b);
  h_airlock (r, b, NULL, 60, ARGS ("run", id));
  cr_assert_neq (r->status, 0, "run %s should fail\nstdout: %s\nstderr: %s", id, r->out, r->err);
  cr_assert_not_null (strstr (r->err, want), "run %s: stderr lacks `%s`:\n%s", id, want, r->err);
}

static void
finish (struct h_bundle *b, const char *id, struct h_result *r)
{
  h_result_free (r);
  h_assert_clean (b, id);
  h_bundle_fini (b);
}

static json_t *
linux_obj (struct h_bundle *b)
{
  json_t *l = json_object_get (b->config, "linux");
  cr_assert_not_null (l, "config has no linux object");
  return l;
}

static json_t *
namespaces (struct h_bundle *b)
{
  return json_object_get (linux_obj (b), "namespaces");
}

static void
remove_ns (struct h_bundle *b, const char *type)
{
  json_t *a = namespaces (b);
  for (size_t i = 0; i < json_array_size (a); i++)
    if (strcmp (json_string_value (json_object_get (json_array_get (a, i), "type")), type) == 0)
      {
        json_array_remove (a, i);
        return;
      }
}

/* Add (or replace) a namespace; path NULL: a new one. */
static void
set_ns (struct h_bundle *b, const char *type, const char *path)
{
  remove_ns (b, type);
  json_t *ns = json_pack ("{s:s}", "type", type);
  if (path)
    json_object_set_new (ns, "path", json_string (path));
  json_array_append_new (namespaces (b), ns);
}

/* Append a mount; options NULL-terminated (none: no "options"). */
static void
add_mount (struct h_bundle *b, const char *dest, const char *type, const char *source, ...)
{
  json_t *m = json_pack ("{s:s}", "destination", dest);
  if (type)
    json_object_set_new (m, "type", json_string (type));
  if (source)
    json_object_set_new (m, "source", json_string (source));
  json_t *opts = json_array ();
  va_list ap;
  va_start (ap, source);
  for (const char *o; (o = va_arg (ap, const char *)) != NULL;)
    json_array_append_new (opts, json_string (o));
  va_end (ap);
  if (json_array_size (opts))
    json_object_set_new (m, "options", opts);
  else
    json_decref (opts);
  json_array_append_new (json_object_get (b->config, "mounts"), m);
}

/* The readlink of /proc/self/ns/NAME of this process. */
static void
own_ns (const char *name, char *buf, size_t size)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/ns/%s", name);
  ssize_t n = readlink (path, buf, size - 1);
  cr_assert_gt (n, 0, "readlink %s: %s", path, strerror (errno));
  buf[n] = '\0';
}

static void
must_contain (const char *hay, const char *needle, const char *what)
{
  cr_assert_not_null (strstr (hay, needle), "%s: `%s` not in:\n%s", what, needle, hay);
}

static void
must_not_contain (const char *hay, const char *needle, const char *what)
{
  cr_assert_null (strstr (hay, needle), "%s: `%s` unexpectedly in:\n%s", what, needle, hay);
}

/* The line of text that contains needle (malloc'd), or NULL. */
static char *
line_with (const char *text, const char *needle)
{
  const char *p = strstr (text, needle);
  if (p == NULL)
    return NULL;
  const char *start = p;
  while (start > text && start[-1] != '\n')
    start--;
  const char *end = strchrnul (p, '\n');
  return strndup (start, (size_t) (end - start));
}

static char *
host_read_trimmed (const char *path)
{
  char *s = h_read_file (path);
  cr_assert_not_null (s, "read %s", path);
  s[strcspn (s, "\n")] = '\0';
  return s;
}

/* ------------------------------------------------------------ namespaces */

Test (ns, pid_is_one)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "echo pid=$$; echo ppid=$PPID; ls /proc | grep -c '^[0-9]'");
  const char *id = h_id ("nsm-pid");
  run_ok (&r, &b, id);
  must_contain (r.out, "pid=1\n", "the container's pid");
  must_contain (r.out, "ppid=0\n", "its parent is outside");
  /* sh, ls and grep: nothing of the host is in this /proc. */
  int n = 0;
  char *last = strrchr (r.out, '=');
  cr_assert_not_null (last);
  sscanf (strchr (last, '\n') + 1, "%d", &n);
  cr_assert (n >= 1 && n <= 4, "%d processes visible in the container's /proc", n);
  finish (&b, id, &r);
}

Test (ns, uts_hostname_domainname)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname");
  json_object_set_new (b.config, "hostname", json_string ("iso-host"));
  json_object_set_new (b.config, "domainname", json_string ("iso.domain"));
  char host_before[256];
  cr_assert_eq (gethostname (host_before, sizeof host_before), 0);
  const char *id = h_id ("nsm-uts");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "iso-host\niso-host\niso.domain\n");
  char host_after[256];
  cr_assert_eq (gethostname (host_after, sizeof host_after), 0);
  cr_assert_str_eq (host_after, host_before, "the host's hostname changed");
  finish (&b, id, &r);
}

Test (ns, hostname_needs_uts_namespace)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "hostname");
  remove_ns (&b, "uts");
  json_object_set_new (b.config, "hostname", json_string ("iso-nouts"));
  const char *id = h_id ("nsm-nouts");
  h_bundle_save (&b);
  /* In a uts namespace of the test's own: were the refusal gone, airlock
     would rename whatever uts namespace it runs in. */
  struct h_spawn sp = { .timeout_s = 60, .cwd = b.dir };
  h_spawn (&r, &sp, ARGS ("/usr/bin/unshare", "--uts", h_airlock_path (), "--root", b.root, "run", id));
  cr_assert_neq (r.status, 0, "hostname without a uts namespace ran: %s", r.out);
  must_contain (r.err, "hostname: needs a uts namespace", "error");
  finish (&b, id, &r);
}

Test (ns, network_only_lo)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "cat /proc/net/dev; echo ---; ip -o link; echo ---; readlink /proc/self/ns/net");
  const char *id = h_id ("nsm-net");
  run_ok (&r, &b, id);
  char *dev = strndup (r.out, (size_t) (strstr (r.out, "---") - r.out));
  must_contain (dev, " lo:", "/proc/net/dev");
  /* Two header lines and lo. */
  int lines = 0;
  for (const char *p = dev; *p; p++)
    lines += *p == '\n';
  cr_assert_eq (lines, 3, "interfaces other than lo:\n%s", dev);
  free (dev);
  const char *links = strstr (r.out, "---\n") + 4;
  cr_assert (strncmp (links, "1: lo:", 6) == 0, "ip link: %s", links);
  cr_assert_eq (strstr (links, "2: "), NULL, "a second link: %s", links);
  char host[128];
  own_ns ("net", host, sizeof host);
  must_not_contain (r.out, host, "network namespace");
  finish (&b, id, &r);
}

Test (ns, ipc_segments_not_shared)
{
  struct h_bundle b;
  struct h_result r;
  int shmid = shmget (IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  cr_assert_geq (shmid, 0, "shmget: %s", strerror (errno));
  bundle_sh (&b, "cat /proc/sysvipc/shm; echo ---; readlink /proc/self/ns/ipc");
  const char *id = h_id ("nsm-ipc");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 60, ARGS ("run", id));
  shmctl (shmid, IPC_RMID, NULL);
  cr_assert_eq (r.status, 0, "run: %s", r.err);
  /* Only the header line: the host's segment is not there. */
  char *sep = strstr (r.out, "---");
  cr_assert_not_null (sep);
  int lines = 0;
  for (const char *p = r.out; p < sep; p++)
    lines += *p == '\n';
  cr_assert_eq (lines, 1, "segments visible in the container:\n%s", r.out);
  char host[128];
  own_ns ("ipc", host, sizeof host);
  must_not_contain (r.out, host, "ipc namespace");
  finish (&b, id, &r);
}

Test (ns, mount_namespace_private)
{
  struct h_bundle b;
  struct h_result r;
  h_bundle_init (&b, ARGS ("sleep", "60"));
  const char *id = h_id ("nsm-mnt");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 30, ARGS ("run", "--detach", id));
  cr_assert_eq (r.status, 0, "run --detach: %s", r.err);
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  int pid = (int) json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  cr_assert_gt (pid, 0);

  /* Everything is read while it runs, then the container is deleted, and
     only then checked: a failed check leaves nothing running. */
  char path[64], theirs[128] = "", ours[128];
  snprintf (path, sizeof path, "/proc/%d/ns/mnt", pid);
  ssize_t n = readlink (path, theirs, sizeof theirs - 1);
  if (n > 0)
    theirs[n] = '\0';
  own_ns ("mnt", ours, sizeof ours);
  char *host_mi = h_read_file ("/proc/self/mountinfo");
  snprintf (path, sizeof path, "/proc/%d/mountinfo", pid);
  char *mi = h_read_file (path);
  h_airlock (&r, &b, NULL, 30, ARGS ("delete", "--force", id));
  cr_assert_eq (r.status, 0, "delete --force: %s", r.err);

  cr_assert_gt (n, 0);
  cr_assert_str_neq (theirs, ours, "the container shares our mount namespace");
  /* The container's /proc, /dev, /sys... are not mounts of the host... */
  cr_assert_not_null (host_mi);
  must_not_contain (host_mi, b.dir, "host mountinfo while the container runs");
  free (host_mi);
  /* ...but the container's: its root is the rootfs. */
  cr_assert_not_null (mi);
  must_contain (mi, "/rootfs / ", "the container's / is the rootfs");
  must_contain (mi, " /proc rw", "container /proc");
  free (mi);
  finish (&b, id, &r);
}

Test (ns, cgroup_namespace_root)
{
  struct h_bundle b;
  struct h_result r;
  /* v1: the pids hierarchy; v2: the one hierarchy at /sys/fs/cgroup */
  bool v2 = h_cgroup_v2 ();
  bundle_sh (&b, v2 ? "cat /proc/self/cgroup; echo ---; ls /sys/fs/cgroup"
                    : "cat /proc/self/cgroup; echo ---; ls /sys/fs/cgroup/pids");
  const char *id = h_id ("nsm-cgns");
  run_ok (&r, &b, id);
  /* Every hierarchy's line ends in ":/": the container's cgroup is its root. */
  char *sep = strstr (r.out, "---");
  cr_assert_not_null (sep);
  int lines = 0;
  for (char *line = r.out; line < sep;)
    {
      char *nl = strchr (line, '\n');
      cr_assert (nl - line >= 2 && nl[-1] == '/' && nl[-2] == ':',
                 "a cgroup path other than /:\n%s", r.out);
      lines++;
      line = nl + 1;
    }
  cr_assert_gt (lines, 0);
  /* v2 has the one line "0::/" */
  if (v2)
    cr_assert (lines == 1 && strncmp (r.out, "0::/\n", 5) == 0,
               "not the one v2 line 0::/:\n%s", r.out);
  /* The pids hierarchy (v2: the cgroup2 mount) shows the container's
   * cgroup, not the host's tree: no airlock/ parent, and pids.max, which
   * a root cgroup does not have. */
  const char *where = v2 ? "/sys/fs/cgroup in the container" : "/sys/fs/cgroup/pids in the container";
  must_not_contain (sep, "airlock", where);
  must_contain (sep, "pids.max", where);
  finish (&b, id, &r);
}

Test (ns, cgroup_namespace_absent)
{
  struct h_bundle b;
  struct h_result r;
  /* v1: the pids hierarchy's line; v2: the one line 0:: */
  bundle_sh (&b, h_cgroup_v2 () ? "grep '^0::' /proc/self/cgroup"
                                : "grep '^[0-9]*:pids:' /proc/self/cgroup");
  remove_ns (&b, "cgroup");
  const char *id = h_id ("nsm-nocgns");
  run_ok (&r, &b, id);
  char want[128];
  snprintf (want, sizeof want, "/airlock/%s\n", id);
  must_contain (r.out, want, "without a cgroup namespace the full path shows");
  finish (&b, id, &r);
}

Test (ns, user_namespace_mappings)
{
  struct h_bundle b;
  struct h_result r;
  char shared[] = "/tmp/al-iso-ns-uid-XXXXXX";
  cr_assert_not_null (mkdtemp (shared));
  cr_assert_eq (chmod (shared, 0777), 0);
  bundle_sh (&b, "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u:%g /bin/busybox;"
                 " touch /shared/made-inside && echo made");
  /* Host uid 100000 must reach the bundle and the mount point. */
  cr_assert_eq (chmod (b.dir, 0755), 0);
  char mp[PATH_MAX + 16];
  snprintf (mp, sizeof mp, "%s/rootfs/shared", b.dir);
  cr_assert_eq (mkdir (mp, 0755), 0);
  set_ns (&b, "user", NULL);
  json_t *l = linux_obj (&b);
  json_object_set_new (l, "uidMappings",
                       json_pack ("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", 100000, "size",
                                  65536));
  json_object_set_new (l, "gidMappings",
                       json_pack ("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", 100000, "size",
                                  65536));
  add_mount (&b, "/shared", "bind", shared, "rbind", NULL);
  const char *id = h_id ("nsm-user");
  run_ok (&r, &b, id);
  must_contain (r.out, "         0     100000      65536\n         0     100000      65536\n0\n",
                "uid_map, gid_map and id -u");
  /* Host root is unmapped: the rootfs belongs to the overflow ids. */
  must_contain (r.out, "\n65534:65534\nmade\n", "owner of the rootfs inside");
  char file[PATH_MAX];
  snprintf (file, sizeof file, "%s/made-inside", shared);
  struct stat st;
  cr_assert_eq (stat (file, &st), 0, "%s: %s", file, strerror (errno));
  cr_assert_eq (st.st_uid, 100000, "owner of a file made by container root: %u", st.st_uid);
  cr_assert_eq (st.st_gid, 100000, "group of a file made by container root: %u", st.st_gid);
  unlink (file);
  rmdir (shared);
  finish (&b, id, &r);
}

Test (ns, time_namespace_offsets)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "cat /proc/uptime /proc/self/timens_offsets");
  set_ns (&b, "time", NULL);
  json_object_set_new (linux_obj (&b), "timeOffsets",
                       json_pack ("{s:{s:I,s:i},s:{s:I}}", "boottime", "secs",
                                  (json_int_t) 1000000000, "nanosecs", 0, "monotonic", "secs",
                                  (json_int_t) -5));
  struct timespec host;
  clock_gettime (CLOCK_BOOTTIME, &host);
  const char *id = h_id ("nsm-time");
  run_ok (&r, &b, id);
  double up = 0;
  cr_assert_eq (sscanf (r.out, "%lf", &up), 1, "uptime: %s", r.out);
  cr_assert (up >= 1e9 + (double) host.tv_sec && up < 1e9 + (double) host.tv_sec + 120,
             "uptime inside %.2f, host boottime %ld", up, (long) host.tv_sec);
  must_contain (r.out, "monotonic", "timens_offsets");
  char *mono = line_with (r.out, "monotonic");
  char *boot = line_with (r.out, "boottime");
  cr_assert (mono && boot);
  long ms, bs;
  cr_assert_eq (sscanf (mono, "monotonic %ld", &ms), 1);
  cr_assert_eq (sscanf (boot, "boottime %ld", &bs), 1);
  cr_assert_eq (ms, -5);
  cr_assert_eq (bs, 1000000000L);
  free (mono);
  free (boot);
  finish (&b, id, &r);
}

Test (ns, time_offsets_need_time_namespace)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "cat /proc/uptime");
  json_object_set_new (linux_obj (&b), "timeOffsets",
                       json_pack ("{s:{s:i}}", "boottime", "secs", 1000));
  const char *id = h_id ("nsm-notime");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 60, ARGS ("run", id));
  cr_assert_neq (r.status, 0, "timeOffsets without a time namespace ran: %s", r.out);
  must_contain (r.err, "time namespace", "error");
  finish (&b, id, &r);
}

/* A process of ours in a new uts namespace and the one of flag (unshare
 * --uts FLAG), named name there; its pid, once it is in them.  Always a uts
 * namespace of its own: `hostname` must never rename the host. */
static pid_t
start_holder (const char *flag, const char *name)
{
  char script[128];
  snprintf (script, sizeof script, "hostname %s && exec sleep 120", name);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 0);
      dup2 (null, 1);
      execl ("/usr/bin/unshare", "unshare", "--uts", flag, "/bin/sh", "-c", script, (char *) NULL);
      _exit (127);
    }
  /* Until sh has exec'd sleep: then hostname ran. */
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
  for (int i = 0; i < 500; i++)
    {
      char *comm = h_read_file (path);
      bool ready = comm && strcmp (comm, "sleep\n") == 0;
      free (comm);
      if (ready)
        return pid;
      usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  cr_assert_fail ("unshare %s did not start", flag);
  return -1;
}

static void
stop_holder (pid_t pid)
{
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

Test (ns, join_by_path)
{
  struct h_bundle b;
  struct h_result r;
  char host_name[256], host_after[256];
  cr_assert_eq (gethostname (host_name, sizeof host_name), 0);
  pid_t uts = start_holder ("--ipc", "iso-joined");
  pid_t net = start_holder ("--net", "iso-netholder");
  char uts_path[64], net_path[64], net_link[128];
  snprintf (uts_path, sizeof uts_path, "/proc/%d/ns/uts", (int) uts);
  snprintf (net_path, sizeof net_path, "/proc/%d/ns/net", (int) net);
  ssize_t n = readlink (net_path, net_link, sizeof net_link - 1);
  cr_assert_gt (n, 0);
  net_link[n] = '\0';

  bundle_sh (&b, "hostname; readlink /proc/self/ns/net");
  json_object_del (b.config, "hostname"); /* it would rename the joined one */
  set_ns (&b, "uts", uts_path);
  set_ns (&b, "network", net_path);
  const char *id = h_id ("nsm-join");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 60, ARGS ("run", id));
  stop_holder (uts);
  stop_holder (net);
  cr_assert_eq (gethostname (host_after, sizeof host_after), 0);
  cr_assert_str_eq (host_after, host_name, "the host's hostname changed");
  cr_assert_eq (r.status, 0, "run: %s", r.err);
  char want[256];
  snprintf (want, sizeof want, "iso-joined\n%s\n", net_link);
  cr_assert_str_eq (r.out, want);
  finish (&b, id, &r);
}

Test (ns, join_wrong_type_refused)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "true");
  set_ns (&b, "uts", "/proc/self/ns/net");
  const char *id = h_id ("nsm-jointype");
  run_fails (&r, &b, id, "is not a uts namespace");
  finish (&b, id, &r);
}

/* Joining the runtime's own namespace by path is joining the host's: no
 * hostname or sysctl through it.  airlock runs in throwaway namespaces of
 * the test's (unshare), so even a broken check changes nothing real. */
static void
check_own_ns_refused (const char *unshare_flag, const char *type, const char *path,
                      const char *want, bool set_hostname)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "echo ran; cat /proc/sys/net/ipv4/ip_forward");
  set_ns (&b, type, path);
  if (set_hostname)
    json_object_set_new (b.config, "hostname", json_string ("iso-own"));
  else
    {
      json_object_del (b.config, "hostname");
      json_object_set_new (linux_obj (&b), "sysctl",
                           json_pack ("{s:s}", "net.ipv4.ip_forward", "1"));
    }
  const char *id = h_id ("nsm-own");
  h_bundle_save (&b);
  struct h_spawn sp = { .timeout_s = 60, .cwd = b.dir };
  h_spawn (&r, &sp,
           ARGS ("/usr/bin/unshare", unshare_flag, h_airlock_path (), "--root", b.root, "run", id));
  cr_assert_neq (r.status, 0, "ran in the runtime's own %s namespace: %s", type, r.out);
  must_contain (r.err, want, "error");
  must_not_contain (r.out, "ran", "the container ran");
  finish (&b, id, &r);
}

Test (ns, sysctl_in_own_netns_refused)
{
  check_own_ns_refused ("--net", "network", "/proc/self/ns/net",
                        "is the host's network namespace", false);
}

Test (ns, hostname_in_own_utsns_refused)
{
  check_own_ns_refused ("--uts", "uts", "/proc/self/ns/uts", "would rename the host", true);
}

/* ---------------------------------------------------------------- mounts */

Test (mounts, bind_relative_and_absolute)
{
  struct h_bundle b;
  struct h_result r;
  char host[] = "/tmp/al-iso-ns-abs-XXXXXX";
  cr_assert_not_null (mkdtemp (host));
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/abs-file", host);
  h_write_file (path, "from-absolute\n");

  bundle_sh (&b, "cat /rel/rel-file /abs/abs-file /one; echo inside > /rel/new && echo wrote;"
                 " touch /abs/x 2>&1; true");
  snprintf (path, sizeof path, "%s/data", b.dir);
  cr_assert_eq (mkdir (path, 0755), 0);
  snprintf (path, sizeof path, "%s/data/rel-file", b.dir);
  h_write_file (path, "from-relative\n");
  snprintf (path, sizeof path, "%s/single", b.dir);
  h_write_file (path, "one-file\n");
  json_object_set_new (b.config, "root", json_pack ("{s:s,s:b}", "path", "rootfs", "readonly", 0));
  add_mount (&b, "/rel", "bind", "data", "bind", NULL);
  add_mount (&b, "/abs", "bind", host, "rbind", "ro", NULL);
  add_mount (&b, "/one", NULL, "single", "bind", NULL); /* a file, no type */
  const char *id = h_id ("nsm-bind");
  run_ok (&r, &b, id);
  must_contain (r.out, "from-relative\nfrom-absolute\none-file\nwrote\n", "bind contents");
  must_contain (r.out, "Read-only file system", "write to a ro bind");
  snprintf (path, sizeof path, "%s/data/new", b.dir);
  char *s = h_read_file (path);
  cr_assert_not_null (s, "a write through the bind mount did not reach the host");
  cr_assert_str_eq (s, "inside\n");
  free (s);
  snprintf (path, sizeof path, "%s/x", host);
  cr_assert_neq (access (path, F_OK), 0, "ro bind was written");
  snprintf (path, sizeof path, "%s/abs-file", host);
  unlink (path);
  rmdir (host);
  finish (&b, id, &r);
}

Test (mounts, rbind_takes_submounts)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "ls /r/sub; echo ---; ls /nr/sub");
  char src[PATH_MAX + 16], sub[PATH_MAX + 32], file[PATH_MAX + 48];
  snprintf (src, sizeof src, "%s/src", b.dir);
  snprintf (sub, sizeof sub, "%s/sub", src);
  cr_assert_eq (mkdir (src, 0755), 0);
  cr_assert_eq (mkdir (sub, 0755), 0);
  cr_assert_eq (mount ("tmpfs", sub, "tmpfs", 0, "size=64k"), 0, "mount: %s", strerror (errno));
  snprintf (file, sizeof file, "%s/on-submount", sub);
  h_write_file (file, "x");
  add_mount (&b, "/r", "bind", "src", "rbind", NULL);
  add_mount (&b, "/nr", "bind", "src", "bind", NULL);
  const char *id = h_id ("nsm-rbind");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 60, ARGS ("run", id));
  umount2 (sub, MNT_DETACH);
  cr_assert_eq (r.status, 0, "run: %s", r.err);
  cr_assert_str_eq (r.out, "on-submount\n---\n", "rbind shows the submount, bind does not");
  finish (&b, id, &r);
}

Test (mounts, tmpfs_options)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "grep -E ' /t1 | /t2 ' /proc/self/mountinfo; stat -c %a /t1;"
                 " printf '#!/bin/sh\\necho ran\\n' > /t1/s && chmod 755 /t1/s && { /t1/s; } 2>&1;"
                 " echo exec=$?;"
                 " dd if=/dev/zero of=/t1/big bs=1024 count=2048 2>&1 | grep -o 'No space left';"
                 " touch /t2/x 2>&1; echo ro=$?");
  add_mount (&b, "/t1", "tmpfs", "tmpfs", "size=1m", "mode=700", "nosuid", "nodev", "noexec",
             NULL);
  add_mount (&b, "/t2", "tmpfs", "tmpfs", "ro", NULL);
  const char *id = h_id ("nsm-tmpfs");
  run_ok (&r, &b, id);
  char *t1 = line_with (r.out, " /t1 ");
  char *t2 = line_with (r.out, " /t2 ");
  cr_assert (t1 && t2, "mountinfo:\n%s", r.out);
  must_contain (t1, " rw,nosuid,nodev,noexec", "/t1 flags");
  must_contain (t1, "size=1024k", "/t1 size");
  must_contain (t1, "mode=700", "/t1 mode");
  must_contain (t2, " ro,", "/t2 flags");
  must_contain (r.out, "\n700\n", "/t1 mode seen by stat");
  must_contain (r.out, "Permission denied", "exec on noexec");
  must_not_contain (r.out, "ran\n", "exec on noexec");
  must_contain (r.out, "exec=126", "exec on noexec");
  must_contain (r.out, "No space left", "size=1m");
  must_contain (r.out, "Read-only file system", "write to ro tmpfs");
  must_not_contain (r.out, "ro=0", "write to ro tmpfs");
  free (t1);
  free (t2);
  finish (&b, id, &r);
}

Test (mounts, default_filesystems)
{
  struct h_bundle b;
  struct h_result r;
  /* The cgroups as the host has them: v1(-hybrid), a v1 memory hierarchy
   * and cgroup2 at /sys/fs/cgroup/unified; pure v2, cgroup2 at
   * /sys/fs/cgroup itself and no v1 hierarchy. */
  bool v2 = h_cgroup_v2 ();
  bundle_sh (&b, v2 ? "cat /proc/self/mountinfo; echo ---; ls /sys/fs/cgroup | grep -c '^memory.max$';"
                      " ls /dev/pts/ptmx; touch /sys/x 2>&1; touch /sys/fs/cgroup/x 2>&1; true"
                    : "cat /proc/self/mountinfo; echo ---; ls /sys/fs/cgroup/memory | grep -c '^memory.limit_in_bytes$';"
                      " ls /dev/pts/ptmx; touch /sys/x 2>&1; touch /sys/fs/cgroup/x 2>&1; true");
  const char *id = h_id ("nsm-fs");
  run_ok (&r, &b, id);
  static const char *const want[][2] = {
    { " /proc ", "- proc " },           { " /sys ", "- sysfs " },
    { " /dev/pts ", "- devpts " },      { " /dev/mqueue ", "- mqueue " },
    { " /dev/shm ", "- tmpfs " },       { " /sys/fs/cgroup/memory ", "- cgroup " },
    { " /sys/fs/cgroup/unified ", "- cgroup2 " },
  };
  static const char *const want_v2[][2] = {
    { " /proc ", "- proc " },           { " /sys ", "- sysfs " },
    { " /dev/pts ", "- devpts " },      { " /dev/mqueue ", "- mqueue " },
    { " /dev/shm ", "- tmpfs " },       { " /sys/fs/cgroup ", "- cgroup2 " },
  };
  const char *const(*w)[2] = v2 ? want_v2 : want;
  size_t nw = v2 ? sizeof want_v2 / sizeof want_v2[0] : sizeof want / sizeof want[0];
  for (size_t i = 0; i < nw; i++)
    {
      char *line = line_with (r.out, w[i][0]);
      cr_assert_not_null (line, "no mount at%s:\n%s", w[i][0], r.out);
      must_contain (line, w[i][1], w[i][0]);
      free (line);
    }
  if (v2)
    {
      const char *mi_end = strstr (r.out, "---\n");
      cr_assert_not_null (mi_end);
      char *mi = strndup (r.out, (size_t) (mi_end - r.out));
      must_not_contain (mi, "- cgroup ", "a v1 cgroup mount on a cgroup-v2 host");
      must_not_contain (mi, " /sys/fs/cgroup/unified ", "a unified mount on a cgroup-v2 host");
      free (mi);
    }
  char *sys = line_with (r.out, " /sys ");
  must_contain (sys, " ro,nosuid,nodev,noexec", "/sys flags");
  free (sys);
  char *pts = line_with (r.out, " /dev/pts ");
  must_contain (pts, "ptmxmode=666", "devpts newinstance options");
  must_contain (pts, "gid=5", "devpts options");
  free (pts);
  const char *tail = strstr (r.out, "---\n");
  cr_assert_not_null (tail);
  must_contain (tail, "1\n/dev/pts/ptmx\n", "cgroup memory files and ptmx");
  must_contain (tail, "touch: /sys/x: Read-only file system", "/sys is ro");
  must_contain (tail, "touch: /sys/fs/cgroup/x: Read-only file system", "/sys/fs/cgroup is ro");
  finish (&b, id, &r);
}

Test (mounts, propagation_options)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "grep -E ' /(sh|pr|ub) ' /proc/self/mountinfo; echo ---; " ROOT_LINE);
  add_mount (&b, "/sh", "tmpfs", "tmpfs", "shared", NULL);
  add_mount (&b, "/pr", "tmpfs", "tmpfs", "private", NULL);
  add_mount (&b, "/ub", "tmpfs", "tmpfs", "shared", "unbindable", NULL);
  json_object_set_new (linux_obj (&b), "rootfsPropagation", json_string ("shared"));
  const char *id = h_id ("nsm-prop");
  run_ok (&r, &b, id);
  char *sh = line_with (r.out, " /sh ");
  char *pr = line_with (r.out, " /pr ");
  char *ub = line_with (r.out, " /ub ");
  char *root = line_with (r.out, "ROOT ");
  cr_assert (sh && pr && ub && root, "mountinfo:\n%s", r.out);
  must_contain (sh, " shared:", "/sh propagation");
  must_not_contain (pr, "shared:", "/pr propagation");
  must_not_contain (pr, "master:", "/pr propagation");
  must_contain (ub, " unbindable ", "/ub propagation");
  must_not_contain (ub, "shared:", "/ub propagation");
  must_contain (root, " shared:", "rootfsPropagation shared");
  free (sh);
  free (pr);
  free (ub);
  free (root);
  finish (&b, id, &r);
}

/* A symlink in the rootfs that names a host directory: the mount lands
 * inside the root (or is refused), never on the host. */
Test (mounts, symlink_destination_stays_inside)
{
  struct h_bundle b;
  struct h_result r;
  char host[] = "/tmp/al-iso-ns-target-XXXXXX";
  cr_assert_not_null (mkdtemp (host));
  bundle_sh (&b, "cat /proc/self/mountinfo; ls -d /evil/sub");
  char link[PATH_MAX + 16], inside[2 * PATH_MAX];
  snprintf (link, sizeof link, "%s/rootfs/evil", b.dir);
  cr_assert_eq (symlink (host, link), 0);
  /* The same path inside the root, so the mount has somewhere to go. */
  snprintf (inside, sizeof inside, "%s/rootfs%s", b.dir, host);
  char cmd[3 * PATH_MAX];
  snprintf (cmd, sizeof cmd, "mkdir -p %s", inside);
  cr_assert_eq (system (cmd), 0);
  add_mount (&b, "/evil/sub", "tmpfs", "tmpfs", "size=64k", NULL);
  const char *id = h_id ("nsm-symlink");
  run_ok (&r, &b, id);
  char want[PATH_MAX + 16];
  snprintf (want, sizeof want, " %s/sub ", host);
  must_contain (r.out, want, "the mount is where the link points inside the root");
  char sub[PATH_MAX + 8];
  snprintf (sub, sizeof sub, "%s/sub", host);
  cr_assert_neq (access (sub, F_OK), 0, "a directory was made on the host: %s", sub);
  char *mi = h_read_file ("/proc/self/mountinfo");
  must_not_contain (mi, host, "host mountinfo");
  free (mi);
  rmdir (host);
  finish (&b, id, &r);
}

Test (mounts, dangling_symlink_destination_refused)
{
  struct h_bundle b;
  struct h_result r;
  char host[] = "/tmp/al-iso-ns-dangle-XXXXXX";
  cr_assert_not_null (mkdtemp (host));
  bundle_sh (&b, "true");
  char link[PATH_MAX + 16];
  snprintf (link, sizeof link, "%s/rootfs/evil", b.dir);
  cr_assert_eq (symlink (host, link), 0);
  add_mount (&b, "/evil/sub", "tmpfs", "tmpfs", NULL);
  const char *id = h_id ("nsm-dangle");
  h_bundle_save (&b);
  h_airlock (&r, &b, NULL, 60, ARGS ("run", id));
  char sub[PATH_MAX + 8];
  snprintf (sub, sizeof sub, "%s/sub", host);
  cr_assert_neq (access (sub, F_OK), 0, "a directory was made on the host: %s", sub);
  char *mi = h_read_file ("/proc/self/mountinfo");
  must_not_contain (mi, host, "host mountinfo");
  free (mi);
  rmdir (host);
  /* Created inside the root or refused: either way not on the host. */
  if (r.status != 0)
    must_contain (r.err, "mounts[", "the refusal names the mount");
  finish (&b, id, &r);
}

Test (mounts, dotdot_destination_refused)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "true");
  add_mount (&b, "/tmp/../../../iso-ns-escape", "tmpfs", "tmpfs", NULL);
  const char *id = h_id ("nsm-dotdot");
  run_fails (&r, &b, id, "climbs out of the root");
  must_contain (r.err, "iso-ns-escape", "the error names the destination");
  cr_assert_neq (access ("/iso-ns-escape", F_OK), 0, "made on the host");
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/iso-ns-escape", b.dir);
  cr_assert_neq (access (path, F_OK), 0, "made in the rootfs");
  finish (&b, id, &r);
}

/* ---------------------------------------------------------------- rootfs */

Test (rootfs, pivot_root_and_no_pivot)
{
  static const char *const modes[] = { NULL, "--no-pivot" };
  for (size_t i = 0; i < 2; i++)
    {
      struct h_bundle b;
      struct h_result r;
      bundle_sh (&b, "cat /etc/hostname; ls /; " ROOT_LINE);
      const char *id = h_id ("nsm-pivot");
      h_airlock (&r, &b, NULL, 60,
                 modes[i] ? ARGS ("run", modes[i], id) : ARGS ("run", id));
      cr_assert_eq (r.status, 0, "run %s: %s", modes[i] ? modes[i] : "", r.err);
      must_contain (r.out, "airlock-fixture\n", "the rootfs is /");
      must_not_contain (r.out, "\nwork\n", "a host directory at /");
      char *root = line_with (r.out, "ROOT ");
      cr_assert_not_null (root, "%s", r.out);
      must_contain (root, "/rootfs / ", "mountinfo of /");
      free (root);
      finish (&b, id, &r);
    }
}

Test (rootfs, readonly_root)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "touch /x 2>&1; echo root=$?; touch /tmp/ok && echo tmp-ok;"
                 " " ROOT_LINE);
  add_mount (&b, "/tmp", "tmpfs", "tmpfs", "mode=1777", NULL);
  const char *id = h_id ("nsm-ro");
  run_ok (&r, &b, id);
  must_contain (r.out, "touch: /x: Read-only file system\nroot=1\ntmp-ok\n", "ro root");
  char *root = line_with (r.out, "ROOT ");
  cr_assert_not_null (root, "%s", r.out);
  must_contain (root, " / ro,", "mountinfo of /");
  free (root);
  char path[PATH_MAX + 16];
  snprintf (path, sizeof path, "%s/rootfs/x", b.dir);
  cr_assert_neq (access (path, F_OK), 0);
  finish (&b, id, &r);

  /* readonly false: / can be written. */
  bundle_sh (&b, "touch /x && echo root-ok");
  json_object_set_new (b.config, "root", json_pack ("{s:s,s:b}", "path", "rootfs", "readonly", 0));
  id = h_id ("nsm-rw");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "root-ok\n");
  finish (&b, id, &r);
}

/* ---------------------------------------------------------------- /dev */

Test (dev, default_devices)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d;"
                 " done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done;"
                 " stat -c '%F %a' /dev/shm");
  const char *id = h_id ("nsm-dev");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/dev/null character special file 1:3 666\n"
                           "/dev/zero character special file 1:5 666\n"
                           "/dev/full character special file 1:7 666\n"
                           "/dev/random character special file 1:8 666\n"
                           "/dev/urandom character special file 1:9 666\n"
                           "/dev/tty character special file 5:0 666\n"
                           "pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n"
                           "/proc/self/fd/2\n"
                           "directory 1777\n");
  finish (&b, id, &r);
}

/* With the spec's default resources (devices: deny all), the default
 * devices must still be usable, as with runc and crun. */
Test (dev, default_devices_usable)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "echo x > /dev/null && echo null-ok; head -c 5 /dev/zero | wc -c;"
                 " head -c 5 /dev/urandom | wc -c; { echo x > /dev/full; } 2>&1; true");
  const char *id = h_id ("nsm-devuse");
  run_ok (&r, &b, id);
  must_contain (r.out, "null-ok\n5\n5\n", "default devices");
  must_contain (r.out, "No space left on device", "/dev/full");
  finish (&b, id, &r);
}

static void
add_device (struct h_bundle *b, const char *path, const char *type, int major, int minor,
            int mode, int uid, int gid)
{
  json_t *l = linux_obj (b);
  json_t *devs = json_object_get (l, "devices");
  if (devs == NULL)
    {
      devs = json_array ();
      json_object_set_new (l, "devices", devs);
    }
  json_array_append_new (devs, json_pack ("{s:s,s:s,s:i,s:i,s:i,s:i,s:i}", "path", path, "type",
                                          type, "major", major, "minor", minor, "fileMode", mode,
                                          "uid", uid, "gid", gid));
}

static void
check_devices (bool default_resources)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /dev/iso/node");
  if (!default_resources)
    json_object_del (linux_obj (&b), "resources");
  add_device (&b, "/dev/fuse", "c", 10, 229, 0640, 7, 8);
  add_device (&b, "/dev/iso/node", "c", 1, 3, 0600, 1234, 4321);
  const char *id = h_id ("nsm-devices");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/dev/fuse character special file a:e5 640 7:8\n"
                           "/dev/iso/node character special file 1:3 600 1234:4321\n");
  finish (&b, id, &r);
}

Test (dev, linux_devices)
{
  check_devices (false);
}

Test (dev, linux_devices_with_default_resources)
{
  check_devices (true);
}

/* ------------------------------------------------ masked, read-only paths */

Test (paths, masked_and_readonly)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "echo [$(cat /etc/hostname)]; ls -A /home | wc -l; wc -c < /proc/keys;"
                 " touch /root/x 2>&1; touch /home/y 2>&1; echo ok");
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/home/secret", b.dir);
  h_write_file (path, "secret");
  json_object_set_new (b.config, "root", json_pack ("{s:s,s:b}", "path", "rootfs", "readonly", 0));
  json_t *l = linux_obj (&b);
  json_array_append_new (json_object_get (l, "maskedPaths"), json_string ("/etc/hostname"));
  json_array_append_new (json_object_get (l, "maskedPaths"), json_string ("/home"));
  json_array_append_new (json_object_get (l, "maskedPaths"), json_string ("/does/not/exist"));
  json_array_append_new (json_object_get (l, "readonlyPaths"), json_string ("/root"));
  const char *id = h_id ("nsm-mask");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "[]\n0\n0\n"
                           "touch: /root/x: Read-only file system\n"
                           "touch: /home/y: Read-only file system\n"
                           "ok\n");
  snprintf (path, sizeof path, "%s/rootfs/etc/hostname", b.dir);
  char *s = h_read_file (path);
  cr_assert_str_eq (s, "airlock-fixture\n", "masking changed the file");
  free (s);
  finish (&b, id, &r);
}

/* ---------------------------------------------------------------- sysctl */

Test (sysctl, namespaced_keys)
{
  struct h_bundle b;
  struct h_result r;
  bundle_sh (&b, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax"
                 " /proc/sys/fs/mqueue/msg_max");
  char *fwd = host_read_trimmed ("/proc/sys/net/ipv4/ip_forward");
  char *shm = host_read_trimmed ("/proc/sys/kernel/shmmax");
  char *mq = host_read_trimmed ("/proc/sys/fs/mqueue/msg_max");
  json_object_set_new (linux_obj (&b), "sysctl",
                       json_pack ("{s:s,s:s,s:s}", "net.ipv4.ip_forward", "1",
                                  "kernel.shmmax", "123456789", "fs/mqueue/msg_max", "17"));
  const char *id = h_id ("nsm-sysctl");
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "1\n123456789\n17\n");
  char *fwd2 = host_read_trimmed ("/proc/sys/net/ipv4/ip_forward");
  char *shm2 = host_read_trimmed ("/proc/sys/kernel/shmmax");
  char *mq2 = host_read_trimmed ("/proc/sys/fs/mqueue/msg_max");
  cr_assert_str_eq (fwd2, fwd, "the host's ip_forward changed");
  cr_assert_str_eq (shm2, shm, "the host's shmmax changed");
  cr_assert_str_eq (mq2, mq, "the host's msg_max changed");
  free (fwd);
  free (shm);
  free (mq);
  free (fwd2);
  free (shm2);
  free (mq2);
  finish (&b, id, &r);
}

/* A key the container cannot own: refused before anything is written.  The
 * value is the host's own, so not even a broken check could change it. */
static void
check_refused (const char *key, const char *proc_path, const char *drop_ns, const char *want)
{
  struct h_bundle b;
  struct h_result r;
  char *before = host_read_trimmed (proc_path);
  bundle_sh (&b, "echo ran");
  if (drop_ns)
    remove_ns (&b, drop_ns);
  /* A good key first: the bad one must stop it too. */
  json_object_set_new (linux_obj (&b), "sysctl",
                       json_pack ("{s:s,s:s}", "kernel.shmmni", "4000", key, before));
  const char *id = h_id ("nsm-sysbad");
  run_fails (&r, &b, id, want);
  must_contain (r.err, key, "the error names the key");
  must_not_contain (r.out, "ran", "the container ran");
  char *after = host_read_trimmed (proc_path);
  cr_assert_str_eq (after, before, "%s changed on the host", key);
  free (before);
  free (after);
  finish (&b, id, &r);
}

Test (sysctl, host_key_refused)
{
  check_refused ("kernel.core_pattern", "/proc/sys/kernel/core_pattern", NULL,
                 "not namespaced: it would change the host");
}

Test (sysctl, net_key_needs_network_namespace)
{
  check_refused ("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward", "network",
                 "needs a network namespace");
}

Test (sysctl, bad_names_refused)
{
  /* The value is the host's core_pattern: the second key would reach it
     if `..` were followed. */
  static const char *const bad[][2] = {
    { "net.ipv4..ip_forward", "not a sysctl name" },
    { "net/../kernel/core_pattern", "not a sysctl name" },
    { "kernel.ostype", "not namespaced" },
  };
  char *host = host_read_trimmed ("/proc/sys/kernel/core_pattern");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct h_bundle b;
      struct h_result r;
      bundle_sh (&b, "echo ran");
      json_object_set_new (linux_obj (&b), "sysctl", json_pack ("{s:s}", bad[i][0], host));
      const char *id = h_id ("nsm-sysname");
      run_fails (&r, &b, id, bad[i][1]);
      must_contain (r.err, bad[i][0], "the error names the key");
      finish (&b, id, &r);
    }
  char *after = host_read_trimmed ("/proc/sys/kernel/core_pattern");
  cr_assert_str_eq (after, host, "core_pattern changed on the host");
  free (host);
  free (after);
}
