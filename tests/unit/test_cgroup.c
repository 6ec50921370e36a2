/* test_cgroup.c — isolation/cgroup.h on this (v1-hybrid) host, plus the
 * pure parts of the v2 backend.
 *
 * Safety: every cgroup made here is /airlock/test-<runner pid>-<worker
 * pid>-<n> in each hierarchy; each test removes its own at its end and
 * asserts nothing of its is left; .fini repeats that on failure paths, and
 * a POST_ALL hook in the runner sweeps anything a crashed worker left.
 * Processes are killed by pid (children of the test) or by kill-all on a
 * test cgroup.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "cleanup.h"
#include "file.h"

/* ------------------------------------------------------------ fixtures */

/* Each Criterion test runs in its own process: these are per test. */
static struct al_cgroup_host *host;
static struct al_cgroup_host *host2; /* one test uses a second parent */
static struct al_cgroup *cgs[16];
static size_t n_cgs;
static pid_t kids[32];
static size_t n_kids;
static int seq;
static bool restore_hugetlb_root, restore_hugetlb_parent;
static char warnings[4096];

static void
collect_warning (void *data, const char *msg)
{
  (void) data;
  strncat (warnings, msg, sizeof warnings - strlen (warnings) - 2);
  strcat (warnings, "\n");
}

static void
prefix_for (char *buf, size_t size, pid_t runner, pid_t worker)
{
  if (worker)
    snprintf (buf, size, "test-%d-%d-", (int) runner, (int) worker);
  else
    snprintf (buf, size, "test-%d-", (int) runner);
}

/* A fresh cgroup path for this test: /airlock/test-<runner>-<worker>-<n> */
static void
test_path (char *buf, size_t size)
{
  char prefix[64];
  prefix_for (prefix, sizeof prefix, getppid (), getpid ());
  snprintf (buf, size, "/airlock/%s%d", prefix, seq++);
}

/* Remove every airlock/<prefix>* cgroup in h: kill-all (they are test
 * leaves under the airlock parent) then remove.  Returns how many it found. */
static int
sweep (struct al_cgroup_host *h, const char *prefix)
{
  int found = 0;
  for (size_t i = 0; i < h->n; i++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/airlock", h->h[i].mount);
      DIR *d = opendir (dir);
      if (d == NULL)
        continue;
      for (struct dirent *de; (de = readdir (d));)
        {
          if (strncmp (de->d_name, prefix, strlen (prefix)) != 0)
            continue;
          found++;
          char path[4096];
          snprintf (path, sizeof path, "/airlock/%s", de->d_name);
          struct al_cgroup *cg = NULL;
          struct al_error err = { 0 };
          if (al_cgroup_open (h, path, AL_CGROUP_OWNED, &cg, &err) == 0)
            {
              al_cgroup_kill_all (cg, &err);
              al_cgroup_remove (cg, &err);
              al_cgroup_free (cg);
            }
        }
      closedir (d);
    }
  return found;
}

static int
leftovers (void)
{
  char prefix[64];
  prefix_for (prefix, sizeof prefix, getppid (), getpid ());
  int found = 0;
  for (size_t i = 0; i < host->n; i++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/airlock", host->h[i].mount);
      DIR *d = opendir (dir);
      if (d == NULL)
        continue;
      for (struct dirent *de; (de = readdir (d));)
        if (strncmp (de->d_name, prefix, strlen (prefix)) == 0)
          found++;
      closedir (d);
    }
  return found;
}

static void
kill_kids (void)
{
  for (size_t i = 0; i < n_kids; i++)
    if (kids[i] > 0)
      {
        kill (kids[i], SIGKILL);
        waitpid (kids[i], NULL, 0);
        kids[i] = 0;
      }
  /* orphans reparented to us as subreaper */
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

static void
cleanup_all (void)
{
  /* kill-all first: it also thaws, and a frozen child would not die of
   * kill_kids' SIGKILL */
  struct al_error err = { 0 };
  for (size_t i = 0; i < n_cgs; i++)
    al_cgroup_kill_all (cgs[i], &err);
  kill_kids ();
  for (size_t i = 0; i < n_cgs; i++)
    {
      al_cgroup_remove (cgs[i], &err);
      al_cgroup_free (cgs[i]);
      cgs[i] = NULL;
    }
  n_cgs = 0;
  if (host)
    {
      char prefix[64];
      prefix_for (prefix, sizeof prefix, getppid (), getpid ());
      sweep (host, prefix);
    }
  if (host && host->unified >= 0 && (restore_hugetlb_parent || restore_hugetlb_root))
    {
      int ufd = host->h[host->unified].fd;
      cleanup_close int afd = openat (ufd, "airlock", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (restore_hugetlb_parent && afd >= 0)
        al_cg_write (afd, "cgroup.subtree_control", "-hugetlb", &err);
      if (restore_hugetlb_root)
        al_cg_write (ufd, "cgroup.subtree_control", "-hugetlb", &err);
      restore_hugetlb_root = restore_hugetlb_parent = false;
    }
}

/* End of a test's happy path: clean up and prove nothing is left. */
static void
finish (void)
{
  cleanup_all ();
  cr_assert_eq (leftovers (), 0, "cgroups left under airlock/");
}

/* A hung test dies of SIGALRM and is reported as crashed.  (Criterion's own
 * .timeout leaks its bookkeeping under --jobs=2, which fails LSan.) */
static void
hang_guard (void)
{
  alarm (120);
}

static void
setup (void)
{
  hang_guard ();
  struct al_error err = { 0 };
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  cr_assert_eq (al_cgroup_host_detect (NULL, &host, &err), 0, "%s", err.msg);
  al_cgroup_host_set_warn (host, collect_warning, NULL);
}

static void
teardown (void)
{
  cleanup_all ();
  al_cgroup_host_free (host2);
  host2 = NULL;
  al_cgroup_host_free (host);
  host = NULL;
}

/* The runner sweeps what crashed workers left, then drops the airlock
 * parent directories if they are empty (busy or non-empty: someone else's). */
ReportHook (POST_ALL) (struct criterion_global_stats *stats)
{
  (void) stats;
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  if (al_cgroup_host_detect (NULL, &h, &err) < 0)
    return;
  char prefix[64];
  prefix_for (prefix, sizeof prefix, getpid (), 0);
  int n = sweep (h, prefix);
  if (n > 0)
    fprintf (stderr, "test_cgroup: swept %d leftover cgroups\n", n);
  for (size_t i = 0; i < h->n; i++)
    unlinkat (h->h[i].fd, "airlock", AT_REMOVEDIR);
  al_cgroup_host_free (h);
}

TestSuite (layout, .init = hang_guard);
TestSuite (paths, .init = setup, .fini = teardown);
TestSuite (lifecycle, .init = setup, .fini = teardown);
TestSuite (resources, .init = setup, .fini = teardown);
TestSuite (procs, .init = setup, .fini = teardown);
TestSuite (v2, .init = hang_guard);

/* ------------------------------------------------------------- helpers */

static struct al_cgroup *
make_cgroup (void)
{
  char path[256];
  test_path (path, sizeof path);
  struct al_cgroup *cg = NULL;
  struct al_error err = { 0 };
  int r = al_cgroup_create (host, path, &cg, &err);
  cr_assert_eq (r, 0, "create %s: %s", path, err.msg);
  cgs[n_cgs++] = cg;
  return cg;
}

/* fork a child that waits until it has been moved into cg, then runs fn */
static pid_t
spawn (struct al_cgroup *cg, int (*fn) (void *), void *arg)
{
  int p[2];
  cr_assert_eq (pipe2 (p, O_CLOEXEC), 0);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      close (p[1]);
      char c;
      if (read (p[0], &c, 1) != 1)
        _exit (120);
      _exit (fn (arg));
    }
  close (p[0]);
  kids[n_kids++] = pid;
  struct al_error err = { 0 };
  if (cg)
    cr_assert_eq (al_cgroup_enter (cg, pid, &err), 0, "%s", err.msg);
  cr_assert_eq (write (p[1], "x", 1), 1);
  close (p[1]);
  return pid;
}

static int
wait_kid (pid_t pid)
{
  int status = -1;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  for (size_t i = 0; i < n_kids; i++)
    if (kids[i] == pid)
      kids[i] = 0;
  return status;
}

static void *
shared (size_t size)
{
  void *p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (p, MAP_FAILED);
  return p;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int
child_pause (void *arg)
{
  (void) arg;
  for (;;)
    pause ();
  return 0;
}

static int
child_hog (void *arg)
{
  size_t mb = (size_t) (uintptr_t) arg;
  for (size_t i = 0; i < mb; i++)
    {
      char *p = malloc (1 << 20);
      if (p == NULL)
        return 3;
      memset (p, 0x5a, 1 << 20);
    }
  return 0;
}

static int
child_alloc_pause (void *arg)
{
  child_hog (arg);
  for (;;)
    pause ();
  return 0;
}

/* Read a file of cg in the hierarchy holding controller. */
static char *
read_cg (struct al_cgroup *cg, const char *controller, const char *file)
{
  int idx = -1;
  for (int c = 0; c < AL_CG__COUNT; c++)
    if (strcmp (al_cg_controller_name (c), controller) == 0)
      idx = host->where[c];
  if (strcmp (controller, "cgroup2") == 0)
    idx = host->unified;
  cr_assert_geq (idx, 0, "no hierarchy for %s", controller);
  char *buf = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_read (cg->fd[idx], file, &buf, &err), 0, "%s", err.msg);
  buf[strcspn (buf, "\n")] = '\0';
  return buf;
}

static void
expect_file (struct al_cgroup *cg, const char *controller, const char *file, const char *want)
{
  cleanup_free char *got = read_cg (cg, controller, file);
  cr_expect_str_eq (got, want, "%s: `%s`, want `%s`", file, got, want);
}

/* the runner's own cgroup in the memory hierarchy (non-root here) */
static void
own_memory_cgroup (char *buf, size_t size)
{
  cleanup_free char *self = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_read_file (AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL, &err), 0);
  char *m = strstr (self, ":memory:");
  cr_assert_not_null (m);
  m += strlen (":memory:");
  snprintf (buf, size, "%.*s", (int) strcspn (m, "\n"), m);
}

