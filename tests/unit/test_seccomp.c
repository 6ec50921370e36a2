/* Unit tests for isolation/seccomp: compile OCI profiles, load them, talk to
 * a listener, and the built-in sandbox profile.
 *
 * A filter is never loaded in the test process itself: every load happens
 * in a forked child (run_child), which reports through its exit status and
 * a shared page for the message, so a child under a strict filter needs
 * no syscall but exit_group to report.  Profiles are written as config.json
 * fragments with single quotes (turned into double quotes) and go through
 * the real parser. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "oci_config.h"
#include "seccomp.h"

extern char **environ;

/* ------------------------------------------------------------------ helpers */

/* A scratch directory for the tests that need one (.init = make_scratch).
 * Each test runs in its own process.  A test removes it itself before its
 * final assertions; the .fini is the fallback when an assertion failed
 * earlier (criterion does not always get to run it). */
static char scratch[] = "/tmp/al-seccomp-XXXXXX";
static bool scratch_made;

static void
make_scratch (void)
{
  cr_assert_not_null (mkdtemp (scratch));
  scratch_made = true;
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
remove_scratch (void)
{
  if (scratch_made)
    nftw (scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  scratch_made = false;
}

#define SCRATCH .init = make_scratch, .fini = remove_scratch

/* Parse a config whose linux.seccomp is the printf-formatted fragment. */
__attribute__ ((format (printf, 1, 0))) static struct al_config *
parse_profile (const char *fmt, va_list ap)
{
  cleanup_free char *fragment = NULL;
  cr_assert_geq (vasprintf (&fragment, fmt, ap), 0);
  cleanup_free char *json = NULL;
  cr_assert_geq (asprintf (&json,
                           "{'ociVersion': '1.2.0', 'root': {'path': 'r'}, "
                           "'linux': {'seccomp': %s}}",
                           fragment),
                 0);
  for (char *p = json; *p; p++)
    if (*p == '\'')
      *p = '"';
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  int r = al_config_parse (json, strlen (json), "config.json", &c, &err);
  cr_assert_eq (r, 0, "parse failed: %s\n%s", err.msg, json);
  cr_assert_not_null (c->linux_spec);
  cr_assert_not_null (c->linux_spec->seccomp);
  return c;
}

__attribute__ ((format (printf, 1, 2))) static scmp_filter_ctx
compile_ok (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  struct al_config *c = parse_profile (fmt, ap);
  va_end (ap);
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  int r = al_seccomp_compile (c->linux_spec->seccomp, &ctx, &err);
  al_config_free (c);
  cr_assert_eq (r, 0, "compile failed: %s", err.msg);
  cr_assert_not_null (ctx);
  return ctx;
}

static void
expect_spec_error (const struct al_seccomp *spec, int errnum, const char *msg)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  int r = al_seccomp_compile (spec, &ctx, &err);
  if (ctx)
    seccomp_release (ctx);
  cr_assert_eq (r, -errnum, "expected -%d \"%s\", got %d \"%s\"", errnum, msg, r, err.msg);
  cr_assert_null (ctx);
  cr_assert_eq (err.errnum, errnum);
  cr_assert_str_eq (err.msg, msg);
}

__attribute__ ((format (printf, 3, 4))) static void
expect_compile_error (int errnum, const char *msg, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  struct al_config *c = parse_profile (fmt, ap);
  va_end (ap);
  expect_spec_error (c->linux_spec->seccomp, errnum, msg);
  al_config_free (c);
}

/* A child's verdict: its wait status and what it wrote into the shared
 * page before exiting. */
struct child_result
{
  int status;
  char msg[1024];
};

typedef int (*child_fn) (void *arg, char *msg, size_t size);

/* Straight to exit_group, which cannot fail.  Not _exit: the sanitizers
 * hook it with a leak check, and any noreturn call with a stack check,
 * whose syscalls a filter may deny; so this is not declared noreturn. */
static void
child_exit (int code)
{
  syscall (SYS_exit_group, code);
}

static struct child_result
run_child (child_fn fn, void *arg)
{
  struct child_result res = { 0 };
  char *shared = mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (shared, MAP_FAILED);
  shared[0] = '\0';
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    child_exit (fn (arg, shared, 4096));
  while (waitpid (pid, &res.status, 0) < 0 && errno == EINTR)
    ;
  snprintf (res.msg, sizeof res.msg, "%s", shared);
  munmap (shared, 4096);
  return res;
}

static void
expect_child_ok (child_fn fn, void *arg)
{
  struct child_result res = run_child (fn, arg);
  cr_assert (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0,
             "child failed (status %#x): %s", res.status, res.msg);
}

/* In a child: fail with a message when cond does not hold. */
#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          snprintf (msg, size, __VA_ARGS__);                                                       \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

/* In a child: r is a failed call with errno e. */
#define CHECK_ERRNO(r, e, what)                                                                    \
  do                                                                                               \
    {                                                                                              \
      long r_ = (r);                                                                               \
      int errno_ = errno;                                                                          \
      CHECK (r_ == -1 && errno_ == (e), "%s: expected errno %d (%s), got %ld errno %d (%s)", what, \
             (e), strerrorname_np (e), r_, errno_, strerrorname_np (errno_));                      \
    }                                                                                              \
  while (0)

#define CHECK_OK(r, what)                                                                          \
  do                                                                                               \
    {                                                                                              \
      long r_ = (r);                                                                               \
      int errno_ = errno;                                                                          \
      CHECK (r_ >= 0, "%s: failed with errno %d (%s)", what, errno_, strerrorname_np (errno_));    \
    }                                                                                              \
  while (0)

static int
child_load (scmp_filter_ctx ctx, char *msg, size_t size)
{
  struct al_error err = { 0 };
  int notify_fd = -2;
  int r = al_seccomp_load (ctx, &notify_fd, &err);
  CHECK (r == 0, "load: %s", err.msg);
  CHECK (notify_fd == -1, "load returned notify fd %d without NOTIFY rules", notify_fd);
  return 0;
}

static long
raw_getcwd (void)
{
  char buf[PATH_MAX];
  return syscall (SYS_getcwd, buf, sizeof buf);
}

/* ---------------------------------------------------------------- actions */

static int
child_errno_ret (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (mkdir ("/nonexistent-airlock/x", 0700), EXDEV, "mkdir (errnoRet)");
  CHECK_ERRNO (syscall (SYS_getppid), EPERM, "getppid (ERRNO without errnoRet)");
  CHECK_OK (raw_getcwd (), "getcwd (default ALLOW)");
  return 0;
}

Test (seccomp, errno_action_with_errno_ret)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d},"
                    "{'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO'}]}",
                    EXDEV);
  expect_child_ok (child_errno_ret, ctx);
  seccomp_release (ctx);
}

