/* test_process.c — the container process as airlock sets it up, observed
 * from inside a busybox container: user, umask, cwd, env, args, rlimits,
 * oomScoreAdj, the five capability sets, noNewPrivileges, personality,
 * seccomp (every action, argument filters, flags, the notify listener),
 * and the hardening around the execve (no host fd leaks in, the init is
 * not dumpable before it, exec errors named as podman expects).
 *
 * Each test builds its own bundle (harness.h) and ends with
 * h_assert_clean.  Needs root.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---------------------------------------------------------------- helpers */

/* The bundle of the running test, removed (its containers deleted with
 * --force) by the suite's fini even when an assertion ends the test. */
static struct h_bundle *current;

static void
bundle_init (struct h_bundle *b, const char *const *args)
{
  h_bundle_init (b, args);
  current = b;
}

static void
bundle_fini (struct h_bundle *b)
{
  current = NULL;
  h_bundle_fini (b);
}

static void
cleanup (void)
{
  if (current)
    bundle_fini (current);
}

TestSuite (process, .fini = cleanup);
TestSuite (seccomp, .fini = cleanup);
TestSuite (hardening, .fini = cleanup);

/* A bundle running `sh -c script`. */
static void
bundle_sh (struct h_bundle *b, const char *script)
{
  const char *args[] = { "sh", "-c", script, NULL };
  bundle_init (b, args);
}

/* `airlock run id`, asserting it exits 0; the result is the caller's. */
static void
run_ok (struct h_result *r, struct h_bundle *b, const char *id)
{
  h_bundle_save (b);
  h_airlockf (r, b, "run %s", id);
  cr_assert_eq (r->status, 0, "run %s: status %d\nstdout: %s\nstderr: %s", id, r->status, r->out,
                r->err);
}

/* `airlock run id`, asserting it fails; stderr must contain want. */
static void
run_fails (struct h_result *r, struct h_bundle *b, const char *id, const char *want)
{
  h_bundle_save (b);
  h_airlockf (r, b, "run %s", id);
  cr_assert_neq (r->status, 0, "run %s succeeded, expected: %s\nstdout: %s", id, want, r->out);
  cr_assert_not_null (strstr (r->err, want), "run %s: stderr lacks \"%s\":\n%s", id, want, r->err);
}

static void
assert_has (const char *haystack, const char *needle)
{
  cr_assert_not_null (strstr (haystack, needle), "expected \"%s\" in:\n%s", needle, haystack);
}

static void
assert_lacks (const char *haystack, const char *needle)
{
  cr_assert_null (strstr (haystack, needle), "did not expect \"%s\" in:\n%s", needle, haystack);
}

/* The spec default is a read-only root; tests that write to /tmp turn it
 * off. */
static void
writable_root (struct h_bundle *b)
{
  json_object_set_new (json_object_get (b->config, "root"), "readonly", json_false ());
}

static json_t *
linux_obj (struct h_bundle *b)
{
  json_t *l = json_object_get (b->config, "linux");
  cr_assert_not_null (l, "config.json has no linux");
  return l;
}

/* The hex value of "Key:\t..." in /proc/self/status text. */
static uint64_t
status_hex (const char *text, const char *key)
{
  char pat[64];
  snprintf (pat, sizeof pat, "%s:\t", key);
  const char *p = strstr (text, pat);
  cr_assert_not_null (p, "no %s line in:\n%s", key, text);
  return strtoull (p + strlen (pat), NULL, 16);
}

/* A capability list as a bit mask (names resolved with libcap). */
static uint64_t
cap_mask (const char *const *names)
{
  uint64_t m = 0;
  for (; *names; names++)
    {
      cap_value_t v;
      char lower[64];
      size_t i = 0;
      for (; (*names)[i] && i < sizeof lower - 1; i++)
        lower[i]
            = (char) ((*names)[i] >= 'A' && (*names)[i] <= 'Z' ? (*names)[i] + 32 : (*names)[i]);
      lower[i] = '\0';
      cr_assert_eq (cap_from_name (lower, &v), 0, "libcap does not know %s", *names);
      m |= UINT64_C (1) << v;
    }
  return m;
}

static json_t *
str_array (const char *const *names)
{
  json_t *a = json_array ();
  for (; *names; names++)
    json_array_append_new (a, json_string (*names));
  return a;
}

/* linux.seccomp = {"defaultAction": default_action, "syscalls": [rule]}. */
static json_t *
seccomp_profile (struct h_bundle *b, const char *default_action)
{
  json_t *s = json_pack ("{s:s, s:[]}", "defaultAction", default_action, "syscalls");
  json_object_set_new (linux_obj (b), "seccomp", s);
  return s;
}

static json_t *
seccomp_rule (json_t *profile, const char *const *names, const char *action)
{
  json_t *r = json_pack ("{s:o, s:s}", "names", str_array (names), "action", action);
  json_array_append_new (json_object_get (profile, "syscalls"), r);
  return r;
}

/* ------------------------------------------------------------ user & env */