static bool
alive (pid_t pid)
{
  return waitpid (pid, NULL, WNOHANG) == 0 && kill (pid, 0) == 0;
}

/* ---------------------------------------------------------------- layout */

Test (layout, detects_this_hybrid_host)
{
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_host_detect (NULL, &h, &err), 0, "%s", err.msg);
  cr_expect_eq (al_cgroup_host_layout (h), AL_CGROUP_HYBRID, "layout %s",
                al_cgroup_layout_name (al_cgroup_host_layout (h)));
  const char *v1[]
      = { "memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio" };
  for (size_t i = 0; i < sizeof v1 / sizeof v1[0]; i++)
    {
      cr_expect (al_cgroup_host_has (h, v1[i]), "%s missing", v1[i]);
      const char *m = al_cgroup_host_mount (h, v1[i]);
      cr_expect (m && strncmp (m, "/sys/fs/cgroup/", 15) == 0 && strstr (m, v1[i]),
                 "%s mounted at %s", v1[i], m ? m : "(null)");
    }
  cr_expect_not (al_cgroup_host_has (h, "net_cls"));
  cr_expect_str_eq (al_cgroup_host_mount (h, "cgroup2"), "/sys/fs/cgroup/unified");
  /* hugetlb is bound to the v2 side here: served from the unified mount */
  cr_expect (al_cgroup_host_has (h, "hugetlb"));
  cr_expect_str_eq (al_cgroup_host_mount (h, "hugetlb"), "/sys/fs/cgroup/unified");
  cr_expect_str_eq (al_cgroup_host_parent (h), "/airlock");
  al_cgroup_host_free (h);
}

static const char v2_mountinfo[]
    = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";

Test (layout, parses_pure_v2)
{
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_host_parse (v2_mountinfo, "0::/user.slice/session-1.scope\n",
                                  "cpuset cpu io memory hugetlb pids rdma misc\n", NULL, &h, &err),
                0, "%s", err.msg);
  cr_expect_eq (al_cgroup_host_layout (h), AL_CGROUP_V2);
  cr_expect (al_cgroup_host_has (h, "memory"));
  cr_expect (al_cgroup_host_has (h, "blkio"));   /* io */
  cr_expect (al_cgroup_host_has (h, "freezer")); /* cgroup.freeze */
  cr_expect (al_cgroup_host_has (h, "devices")); /* eBPF */
  cr_expect_not (al_cgroup_host_has (h, "net_cls"));
  cr_expect_str_eq (al_cgroup_host_mount (h, "memory"), "/sys/fs/cgroup");
  cr_expect_str_eq (h->h[h->unified].own, "/user.slice/session-1.scope");
  /* its own cgroup and ancestors are refused; a sibling is fine */
  char *p = NULL;
  cr_expect_lt (al_cgroup_resolve_path (h, "/user.slice", "x", &p, &err), 0);
  cr_expect (strstr (err.msg, "own cgroup"), "%s", err.msg);
  cr_expect_eq (al_cgroup_resolve_path (h, "/user.slice/other", "x", &p, &err), 0, "%s", err.msg);
  free (p);
  al_cgroup_host_free (h);
}

static const char v1_mountinfo[]
    = "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
      "32 30 0:29 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
      "33 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "34 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "35 30 0:30 /docker /mnt/mem\\040copy rw - cgroup cgroup rw,memory\n";

Test (layout, parses_v1_with_comounted_controllers)
{
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_host_parse (v1_mountinfo,
                                  "5:name=systemd:/user.slice\n4:memory:/user.slice/x\n"
                                  "3:net_cls,net_prio:/\n2:cpu,cpuacct:/user.slice\n",
                                  NULL, "sandboxes/airlock", &h, &err),
                0, "%s", err.msg);
  cr_expect_eq (al_cgroup_host_layout (h), AL_CGROUP_V1);
  cr_expect_eq (h->n, 3, "named hierarchy skipped, bind mount deduplicated: %zu", h->n);
  cr_expect_eq (h->where[AL_CG_CPU], h->where[AL_CG_CPUACCT]);
  cr_expect_eq (h->where[AL_CG_NET_CLS], h->where[AL_CG_NET_PRIO]);
  cr_expect_str_eq (al_cgroup_host_mount (h, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  cr_expect_str_eq (al_cgroup_host_mount (h, "memory"), "/sys/fs/cgroup/memory");
  cr_expect_not (al_cgroup_host_has (h, "freezer"));
  cr_expect_not (al_cgroup_host_has (h, "hugetlb"));
  cr_expect_str_eq (al_cgroup_host_parent (h), "/sandboxes/airlock");
  cr_expect_str_eq (h->h[h->where[AL_CG_MEMORY]].own, "/user.slice/x");
  char *p = NULL;
  cr_expect_eq (al_cgroup_resolve_path (h, NULL, "c1", &p, &err), 0, "%s", err.msg);
  cr_expect_str_eq (p, "/sandboxes/airlock/c1");
  free (p);
  /* an ancestor of the cpu hierarchy's own cgroup */
  cr_expect_lt (al_cgroup_resolve_path (h, "/user.slice", NULL, &p, &err), 0);
  al_cgroup_host_free (h);
}

Test (layout, parses_hybrid_and_mount_subtrees)
{
  const char *mi = "31 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                   "32 30 0:29 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
                   "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_host_parse (mi, "2:pids:/docker/abc/inner\n1:memory:/\n0::/\n", "hugetlb",
                                  NULL, &h, &err),
                0, "%s", err.msg);
  cr_expect_eq (al_cgroup_host_layout (h), AL_CGROUP_HYBRID);
  cr_expect_eq (h->where[AL_CG_HUGETLB], h->unified);
  cr_expect_eq (h->where[AL_CG_MEMORY], 0);
  /* /proc/self/cgroup paths are made relative to the mounted subtree */
  cr_expect_str_eq (h->h[h->where[AL_CG_PIDS]].own, "/inner");
  al_cgroup_host_free (h);
}

/* The real mountinfo of whatever host runs this (the v1-hybrid development
 * host, or the pure cgroup-v2 guest of `make check-vm`): the layout must not
 * depend on what the cgroup2 mount holds.  A hybrid host's unified
 * hierarchy may carry hugetlb (this host) or no controller at all (the
 * usual systemd hybrid); either way it is hybrid, and v1 controllers stay
 * on their v1 hierarchies.  Without any v1 mount it is pure v2. */
