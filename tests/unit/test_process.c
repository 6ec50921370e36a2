/* test_process.c — what the container process becomes before execve:
 * capabilities, identity, rlimits and the per-process attributes
 * (isolation/capabilities.h, identity.h, rlimits.h, process.h).
 *
 * Every test body runs in a child forked from the Criterion worker (which
 * is itself forked from the runner): credentials, capabilities, rlimits and
 * personality change only there.  A child reports a failure as one line on
 * a pipe and exits 1; the worker turns it into the assertion message.
 * Needs root (CAP_SETUID, CAP_SETGID, CAP_SETPCAP, user namespaces).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capabilities.h"
#include "cleanup.h"
#include "error.h"
#include "file.h"
#include "identity.h"
#include "process.h"
#include "rlimits.h"

/* ------------------------------------------------------------ the child */

/* Set in the forked child only (each Criterion test is its own process). */
static int report_fd = -1;

__attribute__ ((format (printf, 2, 3), noreturn)) static void
child_fail (int line, const char *fmt, ...)
{
  char msg[2048];
  int n = snprintf (msg, sizeof msg, "line %d: ", line);
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg + n, sizeof msg - (size_t) n, fmt, ap);
  va_end (ap);
  if (write (report_fd, msg, strlen (msg)) < 0)
    _exit (2);
  _exit (1);
}

#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        child_fail (__LINE__, __VA_ARGS__);                                                        \
    }                                                                                              \
  while (0)