static int
child_default_errno_ret (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (raw_getcwd (), EL2HLT, "getcwd (defaultErrnoRet)");
  CHECK_ERRNO (mkdir ("/nonexistent-airlock/x", 0700), EL2HLT, "mkdir (defaultErrnoRet)");
  /* A rule's own ERRNO without errnoRet is EPERM, not defaultErrnoRet. */
  CHECK_ERRNO (syscall (SYS_getppid), EPERM, "getppid (rule without errnoRet)");
  return 0;
}

Test (seccomp, default_errno_ret)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': %d, "
                                    "'syscalls': ["
                                    "{'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
                                    "{'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO'}]}",
                                    EL2HLT);
  expect_child_ok (child_default_errno_ret, ctx);
  seccomp_release (ctx);
}

static int
child_call_getppid (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  syscall (SYS_getppid);
  CHECK (false, "getppid returned instead of killing the child");
}

Test (seccomp, default_kill_process_kills_with_sigsys)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'syscalls': ["
                                    "{'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'}]}");
  struct child_result res = run_child (child_call_getppid, ctx);
  seccomp_release (ctx);
  cr_assert (WIFSIGNALED (res.status) && WTERMSIG (res.status) == SIGSYS,
             "expected death by SIGSYS, status %#x: %s", res.status, res.msg);
}

Test (seccomp, kill_and_kill_thread_rules_kill_with_sigsys)
{
  const char *actions[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS" };
  for (size_t i = 0; i < 3; i++)
    {
      scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                                        "{'names': ['getppid'], 'action': '%s'}]}",
                                        actions[i]);
      struct child_result res = run_child (child_call_getppid, ctx);
      seccomp_release (ctx);
      cr_assert (WIFSIGNALED (res.status) && WTERMSIG (res.status) == SIGSYS,
                 "%s: expected death by SIGSYS, status %#x: %s", actions[i], res.status, res.msg);
    }
}

static volatile sig_atomic_t trapped_syscall = -1;
static volatile sig_atomic_t trapped_code = -1;

static void
on_sigsys (int sig, siginfo_t *info, void *uctx)
{
  trapped_syscall = info->si_syscall;
  trapped_code = info->si_code;
}

static int
child_trap (void *arg, char *msg, size_t size)
{
  struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
  CHECK_OK (sigaction (SIGSYS, &sa, NULL), "sigaction");
  if (child_load (arg, msg, size))
    return 1;
  syscall (SYS_getppid);
  CHECK (trapped_syscall == SYS_getppid, "SIGSYS for syscall %d, expected getppid (%d)",
         (int) trapped_syscall, SYS_getppid);
  CHECK (trapped_code == 1 /* SYS_SECCOMP */, "si_code %d, expected SYS_SECCOMP",
         (int) trapped_code);
  return 0;
}

Test (seccomp, trap_delivers_sigsys)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                                    "{'names': ['getppid'], 'action': 'SCMP_ACT_TRAP'}]}");
  expect_child_ok (child_trap, ctx);
  seccomp_release (ctx);
}

static int
child_log (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_OK (raw_getcwd (), "getcwd (LOG)");
  CHECK_ERRNO (syscall (SYS_getppid), EACCES, "getppid (default)");
  return 0;
}

Test (seccomp, log_allows)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': %d, "
                                    "'syscalls': ["
                                    "{'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
                                    "{'names': ['getcwd'], 'action': 'SCMP_ACT_LOG'}]}",
                                    EACCES);
  expect_child_ok (child_log, ctx);
  seccomp_release (ctx);
}

static int
child_traced (void *arg, char *msg, size_t size)
{
  CHECK_OK (ptrace (PTRACE_TRACEME, 0, NULL, NULL), "PTRACE_TRACEME");
  raise (SIGSTOP);
  if (child_load (arg, msg, size))
    return 1;
  syscall (SYS_getppid);
  return 0;
}

/* The tracer sees errnoRet as the event message of the seccomp stop. */
Test (seccomp, trace_passes_errno_ret_to_the_tracer, .timeout = 30)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                                    "{'names': ['getppid'], 'action': 'SCMP_ACT_TRACE', "
                                    "'errnoRet': 4242}]}");
  char *shared = mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (shared, MAP_FAILED);
  shared[0] = '\0';
  cleanup_pid pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    child_exit (child_traced (ctx, shared, 4096));
  seccomp_release (ctx);

  int status;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFSTOPPED (status) && WSTOPSIG (status) == SIGSTOP, "status %#x", status);
  cr_assert_eq (ptrace (PTRACE_SETOPTIONS, pid, NULL,
                        (void *) (long) (PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)),
                0);
  cr_assert_eq (ptrace (PTRACE_CONT, pid, NULL, NULL), 0);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFSTOPPED (status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)),
             "expected a seccomp stop, status %#x: %s", status, shared);
  unsigned long event_msg = 0;
  cr_assert_eq (ptrace (PTRACE_GETEVENTMSG, pid, NULL, &event_msg), 0);
  cr_assert_eq (event_msg, 4242);
  cr_assert_eq (ptrace (PTRACE_CONT, pid, NULL, NULL), 0);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  al_steal_pid (&pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "status %#x: %s", status, shared);
  munmap (shared, 4096);
}

/* -------------------------------------------------------------- arguments */

/* umask(2) never fails, so -1 can only come from the filter. */
struct op_case
{
  const char *op;
  uint64_t value, value_two;
  mode_t denied, allowed;
};

static int
child_umask (void *arg, char *msg, size_t size)
{
  const struct op_case *c = arg;
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d, "
                    "'args': [{'index': 0, 'op': '%s', 'value': %llu, 'valueTwo': %llu}]}]}",
                    EXDEV, c->op, (unsigned long long) c->value, (unsigned long long) c->value_two);
  if (child_load (ctx, msg, size))
    return 1;
  CHECK_ERRNO (syscall (SYS_umask, c->denied), EXDEV, "umask (should match)");
  CHECK_OK (syscall (SYS_umask, c->allowed), "umask (should not match)");
  return 0;
}

