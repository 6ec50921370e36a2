/* cmd_sandbox.c — `airlock sandbox ...`; the work is in sandbox.c (one
 * run) and named.c (named sandboxes).
 *
 *   sandbox run [OPTION...] [--rollback P] [--commit-to DIR] [--] PROGRAM [ARG...]
 *   sandbox create NAME [OPTION...] [--owner O] [--label K=V] [--expire D] [--backend B]
 *                  [--init -- PROGRAM [ARG...]]
 *   sandbox exec NAME [OPTION...] [--] PROGRAM [ARG...]
 *   sandbox snapshot NAME [TAG] | rollback NAME [TAG] [--to-base] | diff NAME [TAG]
 *   sandbox commit NAME --to DIR | clone SRC NEW | destroy NAME
 *   sandbox list [--format json] | inspect NAME | gc
 *
 * Every failure of airlock itself, a bad option included, exits 125 (the
 * program's own statuses are the rest of the range).
 */
#include "config.h"

#include <argp.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "named.h"
#include "sandbox.h"
#include "units.h"

enum
{
  OPT_ROOTFS = 1000,
  OPT_BIND,
  OPT_TMPFS,
  OPT_WORKDIR,
  OPT_READ_ONLY,
  OPT_CLEAR_ENV,
  OPT_MEMORY,
  OPT_MEMORY_SWAP,
  OPT_PIDS,
  OPT_CPUS,
  OPT_CPU_TIME,
  OPT_TIMEOUT,
  OPT_NOFILE,
  OPT_FSIZE,
  OPT_DISK,
  OPT_OUTPUT_LIMIT,
  OPT_CAP_ADD,
  OPT_SECCOMP,
  OPT_NETWORK,
  OPT_RESULT,
  OPT_RESULT_FORMAT,
  OPT_ROLLBACK,
  OPT_COMMIT_TO,
  OPT_OWNER,
  OPT_LABEL,
  OPT_EXPIRE,
  OPT_BACKEND,
  OPT_INIT,
  OPT_TO_BASE,
  OPT_TO,
  OPT_FORMAT,
};