Test (process, user_uid_gid_additional_gids)
{
  struct h_bundle b;
  bundle_sh (&b, "id; id -G; cat /proc/self/status | grep -E '^(Uid|Gid|Groups):'");
  const char *id = h_id ("iso-proc-user");
  json_object_set_new (
      h_process (&b), "user",
      json_pack ("{s:i, s:i, s:[i, i]}", "uid", 1000, "gid", 1001, "additionalGids", 5, 65534));
  struct h_result r;
  run_ok (&r, &b, id);
  assert_has (r.out, "uid=1000 gid=1001 groups=5(tty),65534(nogroup)");
  assert_has (r.out, "Uid:\t1000\t1000\t1000\t1000");
  assert_has (r.out, "Gid:\t1001\t1001\t1001\t1001");
  assert_has (r.out, "Groups:\t5 65534");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, user_without_additional_gids_has_no_groups)
{
  /* The runtime's own supplementary groups do not leak in. */
  struct h_bundle b;
  bundle_sh (&b, "id -G");
  const char *id = h_id ("iso-proc-nogrp");
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 1000, "gid", 1000));
  gid_t host_groups[] = { 4, 27 };
  cr_assert_eq (setgroups (2, host_groups), 0, "setgroups: %s", strerror (errno));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "1000\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, umask)
{
  struct h_bundle b;
  bundle_sh (&b, "umask; touch /tmp/f; mkdir /tmp/d; stat -c '%a %n' /tmp/f /tmp/d");
  const char *id = h_id ("iso-proc-umask");
  writable_root (&b);
  json_object_set_new (json_object_get (h_process (&b), "user"), "umask", json_integer (027));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "0027\n640 /tmp/f\n750 /tmp/d\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, umask_default_is_0022)
{
  struct h_bundle b;
  bundle_sh (&b, "umask; touch /tmp/f; stat -c '%a' /tmp/f");
  const char *id = h_id ("iso-proc-umask0");
  writable_root (&b);
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "0022\n644\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, cwd_existing)
{
  struct h_bundle b;
  bundle_sh (&b, "pwd; ls -d ../tmp");
  const char *id = h_id ("iso-proc-cwd");
  json_object_set_new (h_process (&b), "cwd", json_string ("/root"));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/root\n../tmp\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* A cwd that does not exist is created inside the root, as runc does, even
 * when the root is read-only (the spec default). */
static void
check_cwd_created (bool readonly)
{
  struct h_bundle b;
  bundle_sh (&b, "pwd; stat -c '%F %a' .");
  const char *id = h_id ("iso-proc-cwdnew");
  json_object_set_new (h_process (&b), "cwd", json_string ("/srv/new dir/sub"));
  json_object_set_new (json_object_get (b.config, "root"), "readonly", json_boolean (readonly));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/srv/new dir/sub\ndirectory 755\n");
  h_result_free (&r);
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/srv/new dir/sub", b.dir);
  struct stat st;
  cr_assert_eq (stat (path, &st), 0, "%s not created in the rootfs: %s", path, strerror (errno));
  cr_assert (S_ISDIR (st.st_mode));
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, cwd_created_when_missing) { check_cwd_created (false); }

Test (process, cwd_created_when_missing_readonly_root) { check_cwd_created (true); }

Test (process, env_and_home_from_passwd)
{
  struct h_bundle b;
  bundle_sh (&b, "env | sort");
  const char *id = h_id ("iso-proc-env");
  json_object_set_new (h_process (&b), "env",
                       json_pack ("[s, s, s]", "PATH=/bin", "FOO=bar baz", "EMPTY="));
  struct h_result r;
  run_ok (&r, &b, id);
  /* sh adds PWD and SHLVL; HOME comes from /etc/passwd for uid 0. */
  cr_assert_str_eq (r.out, "EMPTY=\nFOO=bar baz\nHOME=/root\nPATH=/bin\nPWD=/\nSHLVL=1\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, home_for_other_uid_and_explicit_home_kept)
{
  struct h_bundle b;
  bundle_sh (&b, "echo \"$HOME\"");
  const char *id = h_id ("iso-proc-home");
  json_object_set_new (h_process (&b), "user",
                       json_pack ("{s:i, s:i}", "uid", 65534, "gid", 65534));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/nonexistent\n");
  h_result_free (&r);

  /* Not in /etc/passwd: "/". */
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 4242, "gid", 4242));
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/\n");
  h_result_free (&r);

  /* An explicit HOME wins. */
  json_array_append_new (json_object_get (h_process (&b), "env"), json_string ("HOME=/my home"));
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/my home\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, args_with_spaces)
{
  const char *args[] = { "printf", "[%s]\\n", "a b", "  c  d ", "", "*", "$HOME", NULL };
  struct h_bundle b;
  bundle_init (&b, args);
  const char *id = h_id ("iso-proc-args");
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "[a b]\n[  c  d ]\n[]\n[*]\n[$HOME]\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* ---------------------------------------------------------------- rlimits */

Test (process, rlimit_nofile_soft_hard)
{
  struct h_bundle b;
  bundle_sh (&b, "ulimit -n; ulimit -Hn; ulimit -Sc; ulimit -Hc");
  const char *id = h_id ("iso-proc-rlim");
  json_object_set_new (h_process (&b), "rlimits",
                       json_pack ("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE",
                                  "soft", 123, "hard", 456, "type", "RLIMIT_CORE", "soft", 0,
                                  "hard", 1024 * 1024));
  struct h_result r;
  run_ok (&r, &b, id);
  /* busybox ulimit -c counts 512-byte blocks. */
  cr_assert_str_eq (r.out, "123\n456\n0\n2048\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, rlimit_unknown_type_refused)
{
  struct h_bundle b;
  bundle_sh (&b, "true");
  const char *id = h_id ("iso-proc-rlimbad");
  json_array_append_new (
      json_object_get (h_process (&b), "rlimits"),
      json_pack ("{s:s, s:i, s:i}", "type", "RLIMIT_BOGUS", "soft", 1, "hard", 1));
  struct h_result r;
  run_fails (&r, &b, id, "unknown rlimit \"RLIMIT_BOGUS\"");
  assert_has (r.err, "process.rlimits[1].type");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, rlimit_soft_above_hard_refused)
{
  struct h_bundle b;
  bundle_sh (&b, "true");
  const char *id = h_id ("iso-proc-rlimsh");
  json_object_set_new (
      h_process (&b), "rlimits",
      json_pack ("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "soft", 2048, "hard", 1024));
  struct h_result r;
  h_bundle_save (&b);
  h_airlockf (&r, &b, "run %s", id);
  cr_assert_neq (r.status, 0, "soft > hard accepted:\n%s", r.out);
  assert_has (r.err, "process.rlimits[0].soft: soft limit 2048 is above the hard limit 1024");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, oom_score_adj)
{
  struct h_bundle b;
  bundle_sh (&b, "cat /proc/self/oom_score_adj");
  const char *id = h_id ("iso-proc-oom");
  json_object_set_new (h_process (&b), "oomScoreAdj", json_integer (123));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "123\n");
  h_result_free (&r);

  /* Raising needs no privilege; lowering needs CAP_SYS_RESOURCE, which
   * the test machine may withhold from root. */
  json_object_set_new (h_process (&b), "oomScoreAdj", json_integer (1000));
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "1000\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* ----------------------------------------------------------- capabilities */

#define CAP_SCRIPT "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status"

struct caps_seen
{
  uint64_t inh, prm, eff, bnd, amb;
};

static struct caps_seen
caps_of (const char *out)
{
  return (struct caps_seen){
    .inh = status_hex (out, "CapInh"),
    .prm = status_hex (out, "CapPrm"),
    .eff = status_hex (out, "CapEff"),
    .bnd = status_hex (out, "CapBnd"),
    .amb = status_hex (out, "CapAmb"),
  };
}

#define assert_caps(seen, field, want)                                                             \
  cr_assert_eq ((seen).field, (want), #field ": got %#" PRIx64 ", want %#" PRIx64, (seen).field,   \
                (uint64_t) (want))

/* As a non-root user the execve keeps exactly what was configured:
 * bounding and inheritable as set, permitted = effective = ambient (the
 * kernel's rule for a file without capabilities). */
Test (process, five_capability_sets_non_root)
{
  const char *bnd[] = { "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", NULL };
  const char *prm[] = { "CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", NULL };
  const char *eff[] = { "CAP_KILL", "CAP_NET_RAW", NULL };
  const char *inh[] = { "CAP_CHOWN", "CAP_NET_RAW", NULL };
  const char *amb[] = { "CAP_NET_RAW", NULL };
  struct h_bundle b;
  bundle_sh (&b, CAP_SCRIPT);
  const char *id = h_id ("iso-proc-caps");
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 1000, "gid", 1000));
  json_object_set_new (h_process (&b), "capabilities",
                       json_pack ("{s:o, s:o, s:o, s:o, s:o}", "bounding", str_array (bnd),
                                  "permitted", str_array (prm), "effective", str_array (eff),
                                  "inheritable", str_array (inh), "ambient", str_array (amb)));
  struct h_result r;
  run_ok (&r, &b, id);
  struct caps_seen c = caps_of (r.out);
  assert_caps (c, bnd, cap_mask (bnd));
  assert_caps (c, inh, cap_mask (inh));
  assert_caps (c, amb, cap_mask (amb));
  assert_caps (c, prm, cap_mask (amb));
  assert_caps (c, eff, cap_mask (amb));
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* As root the execve makes permitted = effective = bounding | inheritable;
 * with the spec's defaults (no inheritable, no ambient) that is exactly the
 * three listed capabilities. */
Test (process, capability_defaults_root)
{
  const char *dflt[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  struct h_bundle b;
  bundle_sh (&b, CAP_SCRIPT);
  const char *id = h_id ("iso-proc-capdef");
  struct h_result r;
  run_ok (&r, &b, id);
  struct caps_seen c = caps_of (r.out);
  assert_caps (c, bnd, cap_mask (dflt));
  assert_caps (c, prm, cap_mask (dflt));
  assert_caps (c, eff, cap_mask (dflt));
  assert_caps (c, inh, 0);
  assert_caps (c, amb, 0);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* Inheritable and ambient capabilities the runtime itself was started
 * with never reach the container (CVE-2022-29162). */
Test (process, inheritable_and_ambient_never_raised_implicitly)
{
  struct h_bundle b;
  bundle_sh (&b, CAP_SCRIPT);
  const char *id = h_id ("iso-proc-capimp");
  /* uid 1000 with empty sets: anything leaking shows up. */
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 1000, "gid", 1000));
  json_object_set_new (h_process (&b), "capabilities",
                       json_pack ("{s:[s], s:[s], s:[s]}", "bounding", "CAP_KILL", "permitted",
                                  "CAP_KILL", "effective", "CAP_KILL"));

  /* This worker (a forked child of Criterion's runner) passes
   * CAP_SYS_ADMIN and CAP_NET_ADMIN inheritable + ambient to airlock. */
  cap_t cur = cap_get_proc ();
  cr_assert_not_null (cur);
  cap_value_t raise[] = { CAP_SYS_ADMIN, CAP_NET_ADMIN };
  cr_assert_eq (cap_set_flag (cur, CAP_INHERITABLE, 2, raise, CAP_SET), 0);
  cr_assert_eq (cap_set_proc (cur), 0, "cap_set_proc: %s", strerror (errno));
  cap_free (cur);
  for (size_t i = 0; i < 2; i++)
    cr_assert_eq (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) raise[i], 0, 0), 0,
                  "raise ambient: %s", strerror (errno));

  struct h_result r;
  run_ok (&r, &b, id);
  struct caps_seen c = caps_of (r.out);
  assert_caps (c, bnd, UINT64_C (1) << CAP_KILL);
  assert_caps (c, inh, 0);
  assert_caps (c, amb, 0);
  assert_caps (c, prm, 0);
  assert_caps (c, eff, 0);
  h_result_free (&r);

  /* As root: permitted = bounding | inheritable, so a leaked inheritable
   * capability would show up in the effective set. */
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 0, "gid", 0));
  run_ok (&r, &b, id);
  c = caps_of (r.out);
  assert_caps (c, inh, 0);
  assert_caps (c, amb, 0);
  assert_caps (c, eff, UINT64_C (1) << CAP_KILL);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, unknown_capability_refused)
{
  struct h_bundle b;
  bundle_sh (&b, "true");
  const char *id = h_id ("iso-proc-capbad");
  json_array_append_new (
      json_object_get (json_object_get (h_process (&b), "capabilities"), "effective"),
      json_string ("CAP_NOT_A_CAP"));
  struct h_result r;
  run_fails (&r, &b, id, "unknown capability \"CAP_NOT_A_CAP\"");
  assert_has (r.err, "process.capabilities.effective[3]");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, ambient_not_permitted_refused)
{
  struct h_bundle b;
  bundle_sh (&b, "true");
  const char *id = h_id ("iso-proc-capamb");
  json_object_set_new (json_object_get (h_process (&b), "capabilities"), "ambient",
                       json_pack ("[s]", "CAP_SYS_TIME"));
  struct h_result r;
  run_fails (&r, &b, id,
             "CAP_SYS_TIME is not also permitted and inheritable: an ambient capability must be "
             "permitted and inheritable");
  assert_has (r.err, "process.capabilities.ambient[0]");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* ------------------------------------------------ no_new_privs, personality */

Test (process, no_new_privileges)
{
  struct h_bundle b;
  bundle_sh (&b, "grep NoNewPrivs /proc/self/status");
  const char *id = h_id ("iso-proc-nnp");
  json_object_set_new (h_process (&b), "noNewPrivileges", json_true ());
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "NoNewPrivs:\t1\n");
  h_result_free (&r);

  json_object_set_new (h_process (&b), "noNewPrivileges", json_false ());
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "NoNewPrivs:\t0\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (process, personality_linux32)
{
  struct h_bundle b;
  bundle_sh (&b, "uname -m; cat /proc/self/personality");
  const char *id = h_id ("iso-proc-pers");
  json_object_set_new (linux_obj (&b), "personality", json_pack ("{s:s}", "domain", "LINUX32"));
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "i686\n00000008\n");
  h_result_free (&r);

  json_object_set_new (linux_obj (&b), "personality", json_pack ("{s:s}", "domain", "LINUX"));
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "x86_64\n00000000\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* ---------------------------------------------------------------- seccomp */

Test (seccomp, errno_rule_with_errno_ret)
{
  struct h_bundle b;
  bundle_sh (&b, "mkdir /tmp/x; echo mkdir=$?; touch /tmp/y; chmod 600 /tmp/y; echo chmod=$?; "
                 "stat -c %a /tmp/y");
  const char *id = h_id ("iso-proc-scerr");
  writable_root (&b);
  json_t *s = seccomp_profile (&b, "SCMP_ACT_ALLOW");
  const char *mk[] = { "mkdir", "mkdirat", NULL };
  json_object_set_new (seccomp_rule (s, mk, "SCMP_ACT_ERRNO"), "errnoRet", json_integer (ENOSPC));
  const char *ch[] = { "chmod", "fchmod", "fchmodat", "fchmodat2", NULL };
  seccomp_rule (s, ch, "SCMP_ACT_ERRNO"); /* no errnoRet: EPERM */
  struct h_result r;
  run_ok (&r, &b, id);
  assert_has (r.err, "mkdir: can't create directory '/tmp/x': No space left on device");
  assert_has (r.err, "chmod: /tmp/y: Operation not permitted");
  cr_assert_str_eq (r.out, "mkdir=1\nchmod=1\n644\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* The shell survives mkdir(2) killing its subshell and reports how. */
static void
check_killed_by_sigsys (const char *action)
{
  struct h_bundle b;
  /* A subshell: busybox runs mkdir inside the shell process otherwise
   * (and the shell itself calls uname at startup). */
  bundle_sh (&b, "(mkdir /tmp/x); echo status=$?");
  const char *id = h_id ("iso-proc-sckill");
  const char *un[] = { "mkdir", "mkdirat", NULL };
  seccomp_rule (seccomp_profile (&b, "SCMP_ACT_ALLOW"), un, action);
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "status=159\n", "%s: %s", action, r.out); /* 128 + SIGSYS */
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (seccomp, kill) { check_killed_by_sigsys ("SCMP_ACT_KILL"); }
Test (seccomp, kill_thread) { check_killed_by_sigsys ("SCMP_ACT_KILL_THREAD"); }
Test (seccomp, kill_process) { check_killed_by_sigsys ("SCMP_ACT_KILL_PROCESS"); }

/* SCMP_ACT_KILL can not be caught; SCMP_ACT_TRAP raises a SIGSYS the
 * process may handle: ash's umask builtin calls umask(2) in the shell. */
static void
check_umask_trap (const char *action, const char *want, int want_status)
{
  struct h_bundle b;
  bundle_sh (&b, "trap 'echo caught' SYS; umask 077; echo after");
  const char *id = h_id ("iso-proc-sctrap");
  const char *um[] = { "umask", NULL };
  seccomp_rule (seccomp_profile (&b, "SCMP_ACT_ALLOW"), um, action);
  struct h_result r;
  h_bundle_save (&b);
  h_airlockf (&r, &b, "run %s", id);
  cr_assert_str_eq (r.out, want, "%s: status %d, stdout:\n%s\nstderr:\n%s", action, r.status, r.out,
                    r.err);
  cr_assert_eq (r.status, want_status, "%s: status %d, stderr:\n%s", action, r.status, r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (seccomp, trap_is_catchable) { check_umask_trap ("SCMP_ACT_TRAP", "caught\nafter\n", 0); }
Test (seccomp, kill_is_not_catchable)
{
  check_umask_trap ("SCMP_ACT_KILL_PROCESS", "", 128 + SIGSYS);
}

/* The kernel's audit records (printk'd without auditd) since *pos; the
 * first call skips what was there. */
static char *
kmsg_since (unsigned long long *seq_after)
{
  int fd = open ("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  cr_assert_geq (fd, 0, "open /dev/kmsg: %s", strerror (errno));
  size_t cap = 1 << 16, len = 0;
  char *all = malloc (cap);
  cr_assert_not_null (all);
  all[0] = '\0';
  char rec[8192];
  unsigned long long last = *seq_after;
  for (;;)
    {
      ssize_t n = read (fd, rec, sizeof rec - 1);
      if (n < 0 && errno == EPIPE) /* overwritten records */
        continue;
      if (n <= 0)
        break;
      rec[n] = '\0';
      unsigned long long seq = 0;
      unsigned prio;
      if (sscanf (rec, "%u,%llu,", &prio, &seq) != 2 || seq <= *seq_after)
        continue;
      last = seq;
      if (len + (size_t) n + 1 > cap)
        {
          cap = (cap + (size_t) n) * 2;
          all = realloc (all, cap);
          cr_assert_not_null (all);
        }
      memcpy (all + len, rec, (size_t) n + 1);
      len += (size_t) n;
    }
  close (fd);
  *seq_after = last;
  return all;
}

/* Run args[0] as the container's pid 1 under a profile whose mkdir rule
 * returns errno, with or without SECCOMP_FILTER_FLAG_LOG; whether the
 * kernel logged the errno action for that very pid. */
static bool
mkdir_logged (bool flag_log)
{
  const char *args[] = { "mkdir", "/tmp/logged", NULL };
  struct h_bundle b;
  bundle_init (&b, args);
  const char *id = h_id ("iso-proc-sclog");
  json_t *s = seccomp_profile (&b, "SCMP_ACT_ALLOW");
  const char *mk[] = { "mkdir", "mkdirat", NULL };
  json_object_set_new (seccomp_rule (s, mk, "SCMP_ACT_ERRNO"), "errnoRet", json_integer (EXDEV));
  if (flag_log)
    json_object_set_new (s, "flags", json_pack ("[s]", "SECCOMP_FILTER_FLAG_LOG"));
  h_bundle_save (&b);

  unsigned long long seq = 0;
  free (kmsg_since (&seq));
  struct h_result r;
  h_airlockf (&r, &b, "create %s", id);
  cr_assert_eq (r.status, 0, "create: %s", r.err);
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  long long pid = json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  cr_assert_gt (pid, 0);
  h_airlockf (&r, &b, "start %s", id);
  cr_assert_eq (r.status, 0, "start: %s", r.err);
  h_result_free (&r);
  st = h_wait_status (&b, id, "stopped", 10);
  cr_assert_not_null (st, "container did not stop");
  json_decref (st);
  h_airlockf (&r, &b, "delete %s", id);
  cr_assert_eq (r.status, 0, "delete: %s", r.err);
  h_result_free (&r);

  /* Records are printk'd asynchronously by kauditd: up to 10 s for the
   * one we expect, 1 s to be sure none comes. */
  char want[64];
  snprintf (want, sizeof want, " pid=%lld comm=\"mkdir\"", pid);
  bool found = false;
  for (int i = 0; i < (flag_log ? 200 : 20) && !found; i++)
    {
      char *log = kmsg_since (&seq);
      for (char *line = strtok (log, "\n"); line && !found; line = strtok (NULL, "\n"))
        found = strstr (line, "type=1326") && strstr (line, want) && strstr (line, "code=0x50000");
      free (log);
      if (!found)
        usleep (50 * 1000);
    }
  h_assert_clean (&b, id);
  bundle_fini (&b);
  return found;
}

Test (seccomp, flag_log_logs_errno_actions)
{
  cr_assert (mkdir_logged (true), "SECCOMP_FILTER_FLAG_LOG: no audit record of mkdir's errno");
  cr_assert (!mkdir_logged (false), "without SECCOMP_FILTER_FLAG_LOG an errno action was logged");
}

Test (seccomp, log_action_allows)
{
  struct h_bundle b;
  bundle_sh (&b, "uname -s; grep -E '^Seccomp:' /proc/self/status; mkdir /tmp/x; echo mkdir=$?");
  const char *id = h_id ("iso-proc-sclogact");
  json_t *s = seccomp_profile (&b, "SCMP_ACT_ALLOW");
  const char *un[] = { "uname", NULL };
  seccomp_rule (s, un, "SCMP_ACT_LOG");
  const char *mk[] = { "mkdir", "mkdirat", NULL };
  seccomp_rule (s, mk, "SCMP_ACT_ERRNO");
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "Linux\nSeccomp:\t2\nmkdir=1\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* personality(PER_LINUX32) denied, every other persona allowed. */
Test (seccomp, argument_filter)
{
  struct h_bundle b;
  bundle_sh (&b, "linux32 uname -m; echo l32=$?; linux64 uname -m; echo l64=$?");
  const char *id = h_id ("iso-proc-scarg");
  const char *pe[] = { "personality", NULL };
  json_t *rule = seccomp_rule (seccomp_profile (&b, "SCMP_ACT_ALLOW"), pe, "SCMP_ACT_ERRNO");
  json_object_set_new (rule, "errnoRet", json_integer (EDOM));
  json_object_set_new (
      rule, "args", json_pack ("[{s:i, s:i, s:s}]", "index", 0, "value", 8, "op", "SCMP_CMP_EQ"));
  struct h_result r;
  run_ok (&r, &b, id);
  assert_has (r.out, "l32=1\n");
  assert_has (r.err, "Numerical argument out of domain");
  assert_has (r.out, "x86_64\nl64=0\n");
  assert_lacks (r.out, "i686");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* defaultAction SCMP_ACT_ERRNO with defaultErrnoRet: every syscall this
 * libseccomp knows is allowed but mkdir and mkdirat, which fall to the
 * default. */
Test (seccomp, default_errno_ret)
{
  struct h_bundle b;
  bundle_sh (&b, "mkdir /tmp/x; echo mkdir=$?; echo ok");
  const char *id = h_id ("iso-proc-scdef");
  writable_root (&b);
  json_t *s = seccomp_profile (&b, "SCMP_ACT_ERRNO");
  json_object_set_new (s, "defaultErrnoRet", json_integer (ENOSPC));
  json_t *names = json_array ();
  for (int nr = 0; nr < 1024; nr++)
    {
      char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_NATIVE, nr);
      if (name && strcmp (name, "mkdir") != 0 && strcmp (name, "mkdirat") != 0)
        json_array_append_new (names, json_string (name));
      free (name);
    }
  cr_assert_gt (json_array_size (names), 300);
  json_array_append_new (json_object_get (s, "syscalls"),
                         json_pack ("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));
  struct h_result r;
  run_ok (&r, &b, id);
  assert_has (r.err, "mkdir: can't create directory '/tmp/x': No space left on device");
  cr_assert_str_eq (r.out, "mkdir=1\nok\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* Without noNewPrivileges the filter is loaded while the init still has
 * CAP_SYS_ADMIN; it must still apply to the process. */
Test (seccomp, without_no_new_privileges)
{
  struct h_bundle b;
  bundle_sh (&b, "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; mkdir /tmp/x; echo mkdir=$?");
  const char *id = h_id ("iso-proc-scnnp");
  json_object_set_new (h_process (&b), "noNewPrivileges", json_false ());
  const char *mk[] = { "mkdir", "mkdirat", NULL };
  seccomp_rule (seccomp_profile (&b, "SCMP_ACT_ALLOW"), mk, "SCMP_ACT_ERRNO");
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "NoNewPrivs:\t0\nSeccomp:\t2\nmkdir=1\n");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* ---------------------------------------------------- seccomp notify */

struct listener
{
  int sock;
  char msg[65536];
  size_t msg_len;
  int notify_fd; /* received over SCM_RIGHTS */
  int n_fds;     /* how many fds came with the message */
  bool answered; /* a notification was received and answered */
  char error[256];
};

/* Accept one connection, read the message and its fd, then answer the
 * first notification with EXDEV. */
static void *
listener_main (void *arg)
{
  struct listener *l = arg;
  l->notify_fd = -1;
  struct pollfd pfd = { .fd = l->sock, .events = POLLIN };
  if (poll (&pfd, 1, 15000) != 1)
    {
      snprintf (l->error, sizeof l->error, "nobody connected to the listener");
      return NULL;
    }
  int c = accept4 (l->sock, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    {
      snprintf (l->error, sizeof l->error, "accept: %s", strerror (errno));
      return NULL;
    }
  for (;;)
    {
      union
      {
        char buf[CMSG_SPACE (4 * sizeof (int))];
        struct cmsghdr align;
      } control;
      struct iovec iov
          = { .iov_base = l->msg + l->msg_len, .iov_len = sizeof l->msg - 1 - l->msg_len };
      struct msghdr m = { .msg_iov = &iov,
                          .msg_iovlen = 1,
                          .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
      ssize_t n = recvmsg (c, &m, MSG_CMSG_CLOEXEC);
      if (n <= 0)
        break;
      for (struct cmsghdr *cm = CMSG_FIRSTHDR (&m); cm; cm = CMSG_NXTHDR (&m, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
          {
            size_t k = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
            for (size_t i = 0; i < k; i++)
              {
                int fd;
                memcpy (&fd, CMSG_DATA (cm) + i * sizeof (int), sizeof fd);
                if (l->notify_fd < 0)
                  l->notify_fd = fd;
                else
                  close (fd);
                l->n_fds++;
              }
          }
      l->msg_len += (size_t) n;
      if (l->msg_len >= sizeof l->msg - 1)
        break;
    }
  l->msg[l->msg_len] = '\0';
  close (c);
  if (l->notify_fd < 0)
    {
      snprintf (l->error, sizeof l->error, "no fd came with the message");
      return NULL;
    }

  pfd = (struct pollfd){ .fd = l->notify_fd, .events = POLLIN };
  if (poll (&pfd, 1, 15000) != 1)
    {
      snprintf (l->error, sizeof l->error, "no notification arrived");
      return NULL;
    }
  struct seccomp_notif req;
  memset (&req, 0, sizeof req);
  if (ioctl (l->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
    {
      snprintf (l->error, sizeof l->error, "SECCOMP_IOCTL_NOTIF_RECV: %s", strerror (errno));
      return NULL;
    }
  struct seccomp_notif_resp resp = { .id = req.id, .error = -EXDEV };
  if (ioctl (l->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
    {
      snprintf (l->error, sizeof l->error, "SECCOMP_IOCTL_NOTIF_SEND: %s", strerror (errno));
      return NULL;
    }
  l->answered = true;
  return NULL;
}

Test (seccomp, notify_listener)
{
  struct h_bundle b;
  bundle_sh (&b, "mkdir /tmp/x; echo mkdir=$?");
  const char *id = h_id ("iso-proc-scnot");
  char sock_path[PATH_MAX + 32];
  snprintf (sock_path, sizeof sock_path, "%s/listener.sock", b.dir);
  json_t *s = seccomp_profile (&b, "SCMP_ACT_ALLOW");
  json_object_set_new (s, "listenerPath", json_string (sock_path));
  json_object_set_new (s, "listenerMetadata", json_string ("iso-proc metadata"));
  const char *mk[] = { "mkdir", "mkdirat", NULL };
  seccomp_rule (s, mk, "SCMP_ACT_NOTIFY");
  h_bundle_save (&b);

  struct listener *l = calloc (1, sizeof *l);
  cr_assert_not_null (l);
  l->sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq (l->sock, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cr_assert_lt (strlen (sock_path), sizeof addr.sun_path, "socket path too long: %s", sock_path);
  strcpy (addr.sun_path, sock_path);
  cr_assert_eq (bind (l->sock, (struct sockaddr *) &addr, sizeof addr), 0, "bind: %s",
                strerror (errno));
  cr_assert_eq (listen (l->sock, 4), 0);
  pthread_t t;
  cr_assert_eq (pthread_create (&t, NULL, listener_main, l), 0);

  struct h_result r;
  h_airlockf (&r, &b, "run %s", id);
  pthread_join (t, NULL);
  close (l->sock);
  cr_assert_str_eq (l->error, "", "listener: %s (run status %d, stderr: %s)", l->error, r.status,
                    r.err);
  cr_assert_eq (r.status, 0, "run: %s", r.err);
  cr_assert_eq (l->n_fds, 1, "%d fds with the message", l->n_fds);
  cr_assert (l->answered);
  assert_has (r.err, "Invalid cross-device link");
  cr_assert_str_eq (r.out, "mkdir=1\n");

  json_error_t jerr;
  json_t *msg = json_loads (l->msg, 0, &jerr);
  cr_assert_not_null (msg, "listener message is not JSON (%s): %s", jerr.text, l->msg);
  cr_assert_str_eq (
      json_string_value (json_object_get (msg, "ociVersion")) ?: "",
      json_string_value (json_object_get (json_object_get (msg, "state"), "ociVersion")) ?: "?",
      "%s", l->msg);
  json_t *fds = json_object_get (msg, "fds");
  cr_assert (json_is_array (fds) && json_array_size (fds) == 1, "%s", l->msg);
  cr_assert_str_eq (json_string_value (json_array_get (fds, 0)) ?: "", "seccompFd");
  cr_assert_str_eq (json_string_value (json_object_get (msg, "metadata")) ?: "",
                    "iso-proc metadata");
  cr_assert_gt (json_integer_value (json_object_get (msg, "pid")), 0, "%s", l->msg);
  json_t *state = json_object_get (msg, "state");
  cr_assert_str_eq (json_string_value (json_object_get (state, "id")) ?: "", id, "%s", l->msg);
  cr_assert_str_eq (json_string_value (json_object_get (state, "status")) ?: "", "creating", "%s",
                    l->msg);
  cr_assert_eq (json_integer_value (json_object_get (state, "pid")),
                json_integer_value (json_object_get (msg, "pid")), "%s", l->msg);
  json_decref (msg);
  close (l->notify_fd);
  free (l);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* -------------------------------------------------------------- hardening */

/* CVE-2024-21626: fds airlock inherited (3, 4, 5 here) or opened itself
 * (state dir, cgroup dirs, the bundle) never reach the container.  The
 * shell is pid 1, so /proc/1/fd is what the execve left. */
Test (hardening, no_host_fd_survives)
{
  struct h_bundle b;
  /* ls runs inside the shell (busybox "nofork"), its own directory fd
   * would show; a background sleep has exactly the shell's fds. */
  bundle_sh (&b, "sleep 10 & p=$!; ls /proc/$p/fd | tr '\\n' ' '; echo; kill $p");
  const char *id = h_id ("iso-proc-fds");
  h_bundle_save (&b);
  int fds[3];
  fds[0] = open (b.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fds[1] = open ("/", O_PATH | O_CLOEXEC);
  fds[2] = open ("/proc/self/status", O_RDONLY | O_CLOEXEC);
  for (int i = 0; i < 3; i++)
    cr_assert_geq (fds[i], 0);

  struct h_spawn sp = { .timeout_s = 30, .fds = fds, .n_fds = 3 };
  const char *argv[] = { "run", id, NULL };
  struct h_result r;
  h_airlock_ex (&r, &b, &sp, argv);
  cr_assert_eq (r.status, 0, "run: %s", r.err);
  cr_assert_str_eq (r.out, "0 1 2 \n");
  h_result_free (&r);

  /* --preserve-fds 2 passes exactly 3 and 4. */
  const char *argv2[] = { "run", "--preserve-fds", "2", id, NULL };
  h_airlock_ex (&r, &b, &sp, argv2);
  cr_assert_eq (r.status, 0, "run --preserve-fds 2: %s", r.err);
  cr_assert_str_eq (r.out, "0 1 2 3 4 \n");
  h_result_free (&r);
  for (int i = 0; i < 3; i++)
    close (fds[i]);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* CVE-2019-5736: the container can not write to the binary behind
 * /proc/1/exe, and that binary is the container's busybox, not airlock. */
Test (hardening, proc_exe_not_writable)
{
  struct h_bundle b;
  /* The fixture's applets are hard links to busybox: compare inodes. */
  bundle_sh (&b, "bb=$(stat -c %i /bin/busybox); "
                 "[ \"$(stat -L -c %i /proc/self/exe)\" = \"$bb\" ] && echo /bin/busybox; "
                 "[ \"$(stat -L -c %i /proc/1/exe)\" = \"$bb\" ] && echo /bin/busybox; "
                 "echo x >> /proc/1/exe && echo WROTE; echo x >> /proc/self/exe && echo WROTE; "
                 "echo done");
  const char *id = h_id ("iso-proc-exe");
  char busybox[PATH_MAX + 32];
  snprintf (busybox, sizeof busybox, "%s/rootfs/bin/busybox", b.dir);
  struct stat before, after;
  cr_assert_eq (stat (busybox, &before), 0);
  struct h_result r;
  run_ok (&r, &b, id);
  cr_assert_str_eq (r.out, "/bin/busybox\n/bin/busybox\ndone\n");
  assert_has (r.err, "Text file busy");
  cr_assert_eq (stat (busybox, &after), 0);
  cr_assert_eq (after.st_size, before.st_size, "busybox was written to");
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* Until its execve the init is non-dumpable: /proc/PID/status belongs to root
 * even though the init already runs as uid 1000.  After `start` the
 * program it became is dumpable again (owner 1000). */
Test (hardening, init_not_dumpable_until_exec)
{
  const char *args[] = { "sleep", "30", NULL };
  struct h_bundle b;
  bundle_init (&b, args);
  const char *id = h_id ("iso-proc-dump");
  json_object_set_new (h_process (&b), "user", json_pack ("{s:i, s:i}", "uid", 1000, "gid", 1000));
  h_bundle_save (&b);
  struct h_result r;
  h_airlockf (&r, &b, "create %s", id);
  cr_assert_eq (r.status, 0, "create: %s", r.err);
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  long long pid = json_integer_value (json_object_get (st, "pid"));
  json_decref (st);
  cr_assert_gt (pid, 0);

  char path[64], status_path[64];
  snprintf (path, sizeof path, "/proc/%lld", pid);
  snprintf (status_path, sizeof status_path, "/proc/%lld/status", pid);
  char *status = h_read_file (status_path);
  cr_assert_not_null (status);
  assert_has (status, "Uid:\t1000\t1000\t1000\t1000");
  free (status);
  struct stat sb;
  /* (/proc/PID itself always shows the euid; the files in it show root
   * for a non-dumpable process.) */
  cr_assert_eq (stat (status_path, &sb), 0);
  cr_assert_eq (sb.st_uid, 0, "the init is dumpable before exec (%s owned by %u)", status_path,
                (unsigned) sb.st_uid);

  h_airlockf (&r, &b, "start %s", id);
  cr_assert_eq (r.status, 0, "start: %s", r.err);
  h_result_free (&r);
  bool became_user = false;
  char *last = NULL;
  for (int i = 0; i < 100 && !became_user; i++)
    {
      free (last);
      last = h_read_file (status_path);
      if (last && strstr (last, "Name:\tsleep\n") && stat (status_path, &sb) == 0
          && sb.st_uid == 1000)
        became_user = true;
      else
        usleep (50 * 1000);
    }
  cr_assert (became_user, "after start %s is not sleep owned by 1000 (uid %u):\n%s", path,
             (unsigned) sb.st_uid, last ? last : "");
  free (last);
  h_airlockf (&r, &b, "delete --force %s", id);
  cr_assert_eq (r.status, 0, "delete: %s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

/* create fails, naming the problem the way podman maps to 127 / 126, and
 * leaves nothing behind. */
static void
check_exec_error (const char *const *args, const char *const *env, const char *want)
{
  struct h_bundle b;
  bundle_init (&b, args);
  const char *id = h_id ("iso-proc-exec");
  if (env)
    json_object_set_new (h_process (&b), "env", str_array (env));
  char path[PATH_MAX + 32];
  snprintf (path, sizeof path, "%s/rootfs/etc/not-executable", b.dir);
  h_write_file (path, "#!/bin/sh\necho ran\n");
  cr_assert_eq (chmod (path, 0644), 0);
  h_bundle_save (&b);
  struct h_result r;
  h_airlockf (&r, &b, "create %s", id);
  cr_assert_neq (r.status, 0, "create succeeded: %s", r.out);
  assert_has (r.err, want);
  h_result_free (&r);
  cr_assert_null (h_state (&b, id), "state of a failed create remains");
  h_assert_clean (&b, id);
  bundle_fini (&b);
}

Test (hardening, exec_not_found)
{
  const char *args[] = { "no-such-program", NULL };
  check_exec_error (args, NULL, "exec: \"no-such-program\": executable file not found in $PATH");
}

Test (hardening, exec_absolute_not_found)
{
  const char *args[] = { "/bin/no-such-program", NULL };
  check_exec_error (args, NULL, "no such file or directory");
}

Test (hardening, exec_permission_denied)
{
  const char *args[] = { "/etc/not-executable", NULL };
  check_exec_error (args, NULL, "exec: \"/etc/not-executable\": permission denied");
}

Test (hardening, exec_permission_denied_in_path)
{
  const char *args[] = { "not-executable", NULL };
  const char *env[] = { "PATH=/etc", NULL };
  check_exec_error (args, env, "exec: \"not-executable\": permission denied");
}

Test (hardening, create_start_runs_program)
{
  const char *args[] = { "sh", "-c", "echo started; id -u", NULL };
  struct h_bundle b;
  bundle_init (&b, args);
  const char *id = h_id ("iso-proc-cs");
  h_bundle_save (&b);
  struct h_result r;
  h_airlockf (&r, &b, "create %s", id);
  cr_assert_eq (r.status, 0, "create: %s", r.err);
  h_result_free (&r);
  json_t *st = h_state (&b, id);
  cr_assert_not_null (st);
  cr_assert_str_eq (json_string_value (json_object_get (st, "status")), "created");
  json_decref (st);
  h_airlockf (&r, &b, "start %s", id);
  cr_assert_eq (r.status, 0, "start: %s", r.err);
  h_result_free (&r);
  st = h_wait_status (&b, id, "stopped", 10);
  cr_assert_not_null (st);
  json_decref (st);
  h_airlockf (&r, &b, "delete %s", id);
  cr_assert_eq (r.status, 0, "delete: %s", r.err);
  h_result_free (&r);
  h_assert_clean (&b, id);
  bundle_fini (&b);
}