Test (seccomp, argument_operators)
{
  static const struct op_case cases[] = {
    { "SCMP_CMP_EQ", 022, 0, 022, 077 },
    { "SCMP_CMP_NE", 022, 0, 077, 022 },
    { "SCMP_CMP_LT", 022, 0, 021, 022 },
    { "SCMP_CMP_LE", 022, 0, 022, 023 },
    { "SCMP_CMP_GE", 022, 0, 022, 021 },
    { "SCMP_CMP_GT", 022, 0, 023, 022 },
    /* value is the mask, valueTwo the datum */
    { "SCMP_CMP_MASKED_EQ", 070, 020, 027, 077 },
    { "SCMP_CMP_MASKED_EQ", 070, 020, 020, 002 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct child_result res = run_child (child_umask, (void *) &cases[i]);
      cr_assert (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0,
                 "%s value %#llo valueTwo %#llo: status %#x: %s", cases[i].op,
                 (unsigned long long) cases[i].value, (unsigned long long) cases[i].value_two,
                 res.status, res.msg);
    }
}

static int
child_args_and (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (syscall (SYS_getpriority, PRIO_PROCESS, 999999), EXDEV, "getpriority (both match)");
  CHECK_OK (syscall (SYS_getpriority, PRIO_PROCESS, 0), "getpriority (arg 1 differs)");
  /* Only arg 1 matches: the kernel answers (no such group), not the filter. */
  CHECK_ERRNO (syscall (SYS_getpriority, PRIO_PGRP, 999999), ESRCH, "getpriority (arg 0 differs)");
  return 0;
}

Test (seccomp, args_of_one_rule_must_all_match)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d, "
                    "'args': [{'index': 0, 'op': 'SCMP_CMP_EQ', 'value': %d},"
                    "         {'index': 1, 'op': 'SCMP_CMP_EQ', 'value': 999999}]}]}",
                    EXDEV, PRIO_PROCESS);
  expect_child_ok (child_args_and, ctx);
  seccomp_release (ctx);
}

static int
child_args_or (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (syscall (SYS_umask, 01), EXDEV, "umask(01)");
  CHECK_ERRNO (syscall (SYS_umask, 02), EXDEV, "umask(02)");
  CHECK_OK (syscall (SYS_umask, 03), "umask(03)");
  return 0;
}

/* libseccomp cannot compare one argument twice in a rule; like runc, each
 * comparison then becomes a rule of its own. */
Test (seccomp, args_on_the_same_index_are_alternatives)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d, "
                    "'args': [{'index': 0, 'op': 'SCMP_CMP_EQ', 'value': 1},"
                    "         {'index': 0, 'op': 'SCMP_CMP_EQ', 'value': 2}]}]}",
                    EXDEV);
  expect_child_ok (child_args_or, ctx);
  seccomp_release (ctx);
}

static int
child_write_fd (void *arg, char *msg, size_t size)
{
  int fds[2];
  CHECK_OK (pipe2 (fds, O_CLOEXEC), "pipe2");
  int high = fcntl (fds[1], F_DUPFD_CLOEXEC, 100);
  CHECK_OK (high, "dup to fd 100");
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (write (high, "x", 1), EXDEV, "write to fd 100");
  CHECK (write (fds[1], "x", 1) == 1, "write to the low fd failed: %s", strerror (errno));
  return 0;
}

Test (seccomp, write_denied_on_one_fd_only)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['write'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d, "
                    "'args': [{'index': 0, 'op': 'SCMP_CMP_EQ', 'value': 100}]}]}",
                    EXDEV);
  expect_child_ok (child_write_fd, ctx);
  seccomp_release (ctx);
}

/* ------------------------------------------------- skipped names and rules */

static int
child_getcwd_exdev (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (raw_getcwd (), EXDEV, "getcwd");
  return 0;
}

Test (seccomp, unknown_syscall_names_are_skipped)
{
  scmp_filter_ctx ctx = compile_ok (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
      "{'names': ['no_such_syscall_airlock', 'getcwd', ''], 'action': 'SCMP_ACT_ERRNO', "
      "'errnoRet': %d}]}",
      EXDEV);
  expect_child_ok (child_getcwd_exdev, ctx);
  seccomp_release (ctx);
}

static int
child_default_eperm (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  CHECK_ERRNO (raw_getcwd (), EPERM, "getcwd");
  CHECK_ERRNO (syscall (SYS_getppid), EXDEV, "getppid");
  return 0;
}

/* libseccomp refuses a rule whose action is the default one (EACCES). */
Test (seccomp, rules_equal_to_the_default_are_skipped)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
                    "{'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
                    "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'},"
                    "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d, "
                    " 'args': [{'index': 0, 'op': 'SCMP_CMP_NE', 'value': 0}]},"
                    "{'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %d}]}",
                    EPERM, EXDEV);
  expect_child_ok (child_default_eperm, ctx);
  seccomp_release (ctx);

  ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                    "{'names': ['getcwd', 'read'], 'action': 'SCMP_ACT_ALLOW'}]}");
  seccomp_release (ctx);
}

/* ---------------------------------------------------------- architectures */

Test (seccomp, architectures_are_added_to_the_native_one)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', "
                                    "'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_X32', "
                                    "'SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']}");
  cr_assert_eq (seccomp_arch_exist (ctx, seccomp_arch_native ()), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_X86), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_X32), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_AARCH64), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_PPC64LE), -EEXIST);
  seccomp_release (ctx);

  ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW'}");
  cr_assert_eq (seccomp_arch_exist (ctx, seccomp_arch_native ()), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_X86), -EEXIST);
  seccomp_release (ctx);
}

#if defined(__x86_64__)
/* getpid through the i386 entry point (int $0x80, syscall 20). */
static long
i386_getpid (void)
{
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
  return r;
}

static int
child_i386_probe (void *arg, char *msg, size_t size)
{
  signal (SIGSEGV, SIG_DFL); /* no sanitizer report: dying is the answer */
  return i386_getpid () == getpid () ? 0 : 1;
}

static int
child_i386_getpid (void *arg, char *msg, size_t size)
{
  if (child_load (arg, msg, size))
    return 1;
  long r = i386_getpid ();
  CHECK (r == -EXDEV, "i386 getpid returned %ld, expected -EXDEV", r);
  return 0;
}

/* The x86 rules apply to 32-bit syscalls; without SCMP_ARCH_X86 they die
 * of the bad-architecture action. */
Test (seccomp, x86_rules_filter_32_bit_syscalls)
{
  struct child_result probe = run_child (child_i386_probe, NULL);
  if (!WIFEXITED (probe.status) || WEXITSTATUS (probe.status) != 0)
    cr_skip_test ("32-bit syscalls are not available here (ia32_emulation off)");

  const char *rule = "'syscalls': [{'names': ['getpid'], 'action': 'SCMP_ACT_ERRNO', "
                     "'errnoRet': 18}]";
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', "
                                    "'architectures': ['SCMP_ARCH_X86'], %s}",
                                    rule);
  expect_child_ok (child_i386_getpid, ctx);
  seccomp_release (ctx);

  ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', %s}", rule);
  struct child_result res = run_child (child_i386_getpid, ctx);
  seccomp_release (ctx);
  cr_assert (WIFSIGNALED (res.status) && WTERMSIG (res.status) == SIGSYS, "status %#x: %s",
             res.status, res.msg);
}
#endif