Test (layout, real_host_layout_whatever_cgroup2_holds)
{
  cleanup_free char *mi = NULL, *self = NULL, *ctrls = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_read_file (AT_FDCWD, "/proc/self/mountinfo", 16u << 20, &mi, NULL, &err), 0);
  cr_assert_eq (al_read_file (AT_FDCWD, "/proc/self/cgroup", 1u << 20, &self, NULL, &err), 0);
  /* v1 hierarchies with a controller: fstype "cgroup", not a name= one */
  bool v1 = false;
  for (const char *l = mi; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    {
      char line[4096];
      snprintf (line, sizeof line, "%.*s", (int) strcspn (l, "\n"), l);
      const char *sep = strstr (line, " - cgroup ");
      if (sep && !strstr (sep, "name="))
        v1 = true;
    }
  enum al_cgroup_layout want = v1 ? AL_CGROUP_HYBRID : AL_CGROUP_V2;

  struct al_cgroup_host *real = NULL;
  cr_assert_eq (al_cgroup_host_detect (NULL, &real, &err), 0, "%s", err.msg);
  cr_expect_eq (al_cgroup_host_layout (real), want, "detected %s",
                al_cgroup_layout_name (al_cgroup_host_layout (real)));
  cr_assert_geq (real->unified, 0, "no cgroup2 mount");
  al_read_file (real->h[real->unified].fd, "cgroup.controllers", 1u << 20, &ctrls, NULL, &err);

  const char *variants[] = { "hugetlb\n", "", NULL, ctrls };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
    {
      const char *v = variants[i];
      struct al_cgroup_host *h = NULL;
      cr_assert_eq (al_cg_host_parse (mi, self, v, NULL, &h, &err), 0, "%s", err.msg);
      cr_expect_eq (al_cgroup_host_layout (h), want, "cgroup2 holding `%s`: layout %s",
                    v ? v : "(unread)", al_cgroup_layout_name (al_cgroup_host_layout (h)));
      cr_expect_str_eq (al_cgroup_host_mount (h, "cgroup2"), al_cgroup_host_mount (real, "cgroup2"));
      bool huge = v && strstr (v, "hugetlb");
      cr_expect_eq (al_cgroup_host_has (h, "hugetlb"), huge, "hugetlb with `%s`", v ? v : "");
      if (huge && v1)
        cr_expect_eq (h->where[AL_CG_HUGETLB], h->unified);
      if (v1)
        {
          /* memory stays on its v1 hierarchy whatever cgroup2 lists */
          cr_expect_eq (h->where[AL_CG_MEMORY], real->where[AL_CG_MEMORY]);
          cr_expect_neq (h->where[AL_CG_MEMORY], h->unified);
        }
      else if (v && strstr (v, "memory"))
        cr_expect_eq (h->where[AL_CG_MEMORY], h->unified);
      /* the freezer: a v1 hierarchy or the v2 core feature, never missing */
      cr_expect (al_cgroup_host_has (h, "freezer"));
      al_cgroup_host_free (h);
    }
  al_cgroup_host_free (real);
}

Test (layout, refuses_hosts_without_cgroups)
{
  struct al_cgroup_host *h = NULL;
  struct al_error err = { 0 };
  cr_expect_eq (al_cg_host_parse ("22 1 0:21 / /proc rw - proc proc rw\n"
                                  "34 30 0:31 / /x rw - cgroup cgroup rw,name=systemd\n",
                                  "", NULL, NULL, &h, &err),
                -ENOENT);
  cr_expect (strstr (err.msg, "no cgroup filesystem"), "%s", err.msg);
  cr_expect_lt (al_cg_host_parse (v2_mountinfo, "", NULL, "..", &h, &err), 0);
  cr_expect_lt (al_cg_host_parse (v2_mountinfo, "", NULL, "/", &h, &err), 0);
}

/* ----------------------------------------------------------------- paths */