/* A call that must return 0; `call` names its error out-parameter err_. */
#define CHECK_OK(call)                                                                             \
  do                                                                                               \
    {                                                                                              \
      struct al_error e_ = { 0 };                                                                  \
      struct al_error *err_ = &e_;                                                                 \
      (void) err_;                                                                                 \
      int r_ = (call);                                                                             \
      CHECK (r_ == 0, "%s failed (%d): %s", #call, r_, e_.msg);                                    \
    }                                                                                              \
  while (0)

/* A call that must fail with exactly this errno and message. */
#define CHECK_FAILS(call, errnum, message)                                                         \
  do                                                                                               \
    {                                                                                              \
      struct al_error e_ = { 0 };                                                                  \
      struct al_error *err_ = &e_;                                                                 \
      (void) err_;                                                                                 \
      int r_ = (call);                                                                             \
      CHECK (r_ == -(errnum), "%s: expected %d, got %d (%s)", #call, -(errnum), r_, e_.msg);       \
      CHECK (strcmp (e_.msg, (message)) == 0, "%s:\n  expected \"%s\"\n  got      \"%s\"", #call,  \
             (message), e_.msg);                                                                   \
    }                                                                                              \
  while (0)

/* Run body in a forked child and assert it exited 0. */
static void
in_child (void (*body) (void))
{
  if (geteuid () != 0)
    cr_skip_test ("needs root: switches uids and capabilities in a child");
  int p[2];
  cr_assert_eq (pipe2 (p, O_CLOEXEC), 0);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      /* Best effort against an orphan when the worker times out (the
       * kernel clears this again when a test changes credentials). */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (p[0]);
      report_fd = p[1];
      body ();
      _exit (0);
    }
  close (p[1]);
  char msg[2048] = "";
  size_t len = 0;
  ssize_t r;
  while (len < sizeof msg - 1 && (r = read (p[0], msg + len, sizeof msg - 1 - len)) != 0)
    {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      len += (size_t) r;
    }
  msg[len] = '\0';
  close (p[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "%s",
             msg[0] ? msg : (WIFSIGNALED (status) ? "child killed by a signal" : "child failed"));
}

/* A test whose body runs in a forked child. */
#define CHILD_TEST(suite, name)                                                                    \
  static void suite##_##name##_body (void);                                                        \
  Test (suite, name) { in_child (suite##_##name##_body); }                                         \
  static void suite##_##name##_body (void)

/* ------------------------------------------------------------- helpers */

#define BIT(cap) (UINT64_C (1) << (cap))

/* The hex mask after "key:" in a /proc status-like text, or fail. */
static uint64_t
mask_in (const char *text, const char *key, int line)
{
  char pat[32];
  snprintf (pat, sizeof pat, "%s:", key);
  const char *p = strstr (text, pat);
  if (p == NULL)
    child_fail (line, "no %s in \"%s\"", key, text);
  return strtoull (p + strlen (pat), NULL, 16);
}

/* noinline: inlined, GCC 12 -O3 takes the returned pointer for one to the
 * local `buf` (-Wdangling-pointer false positive). */
__attribute__ ((noinline)) static char *
read_text (const char *path, int line)
{
  char *buf = NULL;
  struct al_error err = { 0 };
  if (al_read_file (AT_FDCWD, path, 1 << 20, &buf, NULL, &err) < 0)
    child_fail (line, "%s", err.msg);
  return buf;
}

static uint64_t
status_mask (const char *key, int line)
{
  char *s = read_text ("/proc/self/status", line);
  uint64_t m = mask_in (s, key, line);
  free (s);
  return m;
}
#define STATUS(key) status_mask (key, __LINE__)

/* A capability set through libcap (capget), as a mask. */
static uint64_t
capget_mask (cap_flag_t flag)
{
  cap_t c = cap_get_proc ();
  uint64_t m = 0;
  for (int cap = 0; cap < (int) cap_max_bits (); cap++)
    {
      cap_flag_value_t v = CAP_CLEAR;
      if (cap_get_flag (c, cap, flag, &v) == 0 && v == CAP_SET)
        m |= BIT (cap);
    }
  cap_free (c);
  return m;
}

/* The bounding set through prctl, as a mask. */
static uint64_t
bounding_mask (void)
{
  uint64_t m = 0;
  for (int cap = 0; cap < (int) cap_max_bits (); cap++)
    if (prctl (PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0) == 1)
      m |= BIT (cap);
  return m;
}

/* Fork, exec argv with stdout on a pipe, return its output (all fds of
 * the caller are inherited as they are). */
static void
run_capture (char *const argv[], char *out, size_t size, int line)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    child_fail (line, "pipe: %s", strerror (errno));
  pid_t pid = fork ();
  if (pid < 0)
    child_fail (line, "fork: %s", strerror (errno));
  if (pid == 0)
    {
      dup2 (p[1], 1);
      execv (argv[0], argv);
      _exit (127);
    }
  close (p[1]);
  size_t len = 0;
  ssize_t r;
  while (len < size - 1 && (r = read (p[0], out + len, size - 1 - len)) != 0)
    {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      len += (size_t) r;
    }
  out[len] = '\0';
  close (p[0]);
  int status = 0;
  waitpid (pid, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    child_fail (line, "%s exited with status 0x%x", argv[0], status);
}

/* /bin/sh reading its own /proc/self/status (a redirection, no fork). */
static void
sh_caps (char *out, size_t size, int line)
{
  char *argv[] = { "/bin/sh", "-c",
                   "while read -r k v; do case $k in Cap*) echo \"$k $v\";; esac; done "
                   "< /proc/self/status",
                   NULL };
  run_capture (argv, out, size, line);
}

static struct al_cap_list
L (int *caps, size_t n)
{
  return (struct al_cap_list){ .caps = caps, .n = n };
}
#define LIST(...) L ((int[]){ __VA_ARGS__ }, sizeof ((int[]){ __VA_ARGS__ }) / sizeof (int))
#define NONE ((struct al_cap_list){ 0 })

/* ================================================================ caps */

TestSuite (caps, .timeout = 30);

CHILD_TEST (caps, bounding_set_is_really_dropped)
{
  struct al_capabilities c = {
    .bounding = LIST (CAP_CHOWN, CAP_KILL),
    .effective = LIST (CAP_CHOWN, CAP_KILL),
    .permitted = LIST (CAP_CHOWN, CAP_KILL),
  };
  uint64_t want = BIT (CAP_CHOWN) | BIT (CAP_KILL);
  CHECK (STATUS ("CapBnd") != want, "the bounding set is already reduced");
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapBnd") == want, "CapBnd %" PRIx64, STATUS ("CapBnd"));
  CHECK (bounding_mask () == want, "PR_CAPBSET_READ %" PRIx64, bounding_mask ());
  CHECK (capget_mask (CAP_EFFECTIVE) == want, "effective %" PRIx64, capget_mask (CAP_EFFECTIVE));
  CHECK (capget_mask (CAP_PERMITTED) == want, "permitted %" PRIx64, capget_mask (CAP_PERMITTED));
}

CHILD_TEST (caps, effective_permitted_inheritable_are_exact)
{
  struct al_capabilities c = {
    .bounding = LIST (CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_ADMIN, CAP_SETPCAP),
    .effective = LIST (CAP_NET_BIND_SERVICE),
    .permitted = LIST (CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_ADMIN),
    .inheritable = LIST (CAP_NET_RAW, CAP_CHOWN),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  struct
  {
    const char *key;
    cap_flag_t flag;
    uint64_t want;
  } sets[] = {
    { "CapEff", CAP_EFFECTIVE, BIT (CAP_NET_BIND_SERVICE) },
    { "CapPrm", CAP_PERMITTED,
      BIT (CAP_NET_BIND_SERVICE) | BIT (CAP_NET_RAW) | BIT (CAP_SYS_ADMIN) },
    { "CapInh", CAP_INHERITABLE, BIT (CAP_NET_RAW) | BIT (CAP_CHOWN) },
  };
  for (size_t i = 0; i < 3; i++)
    {
      CHECK (STATUS (sets[i].key) == sets[i].want, "%s %" PRIx64 ", want %" PRIx64, sets[i].key,
             STATUS (sets[i].key), sets[i].want);
      CHECK (capget_mask (sets[i].flag) == sets[i].want, "capget %s %" PRIx64, sets[i].key,
             capget_mask (sets[i].flag));
    }
  CHECK (STATUS ("CapAmb") == 0, "CapAmb %" PRIx64, STATUS ("CapAmb"));
}

CHILD_TEST (caps, ambient_is_raised_when_asked_and_survives_execve)
{
  struct al_user u = { .uid = 1000, .gid = 1000 };
  CHECK_OK (al_identity_apply (&u, true, err_));
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_BIND_SERVICE),
    .effective = LIST (CAP_NET_BIND_SERVICE),
    .permitted = LIST (CAP_NET_BIND_SERVICE),
    .inheritable = LIST (CAP_NET_BIND_SERVICE),
    .ambient = LIST (CAP_NET_BIND_SERVICE),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapAmb") == BIT (CAP_NET_BIND_SERVICE), "CapAmb %" PRIx64, STATUS ("CapAmb"));

  char out[1024];
  sh_caps (out, sizeof out, __LINE__);
  /* uid 1000 has no file capabilities: only the ambient set carries the
   * capability through execve. */
  uint64_t want = BIT (CAP_NET_BIND_SERVICE);
  CHECK (mask_in (out, "CapAmb", __LINE__) == want, "after execve: %s", out);
  CHECK (mask_in (out, "CapPrm", __LINE__) == want, "after execve: %s", out);
  CHECK (mask_in (out, "CapEff", __LINE__) == want, "after execve: %s", out);
}

CHILD_TEST (caps, no_ambient_means_no_capability_after_execve_for_non_root)
{
  struct al_user u = { .uid = 1000, .gid = 1000 };
  CHECK_OK (al_identity_apply (&u, true, err_));
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_BIND_SERVICE),
    .effective = LIST (CAP_NET_BIND_SERVICE),
    .permitted = LIST (CAP_NET_BIND_SERVICE),
    .inheritable = LIST (CAP_NET_BIND_SERVICE),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  char out[1024];
  sh_caps (out, sizeof out, __LINE__);
  CHECK (mask_in (out, "CapAmb", __LINE__) == 0, "after execve: %s", out);
  CHECK (mask_in (out, "CapPrm", __LINE__) == 0, "after execve: %s", out);
}

/* The runtime inherited inheritable and ambient capabilities (as a shell
 * with pam_cap might give it): a config listing none must clear them. */
static void
preraise_inheritable_and_ambient (void)
{
  cap_t cur = cap_get_proc ();
  cap_value_t v = CAP_NET_RAW;
  CHECK (cap_set_flag (cur, CAP_INHERITABLE, 1, &v, CAP_SET) == 0, "cap_set_flag");
  CHECK (cap_set_proc (cur) == 0, "cap_set_proc: %s", strerror (errno));
  cap_free (cur);
  CHECK (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) == 0, "raise: %s",
         strerror (errno));
  CHECK (STATUS ("CapAmb") == BIT (CAP_NET_RAW) && STATUS ("CapInh") == BIT (CAP_NET_RAW),
         "could not prepare the inherited sets");
}

CHILD_TEST (caps, no_inheritable_or_ambient_when_the_config_lists_none)
{
  preraise_inheritable_and_ambient ();
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_RAW, CAP_CHOWN),
    .effective = LIST (CAP_NET_RAW, CAP_CHOWN),
    .permitted = LIST (CAP_NET_RAW, CAP_CHOWN),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapInh") == 0, "CapInh %" PRIx64, STATUS ("CapInh"));
  CHECK (STATUS ("CapAmb") == 0, "CapAmb %" PRIx64, STATUS ("CapAmb"));
  char out[1024];
  sh_caps (out, sizeof out, __LINE__);
  CHECK (mask_in (out, "CapInh", __LINE__) == 0 && mask_in (out, "CapAmb", __LINE__) == 0,
         "after execve: %s", out);
}

/* Still inheritable and permitted, but not listed as ambient: the
 * inherited ambient capability must go too. */
CHILD_TEST (caps, inherited_ambient_cleared_even_when_still_inheritable)
{
  preraise_inheritable_and_ambient ();
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_RAW),
    .effective = LIST (CAP_NET_RAW),
    .permitted = LIST (CAP_NET_RAW),
    .inheritable = LIST (CAP_NET_RAW),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapInh") == BIT (CAP_NET_RAW), "CapInh %" PRIx64, STATUS ("CapInh"));
  CHECK (STATUS ("CapAmb") == 0, "CapAmb %" PRIx64, STATUS ("CapAmb"));
}