/* ------------------------------------------------------------------ flags */

struct tsync_thread
{
  int wake_fd;
  volatile int result_errno;
};

static void *
tsync_thread_main (void *arg)
{
  struct tsync_thread *t = arg;
  char c;
  while (read (t->wake_fd, &c, 1) < 0 && errno == EINTR)
    ;
  t->result_errno = raw_getcwd () < 0 ? errno : 0;
  return NULL;
}

static int
child_tsync (void *arg, char *msg, size_t size)
{
  int fds[2];
  CHECK_OK (pipe2 (fds, O_CLOEXEC), "pipe2");
  struct tsync_thread t = { .wake_fd = fds[0], .result_errno = -1 };
  pthread_t thread;
  CHECK (pthread_create (&thread, NULL, tsync_thread_main, &t) == 0, "pthread_create");
  int r = child_load (arg, msg, size);
  CHECK (write (fds[1], "x", 1) == 1, "wake thread");
  pthread_join (thread, NULL);
  if (r)
    return r;
  CHECK (t.result_errno == EXDEV, "getcwd in the older thread: errno %d, expected EXDEV",
         t.result_errno);
  return 0;
}

/* With TSYNC a thread started before the load is filtered too. */
Test (seccomp, tsync_filters_every_thread)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', "
                                    "'flags': ['SECCOMP_FILTER_FLAG_TSYNC'], 'syscalls': ["
                                    "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', "
                                    "'errnoRet': %d}]}",
                                    EXDEV);
  uint32_t value = 0;
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_TSYNC, &value), 0);
  cr_assert_eq (value, 1);
  expect_child_ok (child_tsync, ctx);
  seccomp_release (ctx);
}

Test (seccomp, log_and_spec_allow_flags)
{
  scmp_filter_ctx ctx
      = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
                    "['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']}");
  uint32_t value = 0;
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_LOG, &value), 0);
  cr_assert_eq (value, 1);
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_SSB, &value), 0);
  cr_assert_eq (value, 1);
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_TSYNC, &value), 0);
  cr_assert_eq (value, 0);
  /* no_new_privs is the caller's business, never the filter's. */
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_NNP, &value), 0);
  cr_assert_eq (value, 0);
  seccomp_release (ctx);
}

Test (seccomp, unsupported_flags_are_errors)
{
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
  char expected[512];
  const struct scmp_version *v = seccomp_version ();
  snprintf (expected, sizeof expected,
            "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by "
            "this kernel and libseccomp %u.%u.%u (API level %u, needs 7)",
            v->major, v->minor, v->micro, seccomp_api_get ());
  expect_compile_error (EOPNOTSUPP, expected,
                        "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', "
                        "'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], 'syscalls': ["
                        "{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}");
#endif
  struct al_seccomp spec = { .default_action = AL_SECCOMP_ACT_ALLOW, .flags = 1u << 9 };
  expect_spec_error (&spec, EINVAL, "linux.seccomp.flags: unknown flag bits 0x200");
}

/* ----------------------------------------------------------------- notify */

struct notify_child
{
  scmp_filter_ctx ctx;
  const char *listener_path;
};

static int
child_notify (void *arg, char *msg, size_t size)
{
  struct notify_child *nc = arg;
  struct al_error err = { 0 };
  int notify_fd = -1;
  CHECK (al_seccomp_load (nc->ctx, &notify_fd, &err) == 0, "load: %s", err.msg);
  CHECK (notify_fd >= 0, "no notify fd");
  CHECK (fcntl (notify_fd, F_GETFD) == FD_CLOEXEC, "notify fd is not O_CLOEXEC");
  char state[256];
  snprintf (state, sizeof state,
            "{\"ociVersion\": \"1.2.0\", \"id\": \"c1\", \"status\": \"creating\", "
            "\"pid\": %d, \"bundle\": \"/b\"}",
            (int) getpid ());
  CHECK (al_seccomp_send_listener (nc->listener_path, notify_fd, getpid (), "meta=1", state, &err)
             == 0,
         "send listener: %s", err.msg);
  close (notify_fd);
  long r = syscall (SYS_getppid);
  CHECK (r == 4242, "getppid returned %ld (errno %d), expected the supervisor's 4242", r, errno);
  CHECK_OK (raw_getcwd (), "getcwd (not notified)");
  return 0;
}

/* Accept one connection on lfd and receive the listener message and fd. */
static void
receive_listener (int lfd, char *buf, size_t size, int *ret_fd)
{
  struct pollfd p = { .fd = lfd, .events = POLLIN };
  cr_assert_eq (poll (&p, 1, 20000), 1, "no connection to the listener");
  cleanup_close int conn = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  cr_assert_geq (conn, 0);

  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  ssize_t n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  cr_assert_gt (n, 0);
  size_t len = (size_t) n;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  cr_assert_not_null (cmsg, "no fd attached");
  cr_assert_eq (cmsg->cmsg_type, SCM_RIGHTS);
  memcpy (ret_fd, CMSG_DATA (cmsg), sizeof (int));
  /* The rest of a long message may follow in further reads. */
  while (len < size - 1 && (n = read (conn, buf + len, size - 1 - len)) > 0)
    len += (size_t) n;
  buf[len] = '\0';
}

static int
listen_at (const char *dir, const char *name, char **ret_path)
{
  cr_assert_geq (asprintf (ret_path, "%s/%s", dir, name), 0);
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq (lfd, 0);
  /* Long paths are bound through the directory's fd, as the module
     connects to them. */
  cleanup_close int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (dirfd, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, name);
  cr_assert_eq (bind (lfd, (struct sockaddr *) &addr, sizeof addr), 0, "bind: %s",
                strerror (errno));
  cr_assert_eq (listen (lfd, 4), 0);
  return lfd;
}