static struct argp_option run_options[] = {
  { NULL, 0, NULL, 0, "Root filesystem:", 1 },
  { "rootfs", OPT_ROOTFS, "DIR", 0,
    "an image directory as / (default: the host's /usr, /etc, /bin, /sbin, /lib* read-only)", 1 },
  { "bind", OPT_BIND, "SRC:DST[:ro]", 0,
    "bind-mount a host path into the sandbox (repeatable; SRC may be relative, e.g. .:/work)", 1 },
  { "tmpfs", OPT_TMPFS, "DST[:SIZE]", 0, "a fresh tmpfs at DST (repeatable)", 1 },
  { "workdir", OPT_WORKDIR, "DIR", 0, "working directory inside (default /)", 1 },
  { "read-only", OPT_READ_ONLY, NULL, 0, "no writable layer: / is read-only (/tmp stays)", 1 },
  { "env", 'e', "K=V", 0,
    "set a variable (repeatable; K alone removes it); the caller's environment is passed "
    "unless --clear-env",
    1 },
  { "clear-env", OPT_CLEAR_ENV, NULL, 0, "start from an empty environment (PATH, HOME=/tmp)", 1 },
  { "user", 'u', "UID[:GID]", 0, "run as this user inside (default 0, which owns nothing on the host)",
    1 },
  { NULL, 0, NULL, 0, "Limits (SIZE: 512M, 1G, 64K...; DURATION: 30s, 500ms, 2m, 1.5):", 2 },
  { "memory", OPT_MEMORY, "SIZE", 0, "memory limit of the whole sandbox (default 512M; 0 = none)", 2 },
  { "memory-swap", OPT_MEMORY_SWAP, "SIZE", 0, "memory + swap limit (default: no swap beyond the host's policy)", 2 },
  { "pids", OPT_PIDS, "N", 0, "most processes and threads at once (default 100)", 2 },
  { "cpus", OPT_CPUS, "N", 0, "CPU bandwidth, in CPUs (e.g. 0.5; default: unlimited)", 2 },
  { "cpu-time", OPT_CPU_TIME, "DURATION", 0, "CPU time of the whole sandbox, then TO (default: none)", 2 },
  { "timeout", OPT_TIMEOUT, "DURATION", 0, "wall-clock limit, then TO and exit 124 (default 30s; 0 = none)", 2 },
  { "nofile", OPT_NOFILE, "N", 0, "RLIMIT_NOFILE (default: inherited)", 2 },
  { "fsize", OPT_FSIZE, "SIZE", 0, "largest file the program may write (RLIMIT_FSIZE)", 2 },
  { "disk", OPT_DISK, "SIZE", 0, "size of the writable layer, and of /tmp (default 1G)", 2 },
  { "output-limit", OPT_OUTPUT_LIMIT, "SIZE", 0,
    "bytes passed per stream (stdout, stderr), the rest is counted and dropped (default 1M; 0 = none)", 2 },
  { NULL, 0, NULL, 0, "Security and network:", 3 },
  { "cap-add", OPT_CAP_ADD, "CAP", 0, "keep this capability (repeatable; all are dropped by default)", 3 },
  { "seccomp", OPT_SECCOMP, "FILE|unconfined", 0,
    "an OCI seccomp profile (LinuxSeccomp JSON) instead of the built-in one, or none", 3 },
  { "network", OPT_NETWORK, "MODE", 0,
    "none (default: own namespace, lo down), loopback (lo up), private (veth on a /30, no NAT; "
    "the host's own services on 0.0.0.0 are reachable), host (the host's network: NOT isolated)",
    3 },
  { NULL, 0, NULL, 0, "Result:", 4 },
  { "result", OPT_RESULT, "FILE", 0, "write the result record to FILE (- for stdout, after the program's output; JSON unless --result-format kv)", 4 },
  { "result-format", OPT_RESULT_FORMAT, "FORMAT", 0, "json (default) or kv (isolate-style key:value)", 4 },
  { "verbose", 'v', NULL, 0, "print a one-line summary to stderr at the end", 4 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

struct run_args
{
  struct al_sandbox_opts o;
  struct al_sandbox_bind *binds;
  struct al_sandbox_tmpfs *tmpfs;
  const char **env;
  const char **caps;
  /* run */
  enum al_named_rollback rollback;
  const char *commit_to;
  /* create, exec */
  const char *name;
  const char *owner;
  const char **labels;
  size_t n_labels;
  uint64_t expire_ms;
  enum al_snap_backend backend;
  bool want_program; /* run, exec; create --init */
  bool want_name;    /* create, exec */
  bool init;         /* create --init */
};

static void *
grow (void *v, size_t n, size_t size)
{
  void *nv = realloc (v, (n + 1) * size);
  if (nv == NULL)
    {
      fprintf (stderr, "airlock: sandbox run: out of memory\n");
      exit (AL_SANDBOX_EXIT_FAILURE);
    }
  return nv;
}

/* A bad option: one line, exit 125 (nothing exists yet). */
static void
fail (struct argp_state *state, const struct al_error *err)
{
  const char *verb = state && state->name ? state->name : "airlock sandbox run";
  if (strncmp (verb, "airlock ", 8) == 0)
    verb += 8;
  fprintf (stderr, "airlock: %s: %s\n", verb, err->msg);
  exit (AL_SANDBOX_EXIT_FAILURE);
}

static void
parse_bind (struct run_args *a, char *arg, struct argp_state *state)
{
  struct al_error err = { 0 };
  char *copy = strdup (arg);
  char *dst = copy ? strchr (copy, ':') : NULL;
  if (dst == NULL || dst == copy || dst[1] == '\0')
    {
      al_error_reason (&err, EINVAL, "--bind `%s`: use SRC:DST or SRC:DST:ro", arg);
      fail (state, &err);
    }
  *dst++ = '\0';
  bool ro = false;
  char *mode = strchr (dst, ':');
  if (mode)
    {
      *mode++ = '\0';
      if (strcmp (mode, "ro") == 0)
        ro = true;
      else if (strcmp (mode, "rw") != 0)
        {
          al_error_reason (&err, EINVAL, "--bind `%s`: unknown mode `%s` (use ro or rw)", arg, mode);
          fail (state, &err);
        }
    }
  if (dst[0] != '/')
    {
      al_error_reason (&err, EINVAL, "--bind `%s`: the destination must be absolute", arg);
      fail (state, &err);
    }
  char *src = realpath (copy, NULL);
  if (src == NULL)
    {
      al_error_set (&err, errno, "--bind `%s`: source `%s`", arg, copy);
      fail (state, &err);
    }
  a->binds = grow (a->binds, a->o.n_binds, sizeof *a->binds);
  a->binds[a->o.n_binds++] = (struct al_sandbox_bind){ .src = src, .dst = strdup (dst), .read_only = ro };
  free (copy);
}

static void
parse_tmpfs (struct run_args *a, char *arg, struct argp_state *state)
{
  struct al_error err = { 0 };
  char *dst = strdup (arg);
  char *size = dst ? strchr (dst, ':') : NULL;
  uint64_t bytes = 0;
  if (size)
    {
      *size++ = '\0';
      if (al_parse_size ("--tmpfs", size, &bytes, &err) < 0)
        fail (state, &err);
    }
  if (dst == NULL || dst[0] != '/')
    {
      al_error_reason (&err, EINVAL, "--tmpfs `%s`: the destination must be absolute", arg);
      fail (state, &err);
    }
  a->tmpfs = grow (a->tmpfs, a->o.n_tmpfs, sizeof *a->tmpfs);
  a->tmpfs[a->o.n_tmpfs++] = (struct al_sandbox_tmpfs){ .dst = dst, .size = bytes };
}

static void
parse_user (struct run_args *a, char *arg, struct argp_state *state)
{
  struct al_error err = { 0 };
  uint64_t uid, gid;
  cleanup_free char *copy = strdup (arg);
  char *colon = copy ? strchr (copy, ':') : NULL;
  if (colon)
    *colon++ = '\0';
  if (copy == NULL || al_parse_uint ("--user", copy, 0, AL_SANDBOX_IDS - 1, &uid, &err) < 0
      || al_parse_uint ("--user", colon ? colon : copy, 0, AL_SANDBOX_IDS - 1, &gid, &err) < 0)
    fail (state, &err);
  a->o.has_user = true;
  a->o.uid = (uint32_t) uid;
  a->o.gid = (uint32_t) gid;
}

static void
parse_cap (struct run_args *a, char *arg, struct argp_state *state)
{
  cap_value_t v;
  char name[64];
  snprintf (name, sizeof name, "%s%s", strncasecmp (arg, "CAP_", 4) == 0 ? "" : "CAP_", arg);
  for (char *p = name; *p; p++)
    *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
  if (cap_from_name (name, &v) < 0)
    {
      struct al_error err = { 0 };
      al_error_reason (&err, EINVAL, "--cap-add: unknown capability `%s`", arg);
      fail (state, &err);
    }
  a->caps = grow (a->caps, a->o.n_cap_add, sizeof *a->caps);
  a->caps[a->o.n_cap_add++] = strdup (name);
}

static error_t
parse_run (int key, char *arg, struct argp_state *state)
{
  struct run_args *a = state->input;
  struct al_sandbox_opts *o = &a->o;
  struct al_error err = { 0 };
  int r = 0;

  switch (key)
    {
    case OPT_ROOTFS:
      o->rootfs = arg;
      break;
    case OPT_BIND:
      parse_bind (a, arg, state);
      break;
    case OPT_TMPFS:
      parse_tmpfs (a, arg, state);
      break;
    case OPT_WORKDIR:
      if (arg[0] != '/')
        {
          al_error_reason (&err, EINVAL, "--workdir `%s`: must be absolute", arg);
          r = -1;
        }
      o->workdir = arg;
      break;
    case OPT_READ_ONLY:
      o->read_only = true;
      break;
    case 'e':
      a->env = grow (a->env, o->n_env, sizeof *a->env);
      a->env[o->n_env++] = arg;
      break;
    case OPT_CLEAR_ENV:
      o->clear_env = true;
      break;
    case 'u':
      parse_user (a, arg, state);
      break;
    case OPT_MEMORY:
      r = al_parse_size ("--memory", arg, &o->memory, &err);
      if (r == 0 && o->memory > 0 && o->memory < (1u << 20))
        r = al_error_reason (&err, EINVAL, "--memory `%s`: less than 1M cannot start anything", arg);
      break;
    case OPT_MEMORY_SWAP:
      r = al_parse_size ("--memory-swap", arg, &o->memory_swap, &err);
      break;
    case OPT_PIDS:
      r = al_parse_uint ("--pids", arg, 1, INT32_MAX, &o->pids, &err);
      break;
    case OPT_CPUS:
      {
        /* A plain decimal number of CPUs: "2", "0.5". */
        char *end;
        double cpus = strtod (arg, &end);
        if (strspn (arg, "0123456789.") != strlen (arg) || *end != '\0' || cpus < 0.001
            || cpus > 100000)
          r = al_error_reason (&err, EINVAL, "--cpus `%s`: use a number of CPUs above 0, e.g. 0.5",
                               arg);
        else
          o->cpus_milli = (uint64_t) (cpus * 1000 + 0.5);
        break;
      }
    case OPT_CPU_TIME:
      r = al_parse_duration ("--cpu-time", arg, &o->cpu_ms, &err);
      break;
    case OPT_TIMEOUT:
      r = al_parse_duration ("--timeout", arg, &o->wall_ms, &err);
      break;
    case OPT_NOFILE:
      r = al_parse_uint ("--nofile", arg, 1, 1u << 20, &o->nofile, &err);
      break;
    case OPT_FSIZE:
      r = al_parse_size ("--fsize", arg, &o->fsize, &err);
      break;
    case OPT_DISK:
      r = al_parse_size ("--disk", arg, &o->disk, &err);
      if (r == 0 && o->disk < 4096)
        r = al_error_reason (&err, EINVAL, "--disk `%s`: at least 4K", arg);
      break;
    case OPT_OUTPUT_LIMIT:
      r = al_parse_size ("--output-limit", arg, &o->output_limit, &err);
      break;
    case OPT_CAP_ADD:
      parse_cap (a, arg, state);
      break;
    case OPT_SECCOMP:
      o->seccomp = arg;
      break;
    case OPT_NETWORK:
      if (strcmp (arg, "none") == 0)
        o->network = AL_SANDBOX_NET_NONE;
      else if (strcmp (arg, "loopback") == 0)
        o->network = AL_SANDBOX_NET_LOOPBACK;
      else if (strcmp (arg, "host") == 0)
        o->network = AL_SANDBOX_NET_HOST;
      else if (strcmp (arg, "private") == 0)
        o->network = AL_SANDBOX_NET_PRIVATE;
      else
        r = al_error_reason (&err, EINVAL,
                             "--network: unknown mode `%s` (use none, loopback, private or host)", arg);
      break;
    case OPT_RESULT:
      o->result_path = arg;
      break;
    case OPT_RESULT_FORMAT:
      if (strcmp (arg, "kv") == 0)
        o->result_kv = true;
      else if (strcmp (arg, "json") == 0)
        o->result_kv = false;
      else
        r = al_error_reason (&err, EINVAL, "--result-format: unknown format `%s` (use json or kv)", arg);
      break;
    case 'v':
      o->verbose = true;
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  if (r < 0)
    fail (state, &err);
  return 0;
}

/* The options every verb that runs something shares (a child parser). */
static struct argp common_argp = { run_options, parse_run, NULL, NULL, NULL, NULL, NULL };

static const struct argp_child common_children[] = { { &common_argp, 0, NULL, 0 },
                                                     { NULL, 0, NULL, 0 } };

static struct argp_option run_extra[] = {
  { NULL, 0, NULL, 0, "Changes to the root:", 5 },
  { "rollback", OPT_ROLLBACK, "POLICY", 0,
    "always (default: discard every change), on-failure (keep them only if the program exits 0), "
    "never (keep them); kept changes stay in a named sandbox `run-...`",
    5 },
  { "commit-to", OPT_COMMIT_TO, "DIR", 0,
    "on exit 0, fold the changes into DIR (an image directory; made if missing); on any other "
    "outcome DIR is untouched",
    5 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static struct argp_option create_extra[] = {
  { NULL, 0, NULL, 0, "Named sandbox:", 5 },
  { "owner", OPT_OWNER, "NAME", 0, "who it belongs to (default: the caller, $SUDO_USER or $USER)",
    5 },
  { "label", OPT_LABEL, "KEY=VALUE", 0, "a label (repeatable)", 5 },
  { "expire", OPT_EXPIRE, "DURATION", 0, "`sandbox gc` destroys it after this long (default: never)",
    5 },
  { "backend", OPT_BACKEND, "NAME", 0,
    "overlay or btrfs (default: btrfs when the state directory is on btrfs, else overlay)", 5 },
  { "init", OPT_INIT, NULL, 0,
    "keep a long-running process in it: the PROGRAM after -- (no wall-clock or CPU-time limit; "
    "output to its init.log); every exec then joins it",
    5 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static void __attribute__ ((format (printf, 2, 3)))
verb_fail (struct argp_state *state, const char *fmt, ...)
{
  char msg[AL_ERROR_MSG_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  struct al_error err = { 0 };
  al_error_reason (&err, EINVAL, "%s", msg);
  fail (state, &err);
}

static error_t
parse_verb (int key, char *arg, struct argp_state *state)
{
  struct run_args *a = state->input;
  struct al_error err = { 0 };
  switch (key)
    {
    case ARGP_KEY_INIT:
      state->child_inputs[0] = a;
      break;
    case OPT_ROLLBACK:
      if (strcmp (arg, "always") == 0)
        a->rollback = AL_ROLLBACK_ALWAYS;
      else if (strcmp (arg, "on-failure") == 0)
        a->rollback = AL_ROLLBACK_ON_FAILURE;
      else if (strcmp (arg, "never") == 0)
        a->rollback = AL_ROLLBACK_NEVER;
      else
        verb_fail (state, "--rollback: unknown policy `%s` (use always, on-failure or never)", arg);
      break;
    case OPT_COMMIT_TO:
      a->commit_to = arg;
      break;
    case OPT_OWNER:
      a->owner = arg;
      break;
    case OPT_LABEL:
      if (strchr (arg, '=') == NULL || arg[0] == '=')
        verb_fail (state, "--label `%s`: use KEY=VALUE", arg);
      a->labels = grow (a->labels, a->n_labels, sizeof *a->labels);
      a->labels[a->n_labels++] = arg;
      break;
    case OPT_EXPIRE:
      if (al_parse_duration ("--expire", arg, &a->expire_ms, &err) < 0)
        fail (state, &err);
      if (a->expire_ms == 0)
        verb_fail (state, "--expire `%s`: must be more than 0", arg);
      break;
    case OPT_BACKEND:
      if (strcmp (arg, "overlay") == 0)
        a->backend = AL_SNAP_OVERLAY;
      else if (strcmp (arg, "btrfs") == 0)
        a->backend = AL_SNAP_BTRFS;
      else
        verb_fail (state, "--backend: unknown backend `%s` (use overlay or btrfs)", arg);
      break;
    case OPT_INIT:
      a->init = true;
      a->want_program = true;
      break;
    case ARGP_KEY_ARG:
      if (a->want_name && a->name == NULL)
        {
          if (al_named_check_name (arg, &err) < 0)
            fail (state, &err);
          a->name = arg;
          break;
        }
      if (!a->want_program && a->want_name)
        verb_fail (state, "unexpected argument `%s` (a long-running process: --init -- PROGRAM [ARG...])", arg);
      if (!a->want_program)
        verb_fail (state, "unexpected argument `%s`", arg);
      /* The program: this argument and everything after it. */
      a->o.argv = &state->argv[state->next - 1];
      state->next = state->argc;
      break;
    case ARGP_KEY_END:
      if (a->init && a->o.argv == NULL)
        verb_fail (state, "--init: missing PROGRAM (--init -- PROGRAM [ARG...])");
      if (a->want_program && a->o.argv == NULL)
        verb_fail (state, "missing PROGRAM (%s [OPTION...] -- PROGRAM [ARG...])", state->argv[0]);
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp run_argp = {
  run_extra, parse_verb, "[--] PROGRAM [ARG...]",
  "Run PROGRAM in a fresh sandbox under limits and say exactly how it ended.\v"
  "Defaults: the host's system directories read-only under a throw-away writable layer, "
  "fresh /tmp, /dev, /proc; a user namespace (root inside owns nothing on the host); "
  "no network; every capability dropped, no_new_privs, the built-in seccomp profile; "
  "512M memory, 100 pids, 30s wall clock, 1M of output per stream.  Nothing is left "
  "afterwards.\n\n"
  "Exit status: the program's own; 128+N if killed by signal N; 124 on a wall-clock or "
  "CPU timeout; 125 if airlock failed (bad option, setup, program not found); 126 if the "
  "program cannot be executed; 127 if its interpreter is missing.\n\n"
  "Result statuses: OK, RE (non-zero exit), SG (signal), TO (timeout), ML (memory "
  "limit), OL (output cut), XX (airlock failed).  See airlock(8).",
  common_children, NULL, NULL,
};

static struct argp create_argp = {
  create_extra, parse_verb, "NAME [--init -- PROGRAM [ARG...]]",
  "Create the named sandbox NAME: a root (the host's system directories, or --rootfs) whose "
  "changes persist from one `sandbox exec` to the next, with snapshots, rollback, diff, commit "
  "and clone.  The options are kept: every exec starts from them.  "
  "With --init, PROGRAM after -- runs in it from now on (snapshot, rollback, commit and clone "
  "start it again; destroy stops it).\v"
  "Then: sandbox exec NAME -- PROGRAM; sandbox snapshot NAME [TAG]; sandbox rollback NAME "
  "[TAG]; sandbox diff NAME; sandbox commit NAME --to DIR; sandbox clone NAME NEW; sandbox "
  "destroy NAME.  See airlock(8).",
  common_children, NULL, NULL,
};

static struct argp exec_argp = {
  NULL, parse_verb, "NAME [--] PROGRAM [ARG...]",
  "Run PROGRAM in the named sandbox NAME, with the options it was created with, then these "
  "(e.g. --timeout, --result): the same limits, result record and exit status as `sandbox "
  "run`, but what it writes stays in the sandbox.  One exec at a time: a second waits.  "
  "While the sandbox's init (create --init) runs, an exec joins it instead (its namespaces, "
  "root, /tmp and cgroup), with its own timeout, CPU-time limit and record, alongside other "
  "execs.",
  common_children, NULL, NULL,
};

static void
defaults (struct run_args *a, struct al_cli *cli)
{
  *a = (struct run_args){
    .o = {
      .root = cli->root,
      .memory = 512ull << 20,
      .pids = 100,
      .wall_ms = 30000,
      .disk = 1ull << 30,
      .output_limit = 1ull << 20,
      .network = AL_SANDBOX_NET_NONE,
      .log = &cli->log,
    },
    .backend = AL_SNAP_AUTO,
  };
}

/* Parse argv into a (which may hold options already: an exec's start
 * from its sandbox's). */
static int
parse_args (struct argp *argp, int argc, char **argv, struct run_args *a, struct al_error *err)
{
  a->binds = a->o.binds;
  a->tmpfs = a->o.tmpfs;
  a->env = a->o.env;
  a->caps = a->o.cap_add;
  argp_err_exit_status = AL_SANDBOX_EXIT_FAILURE;
  al_cli_parse (argp, argc, argv, a);
  a->o.binds = a->binds;
  a->o.tmpfs = a->tmpfs;
  a->o.env = a->env;
  a->o.cap_add = a->caps;
  if (a->o.memory_swap && a->o.memory && a->o.memory_swap < a->o.memory)
    return al_error_reason (err, EINVAL, "--memory-swap: must be at least --memory");
  return 0;
}

static void
free_args (struct run_args *a)
{
  for (size_t i = 0; i < a->o.n_binds; i++)
    {
      free (a->binds[i].src);
      free (a->binds[i].dst);
    }
  for (size_t i = 0; i < a->o.n_tmpfs; i++)
    free (a->tmpfs[i].dst);
  for (size_t i = 0; i < a->o.n_cap_add; i++)
    free ((char *) a->caps[i]);
  free (a->binds);
  free (a->tmpfs);
  free (a->env);
  free (a->caps);
  free (a->labels);
}

/* al_sandbox_run's code to the verb's return (main prints err). */
static int
run_code (int code, const char *verb, struct al_error *err)
{
  if (code == AL_SANDBOX_EXIT_FAILURE && err->msg[0])
    return -EINVAL; /* main prints err and exits with the verb's failure code */
  if (code == 126 && err->msg[0])
    fprintf (stderr, "airlock: %s: %s\n", verb, err->msg);
  return code;
}

static int
sandbox_run (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct run_args a;
  defaults (&a, cli);
  a.want_program = true;
  int code = parse_args (&run_argp, argc, argv, &a, err);
  if (code == 0)
    code = run_code (al_named_run_once (&a.o, a.rollback, a.commit_to, err), "sandbox run", err);
  free_args (&a);
  return code;
}

static int
sandbox_create (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct run_args a;
  defaults (&a, cli);
  a.want_name = true;
  int r = parse_args (&create_argp, argc, argv, &a, err);
  if (r == 0 && a.name == NULL)
    r = al_error_reason (err, EINVAL, "missing NAME (airlock sandbox create NAME [OPTION...])");
  if (r == 0)
    {
      struct al_named_create_opts co = {
        .root = cli->root,
        .name = a.name,
        .owner = a.owner,
        .labels = a.labels,
        .n_labels = a.n_labels,
        .expire_ms = a.expire_ms,
        .backend = a.backend,
        .run = &a.o,
        .init = a.init ? a.o.argv : NULL,
        .log = &cli->log,
      };
      r = al_named_create (&co, err);
    }
  free_args (&a);
  return r < 0 ? r : 0;
}

/* The NAME right after the verb, before any option (exec, snapshot...). */
static int
take_name (int argc, char **argv, const char *usage, struct al_error *err)
{
  if (argc < 2 || argv[1][0] == '-')
    {
      if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        {
          printf ("Usage: %s\n", usage);
          exit (0);
        }
      return al_error_reason (err, EINVAL, "missing NAME (%s)", usage);
    }
  return al_named_check_name (argv[1], err);
}

static int
sandbox_exec (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  int r = argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
              ? 0
              : take_name (argc, argv, "airlock sandbox exec NAME [OPTION...] -- PROGRAM [ARG...]",
                           err);
  if (r < 0)
    return r;
  struct run_args a;
  defaults (&a, cli);
  a.want_program = true;
  a.want_name = true;
  struct al_named *n = NULL;
  if (argc >= 2 && argv[1][0] != '-')
    {
      if ((r = al_named_open (cli->root, argv[1], &n, err)) < 0
          || (r = al_named_load_opts (n, &a.o, err)) < 0)
        {
          al_named_free (n);
          free_args (&a);
          return r;
        }
    }
  int code = parse_args (&exec_argp, argc, argv, &a, err);
  if (code == 0)
    code = run_code (al_named_exec (n, &a.o, err), "sandbox exec", err);
  free_args (&a);
  al_named_free (n);
  return code;
}

/* snapshot, rollback, diff, commit, clone, destroy, inspect: NAME, then
 * a few arguments of their own. */
static int
sandbox_op (struct al_cli *cli, const char *sub, int argc, char **argv, struct al_error *err)
{
  static const struct
  {
    const char *verb, *usage;
    int min_args, max_args; /* after NAME */
  } ops[] = {
    { "snapshot", "airlock sandbox snapshot NAME [TAG]", 0, 1 },
    { "rollback", "airlock sandbox rollback NAME [TAG | --to-base]", 0, 1 },
    { "diff", "airlock sandbox diff NAME [TAG]", 0, 1 },
    { "commit", "airlock sandbox commit NAME --to DIR", 2, 2 },
    { "clone", "airlock sandbox clone SRC NEW", 1, 1 },
    { "destroy", "airlock sandbox destroy NAME", 0, 0 },
    { "inspect", "airlock sandbox inspect NAME", 0, 0 },
  };
  size_t k = 0;
  while (strcmp (ops[k].verb, sub) != 0)
    k++;
  int r = take_name (argc, argv, ops[k].usage, err);
  if (r < 0)
    return r;
  bool to_base = false;
  const char *args[2] = { NULL, NULL };
  int n_args = 0;
  for (int i = 2; i < argc; i++)
    {
      if (strcmp (sub, "rollback") == 0 && strcmp (argv[i], "--to-base") == 0)
        to_base = true;
      else if (n_args < 2 && (argv[i][0] != '-' || strcmp (argv[i], "--to") == 0 || strncmp (argv[i], "--to=", 5) == 0))
        {
          if (strncmp (argv[i], "--to=", 5) == 0)
            {
              args[n_args++] = "--to";
              if (n_args < 2)
                args[n_args++] = argv[i] + 5;
            }
          else
            args[n_args++] = argv[i];
        }
      else
        return al_error_reason (err, EINVAL, "unexpected argument `%s` (%s)", argv[i], ops[k].usage);
    }
  if (n_args < ops[k].min_args || n_args > ops[k].max_args
      || (strcmp (sub, "commit") == 0 && strcmp (args[0], "--to") != 0)
      || (to_base && n_args > 0))
    return al_error_reason (err, EINVAL, "usage: %s", ops[k].usage);
  struct al_named *n = NULL;
  if ((r = al_named_open (cli->root, argv[1], &n, err)) < 0)
    return r;
  char tag[AL_SNAP_TAG_MAX + 1] = "";
  if (strcmp (sub, "snapshot") == 0)
    {
      r = al_named_snapshot (n, args[0], tag, sizeof tag, err);
      if (r == 0)
        printf ("%s\n", tag);
    }
  else if (strcmp (sub, "rollback") == 0)
    r = al_named_rollback (n, args[0], to_base, err);
  else if (strcmp (sub, "diff") == 0)
    r = al_named_diff (n, args[0], stdout, err);
  else if (strcmp (sub, "commit") == 0)
    r = al_named_commit (n, args[1], err);
  else if (strcmp (sub, "clone") == 0)
    r = al_named_clone (n, args[0], err);
  else if (strcmp (sub, "destroy") == 0)
    r = al_named_destroy (n, err);
  else
    r = al_named_inspect (n, stdout, err);
  al_named_free (n);
  return r < 0 ? r : 0;
}

static int
sandbox_list (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  bool json = false;
  for (int i = 1; i < argc; i++)
    {
      const char *f = NULL;
      if (strcmp (argv[i], "--format") == 0 && i + 1 < argc)
        f = argv[++i];
      else if (strncmp (argv[i], "--format=", 9) == 0)
        f = argv[i] + 9;
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          printf ("Usage: airlock sandbox list [--format table|json]\n");
          return 0;
        }
      if (f == NULL || (strcmp (f, "json") != 0 && strcmp (f, "table") != 0))
        return al_error_reason (err, EINVAL, "unexpected argument `%s` (use --format table|json)",
                                f ? f : argv[i]);
      json = strcmp (f, "json") == 0;
    }
  return al_named_list (cli->root, json, stdout, err);
}

static struct argp gc_argp = {
  NULL, NULL, NULL,
  "Remove what sandbox runs whose airlock died left behind (state, cgroup after killing "
  "what it holds); destroy expired named sandboxes; finish or undo half-done snapshots, "
  "rollbacks and commits, and delete what rollbacks dropped.  Running sandboxes are left "
  "alone.",
  NULL, NULL, NULL,
};

static int
sandbox_gc (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  al_cli_parse (&gc_argp, argc, argv, NULL);
  unsigned removed = 0, destroyed = 0;
  int ret = al_sandbox_gc (cli->root, &cli->log, &removed, err);
  if (ret < 0 || (ret = al_named_gc (cli->root, &cli->log, &destroyed, err)) < 0)
    return ret;
  printf ("removed %u\n", removed + destroyed);
  return 0;
}

int
al_cmd_sandbox (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  static const char usage[]
      = "Usage: airlock sandbox run [OPTION...] -- PROGRAM [ARG...]\n"
        "       airlock sandbox create NAME [OPTION...] [--init -- PROGRAM [ARG...]]\n"
        "       airlock sandbox exec NAME [OPTION...] -- PROGRAM [ARG...]\n"
        "       airlock sandbox snapshot NAME [TAG]\n"
        "       airlock sandbox rollback NAME [TAG | --to-base]\n"
        "       airlock sandbox diff NAME [TAG]\n"
        "       airlock sandbox commit NAME --to DIR\n"
        "       airlock sandbox clone SRC NEW\n"
        "       airlock sandbox list [--format table|json]\n"
        "       airlock sandbox inspect NAME\n"
        "       airlock sandbox destroy NAME\n"
        "       airlock sandbox gc\n"
        "Run `airlock sandbox run --help` for the options.  See airlock(8).\n";
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (usage, argc < 2 ? stderr : stdout);
      return argc < 2 ? AL_SANDBOX_EXIT_FAILURE : 0;
    }
  const char *sub = argv[1];
  char name[64];
  snprintf (name, sizeof name, "airlock sandbox %s", sub);
  argv[1] = name;
  if (strcmp (sub, "run") == 0)
    {
      cli->log.verb = "sandbox run";
      return sandbox_run (cli, argc - 1, argv + 1, err);
    }
  if (strcmp (sub, "gc") == 0)
    {
      cli->log.verb = "sandbox gc";
      return sandbox_gc (cli, argc - 1, argv + 1, err);
    }
  static const char *const verbs[] = { "create", "exec", "snapshot", "rollback", "diff", "commit",
                                       "clone", "destroy", "inspect", "list" };
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp (sub, verbs[i]) == 0)
      {
        static char verb[32];
        snprintf (verb, sizeof verb, "sandbox %s", sub);
        cli->log.verb = verb;
        if (i == 0)
          return sandbox_create (cli, argc - 1, argv + 1, err);
        if (i == 1)
          return sandbox_exec (cli, argc - 1, argv + 1, err);
        if (strcmp (sub, "list") == 0)
          return sandbox_list (cli, argc - 1, argv + 1, err);
        return sandbox_op (cli, sub, argc - 1, argv + 1, err);
      }
  return al_error_reason (err, EINVAL,
                          "unknown command `%s` (use run, create, exec, snapshot, rollback, diff, "
                          "commit, clone, list, inspect, destroy or gc)",
                          sub);
}