Test (paths, resolves_default_relative_and_absolute)
{
  struct al_error err = { 0 };
  struct
  {
    const char *in, *id, *want;
  } cases[] = {
    { NULL, "abc", "/airlock/abc" },
    { "", "abc", "/airlock/abc" },
    { "foo/bar", "abc", "/airlock/foo/bar" },
    { "foo//bar/", "abc", "/airlock/foo/bar" },
    { "/libpod_parent/libpod-abc", "abc", "/libpod_parent/libpod-abc" },
    { "//kubepods///pod1/c1", "c1", "/kubepods/pod1/c1" },
    { "a:b", "x", "/airlock/a:b" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *p = NULL;
      cr_expect_eq (al_cgroup_resolve_path (host, cases[i].in, cases[i].id, &p, &err), 0, "%s: %s",
                    cases[i].in, err.msg);
      if (p)
        cr_expect_str_eq (p, cases[i].want);
      free (p);
    }
}

Test (paths, refuses_each_class)
{
  char own[1024], own_parent[1024], buf[600];
  own_memory_cgroup (own, sizeof own);
  cr_assert_str_neq (own, "/", "the runner is expected in a non-root memory cgroup");
  snprintf (own_parent, sizeof own_parent, "%.*s", (int) (strrchr (own, '/') - own), own);
  if (own_parent[0] == '\0')
    strcpy (own_parent, "/");
  memset (buf, 'a', sizeof buf);
  buf[sizeof buf - 1] = '\0';
  struct
  {
    const char *in, *id, *why;
  } cases[] = {
    { "/", "x", "hierarchy root" },
    { "///", "x", "hierarchy root" },
    { "/airlock", "x", "airlock parent" },
    { "/airlock/../etc", "x", "`..`" },
    { "a/../../b", "x", "`..`" },
    { "/airlock/./x", "x", "`.`" },
    { "..", "x", "`..`" },
    { "machine.slice:libpod:abc", "x", "systemd" },
    { own, "x", "own cgroup" },
    { own_parent, "x", "" },
    { NULL, "a/b", "container id" },
    { NULL, "..", "container id" },
    { NULL, "", "container id" },
    { "/airlock/x\ny", "x", "control character" },
    { buf, "x", "longer than" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *p = NULL;
      struct al_error err = { 0 };
      int r = al_cgroup_resolve_path (host, cases[i].in, cases[i].id, &p, &err);
      cr_expect_lt (r, 0, "`%s` was accepted as `%s`", cases[i].in, p ? p : "");
      cr_expect (strstr (err.msg, cases[i].why), "`%s`: %s", cases[i].in, err.msg);
      free (p);
    }
  /* below airlock's own cgroup is allowed (like runc's relative paths) */
  char sub[1100], *p = NULL;
  struct al_error err = { 0 };
  snprintf (sub, sizeof sub, "%s/sub", own);
  cr_expect_eq (al_cgroup_resolve_path (host, sub, "x", &p, &err), 0, "%s", err.msg);
  free (p);
  /* create and open apply the same rules */
  struct al_cgroup *cg = NULL;
  cr_expect_lt (al_cgroup_create (host, "/airlock", &cg, &err), 0);
  cr_expect_lt (al_cgroup_open (host, own, 0, &cg, &err), 0);
  cr_expect_lt (al_cgroup_open (host, "/", AL_CGROUP_OWNED, &cg, &err), 0);
}

Test (paths, sandbox_leaf_predicate)
{
  char own[1024];
  own_memory_cgroup (own, sizeof own);
  cr_expect (al_cgroup_is_sandbox_leaf (host, "/airlock/x"));
  cr_expect (al_cgroup_is_sandbox_leaf (host, "/airlock/x/y"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/airlock"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/airlock/../x"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/airlock/x/.."));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/airlock//x"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/airlockx/y"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, "/libpod_parent/x"));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, own));
  cr_expect_not (al_cgroup_is_sandbox_leaf (host, NULL));
}

/* ------------------------------------------------------------- lifecycle */

static bool
dir_exists (const char *mount, const char *path)
{
  char full[4096];
  snprintf (full, sizeof full, "%s%s", mount, path);
  struct stat st;
  return stat (full, &st) == 0 && S_ISDIR (st.st_mode);
}

/* create_for: on a hybrid host the cgroup2 hierarchy is joined only when
 * the resources use a controller only it serves. */
Test (lifecycle, create_for_leaves_out_cgroup2_on_hybrid_unless_needed)
{
  if (al_cgroup_host_layout (host) != AL_CGROUP_HYBRID)
    cr_skip_test ("not a hybrid host");
  struct al_error err = { 0 };
  char path[256];
  test_path (path, sizeof path);
  struct al_cgroup *cg = NULL;
  struct al_resources res = { 0 };
  struct al_memory mem = { .has_limit = true, .limit = 64 << 20 };
  res.memory = &mem;
  cr_assert_eq (al_cgroup_create_for (host, path, &res, &cg, &err), 0, "%s", err.msg);
  cgs[n_cgs++] = cg;
  cr_expect (dir_exists (al_cgroup_host_mount (host, "memory"), path));
  cr_expect_not (dir_exists (al_cgroup_host_mount (host, "cgroup2"), path),
                 "a container using no cgroup2 controller joined cgroup2");
  cr_assert_eq (al_cgroup_remove (cg, &err), 0, "%s", err.msg);

  /* A controller served only by cgroup2 here (hugetlb, on these hosts)
   * brings it in. */
  bool hugetlb_v2 = host->where[AL_CG_HUGETLB] >= 0 && host->where[AL_CG_HUGETLB] == host->unified;
  if (!hugetlb_v2)
    return;
  test_path (path, sizeof path);
  struct al_hugepage_limit hp = { .page_size = (char *) "2MB", .limit = 0 };
  struct al_resources res2 = { .hugepage_limits = &hp, .n_hugepage_limits = 1 };
  struct al_cgroup *cg2 = NULL;
  cr_assert_eq (al_cgroup_create_for (host, path, &res2, &cg2, &err), 0, "%s", err.msg);
  cgs[n_cgs++] = cg2;
  cr_expect (dir_exists (al_cgroup_host_mount (host, "cgroup2"), path),
             "hugetlb limits need the cgroup2 hierarchy");
  cr_assert_eq (al_cgroup_remove (cg2, &err), 0, "%s", err.msg);
}

Test (lifecycle, create_and_remove_leave_nothing)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  cr_expect (al_cgroup_owned (cg));
  cr_expect_eq (al_cgroup_clone_fd (cg), -1, "no CLONE_INTO_CGROUP on a hybrid host");
  const char *in[]
      = { "memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio", "cgroup2" };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    cr_expect (dir_exists (al_cgroup_host_mount (host, in[i]), al_cgroup_path (cg)), "%s: %s",
               in[i], al_cgroup_path (cg));
  /* v1 cpuset got cpus and mems from its parent, so tasks can join */
  cleanup_free char *cpus = read_cg (cg, "cpuset", "cpuset.cpus");
  cr_expect_str_neq (cpus, "");

  char path[256];
  snprintf (path, sizeof path, "%s", al_cgroup_path (cg));
  cr_assert_eq (al_cgroup_remove (cg, &err), 0, "%s", err.msg);
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    cr_expect_not (dir_exists (al_cgroup_host_mount (host, in[i]), path), "%s left", in[i]);

  /* a nested relative path: the level between leaf and parent is pruned */
  char nested[256], *p = NULL;
  test_path (nested, sizeof nested);
  strcat (nested, "/inner");
  cr_assert_eq (al_cgroup_resolve_path (host, nested + strlen ("/airlock/"), "x", &p, &err), 0,
                "%s", err.msg);
  struct al_cgroup *cg2 = NULL;
  cr_assert_eq (al_cgroup_create (host, p, &cg2, &err), 0, "%s", err.msg);
  cgs[n_cgs++] = cg2;
  cr_assert_eq (al_cgroup_remove (cg2, &err), 0, "%s", err.msg);
  *strrchr (p, '/') = '\0';
  cr_expect_not (dir_exists (al_cgroup_host_mount (host, "memory"), p), "%s left", p);
  free (p);
  finish ();
}

Test (lifecycle, create_is_exclusive_and_open_finds_it)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_cgroup *again = NULL;
  struct al_error err = { 0 };
  cr_expect_eq (al_cgroup_create (host, al_cgroup_path (cg), &again, &err), -EEXIST);
  cr_expect (strstr (err.msg, "already exists"), "%s", err.msg);
  cr_expect (dir_exists (al_cgroup_host_mount (host, "memory"), al_cgroup_path (cg)),
             "a failed create must not remove the existing cgroup");

  /* exclusive in every hierarchy: a leaf present only in pids also blocks */
  char path[256];
  test_path (path, sizeof path);
  char full[4096];
  snprintf (full, sizeof full, "%s/airlock", al_cgroup_host_mount (host, "pids"));
  mkdir (full, 0755);
  snprintf (full, sizeof full, "%s%s", al_cgroup_host_mount (host, "pids"), path);
  cr_assert_eq (mkdir (full, 0755), 0);
  cr_expect_eq (al_cgroup_create (host, path, &again, &err), -EEXIST);
  cr_expect_not (dir_exists (al_cgroup_host_mount (host, "memory"), path),
                 "what the failed create made was not undone");
  rmdir (full);

  struct al_cgroup *o = NULL;
  cr_assert_eq (al_cgroup_open (host, al_cgroup_path (cg), 0, &o, &err), 0, "%s", err.msg);
  cr_expect_not (al_cgroup_owned (o));
  al_cgroup_free (o);
  cr_assert_eq (al_cgroup_open (host, al_cgroup_path (cg), AL_CGROUP_OWNED, &o, &err), 0);
  cr_expect (al_cgroup_owned (o));
  al_cgroup_free (o);
  cr_expect_eq (al_cgroup_open (host, "/airlock/test-does-not-exist", 0, &o, &err), -ENOENT);
  finish ();
}

Test (lifecycle, enter_moves_a_child_everywhere)
{
  struct al_cgroup *cg = make_cgroup ();
  pid_t pid = spawn (cg, child_pause, NULL);
  char file[64];
  snprintf (file, sizeof file, "/proc/%d/cgroup", (int) pid);
  cleanup_free char *text = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_read_file (AT_FDCWD, file, 1 << 20, &text, NULL, &err), 0);
  int seen = 0;
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':'), *c2 = strchr (c1 + 1, ':');
      *c2 = '\0';
      if (strncmp (c1 + 1, "name=", 5) == 0)
        continue; /* named hierarchies are not airlock's */
      cr_expect_str_eq (c2 + 1, al_cgroup_path (cg), "hierarchy `%s`", c1 + 1);
      seen++;
    }
  cr_expect_geq (seen, 9, "v1 hierarchies + unified: %d", seen);
  pid_t *pids = NULL;
  size_t n = 0;
  cr_assert_eq (al_cgroup_pids (cg, &pids, &n, &err), 0, "%s", err.msg);
  cr_expect_eq (n, 1);
  cr_expect_eq (pids[0], pid);
  free (pids);
  finish ();
}

Test (lifecycle, remove_of_a_busy_cgroup_is_a_clear_error)
{
  struct al_cgroup *cg = make_cgroup ();
  spawn (cg, child_pause, NULL);
  struct al_error err = { 0 };
  cr_expect_eq (al_cgroup_remove (cg, &err), -EBUSY);
  cr_expect (strstr (err.msg, "still busy") && strstr (err.msg, "1 processes"), "%s", err.msg);
  cr_assert_eq (al_cgroup_kill_all (cg, &err), 0, "%s", err.msg);
  cr_expect_eq (al_cgroup_remove (cg, &err), 0, "%s", err.msg);
  finish ();
}

Test (lifecycle, remove_waits_while_processes_drain)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  pid_t pids[8];
  for (size_t i = 0; i < 8; i++)
    pids[i] = spawn (cg, child_alloc_pause, (void *) (uintptr_t) 32);
  sleep_ms (100);
  /* SIGKILL by pid, then remove at once: exiting takes the kernel a
   * moment (freeing 32 MiB each), which remove has to wait out */
  for (size_t i = 0; i < 8; i++)
    kill (pids[i], SIGKILL);
  cr_expect_eq (al_cgroup_remove (cg, &err), 0, "%s", err.msg);
  finish ();
}

/* ------------------------------------------------------------- resources */