Test (seccomp, notify_listener_receives_and_answers, .timeout = 60, SCRATCH)
{
  cleanup_free char *path = NULL;
  cleanup_close int lfd = listen_at (scratch, "listener.sock", &path);

  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s', "
                                    "'flags': ['SECCOMP_FILTER_FLAG_TSYNC'], 'syscalls': ["
                                    "{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                                    path);
  struct notify_child nc = { .ctx = ctx, .listener_path = path };
  char *shared = mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (shared, MAP_FAILED);
  shared[0] = '\0';
  cleanup_pid pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    child_exit (child_notify (&nc, shared, 4096));
  seccomp_release (ctx);

  char buf[4096];
  cleanup_close int notify_fd = -1;
  receive_listener (lfd, buf, sizeof buf, &notify_fd);
  remove_scratch ();

  json_error_t jerr;
  json_t *msg = json_loads (buf, 0, &jerr);
  cr_assert_not_null (msg, "%s: %s", buf, jerr.text);
  cr_assert_str_eq (json_string_value (json_object_get (msg, "ociVersion")), AL_OCI_VERSION);
  cr_assert_str_eq (json_string_value (json_array_get (json_object_get (msg, "fds"), 0)),
                    "seccompFd");
  cr_assert_eq (json_integer_value (json_object_get (msg, "pid")), pid);
  cr_assert_str_eq (json_string_value (json_object_get (msg, "metadata")), "meta=1");
  cr_assert_str_eq (json_string_value (json_object_get (json_object_get (msg, "state"), "id")),
                    "c1");
  json_decref (msg);

  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  cr_assert_eq (seccomp_notify_alloc (&req, &resp), 0);
  struct pollfd p = { .fd = notify_fd, .events = POLLIN };
  cr_assert_eq (poll (&p, 1, 20000), 1, "no notification: %s", shared);
  cr_assert_eq (seccomp_notify_receive (notify_fd, req), 0);
  cr_assert_eq (req->pid, (uint32_t) pid);
  cr_assert_eq (req->data.nr, SYS_getppid);
  resp->id = req->id;
  resp->val = 4242;
  resp->error = 0;
  resp->flags = 0;
  cr_assert_eq (seccomp_notify_respond (notify_fd, resp), 0);
  seccomp_notify_free (req, resp);

  int status;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  al_steal_pid (&pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child: status %#x: %s", status,
             shared);
  munmap (shared, 4096);
}

/* --------------------------------------------------------------- listener */

Test (seccomp, send_listener_sends_state_and_fd, SCRATCH)
{
  /* A directory deep enough that the socket path does not fit sun_path. */
  char deep[512];
  snprintf (deep, sizeof deep, "%s/%s", scratch,
            "a-rather-long-directory-name-to-push-the-path-beyond-sun_path-"
            "which-holds-only-108-bytes");
  cr_assert_eq (mkdir (deep, 0700), 0);
  cleanup_free char *path = NULL;
  cleanup_close int lfd = listen_at (deep, "listener.sock", &path);
  cr_assert_gt (strlen (path), sizeof ((struct sockaddr_un *) 0)->sun_path);

  int pipefd[2];
  cr_assert_eq (pipe2 (pipefd, O_CLOEXEC), 0);
  struct al_error err = { 0 };
  const char *state = "{\"ociVersion\": \"1.2.0\", \"id\": \"box\", \"status\": \"creating\", "
                      "\"pid\": 77, \"bundle\": \"/srv/box\", \"annotations\": {\"a\": \"b\"}}";
  int r = al_seccomp_send_listener (path, pipefd[1], 77, "k=v", state, &err);
  close (pipefd[1]);
  cr_assert_eq (r, 0, "%s", err.msg);

  char buf[4096];
  cleanup_close int fd = -1;
  receive_listener (lfd, buf, sizeof buf, &fd);
  remove_scratch ();

  char expected[1024];
  snprintf (expected, sizeof expected,
            "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":77,\"metadata\":\"k=v\","
            "\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"box\",\"status\":\"creating\","
            "\"pid\":77,\"bundle\":\"/srv/box\",\"annotations\":{\"a\":\"b\"}}}",
            AL_OCI_VERSION);
  cr_assert_str_eq (buf, expected);

  /* The fd that arrived is the pipe's write end. */
  cr_assert_eq (write (fd, "z", 1), 1);
  char c = 0;
  cr_assert_eq (read (pipefd[0], &c, 1), 1);
  cr_assert_eq (c, 'z');
  close (pipefd[0]);
}

Test (seccomp, send_listener_without_metadata, SCRATCH)
{
  cleanup_free char *path = NULL;
  cleanup_close int lfd = listen_at (scratch, "l.sock", &path);
  struct al_error err = { 0 };
  int r = al_seccomp_send_listener (path, 0, 5, NULL, "{\"id\": \"x\"}", &err);
  cr_assert_eq (r, 0, "%s", err.msg);
  char buf[1024];
  cleanup_close int fd = -1;
  receive_listener (lfd, buf, sizeof buf, &fd);
  remove_scratch ();
  char expected[256];
  snprintf (expected, sizeof expected,
            "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":5,\"state\":{\"id\":\"x\"}}",
            AL_OCI_VERSION);
  cr_assert_str_eq (buf, expected);
}

Test (seccomp, send_listener_errors)
{
  struct al_error err = { 0 };
  cr_assert_eq (al_seccomp_send_listener ("/nonexistent-airlock/l.sock", 0, 1, NULL, "{}", &err),
                -ENOENT);
  cr_assert_str_eq (err.msg,
                    "seccomp listener: connect to `/nonexistent-airlock/l.sock`: No such file or "
                    "directory");

  cr_assert_eq (al_seccomp_send_listener ("/x", 0, 1, NULL, "[1]", &err), -EINVAL);
  cr_assert_str_eq (err.msg, "container state: expected a JSON object");

  cr_assert_eq (al_seccomp_send_listener ("/x", 0, 1, NULL, "{\"id\": ", &err), -EINVAL);
  cr_assert (strncmp (err.msg, "container state: 1:7: ", 22) == 0, "%s", err.msg);

  cr_assert_eq (al_seccomp_send_listener ("/x", 0, 1, "\xff", "{}", &err), -EINVAL);
  cr_assert_str_eq (err.msg, "linux.seccomp.listenerMetadata: not valid UTF-8");

  cr_assert_eq (al_seccomp_send_listener ("/x", -1, 1, NULL, "{}", &err), -EBADF);
  cr_assert_str_eq (err.msg, "seccomp listener: notify fd -1: Bad file descriptor");
}

/* ------------------------------------------------------------------- load */

static int
child_load_without_privilege (void *arg, char *msg, size_t size)
{
  cap_t none = cap_init ();
  CHECK (none != NULL && cap_set_proc (none) == 0, "drop capabilities: %s", strerror (errno));
  cap_free (none);
  struct al_error err = { 0 };
  int r = al_seccomp_load (arg, NULL, &err);
  CHECK (r == -EACCES, "load without CAP_SYS_ADMIN and no_new_privs returned %d: %s", r, err.msg);
  CHECK (strcmp (err.msg,
                 "load seccomp filter (without CAP_SYS_ADMIN, no_new_privs must be set first): "
                 "Permission denied")
             == 0,
         "message: %s", err.msg);
  CHECK_OK (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
  r = al_seccomp_load (arg, NULL, &err);
  CHECK (r == 0, "load with no_new_privs: %s", err.msg);
  CHECK_ERRNO (raw_getcwd (), EXDEV, "getcwd");
  return 0;
}

Test (seccomp, load_needs_no_new_privs_without_cap_sys_admin)
{
  scmp_filter_ctx ctx = compile_ok ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                                    "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', "
                                    "'errnoRet': %d}]}",
                                    EXDEV);
  expect_child_ok (child_load_without_privilege, ctx);
  seccomp_release (ctx);
}