CHILD_TEST (caps, drop_all_empties_all_five_sets)
{
  preraise_inheritable_and_ambient ();
  CHECK_OK (al_caps_drop_all (err_));
  const char *keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
  for (size_t i = 0; i < 5; i++)
    CHECK (STATUS (keys[i]) == 0, "%s %" PRIx64, keys[i], STATUS (keys[i]));
}

CHILD_TEST (caps, capabilities_unknown_to_the_kernel_are_skipped)
{
  int beyond = (int) cap_max_bits (); /* the first one the kernel lacks */
  struct al_capabilities c = {
    .bounding = LIST (CAP_CHOWN, beyond, 63),
    .effective = LIST (CAP_CHOWN, beyond),
    .permitted = LIST (CAP_CHOWN, beyond),
    .inheritable = LIST (beyond),
    .ambient = LIST (beyond),
  };
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapBnd") == BIT (CAP_CHOWN), "CapBnd %" PRIx64, STATUS ("CapBnd"));
  CHECK (STATUS ("CapPrm") == BIT (CAP_CHOWN), "CapPrm %" PRIx64, STATUS ("CapPrm"));
  CHECK (STATUS ("CapAmb") == 0, "CapAmb %" PRIx64, STATUS ("CapAmb"));
}

CHILD_TEST (caps, impossible_sets_are_refused_naming_the_capability)
{
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_RAW),
    .permitted = LIST (CAP_NET_RAW),
    .ambient = LIST (CAP_CHOWN, CAP_NET_RAW),
  };
  uint64_t before = STATUS ("CapBnd");
  CHECK_FAILS (al_caps_apply (&c, err_), EPERM,
               "process.capabilities.ambient[0]: CAP_CHOWN is not also permitted and "
               "inheritable: an ambient capability must be permitted and inheritable");
  c.ambient = LIST (CAP_NET_RAW);
  CHECK_FAILS (al_caps_apply (&c, err_), EPERM,
               "process.capabilities.ambient[0]: CAP_NET_RAW is not also inheritable: an "
               "ambient capability must be permitted and inheritable");
  /* Refused before anything changed. */
  CHECK (STATUS ("CapBnd") == before, "the bounding set was touched");

  c.ambient = NONE;
  c.effective = LIST (CAP_SYS_ADMIN);
  CHECK_FAILS (al_caps_apply (&c, err_), EPERM,
               "process.capabilities.effective[0]: CAP_SYS_ADMIN is not also permitted: an "
               "effective capability must be permitted");
}