Test (resources, memory_limit_is_applied_and_enforced)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_memory mem = { .has_limit = true,
                           .limit = 32 << 20,
                           .has_swap = true,
                           .swap = 32 << 20,
                           .has_reservation = true,
                           .reservation = 16 << 20,
                           .has_swappiness = true,
                           .swappiness = 10 };
  struct al_resources res = { .memory = &mem };
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "memory", "memory.limit_in_bytes", "33554432");
  expect_file (cg, "memory", "memory.memsw.limit_in_bytes", "33554432");
  expect_file (cg, "memory", "memory.soft_limit_in_bytes", "16777216");
  expect_file (cg, "memory", "memory.swappiness", "10");

  pid_t pid = spawn (cg, child_hog, (void *) (uintptr_t) 128);
  int status = wait_kid (pid);
  cr_expect (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
             "a child allocating 128 MiB under 32 MiB should be OOM-killed (status %#x)", status);
  struct al_cgroup_stats st;
  cr_assert_eq (al_cgroup_stats (cg, &st, &err), 0, "%s", err.msg);
  cr_expect (st.has_memory);
  cr_expect_geq (st.oom_kills, 1, "oom_kills %" PRIu64, st.oom_kills);
  /* (v1 failcnt stays 0 on recent kernels; the peak shows the limit hit) */
  cr_expect_eq (st.memory_limit, 32 << 20);
  cr_expect (st.has_memory_peak && st.memory_peak == (32u << 20), "peak %" PRIu64, st.memory_peak);

  /* update: raise the limit above the current memsw (needs memsw first) */
  mem = (struct al_memory){
    .has_limit = true, .limit = 64 << 20, .has_swap = true, .swap = 64 << 20
  };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "memory", "memory.limit_in_bytes", "67108864");
  mem = (struct al_memory){ .has_limit = true, .limit = -1, .has_swap = true, .swap = -1 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  struct al_cgroup_stats st2;
  cr_assert_eq (al_cgroup_stats (cg, &st2, &err), 0, "%s", err.msg);
  cr_expect_eq (st2.memory_limit, UINT64_MAX);
  finish ();
}

static int
child_fork_count (void *arg)
{
  int *count = arg;
  for (int i = 0; i < 20; i++)
    {
      pid_t p = fork ();
      if (p == 0)
        for (;;)
          pause ();
      if (p < 0)
        break;
      ++*count;
    }
  return 0;
}

Test (resources, pids_limit_stops_forks)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_pids pids = { .has_limit = true, .limit = 5 };
  struct al_resources res = { .pids = &pids };
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "pids", "pids.max", "5");
  int *count = shared (4096);
  pid_t pid = spawn (cg, child_fork_count, count);
  int status = wait_kid (pid);
  cr_expect (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  cr_expect_eq (*count, 4, "forks that succeeded under pids.max 5: %d", *count);
  struct al_cgroup_stats st;
  cr_assert_eq (al_cgroup_stats (cg, &st, &err), 0, "%s", err.msg);
  cr_expect (st.has_pids);
  cr_expect_eq (st.pids_current, 4);
  cr_expect_eq (st.pids_limit, 5);
  pids.limit = -1;
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "pids", "pids.max", "max");
  finish ();
}

Test (resources, cpu_quota_period_shares)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_cpu cpu = { .has_shares = true,
                        .shares = 512,
                        .has_quota = true,
                        .quota = 50000,
                        .has_period = true,
                        .period = 200000,
                        .has_burst = true,
                        .burst = 10000 };
  struct al_resources res = { .cpu = &cpu };
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "cpu", "cpu.shares", "512");
  expect_file (cg, "cpu", "cpu.cfs_quota_us", "50000");
  expect_file (cg, "cpu", "cpu.cfs_period_us", "200000");
  expect_file (cg, "cpu", "cpu.cfs_burst_us", "10000");
  /* a quota below the current burst needs the burst lowered first */
  cpu = (struct al_cpu){ .has_quota = true, .quota = 5000, .has_burst = true, .burst = 1000 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "cpu", "cpu.cfs_quota_us", "5000");
  expect_file (cg, "cpu", "cpu.cfs_burst_us", "1000");
  cpu = (struct al_cpu){ .has_quota = true,
                         .quota = -1,
                         .has_period = true,
                         .period = 10000,
                         .has_burst = true,
                         .burst = 0 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "cpu", "cpu.cfs_quota_us", "-1");
  expect_file (cg, "cpu", "cpu.cfs_period_us", "10000");
  finish ();
}

Test (resources, cpuset_cpus_and_mems)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_cpu cpu = { .cpus = "0", .mems = "0" };
  struct al_resources res = { .cpu = &cpu };
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "cpuset", "cpuset.cpus", "0");
  expect_file (cg, "cpuset", "cpuset.mems", "0");

  long ncpu = sysconf (_SC_NPROCESSORS_CONF);
  char missing[32];
  snprintf (missing, sizeof missing, "0,%ld", ncpu + 5);
  cpu.cpus = missing;
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -EINVAL);
  cr_expect (strstr (err.msg, "linux.resources.cpu.cpus") && strstr (err.msg, "does not exist"),
             "%s", err.msg);
  expect_file (cg, "cpuset", "cpuset.cpus", "0");
  cpu.cpus = "0-";
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -EINVAL);
  cr_expect (strstr (err.msg, "linux.resources.cpu.cpus"), "%s", err.msg);
  cpu.cpus = NULL;
  cpu.mems = "3";
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -EINVAL);
  cr_expect (strstr (err.msg, "linux.resources.cpu.mems") && strstr (err.msg, "memory node 3"),
             "%s", err.msg);
  finish ();
}

Test (resources, bad_values_are_refused_before_writing)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  struct al_pids pids = { .has_limit = true, .limit = -7 }; /* 0 is a real limit */
  struct al_memory mem = { .has_limit = true, .limit = 64 << 20 };
  struct al_cpu cpu = { 0 };
  struct al_block_io bio = { 0 };
  struct al_resources res = { .pids = &pids, .memory = &mem };
  /* pids -7 fails validation: memory, which comes first, is not written */
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -EINVAL);
  cr_expect (strstr (err.msg, "linux.resources.pids.limit: -7"), "%s", err.msg);
  cleanup_free char *lim = read_cg (cg, "memory", "memory.limit_in_bytes");
  cr_expect_str_neq (lim, "67108864");

  res = (struct al_resources){ .pids = &pids };
  pids.limit = -5;
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "pids.limit: -5"), "%s", err.msg);
  pids.limit = 1LL << 40;
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);

  res = (struct al_resources){ .memory = &mem };
  mem = (struct al_memory){ .has_limit = true, .limit = 0 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "memory.limit"), "%s", err.msg);
  mem = (struct al_memory){ .has_limit = true, .limit = -7 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  mem = (struct al_memory){
    .has_limit = true, .limit = 64 << 20, .has_swap = true, .swap = 32 << 20
  };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "memory.swap"), "%s", err.msg);

  res = (struct al_resources){ .cpu = &cpu };
  cpu = (struct al_cpu){ .has_shares = true, .shares = 1 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "cpu.shares"), "%s", err.msg);
  cpu = (struct al_cpu){ .has_quota = true, .quota = 10 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "cpu.quota"), "%s", err.msg);
  cpu = (struct al_cpu){ .has_period = true, .period = 5000000 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "cpu.period"), "%s", err.msg);

  res = (struct al_resources){ .block_io = &bio };
  bio = (struct al_block_io){ .has_weight = true, .weight = 5000 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "blockIO.weight"), "%s", err.msg);

  struct al_hugepage_limit hp = { .page_size = "2XB", .limit = 1 };
  res = (struct al_resources){ .hugepage_limits = &hp, .n_hugepage_limits = 1 };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "pageSize"), "%s", err.msg);

  char *keys[] = { "../memory.max" }, *vals[] = { "1" };
  res = (struct al_resources){ .unified = { keys, vals, 1 } };
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "not a file name"), "%s", err.msg);
  keys[0] = "cgroup.procs";
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "refused"), "%s", err.msg);
  finish ();
}

Test (resources, unified_needs_a_v2_host)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  char *keys[] = { "memory.high" }, *vals[] = { "100000000" };
  struct al_resources res = { .unified = { keys, vals, 1 } };
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -ENOTSUP);
  cr_expect (strstr (err.msg, "linux.resources.unified") && strstr (err.msg, "hybrid"), "%s",
             err.msg);
  res.unified.n = 0;
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  finish ();
}