/* ------------------------------------------------------------ error paths */

Test (seccomp, arg_index_out_of_range)
{
  char *names[] = { "getcwd", NULL };
  struct al_seccomp_arg args[] = {
    { .index = 0, .value = 1, .op = AL_SECCOMP_OP_EQ },
    { .index = 6, .value = 1, .op = AL_SECCOMP_OP_EQ },
  };
  struct al_seccomp_syscall calls[] = {
    { .names = names, .n_names = 1, .action = AL_SECCOMP_ACT_ERRNO },
    { .names = names, .n_names = 1, .action = AL_SECCOMP_ACT_ERRNO, .args = args, .n_args = 2 },
  };
  struct al_seccomp spec = {
    .default_action = AL_SECCOMP_ACT_ALLOW,
    .syscalls = calls,
    .n_syscalls = 2,
  };
  expect_spec_error (&spec, EINVAL,
                     "linux.seccomp.syscalls[1].args[1].index: 6 is out of range (0..5)");

  /* Checked even in a rule skipped for matching the default action. */
  calls[1].action = AL_SECCOMP_ACT_ALLOW;
  expect_spec_error (&spec, EINVAL,
                     "linux.seccomp.syscalls[1].args[1].index: 6 is out of range (0..5)");

  args[1].index = 5;
  args[1].op = (enum al_seccomp_op) 42;
  expect_spec_error (&spec, EINVAL, "linux.seccomp.syscalls[1].args[1].op: unknown operator 42");
}

Test (seccomp, errno_ret_with_an_action_that_takes_none)
{
  expect_compile_error (EINVAL,
                        "linux.seccomp.syscalls[1].errnoRet: SCMP_ACT_KILL_PROCESS takes no errno "
                        "(only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
                        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                        "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
                        "{'names': ['getppid'], 'action': 'SCMP_ACT_KILL_PROCESS', "
                        "'errnoRet': 1}]}");
  expect_compile_error (EINVAL,
                        "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno (only "
                        "SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
                        "{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}");
  expect_compile_error (EINVAL,
                        "linux.seccomp.syscalls[0].errnoRet: 4096 is out of range (0..4095)",
                        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                        "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 4096}]}");
  expect_compile_error (EINVAL, "linux.seccomp.defaultErrnoRet: 65536 is out of range (0..65535)",
                        "{'defaultAction': 'SCMP_ACT_TRACE', 'defaultErrnoRet': 65536}");
}

Test (seccomp, notify_cannot_be_the_default_action)
{
  expect_compile_error (EINVAL,
                        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
                        "action",
                        "{'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/x'}");
}

Test (seccomp, bad_architectures)
{
  enum al_seccomp_arch archs[] = { AL_SECCOMP_ARCH_X86, (enum al_seccomp_arch) 99 };
  struct al_seccomp spec = {
    .default_action = AL_SECCOMP_ACT_ALLOW,
    .architectures = archs,
    .n_architectures = 2,
  };
  expect_spec_error (&spec, EINVAL, "linux.seccomp.architectures[1]: unknown architecture 99");

  if (seccomp_arch_resolve_name ("loongarch64") == 0)
    {
      const struct scmp_version *v = seccomp_version ();
      char expected[256];
      snprintf (expected, sizeof expected,
                "linux.seccomp.architectures[1]: loongarch64 is not supported by libseccomp "
                "%u.%u.%u",
                v->major, v->minor, v->micro);
      expect_compile_error (EOPNOTSUPP, expected,
                            "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': "
                            "['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64']}");
    }
}

Test (seccomp, conflicting_rules)
{
  expect_compile_error (EEXIST,
                        "linux.seccomp.syscalls[1].names[1]: `umask` conflicts with an earlier "
                        "rule for the same arguments",
                        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                        "{'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', "
                        " 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ', 'value': 1}]},"
                        "{'names': ['getcwd', 'umask'], 'action': 'SCMP_ACT_KILL', "
                        " 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ', 'value': 1}]}]}");
}