CHILD_TEST (caps, keep_a_named_list)
{
  int cap = -1;
  CHECK_OK (al_cap_from_name ("CAP_SYS_ADMIN", &cap, err_));
  CHECK (cap == CAP_SYS_ADMIN, "CAP_SYS_ADMIN -> %d", cap);
  CHECK_OK (al_cap_from_name ("net_raw", &cap, err_));
  CHECK (cap == CAP_NET_RAW, "net_raw -> %d", cap);
  CHECK_FAILS (al_cap_from_name ("cap_chown+ep", &cap, err_), EINVAL,
               "unknown capability \"cap_chown+ep\"");
  CHECK_FAILS (al_cap_from_name ("12", &cap, err_), EINVAL, "unknown capability \"12\"");
  CHECK_FAILS (al_cap_from_name ("CAP_ALL", &cap, err_), EINVAL, "unknown capability \"CAP_ALL\"");

  const char *bad[] = { "CAP_CHOWN", "CAP_NOPE" };
  uint64_t before = STATUS ("CapBnd");
  CHECK_FAILS (al_caps_keep_named (bad, 2, err_), EINVAL, "unknown capability \"CAP_NOPE\"");
  CHECK (STATUS ("CapBnd") == before, "a bad name changed the bounding set");

  const char *names[] = { "NET_BIND_SERVICE", "cap_chown" };
  CHECK_OK (al_caps_keep_named (names, 2, err_));
  uint64_t want = BIT (CAP_NET_BIND_SERVICE) | BIT (CAP_CHOWN);
  CHECK (STATUS ("CapBnd") == want, "CapBnd %" PRIx64, STATUS ("CapBnd"));
  CHECK (STATUS ("CapEff") == want, "CapEff %" PRIx64, STATUS ("CapEff"));
  CHECK (STATUS ("CapPrm") == want, "CapPrm %" PRIx64, STATUS ("CapPrm"));
  CHECK (STATUS ("CapInh") == 0 && STATUS ("CapAmb") == 0, "inheritable or ambient raised");
}

/* ============================================================ identity */

TestSuite (identity, .timeout = 30);

CHILD_TEST (identity, switch_to_1000_with_additional_gids)
{
  struct al_user u = {
    .uid = 1000,
    .gid = 1000,
    .additional_gids = (uint32_t[]){ 10, 20 },
    .n_additional_gids = 2,
  };
  CHECK_OK (al_identity_apply (&u, false, err_));
  uid_t r, e, s;
  CHECK (getresuid (&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 1000, "uids %u %u %u", r, e,
         s);
  gid_t gr, ge, gs;
  CHECK (getresgid (&gr, &ge, &gs) == 0 && gr == 1000 && ge == 1000 && gs == 1000, "gids %u %u %u",
         gr, ge, gs);
  gid_t groups[8];
  int n = getgroups (8, groups);
  CHECK (n == 2 && groups[0] == 10 && groups[1] == 20, "getgroups: %d groups", n);
  /* Without keep_caps the kernel's rules apply: nothing left. */
  CHECK (STATUS ("CapPrm") == 0 && STATUS ("CapEff") == 0, "capabilities kept");
}

CHILD_TEST (identity, absent_additional_gids_clear_the_runtime_groups)
{
  gid_t g[] = { 4, 27 };
  CHECK (setgroups (2, g) == 0, "setgroups: %s", strerror (errno));
  struct al_user u = { .uid = 0, .gid = 0 };
  CHECK_OK (al_identity_apply (&u, false, err_));
  CHECK (getgroups (0, NULL) == 0, "the runtime's groups leaked: %d", getgroups (0, NULL));
}

CHILD_TEST (identity, capabilities_kept_across_the_uid_switch_when_asked)
{
  struct al_capabilities c = {
    .bounding = LIST (CAP_NET_BIND_SERVICE),
    .effective = LIST (CAP_NET_BIND_SERVICE),
    .permitted = LIST (CAP_NET_BIND_SERVICE),
  };
  struct al_user u = { .uid = 1000, .gid = 1000 };
  CHECK_OK (al_identity_apply (&u, true, err_));
  CHECK (getuid () == 1000 && geteuid () == 1000, "uid %u", geteuid ());
  CHECK (STATUS ("CapEff") == 0, "the kernel should have emptied effective");
  CHECK (STATUS ("CapPrm") != 0, "permitted not kept");
  CHECK (prctl (PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0, "keepcaps left on");
  CHECK_OK (al_caps_apply (&c, err_));
  CHECK (STATUS ("CapEff") == BIT (CAP_NET_BIND_SERVICE), "CapEff %" PRIx64, STATUS ("CapEff"));
  CHECK (STATUS ("CapPrm") == BIT (CAP_NET_BIND_SERVICE), "CapPrm %" PRIx64, STATUS ("CapPrm"));
  CHECK (STATUS ("CapBnd") == BIT (CAP_NET_BIND_SERVICE), "CapBnd %" PRIx64, STATUS ("CapBnd"));
}

CHILD_TEST (identity, capabilities_lost_across_the_uid_switch_without_keep)
{
  struct al_capabilities c = {
    .effective = LIST (CAP_NET_BIND_SERVICE),
    .permitted = LIST (CAP_NET_BIND_SERVICE),
  };
  struct al_user u = { .uid = 1000, .gid = 1000 };
  CHECK_OK (al_identity_apply (&u, false, err_));
  /* Nothing to drop from the bounding set without CAP_SETPCAP: keep it. */
  c.bounding = L ((int[]){ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                           16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                           32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47 },
                  48);
  CHECK_FAILS (al_caps_apply (&c, err_), EPERM,
               "process.capabilities.permitted[0]: CAP_NET_BIND_SERVICE is not permitted to the "
               "runtime, so it cannot be granted");
}

static void
write_proc (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  CHECK (fd >= 0, "open %s: %s", path, strerror (errno));
  CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text), "write %s: %s", path,
         strerror (errno));
  close (fd);
}