Test (resources, unavailable_controller_names_the_field)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  struct al_network net = { .has_class_id = true, .class_id = 0x100001 };
  struct al_resources res = { .network = &net };
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -ENOTSUP);
  cr_expect_str_eq (err.msg, "linux.resources.network.classID: net_cls controller is not "
                             "mounted");
  /* the kernel default needs no controller */
  net.class_id = 0;
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  struct al_net_priority prio = { "eth0", 5 };
  net = (struct al_network){ .priorities = &prio, .n_priorities = 1 };
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -ENOTSUP);
  cr_expect (strstr (err.msg, "network.priorities: net_prio"), "%s", err.msg);
  struct al_rdma rd = { .device = "mlx5_1", .has_hca_handles = true, .hca_handles = 3 };
  res = (struct al_resources){ .rdma = &rd, .n_rdma = 1 };
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), -ENOTSUP);
  cr_expect (strstr (err.msg, "linux.resources.rdma: rdma controller"), "%s", err.msg);
  finish ();
}

Test (resources, kernel_memory_is_ignored_with_a_warning)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  struct al_memory mem = { .has_kernel = true, .kernel = 1 << 20 };
  struct al_resources res = { .memory = &mem };
  cr_expect_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  cr_expect (strstr (warnings, "memory.kernel: ignored"), "warnings: %s", warnings);
  finish ();
}

static int
child_open_devices (void *arg)
{
  (void) arg;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int zero = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  return (null >= 0 ? 0 : 1) | (zero < 0 && errno == EPERM ? 0 : 2);
}

Test (resources, devices_v1_rules_in_order)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  struct al_device_rule rules[] = {
    { .allow = false, .type = AL_DEVICE_RULE_ALL, .major = -1, .minor = -1 },
    { .allow = true,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 3,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE },
    { .allow = true,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 5,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_READ },
    { .allow = false,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 5,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_READ },
  };
  struct al_resources res = { .devices = rules, .n_devices = 4 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  cleanup_free char *list = read_cg (cg, "devices", "devices.list");
  cr_expect_str_eq (list, "c 1:3 rw");
  int status = wait_kid (spawn (cg, child_open_devices, NULL));
  cr_expect (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "/dev/null usable and /dev/zero refused (exit %d)", WEXITSTATUS (status));
  finish ();
}

static int
child_hold (void *arg)
{
  volatile int *flag = arg;
  size_t mb = 64;
  for (size_t i = 0; i < mb; i++)
    {
      char *p = malloc (1 << 20);
      if (p == NULL)
        return 3;
      memset (p, 0x5a, 1 << 20);
    }
  /* burn some CPU too */
  struct timespec a, b;
  clock_gettime (CLOCK_MONOTONIC, &a);
  do
    clock_gettime (CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 300);
  *flag = 1;
  for (;;)
    pause ();
}

Test (resources, stats_move_with_the_workload)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  struct al_cgroup_stats before, after;
  cr_assert_eq (al_cgroup_stats (cg, &before, &err), 0, "%s", err.msg);
  cr_expect (before.has_memory && before.has_pids && before.has_cpu);
  volatile int *flag = shared (4096);
  spawn (cg, child_hold, (void *) flag);
  for (int i = 0; i < 1000 && !*flag; i++)
    sleep_ms (10);
  cr_assert (*flag, "child did not finish allocating");
  cr_assert_eq (al_cgroup_stats (cg, &after, &err), 0, "%s", err.msg);
  cr_expect_geq (after.memory_usage, before.memory_usage + (48u << 20),
                 "usage %" PRIu64 " -> %" PRIu64, before.memory_usage, after.memory_usage);
  cr_expect_geq (after.memory_peak, after.memory_usage - (1u << 20));
  cr_expect_geq (after.cpu_usage_ns, before.cpu_usage_ns + 200000000ull,
                 "cpu %" PRIu64 " -> %" PRIu64, before.cpu_usage_ns, after.cpu_usage_ns);
  cr_expect_geq (after.cpu_user_ns + after.cpu_system_ns, 100000000ull);
  cr_expect_eq (after.pids_current, 1);
  cr_expect_eq (after.oom_kills, 0);
  finish ();
}

Test (resources, hugetlb_on_the_v2_side_of_a_hybrid_host)
{
  cr_assert_eq (host->where[AL_CG_HUGETLB], host->unified, "hugetlb expected on cgroup2 here");
  int ufd = host->h[host->unified].fd;
  struct al_error err = { 0 };
  cleanup_free char *root_on = NULL;
  cr_assert_eq (al_cg_read (ufd, "cgroup.subtree_control", &root_on, &err), 0);
  restore_hugetlb_root = strstr (root_on, "hugetlb") == NULL;
  {
    cleanup_close int afd = openat (ufd, "airlock", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_free char *parent_on = NULL;
    restore_hugetlb_parent = afd < 0
                             || (al_cg_read (afd, "cgroup.subtree_control", &parent_on, &err) == 0
                                 && strstr (parent_on, "hugetlb") == NULL);
  }
  struct al_cgroup *cg = make_cgroup ();
  struct al_hugepage_limit hp = { .page_size = "2MB", .limit = 4 << 20 };
  struct al_resources res = { .hugepage_limits = &hp, .n_hugepage_limits = 1 };
  cr_assert_eq (al_cgroup_apply (cg, &res, &err), 0, "%s", err.msg);
  expect_file (cg, "cgroup2", "hugetlb.2MB.max", "4194304");
  hp.page_size = "1GB";
  cr_expect_lt (al_cgroup_apply (cg, &res, &err), 0);
  cr_expect (strstr (err.msg, "no 1GB huge pages"), "%s", err.msg);
  finish ();
}

/* ----------------------------------------------------------- processes */

static int
child_count (void *arg)
{
  volatile unsigned long *counter = arg;
  for (;;)
    ++*counter;
  return 0;
}

Test (procs, freeze_stops_progress_and_thaw_resumes)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  volatile unsigned long *counter = shared (4096);
  spawn (cg, child_count, (void *) counter);
  while (*counter == 0)
    sleep_ms (1);
  cr_assert_eq (al_cgroup_freeze (cg, &err), 0, "%s", err.msg);
  bool frozen = false;
  cr_assert_eq (al_cgroup_is_frozen (cg, &frozen, &err), 0, "%s", err.msg);
  cr_expect (frozen);
  unsigned long a = *counter;
  sleep_ms (200);
  unsigned long b = *counter;
  cr_expect_eq (a, b, "the counter moved while frozen: %lu -> %lu", a, b);
  cr_assert_eq (al_cgroup_thaw (cg, &err), 0, "%s", err.msg);
  cr_assert_eq (al_cgroup_is_frozen (cg, &frozen, &err), 0, "%s", err.msg);
  cr_expect_not (frozen);
  sleep_ms (100);
  cr_expect_gt (*counter, b, "the counter did not resume after thaw");
  finish ();
}

static int
child_escape (void *arg)
{
  pid_t *out = arg;
  pid_t mid = fork ();
  if (mid == 0)
    {
      setsid ();
      pid_t grand = fork ();
      if (grand == 0)
        {
          signal (SIGTERM, SIG_IGN);
          for (;;)
            pause ();
        }
      out[1] = grand;
      _exit (0); /* orphan the grandchild */
    }
  out[0] = mid;
  waitpid (mid, NULL, 0);
  out[2] = 1; /* only the child and the orphaned grandchild are left */
  for (;;)
    pause ();
}

static bool
gone (pid_t pid)
{
  char f[64], state = '?';
  snprintf (f, sizeof f, "/proc/%d/stat", (int) pid);
  FILE *fp = fopen (f, "re");
  if (fp == NULL)
    return true;
  int r = fscanf (fp, "%*d (%*[^)]) %c", &state);
  fclose (fp);
  return r == 1 && (state == 'Z' || state == 'X');
}

Test (procs, kill_all_reaches_a_setsid_grandchild)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  volatile pid_t *out = shared (4096);
  pid_t child = spawn (cg, child_escape, (void *) out);
  for (int i = 0; i < 500 && out[2] == 0; i++)
    sleep_ms (10);
  pid_t grand = out[1];
  cr_assert_gt (grand, 0);
  pid_t *pids = NULL;
  size_t n = 0;
  cr_assert_eq (al_cgroup_pids (cg, &pids, &n, &err), 0, "%s", err.msg);
  cr_expect_eq (n, 2, "child and grandchild: %zu", n);
  free (pids);
  cr_assert_eq (al_cgroup_kill_all (cg, &err), 0, "%s", err.msg);
  int status = wait_kid (child);
  cr_expect (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  cr_expect (gone (grand), "the setsid grandchild %d survived", (int) grand);
  cr_assert_eq (al_cgroup_pids (cg, &pids, &n, &err), 0, "%s", err.msg);
  cr_expect_eq (n, 0);
  free (pids);
  finish ();
}