Test (seccomp, null_arguments)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  cr_assert_eq (al_seccomp_compile (NULL, &ctx, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "linux.seccomp: no profile");
  cr_assert_eq (al_seccomp_load (NULL, NULL, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "load seccomp filter: no filter");
}

/* -------------------------------------------------------- default profile */

static int
child_load_default (char *msg, size_t size)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  CHECK (al_seccomp_default_profile (&ctx, &err) == 0, "default profile: %s", err.msg);
  CHECK_OK (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
  CHECK (al_seccomp_load (ctx, NULL, &err) == 0, "load: %s", err.msg);
  seccomp_release (ctx);
  return 0;
}

static int
wait_for (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

static void *
thread_noop (void *arg)
{
  return arg;
}

static int
child_default_ordinary (void *arg, char *msg, size_t size)
{
  const char *dir = arg;
  if (child_load_default (msg, size))
    return 1;

  /* fork + exec */
  pid_t pid = fork ();
  CHECK_OK (pid, "fork");
  if (pid == 0)
    {
      execl ("/bin/true", "true", (char *) NULL);
      child_exit (127);
    }
  int status = wait_for (pid);
  CHECK (status == 0, "fork + exec /bin/true: status %#x", status);

  /* posix_spawn tries clone3 first and falls back to clone on ENOSYS. */
  char *argv[] = { "true", NULL };
  int r = posix_spawn (&pid, "/bin/true", NULL, NULL, argv, environ);
  CHECK (r == 0, "posix_spawn: %s", strerror (r));
  status = wait_for (pid);
  CHECK (status == 0, "posix_spawn /bin/true: status %#x", status);

  pthread_t thread;
  CHECK (pthread_create (&thread, NULL, thread_noop, NULL) == 0, "pthread_create");
  pthread_join (thread, NULL);

  /* files */
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/file", dir);
  int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  CHECK_OK (fd, "open");
  CHECK (write (fd, "hello", 5) == 5, "write: %s", strerror (errno));
  char buf[8] = { 0 };
  CHECK (pread (fd, buf, sizeof buf, 0) == 5 && memcmp (buf, "hello", 5) == 0, "pread");
  struct stat st;
  CHECK_OK (fstat (fd, &st), "fstat");
  close (fd);
  CHECK_OK (unlink (path), "unlink");

  /* pipes, ioctl other than TIOCSTI, ordinary personality */
  int fds[2];
  CHECK_OK (pipe2 (fds, O_CLOEXEC), "pipe2");
  CHECK (write (fds[1], "abc", 3) == 3, "write pipe");
  int avail = 0;
  CHECK_OK (ioctl (fds[0], FIONREAD, &avail), "ioctl FIONREAD");
  CHECK (avail == 3, "FIONREAD says %d", avail);
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  CHECK_OK (null_fd, "open /dev/null");
  char tio[256];
  CHECK_ERRNO (ioctl (null_fd, TCGETS, tio), ENOTTY, "ioctl TCGETS reaches the kernel");
  CHECK_OK (syscall (SYS_personality, 0xffffffffUL), "personality query");
  CHECK_OK (syscall (SYS_personality, 0x0UL), "personality(PER_LINUX)");

  /* sockets and memory */
  int sv[2];
  CHECK_OK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
  void *p = mmap (NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK (p != MAP_FAILED, "mmap: %s", strerror (errno));
  CHECK_OK (mprotect (p, 4096, PROT_READ), "mprotect");
  CHECK_OK (munmap (p, 65536), "munmap");
  CHECK (getrandom (buf, sizeof buf, 0) == (ssize_t) sizeof buf, "getrandom");
  return 0;
}

Test (seccomp, default_profile_allows_ordinary_work, .timeout = 60, SCRATCH)
{
  struct child_result res = run_child (child_default_ordinary, scratch);
  remove_scratch ();
  cr_assert (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0,
             "child failed (status %#x): %s", res.status, res.msg);
}

static int
run_program (char *const argv[], char *msg, size_t size)
{
  pid_t pid;
  int r = posix_spawn (&pid, argv[0], NULL, NULL, argv, environ);
  CHECK (r == 0, "spawn %s: %s", argv[0], strerror (r));
  int status = wait_for (pid);
  CHECK (status == 0, "%s: status %#x", argv[0], status);
  return 0;
}

static int
child_default_programs (void *arg, char *msg, size_t size)
{
  const char *dir = arg;
  if (child_load_default (msg, size))
    return 1;

  char script[2048];
  snprintf (script, sizeof script,
            "set -e; cd '%s'; echo hello > f; grep -q hello f; mkdir d; mv f d/g; "
            "ls d > /dev/null; cat d/g | wc -c > n; read n < n; test \"$n\" = 6; "
            "printf 'int main (void) { return 0; }\\n' > t.c; "
            "if command -v cc > /dev/null; then cc -o t t.c; ./t; fi; "
            "rm -rf d n t t.c",
            dir);
  char *sh[] = { "/bin/sh", "-c", script, NULL };
  if (run_program (sh, msg, size))
    return 1;

  if (access ("/usr/bin/python3", X_OK) == 0)
    {
      char *py[] = { "/usr/bin/python3", "-c",
                     "import os, subprocess, tempfile, threading\n"
                     "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
                     "with tempfile.TemporaryDirectory() as d:\n"
                     "    open(os.path.join(d, 'x'), 'w').write('y')\n"
                     "subprocess.run(['/bin/true'], check=True)\n",
                     NULL };
      if (run_program (py, msg, size))
        return 1;
    }
  return 0;
}

Test (seccomp, default_profile_runs_shell_compiler_python, .timeout = 120, SCRATCH)
{
  struct child_result res = run_child (child_default_programs, scratch);
  remove_scratch ();
  cr_assert (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0,
             "child failed (status %#x): %s", res.status, res.msg);
}

struct denied_call
{
  const char *what;
  long nr;
  long a[6];
  int expected_errno;
};

#define L(x) ((long) (x))

static int
child_default_denied (void *arg, char *msg, size_t size)
{
  const char *dir = arg;
  /* Should mount ever get through, it lands in a private mount namespace,
     and vhangup finds no controlling terminal. */
  CHECK_OK (unshare (CLONE_NEWNS), "unshare(CLONE_NEWNS)");
  CHECK_OK (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
  CHECK_OK (setsid (), "setsid");

  /* A ptrace target that dies with us, however this child ends. */
  pid_t self = getpid ();
  pid_t sleeper = fork ();
  CHECK_OK (sleeper, "fork");
  if (sleeper == 0)
    {
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid () == self)
        pause ();
      child_exit (0);
    }

  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  CHECK_OK (null_fd, "open /dev/null");
  char c = 'x';
  struct timespec ts = { 0, 0 };
  struct timex tx = { .modes = 0 };
  struct iovec iov = { .iov_base = &c, .iov_len = 1 };

  const struct denied_call calls[] = {
    { "mount", SYS_mount, { L ("none"), L (dir), L ("tmpfs"), 0, 0 }, EPERM },
    { "umount2", SYS_umount2, { L ("/nonexistent-airlock"), 0 }, EPERM },
    { "pivot_root",
      SYS_pivot_root,
      { L ("/nonexistent-airlock"), L ("/nonexistent-airlock") },
      EPERM },
    { "move_mount", SYS_move_mount, { -1, L (""), -1, L (""), 0 }, EPERM },
    { "open_tree", SYS_open_tree, { -1, L ("/nonexistent-airlock"), 0 }, EPERM },
    { "fsopen", SYS_fsopen, { L ("tmpfs"), 0 }, EPERM },
    { "fsmount", SYS_fsmount, { -1, 0, 0 }, EPERM },
    { "fsconfig", SYS_fsconfig, { -1, 0, 0, 0, 0 }, EPERM },
    { "fspick", SYS_fspick, { -1, L ("/nonexistent-airlock"), 0 }, EPERM },
    { "unshare(CLONE_NEWUSER)", SYS_unshare, { CLONE_NEWUSER }, EPERM },
    { "unshare(CLONE_NEWNS)", SYS_unshare, { CLONE_NEWNS }, EPERM },
    { "clone(CLONE_NEWUSER)", SYS_clone, { CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0 }, EPERM },
    { "clone(CLONE_NEWNET)", SYS_clone, { CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0 }, EPERM },
    { "clone3", SYS_clone3, { 0, 0 }, ENOSYS },
    { "setns", SYS_setns, { -1, 0 }, EPERM },
    { "keyctl", SYS_keyctl, { KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0 }, EPERM },
    { "add_key",
      SYS_add_key,
      { L ("user"), L ("airlock-test"), L ("x"), 1, KEY_SPEC_PROCESS_KEYRING },
      EPERM },
    { "request_key", SYS_request_key, { L ("user"), L ("airlock-none"), 0, 0 }, EPERM },
    { "bpf", SYS_bpf, { 0, 0, 0 }, EPERM },
    { "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 }, EPERM },
    { "ptrace(PTRACE_ATTACH)", SYS_ptrace, { PTRACE_ATTACH, sleeper, 0, 0 }, EPERM },
    { "process_vm_readv", SYS_process_vm_readv, { sleeper, L (&iov), 1, L (&iov), 1, 0 }, EPERM },
    { "userfaultfd", SYS_userfaultfd, { O_CLOEXEC }, EPERM },
    { "io_uring_setup", SYS_io_uring_setup, { 1, 0 }, EPERM },
    { "init_module", SYS_init_module, { 0, 0, L ("") }, EPERM },
    { "finit_module", SYS_finit_module, { -1, L (""), 0 }, EPERM },
    { "delete_module", SYS_delete_module, { L ("airlock_no_such_module"), O_NONBLOCK }, EPERM },
    /* bad magic: the kernel would refuse after its capability check */
    { "reboot", SYS_reboot, { 0, 0, 0, 0 }, EPERM },
    /* an invalid architecture in the flags: refused before anything happens */
    { "kexec_load", SYS_kexec_load, { 0, 0, 0, 0x12340000 }, EPERM },
    { "kexec_file_load", SYS_kexec_file_load, { -1, -1, 0, L (""), 0x7fffffff }, EPERM },
    { "acct", SYS_acct, { L ("/nonexistent-airlock/acct") }, EPERM },
    { "swapon", SYS_swapon, { L ("/nonexistent-airlock"), 0 }, EPERM },
    { "swapoff", SYS_swapoff, { L ("/nonexistent-airlock") }, EPERM },
    { "settimeofday", SYS_settimeofday, { 0, 0 }, EPERM },
    { "clock_settime", SYS_clock_settime, { CLOCK_MONOTONIC, L (&ts) }, EPERM },
    { "adjtimex", SYS_adjtimex, { L (&tx) }, EPERM },
    { "clock_adjtime", SYS_clock_adjtime, { CLOCK_REALTIME, L (&tx) }, EPERM },
    { "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 }, EPERM },
    { "quotactl", SYS_quotactl, { 0, 0, 0, 0 }, EPERM },
#ifdef SYS_lookup_dcookie
    { "lookup_dcookie", SYS_lookup_dcookie, { 0, 0, 0 }, EPERM },
#endif
#ifdef SYS_nfsservctl
    { "nfsservctl", SYS_nfsservctl, { 0, 0, 0 }, EPERM },
#endif
#ifdef SYS_iopl
    { "iopl", SYS_iopl, { 0 }, EPERM },
    { "ioperm", SYS_ioperm, { 0, 0, 0 }, EPERM },
#endif
    { "syslog", SYS_syslog, { 10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0, 0 }, EPERM },
    { "vhangup", SYS_vhangup, { 0 }, EPERM },
    { "personality(ADDR_NO_RANDOMIZE)", SYS_personality, { 0x0040000 }, EPERM },
    { "ioctl(TIOCSTI)", SYS_ioctl, { null_fd, TIOCSTI, L (&c) }, EPERM },
    { "ioctl(TIOCSTI | 1 << 32)",
      SYS_ioctl,
      { null_fd, (long) (TIOCSTI | (1UL << 32)), L (&c) },
      EPERM },
    { "ioctl(TIOCSTI sign-extended)",
      SYS_ioctl,
      { null_fd, (long) (TIOCSTI | 0xffffffff00000000UL), L (&c) },
      EPERM },
  };

  if (child_load_default (msg, size))
    return 1;

  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    {
      const struct denied_call *d = &calls[i];
      errno = 0;
      long r = syscall (d->nr, d->a[0], d->a[1], d->a[2], d->a[3], d->a[4], d->a[5]);
      int e = errno;
      if (r == 0 && d->nr == SYS_clone)
        child_exit (0); /* the filter let a clone through: this is the new child */
      if (r > 0 && d->nr == SYS_clone)
        wait_for ((pid_t) r);
      CHECK (r == -1 && e == d->expected_errno, "%s: expected errno %d (%s), got %ld errno %d (%s)",
             d->what, d->expected_errno, strerrorname_np (d->expected_errno), r, e,
             strerrorname_np (e));
    }
  kill (sleeper, SIGKILL);
  wait_for (sleeper);
  return 0;
}

Test (seccomp, default_profile_denies_privileged_calls, .timeout = 60, SCRATCH)
{
  struct child_result res = run_child (child_default_denied, scratch);
  remove_scratch ();
  cr_assert (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0,
             "child failed (status %#x): %s", res.status, res.msg);
}

Test (seccomp, default_profile_shape)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  cr_assert_eq (al_seccomp_default_profile (&ctx, &err), 0, "%s", err.msg);
  uint32_t value = 0;
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_ACT_DEFAULT, &value), 0);
  cr_assert_eq (value, SCMP_ACT_ERRNO (EPERM));
  cr_assert_eq (seccomp_attr_get (ctx, SCMP_FLTATR_CTL_NNP, &value), 0);
  cr_assert_eq (value, 0);
#if defined(__x86_64__)
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_X86), 0);
  cr_assert_eq (seccomp_arch_exist (ctx, SCMP_ARCH_X32), 0);
#endif
  seccomp_release (ctx);
}