CHILD_TEST (identity, setgroups_denied_is_skipped_only_without_additional_gids)
{
  CHECK (unshare (CLONE_NEWUSER) == 0, "unshare: %s", strerror (errno));
  write_proc ("/proc/self/setgroups", "deny");
  write_proc ("/proc/self/uid_map", "0 0 1");
  write_proc ("/proc/self/gid_map", "0 0 1");

  struct al_user u = { .uid = 0, .gid = 0, .has_umask = true, .umask = 077 };
  CHECK_OK (al_identity_apply (&u, true, err_));
  CHECK (umask (022) == 077, "stopped before the umask");

  u.additional_gids = (uint32_t[]){ 10 };
  u.n_additional_gids = 1;
  CHECK_FAILS (al_identity_apply (&u, true, err_), EPERM,
               "process.user.additionalGids: setgroups is denied in this user namespace "
               "(/proc/self/setgroups is \"deny\")");

  u.n_additional_gids = 0;
  u.uid = 1000;
  CHECK_FAILS (al_identity_apply (&u, true, err_), EINVAL,
               "process.user.uid 1000: not mapped in the user namespace");
  u.uid = 0;
  u.gid = 1000;
  CHECK_FAILS (al_identity_apply (&u, true, err_), EINVAL,
               "process.user.gid 1000: not mapped in the user namespace");
}

CHILD_TEST (identity, umask_applied_with_0022_by_default)
{
  struct al_user u = { .uid = 0, .gid = 0, .has_umask = true, .umask = 027 };
  umask (0);
  CHECK_OK (al_identity_apply (&u, true, err_));
  mode_t m = umask (0);
  CHECK (m == 027, "umask %03o", (unsigned) m);

  u.has_umask = false;
  umask (077);
  CHECK_OK (al_identity_apply (&u, true, err_));
  m = umask (0);
  CHECK (m == 022, "default umask %03o", (unsigned) m);
}

/* ----------------------------------------------------------- passwd */

static char tmpdir[64];

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
make_tmpdir (void)
{
  snprintf (tmpdir, sizeof tmpdir, "/tmp/al-process-XXXXXX");
  cr_assert_not_null (mkdtemp (tmpdir));
}

static void
remove_tmpdir (void)
{
  nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite (passwd, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 30);

static void
put_file (const char *rel, const char *text)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", tmpdir, rel);
  char dir[PATH_MAX];
  snprintf (dir, sizeof dir, "%s", path);
  *strrchr (dir, '/') = '\0';
  struct al_error err = { 0 };
  CHECK (al_mkdir_p (AT_FDCWD, dir, 0755, &err) == 0, "%s", err.msg);
  CHECK (al_write_file_atomic (AT_FDCWD, path, text, strlen (text), 0644, &err) == 0, "%s",
         err.msg);
}

static int
open_root (const char *rel)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", tmpdir, rel);
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (fd >= 0, "open %s: %s", path, strerror (errno));
  return fd;
}

#define CHECK_HOME(rootfd, uid, want)                                                              \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *h_ = NULL;                                                                \
      CHECK_OK (al_passwd_home ((rootfd), (uid), &h_, err_));                                      \
      CHECK (strcmp (h_, (want)) == 0, "uid %u: HOME \"%s\", want \"%s\"", (unsigned) (uid), h_,   \
             (want));                                                                              \
    }                                                                                              \
  while (0)