Test (procs, kill_all_refuses_everything_but_a_sandbox_leaf)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  /* sentinels: one inside a test leaf (below the airlock parent), one in
   * the runner's own cgroups (root in most hierarchies here) */
  pid_t inside = spawn (cg, child_pause, NULL);
  pid_t outside = spawn (NULL, child_pause, NULL);
  char own[1024], dotdot[512];
  own_memory_cgroup (own, sizeof own);
  snprintf (dotdot, sizeof dotdot, "%s/..", al_cgroup_path (cg));
  const char *targets[] = { "/", "/airlock", dotdot, own };
  const char *why[] = { "hierarchy root", "airlock parent", "`..`", "own cgroup" };
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    {
      struct al_cgroup *bad = NULL;
      cr_assert_eq (al_cg_open_unchecked (host, targets[i], true, &bad, &err), 0);
      cr_expect_eq (al_cgroup_kill_all (bad, &err), -EPERM, "`%s` was not refused", targets[i]);
      cr_expect (strstr (err.msg, why[i]), "`%s`: %s", targets[i], err.msg);
      al_cgroup_free (bad);
      cr_assert (alive (inside) && alive (outside), "kill-all of `%s` killed a sentinel",
                 targets[i]);
    }
  /* the real leaf is fine */
  cr_expect_eq (al_cgroup_check_killable (cg, &err), 0, "%s", err.msg);
  finish ();
}

/* The "airlock" here is a child that moves itself into the cgroup and then
 * asks for kill-all.  Should the guard ever break, that child would freeze
 * itself: the parent then thaws the cgroup and fails instead of hanging. */
static int
child_kill_own (void *arg)
{
  struct al_cgroup *cg = arg;
  struct al_error err = { 0 };
  int r = al_cgroup_enter (cg, getpid (), &err);
  if (r == 0)
    r = al_cgroup_kill_all (cg, &err);
  if (r == -EPERM && strstr (err.msg, "own cgroup"))
    return 0;
  return r == 0 ? 1 : 2;
}

Test (procs, kill_all_refuses_the_cgroup_airlock_runs_in)
{
  struct al_cgroup *cg = make_cgroup ();
  struct al_error err = { 0 };
  pid_t sentinel = spawn (cg, child_pause, NULL);
  /* the handle was made before the move; the guard looks again */
  pid_t airlock = spawn (NULL, child_kill_own, cg);
  int status = -1;
  for (int i = 0; i < 1000; i++)
    {
      if (waitpid (airlock, &status, WNOHANG) == airlock)
        break;
      sleep_ms (10);
    }
  if (!WIFEXITED (status) && !WIFSIGNALED (status))
    {
      /* a frozen task takes SIGKILL only once thawed */
      kill (airlock, SIGKILL);
      al_cgroup_thaw (cg, &err);
      cr_assert_fail ("kill-all froze the cgroup its own process is in");
    }
  for (size_t i = 0; i < n_kids; i++)
    if (kids[i] == airlock)
      kids[i] = 0;
  cr_expect (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "kill-all of its own cgroup was not refused (status %#x)", status);
  cr_expect (alive (sentinel));
  cr_expect_eq (al_cgroup_kill_all (cg, &err), 0, "%s", err.msg);
  finish ();
}

Test (procs, kill_all_outside_the_parent_needs_ownership)
{
  /* a second host whose parent is a sibling test directory: the cgroup
   * below is outside that parent, like podman's /libpod_parent paths */
  char parent[256], path[256];
  test_path (parent, sizeof parent);
  test_path (path, sizeof path);
  struct al_error err = { 0 };
  cr_assert_eq (al_cgroup_host_detect (parent + 1, &host2, &err), 0, "%s", err.msg);
  struct al_cgroup *cg = NULL;
  cr_assert_eq (al_cgroup_create (host2, path, &cg, &err), 0, "%s", err.msg);
  cgs[n_cgs++] = cg;
  pid_t pid = spawn (cg, child_pause, NULL);
  cr_expect_not (al_cgroup_is_sandbox_leaf (host2, path));

  struct al_cgroup *foreign = NULL;
  cr_assert_eq (al_cgroup_open (host2, path, 0, &foreign, &err), 0, "%s", err.msg);
  cr_expect_eq (al_cgroup_kill_all (foreign, &err), -EPERM);
  cr_expect (strstr (err.msg, "did not create it"), "%s", err.msg);
  al_cgroup_free (foreign);
  cr_expect (alive (pid));

  struct al_cgroup *mine = NULL;
  cr_assert_eq (al_cgroup_open (host2, path, AL_CGROUP_OWNED, &mine, &err), 0, "%s", err.msg);
  cr_expect_eq (al_cgroup_kill_all (mine, &err), 0, "%s", err.msg);
  al_cgroup_free (mine);
  int status = wait_kid (pid);
  cr_expect (WIFSIGNALED (status));
  finish ();
}

static int
child_open_zero (void *arg)
{
  (void) arg;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int zero = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (null < 0)
    return 1;
  if (zero >= 0)
    return 2;
  return errno == EPERM ? 0 : 3;
}

/* The v2 device program, verified by the kernel and enforced through the
 * cgroup2 mount this hybrid host has. */
Test (procs, device_ebpf_program_is_enforced)
{
  struct al_cgroup *cg = make_cgroup ();
  int ufd = cg->fd[host->unified];
  cr_assert_geq (ufd, 0);
  struct al_device_rule rules[] = {
    { .allow = false, .type = AL_DEVICE_RULE_ALL, .major = -1, .minor = -1 },
    { .allow = true,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 3,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE },
    { .allow = true,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 5,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_WRITE },
  };
  struct bpf_insn *insns = NULL;
  size_t n = 0;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_devices_bpf_build (rules, 3, &insns, &n, &err), 0, "%s", err.msg);
  cr_assert_eq (al_cg_devices_bpf_attach (ufd, insns, n, &err), 0, "%s", err.msg);
  /* again, as update does: the old program is replaced, not stacked */
  cr_assert_eq (al_cg_devices_bpf_attach (ufd, insns, n, &err), 0, "%s", err.msg);
  free (insns);
  uint32_t ids[8];
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t) ufd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = 8;
  cr_assert_eq (syscall (__NR_bpf, BPF_PROG_QUERY, &attr, sizeof attr), 0);
  cr_expect_eq (attr.query.prog_cnt, 1);
  int status = wait_kid (spawn (cg, child_open_zero, NULL));
  cr_expect (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child exit %d",
             WEXITSTATUS (status));
  finish ();
}

/* ------------------------------------------------------------ v2 (pure) */

Test (v2, shares_to_weight)
{
  cr_expect_eq (al_cg_shares_to_weight (2), 1);
  cr_expect_eq (al_cg_shares_to_weight (1024), 39);
  cr_expect_eq (al_cg_shares_to_weight (262144), 10000);
  cr_expect_eq (al_cg_shares_to_weight (0), 1);
  cr_expect_eq (al_cg_shares_to_weight (1u << 30), 10000);
}

Test (v2, blkio_weight_to_io_weight)
{
  cr_expect_eq (al_cg_blkio_weight_to_io (10), 1);
  cr_expect_eq (al_cg_blkio_weight_to_io (500), 4950);
  cr_expect_eq (al_cg_blkio_weight_to_io (1000), 10000);
  cr_expect_eq (al_cg_blkio_weight_to_io (1), 1);
}