/* The sandbox loads the profile compiled at build time: it must be exactly
 * what libseccomp makes of al_seccomp_default_profile() now. */
Test (seccomp_default, build_time_bpf_is_the_profile)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  cr_assert_eq (al_seccomp_default_profile (&ctx, &err), 0, "%s", err.msg);
  int fd = memfd_create ("bpf", MFD_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert_eq (seccomp_export_bpf (ctx, fd), 0);
  seccomp_release (ctx);
  off_t len = lseek (fd, 0, SEEK_END);
  const struct sock_fprog *prog = al_seccomp_default_bpf ();
  cr_assert_eq ((size_t) len, prog->len * sizeof (struct sock_filter),
                "libseccomp exports %lld bytes, the build-time program has %u instructions",
                (long long) len, prog->len);
  unsigned char *buf = malloc ((size_t) len);
  cr_assert_eq (pread (fd, buf, (size_t) len, 0), len);
  cr_assert_eq (memcmp (buf, prog->filter, (size_t) len), 0, "the build-time program is stale");
  free (buf);
  close (fd);
}

/* Loaded raw, it denies what the profile denies, with EPERM. */
Test (seccomp_default, build_time_bpf_denies_with_eperm)
{
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      struct al_error err = { 0 };
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || al_seccomp_load_bpf (al_seccomp_default_bpf (), &err) < 0)
        _exit (10);
      if (syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, -1, 0) != -1 || errno != EPERM)
        _exit (11);
      if (unshare (CLONE_NEWUSER) != -1 || errno != EPERM)
        _exit (12);
      if (getpid () <= 0)
        _exit (13);
      _exit (0);
    }
  int st;
  cr_assert_eq (waitpid (pid, &st, 0), pid);
  cr_assert (WIFEXITED (st) && WEXITSTATUS (st) == 0, "child status %#x", st);
}