CHILD_TEST (passwd, home_resolved_from_the_container_passwd)
{
  put_file ("root/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                               "# a comment:x:1000:1000::/comment:\n"
                               "+nis:x:1000:1000::/nis:\n"
                               "short:x:1000:1000\n"
                               "neg:x:-1000:1000::/neg:/bin/sh\n"
                               "big:x:99999999999:1000::/big:/bin/sh\n"
                               "empty:x:1001:1001::::\n"
                               "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
                               "later:x:1000:1000::/later:/bin/sh\n"
                               "noshell:x:1002:1002::/home/noshell\n"
                               "last:x:1003:1003::/home/last:/bin/sh");
  cleanup_close int root = open_root ("root");
  CHECK_HOME (root, 1000, "/home/alice");
  CHECK_HOME (root, 0, "/root");
  CHECK_HOME (root, 1001, "/"); /* empty home field */
  CHECK_HOME (root, 1002, "/home/noshell");
  CHECK_HOME (root, 1003, "/home/last"); /* no final newline */
  CHECK_HOME (root, 4242, "/");
  CHECK_HOME (root, 4294967295u, "/");

  char *env[] = { "PATH=/bin", "HOMELESS=1" };
  cleanup_strv char **out = NULL;
  size_t n = 0;
  CHECK_OK (al_env_with_home (env, 2, root, 1000, &out, &n, err_));
  CHECK (n == 3 && out[3] == NULL, "n=%zu", n);
  CHECK (strcmp (out[0], "PATH=/bin") == 0 && strcmp (out[2], "HOME=/home/alice") == 0,
         "env: %s %s %s", out[0], out[1], out[2]);

  char *with_home[] = { "HOME=/mine", "PATH=/bin" };
  cleanup_strv char **out2 = NULL;
  CHECK_OK (al_env_with_home (with_home, 2, root, 1000, &out2, &n, err_));
  CHECK (n == 2 && strcmp (out2[0], "HOME=/mine") == 0 && out2[2] == NULL, "HOME replaced");
}

CHILD_TEST (passwd, passwd_is_read_inside_the_root_only)
{
  /* An absolute symlink resolves inside the root, never to the host. */
  put_file ("root/real/passwd", "root:x:0:0::/from-inside:/bin/sh\n");
  char link[PATH_MAX];
  snprintf (link, sizeof link, "%s/root/etc", tmpdir);
  mkdir (link, 0755);
  snprintf (link, sizeof link, "%s/root/etc/passwd", tmpdir);
  CHECK (symlink ("/real/passwd", link) == 0, "symlink: %s", strerror (errno));
  cleanup_close int root = open_root ("root");
  CHECK_HOME (root, 0, "/from-inside");

  /* No passwd at all. */
  put_file ("bare/bin/sh", "");
  cleanup_close int bare = open_root ("bare");
  CHECK_HOME (bare, 0, "/");

  /* A FIFO is refused, not waited on. */
  put_file ("fifo/etc/.keep", "");
  char fifo[PATH_MAX];
  snprintf (fifo, sizeof fifo, "%s/fifo/etc/passwd", tmpdir);
  CHECK (mkfifo (fifo, 0644) == 0, "mkfifo: %s", strerror (errno));
  cleanup_close int froot = open_root ("fifo");
  cleanup_free char *h = NULL;
  CHECK_FAILS (al_passwd_home (froot, 0, &h, err_), EINVAL,
               "the container's /etc/passwd is not a regular file");

  /* Read up to AL_PASSWD_MAX_BYTES, not a byte more (sparse files). */
  put_file ("big/etc/passwd", "");
  char big[PATH_MAX];
  snprintf (big, sizeof big, "%s/big/etc/passwd", tmpdir);
  CHECK (truncate (big, AL_PASSWD_MAX_BYTES) == 0, "truncate: %s", strerror (errno));
  cleanup_close int broot = open_root ("big");
  CHECK_HOME (broot, 0, "/");
  CHECK (truncate (big, AL_PASSWD_MAX_BYTES + 1) == 0, "truncate: %s", strerror (errno));
  CHECK_FAILS (al_passwd_home (broot, 0, &h, err_), EFBIG,
               "the container's /etc/passwd is larger than 4194304 bytes");
}

/* ============================================================= rlimits */

TestSuite (rlimits, .timeout = 30);