Test (v2, cpu_max_strings)
{
  char buf[64];
  struct al_error err = { 0 };
  struct al_cpu c = { .has_quota = true, .quota = 50000, .has_period = true, .period = 100000 };
  cr_assert_eq (al_cg_cpu_max_string (&c, NULL, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "50000 100000");
  c.quota = -1;
  cr_assert_eq (al_cg_cpu_max_string (&c, NULL, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "max 100000");
  c = (struct al_cpu){ .has_period = true, .period = 200000 };
  cr_assert_eq (al_cg_cpu_max_string (&c, "20000 50000\n", buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "20000 200000");
  c = (struct al_cpu){ .has_quota = true, .quota = 25000 };
  cr_assert_eq (al_cg_cpu_max_string (&c, NULL, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "25000 100000");
  cr_assert_eq (al_cg_cpu_max_string (&c, "max 40000\n", buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "25000 40000");
}

Test (v2, swap_conversion)
{
  char buf[32];
  struct al_error err = { 0 };
  struct al_memory m
      = { .has_limit = true, .limit = 100 << 20, .has_swap = true, .swap = 300 << 20 };
  cr_assert_eq (al_cg_swap_max_string (&m, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "209715200");
  m.swap = m.limit;
  cr_assert_eq (al_cg_swap_max_string (&m, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "0");
  m.swap = -1;
  cr_assert_eq (al_cg_swap_max_string (&m, buf, sizeof buf, &err), 0);
  cr_expect_str_eq (buf, "max");
  m = (struct al_memory){ .has_swap = true, .swap = 1 << 20 };
  cr_expect_lt (al_cg_swap_max_string (&m, buf, sizeof buf, &err), 0);
  cr_expect (strstr (err.msg, "needs a memory limit"), "%s", err.msg);
  m = (struct al_memory){ .has_limit = true, .limit = 2 << 20, .has_swap = true, .swap = 1 << 20 };
  cr_expect_lt (al_cg_swap_max_string (&m, buf, sizeof buf, &err), 0);
}

Test (v2, io_max_lines)
{
  struct al_throttle_device rbps[] = { { 8, 0, 600 } };
  struct al_throttle_device wbps[] = { { 8, 0, 0 } };
  struct al_throttle_device wiops[] = { { 8, 16, 300 }, { 8, 0, 7 } };
  struct al_block_io b = { .throttle_read_bps = { rbps, 1 },
                           .throttle_write_bps = { wbps, 1 },
                           .throttle_write_iops = { wiops, 2 } };
  char *out = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_io_max_lines (&b, &out, &err), 0);
  cr_expect_str_eq (out, "8:0 rbps=600 wbps=max wiops=7\n8:16 wiops=300\n");
  free (out);
  struct al_block_io empty = { 0 };
  cr_assert_eq (al_cg_io_max_lines (&empty, &out, &err), 0);
  cr_expect_str_eq (out, "");
  free (out);
}

Test (v2, device_program_shape)
{
  struct al_error err = { 0 };
  struct bpf_insn *p = NULL;
  size_t n = 0;
  /* no rules: the 6 context loads, then allow */
  cr_assert_eq (al_cg_devices_bpf_build (NULL, 0, &p, &n, &err), 0);
  cr_expect_eq (n, 8);
  cr_expect_eq (p[6].code, BPF_ALU64 | BPF_MOV | BPF_K);
  cr_expect_eq (p[6].imm, 1);
  cr_expect_eq (p[7].code, BPF_JMP | BPF_EXIT);
  free (p);

  struct al_device_rule rules[] = {
    { .allow = false, .type = AL_DEVICE_RULE_ALL, .major = -1, .minor = -1 },
    { .allow = true,
      .type = AL_DEVICE_RULE_CHAR,
      .major = 1,
      .minor = 3,
      .has_access = true,
      .access = AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE },
    { .allow = true, .type = AL_DEVICE_RULE_BLOCK, .major = 8, .minor = -1 },
  };
  cr_assert_eq (al_cg_devices_bpf_build (rules, 3, &p, &n, &err), 0);
  /* 6 loads; "b 8:* rwm" (type, major, return = 4); "c 1:3 rw" (type,
   * 3 access, major, minor, return = 8); deny-all matches everything
   * (return = 2) and ends the program: no default */
  cr_expect_eq (n, 6 + 4 + 8 + 2, "length %zu", n);
  cr_expect_eq (p[6].code, BPF_JMP | BPF_JNE | BPF_K);
  cr_expect_eq (p[6].imm, BPF_DEVCG_DEV_BLOCK);
  cr_expect_eq (p[6].off, 3, "type mismatch skips the rest of the block");
  cr_expect_eq (p[7].imm, 8);
  cr_expect_eq (p[7].off, 2);
  cr_expect_eq (p[8].imm, 1, "allow");
  cr_expect_eq (p[10].imm, BPF_DEVCG_DEV_CHAR);
  cr_expect_eq (p[10].off, 7);
  cr_expect_eq (p[12].imm, BPF_DEVCG_ACC_MKNOD, "allow rw: refuse requests with m");
  cr_expect_eq (p[13].off, 4);
  cr_expect_eq (p[n - 2].imm, 0, "deny-all returns 0");
  cr_expect_eq (p[n - 1].code, BPF_JMP | BPF_EXIT);
  for (size_t i = 0; i < n; i++)
    if (BPF_CLASS (p[i].code) == BPF_JMP && BPF_OP (p[i].code) != BPF_EXIT)
      cr_expect_lt (i + 1 + (size_t) p[i].off, n, "jump %zu leaves the program", i);
  free (p);

  /* a trailing allow-all makes everything before it unreachable */
  struct al_device_rule all
      = { .allow = true, .type = AL_DEVICE_RULE_ALL, .major = -1, .minor = -1 };
  struct al_device_rule two[] = { rules[1], all };
  cr_assert_eq (al_cg_devices_bpf_build (two, 2, &p, &n, &err), 0);
  cr_expect_eq (n, 8);
  cr_expect_eq (p[6].imm, 1);
  free (p);
}

Test (v2, v1_device_rule_strings)
{
  char buf[64];
  struct al_device_rule r
      = { .allow = false, .type = AL_DEVICE_RULE_ALL, .major = -1, .minor = -1 };
  al_cg_v1_device_rule_string (&r, buf, sizeof buf);
  cr_expect_str_eq (buf, "a *:* rwm");
  r = (struct al_device_rule){ .type = AL_DEVICE_RULE_CHAR,
                               .major = 136,
                               .minor = -1,
                               .has_access = true,
                               .access = AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_MKNOD };
  al_cg_v1_device_rule_string (&r, buf, sizeof buf);
  cr_expect_str_eq (buf, "c 136:* rm");
}

Test (v2, cpu_lists)
{
  uint64_t bits[2];
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_parse_cpu_list ("f", "0-3,7,9\n", bits, 128, &err), 0, "%s", err.msg);
  cr_expect_eq (bits[0], 0x28full);
  cr_expect_eq (al_cg_parse_cpu_list ("f", "", bits, 128, &err), 0);
  cr_expect_eq (bits[0], 0);
  cr_expect_lt (al_cg_parse_cpu_list ("f", "3-1", bits, 128, &err), 0);
  cr_expect_lt (al_cg_parse_cpu_list ("f", "a", bits, 128, &err), 0);
  cr_expect_lt (al_cg_parse_cpu_list ("f", "1,,2", bits, 128, &err), 0);
  cr_expect_lt (al_cg_parse_cpu_list ("f", "1, 2", bits, 128, &err), 0);
  cr_expect_lt (al_cg_parse_cpu_list ("f", "200", bits, 128, &err), 0);
  cr_expect_eq (al_cg_check_cpu_subset ("f", "CPU", "0-1", "0-3\n", &err), 0);
  cr_expect_lt (al_cg_check_cpu_subset ("f", "CPU", "0,4", "0-3\n", &err), 0);
  cr_expect (strstr (err.msg, "CPU 4 does not exist"), "%s", err.msg);
}

Test (v2, normalize)
{
  char *p = NULL;
  struct al_error err = { 0 };
  cr_assert_eq (al_cg_normalize ("f", "//a///b/", &p, &err), 0);
  cr_expect_str_eq (p, "/a/b");
  free (p);
  cr_assert_eq (al_cg_normalize ("f", "", &p, &err), 0);
  cr_expect_str_eq (p, "/");
  free (p);
  cr_expect_lt (al_cg_normalize ("f", "/a/./b", &p, &err), 0);
  cr_expect_lt (al_cg_normalize ("f", "/a/..", &p, &err), 0);
  cr_expect_eq (al_cg_normalize ("f", "/a/..b/...", &p, &err), 0, "only exact . and ..");
  free (p);
}