CHILD_TEST (rlimits, nofile_soft_and_hard_lowered)
{
  struct al_rlimit rl[] = {
    { .resource = RLIMIT_NOFILE, .soft = 256, .hard = 512 },
    { .resource = RLIMIT_CORE, .soft = 0, .hard = 0 },
  };
  struct rlimit before;
  getrlimit (RLIMIT_NOFILE, &before);
  CHECK (before.rlim_max != 512, "already 512");
  CHECK_OK (al_rlimits_apply (rl, 2, err_));
  struct rlimit now;
  CHECK (getrlimit (RLIMIT_NOFILE, &now) == 0 && now.rlim_cur == 256 && now.rlim_max == 512,
         "NOFILE %llu/%llu", (unsigned long long) now.rlim_cur, (unsigned long long) now.rlim_max);
  CHECK (getrlimit (RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 && now.rlim_max == 0,
         "CORE %llu/%llu", (unsigned long long) now.rlim_cur, (unsigned long long) now.rlim_max);
}

CHILD_TEST (rlimits, raising_beyond_the_hard_limit_names_the_rlimit)
{
  struct rlimit start = { 1024, 4096 };
  CHECK (setrlimit (RLIMIT_NOFILE, &start) == 0, "setrlimit: %s", strerror (errno));
  /* Lose CAP_SYS_RESOURCE the way the container process would. */
  struct al_user u = { .uid = 1000, .gid = 1000 };
  CHECK_OK (al_identity_apply (&u, false, err_));

  struct al_rlimit rl[] = {
    { .resource = RLIMIT_CORE, .soft = 0, .hard = 0 },
    { .resource = RLIMIT_NOFILE, .soft = 1024, .hard = 8192 },
  };
  CHECK_FAILS (al_rlimits_apply (rl, 2, err_), EPERM,
               "process.rlimits[1] RLIMIT_NOFILE: cannot raise hard limit 8192 above 4096: "
               "Operation not permitted");
  /* Lowering still works without privileges. */
  rl[1].hard = 2048;
  CHECK_OK (al_rlimits_apply (rl, 2, err_));

  /* fs.nr_open caps RLIMIT_NOFILE whatever the privileges. */
  cleanup_free char *nr_open = read_text ("/proc/sys/fs/nr_open", __LINE__);
  nr_open[strcspn (nr_open, "\n")] = '\0';
  char want[256];
  snprintf (want, sizeof want,
            "process.rlimits[0] RLIMIT_NOFILE: hard limit unlimited is above fs.nr_open (%s)",
            nr_open);
  rl[1].hard = UINT64_MAX;
  CHECK_FAILS (al_rlimits_apply (&rl[1], 1, err_), EPERM, want);
}

/* ============================================================= process */

TestSuite (process, .timeout = 30);

CHILD_TEST (process, oom_score_adj_set)
{
  CHECK_OK (al_process_set_oom_score_adj (500, err_));
  cleanup_free char *s = read_text ("/proc/self/oom_score_adj", __LINE__);
  CHECK (strcmp (s, "500\n") == 0, "oom_score_adj \"%s\"", s);

  struct al_process p = { .has_oom_score_adj = true, .oom_score_adj = 713 };
  CHECK_OK (al_process_apply_attributes (&p, NULL, err_));
  cleanup_free char *s2 = read_text ("/proc/self/oom_score_adj", __LINE__);
  CHECK (strcmp (s2, "713\n") == 0, "oom_score_adj \"%s\"", s2);
}

CHILD_TEST (process, no_new_privs_set)
{
  CHECK (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "already set");
  CHECK_OK (al_process_set_no_new_privs (err_));
  CHECK (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "not set");
}

CHILD_TEST (process, personality_linux32_set)
{
  CHECK ((personality (0xffffffff) & PER_MASK) == PER_LINUX, "not LINUX to start with");
  struct al_personality p = { .domain = AL_PERSONALITY_LINUX32 };
  CHECK_OK (al_process_set_personality (&p, err_));
  int now = personality (0xffffffff);
  CHECK ((now & PER_MASK) == PER_LINUX32, "personality 0x%x", now);

  char *flags[] = { "ADDR_NO_RANDOMIZE", NULL };
  p = (struct al_personality){ .domain = AL_PERSONALITY_LINUX, .flags = flags, .n_flags = 1 };
  CHECK_OK (al_process_apply_attributes (&(struct al_process){ 0 }, &p, err_));
  now = personality (0xffffffff);
  CHECK (now == (PER_LINUX | ADDR_NO_RANDOMIZE), "personality 0x%x", now);

  char *bad[] = { "ADDR_NO_RANDOMIZE", "FAST", NULL };
  p.flags = bad;
  p.n_flags = 2;
  CHECK_FAILS (al_process_set_personality (&p, err_), EINVAL,
               "linux.personality.flags[1]: unknown flag \"FAST\"");
}

CHILD_TEST (process, io_priority_set)
{
  CHECK_OK (al_process_set_io_priority (AL_IOPRIO_CLASS_BE, 6, err_));
  long v = syscall (SYS_ioprio_get, 1, 0);
  CHECK (v == ((2 << 13) | 6), "ioprio 0x%lx", v);
  struct al_process p
      = { .has_io_priority = true, .io_priority_class = AL_IOPRIO_CLASS_IDLE, .io_priority = 0 };
  CHECK_OK (al_process_apply_attributes (&p, NULL, err_));
  v = syscall (SYS_ioprio_get, 1, 0);
  CHECK (v == (3 << 13), "ioprio 0x%lx", v);
}

struct sched_attr_read
{
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

CHILD_TEST (process, scheduler_set)
{
  struct al_scheduler s = { .policy = SCHED_BATCH, .has_nice = true, .nice = 7 };
  struct al_process p = { .scheduler = &s };
  CHECK_OK (al_process_apply_attributes (&p, NULL, err_));
  struct sched_attr_read a = { 0 };
  CHECK (syscall (SYS_sched_getattr, 0, &a, sizeof a, 0) == 0, "sched_getattr: %s",
         strerror (errno));
  CHECK (a.policy == SCHED_BATCH && a.nice == 7, "policy %u nice %d", a.policy, a.nice);

  s = (struct al_scheduler){ .policy = SCHED_OTHER, .has_priority = true, .priority = 10 };
  CHECK_FAILS (al_process_set_scheduler (&s, err_), EINVAL,
               "process.scheduler SCHED_OTHER: sched_setattr: Invalid argument");
}

CHILD_TEST (process, listen_fds_parsed)
{
  unsigned n = 99;
  CHECK_OK (al_listen_fds (NULL, NULL, 42, &n, err_));
  CHECK (n == 0, "n=%u", n);
  CHECK_OK (al_listen_fds ("42", "3", 42, &n, err_));
  CHECK (n == 3, "n=%u", n);
  CHECK_OK (al_listen_fds ("41", "3", 42, &n, err_));
  CHECK (n == 0, "another process's fds: n=%u", n);
  CHECK_FAILS (al_listen_fds ("42", "-1", 42, &n, err_), EINVAL,
               "LISTEN_FDS \"-1\": not a count of at most 65536");
  CHECK_FAILS (al_listen_fds ("42", "3x", 42, &n, err_), EINVAL,
               "LISTEN_FDS \"3x\": not a count of at most 65536");
  CHECK_FAILS (al_listen_fds ("x", "3", 42, &n, err_), EINVAL,
               "LISTEN_PID \"x\": not a process id");
  CHECK (al_first_swept_fd (0) == 3 && al_first_swept_fd (2) == 5, "first swept fd");
}

/* ------------------------------------------------------------ fd sweep */

/* "Leaked" fds: /dev/null without O_CLOEXEC at fixed numbers. */
static const int leaked[] = { 3, 4, 10, 11, 50, 100, 1000, 4000 };
#define N_LEAKED (sizeof leaked / sizeof leaked[0])

static void
open_leaked_fds (void)
{
  /* Room for fd 4000, above the usual soft limit of 1024. */
  struct rlimit rl;
  CHECK (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > 4096, "NOFILE hard limit too low");
  rl.rlim_cur = rl.rlim_max > 8192 ? 8192 : rl.rlim_max;
  CHECK (setrlimit (RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", strerror (errno));
  /* The report pipe must not sit on one of the numbers. */
  int moved = fcntl (report_fd, F_DUPFD_CLOEXEC, 500);
  CHECK (moved >= 500, "dup: %s", strerror (errno));
  close (report_fd);
  report_fd = moved;
  int null = open ("/dev/null", O_RDWR);
  CHECK (null >= 0, "open /dev/null: %s", strerror (errno));
  for (size_t i = 0; i < N_LEAKED; i++)
    if (leaked[i] != null)
      CHECK (dup2 (null, leaked[i]) == leaked[i], "dup2 %d: %s", leaked[i], strerror (errno));
  bool is_leaked = false;
  for (size_t i = 0; i < N_LEAKED; i++)
    is_leaked |= leaked[i] == null;
  if (!is_leaked)
    close (null);
}

static bool
fd_open (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

/* The fds of a freshly exec'ed /bin/ls, minus the one it reads the
 * directory with, as a comma list. */
static void
fds_after_exec (char *list, size_t size)
{
  char out[8192];
  char *argv[] = { "/bin/ls", "-l", "/proc/self/fd", NULL };
  run_capture (argv, out, sizeof out, __LINE__);
  list[0] = '\0';
  int fds[64];
  size_t n = 0;
  for (char *line = strtok (out, "\n"); line && n < 64; line = strtok (NULL, "\n"))
    {
      char *arrow = strstr (line, " -> ");
      if (arrow == NULL)
        continue;
      *arrow = '\0';
      const char *target = arrow + 4;
      char *num = strrchr (line, ' ');
      int fd = atoi (num ? num + 1 : line);
      if (strncmp (target, "/proc/", 6) == 0 && strstr (target, "/fd") != NULL)
        continue; /* ls's own directory fd */
      fds[n++] = fd;
    }
  /* ls sorts by name; sort by number. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--)
      {
        int t = fds[j];
        fds[j] = fds[j - 1];
        fds[j - 1] = t;
      }
  for (size_t i = 0; i < n; i++)
    snprintf (list + strlen (list), size - strlen (list), "%s%d", i ? "," : "", fds[i]);
}

CHILD_TEST (process, close_fds_leaves_only_stdio_and_the_kept_fds)
{
  open_leaked_fds ();
  int keep[] = { 11, 100, report_fd, -1, 11 };
  CHECK_OK (al_close_fds_from (3, keep, 5, err_));
  for (int fd = 3; fd < 8192; fd++)
    {
      bool kept = fd == 11 || fd == 100 || fd == report_fd;
      CHECK (fd_open (fd) == kept, "fd %d is %s", fd, kept ? "closed" : "still open");
    }
  char list[256];
  fds_after_exec (list, sizeof list);
  CHECK (strcmp (list, "0,1,2,11,100") == 0, "fds after execve: %s", list);
}

CHILD_TEST (process, preserved_fds_3_to_3_plus_n_pass)
{
  open_leaked_fds ();
  /* --preserve-fds 2: 3 and 4 pass, the rest goes. */
  int keep[] = { report_fd };
  CHECK_OK (al_close_fds_from (al_first_swept_fd (2), keep, 1, err_));
  char list[256];
  fds_after_exec (list, sizeof list);
  CHECK (strcmp (list, "0,1,2,3,4") == 0, "fds after execve: %s", list);
}

CHILD_TEST (process, cloexec_mode_closes_the_marked_fds_across_execve)
{
  open_leaked_fds ();
  int keep[] = { 10, 4000 };
  CHECK_OK (al_cloexec_fds_from (3, keep, 2, err_));
  /* Still usable until execve (the init's sync socket relies on it). */
  for (size_t i = 0; i < N_LEAKED; i++)
    {
      int fd = leaked[i];
      int flags = fcntl (fd, F_GETFD);
      bool kept = fd == 10 || fd == 4000;
      CHECK (flags >= 0, "fd %d closed", fd);
      CHECK (!!(flags & FD_CLOEXEC) == !kept, "fd %d: FD_CLOEXEC is %s", fd,
             flags & FD_CLOEXEC ? "set" : "clear");
    }
  char list[256];
  fds_after_exec (list, sizeof list);
  CHECK (strcmp (list, "0,1,2,10,4000") == 0, "fds after execve: %s", list);
}
