/* main.c — airlock's entry point: global options, then one verb.
 *
 *   airlock [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *           VERB [verb options] [ARGS...]
 *
 * Global options come before the verb, as runc and crun take them (podman
 * and containerd's shim put --root/--log/--log-format there).  The verb's
 * own argv, with argv[0] = "airlock VERB", goes to the verb's argp parser.
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli.h"

static const struct al_verb verbs[] = {
  { "create", "create a container from a bundle; it waits for start", al_cmd_create },
  { "delete", "delete a container and everything it holds", al_cmd_delete },
  { "events", "print resource usage and OOM kills of a container (JSON)", al_cmd_events },
  { "exec", "run another process in a running container", al_cmd_exec },
  { "features", "print the OCI features this runtime supports (JSON)", al_cmd_features },
  { "kill", "send a signal to a container's init (or all its processes)", al_cmd_kill },
  { "list", "list containers", al_cmd_list },
  { "pause", "freeze every process of a container", al_cmd_pause },
  { "ps", "list the processes of a container", al_cmd_ps },
  { "resume", "thaw a paused container", al_cmd_resume },
  { "run", "create and start a container, wait, exit with its status", al_cmd_run },
  { "sandbox", "run untrusted code under limits with a result record (sandbox run, gc)",
    al_cmd_sandbox, 125 },
  { "spec", "write a default config.json into a bundle", al_cmd_spec },
  { "start", "start a created container's process", al_cmd_start },
  { "state", "print a container's OCI state (JSON)", al_cmd_state },
  { "update", "change a container's resource limits", al_cmd_update },
};

enum
{
  OPT_LOG = 1000,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_CGROUP_MANAGER,
  OPT_ROOTLESS,
};

static struct argp_option global_options[] = {
  { "root", 'r', "DIR", 0, "state directory (default " AL_DEFAULT_ROOT ")", 0 },
  { "log", OPT_LOG, "FILE", 0, "also write errors and warnings to FILE", 0 },
  { "log-format", OPT_LOG_FORMAT, "FORMAT", 0, "log file format: text (default) or json", 0 },
  { "debug", OPT_DEBUG, NULL, 0, "print debug messages", 0 },
  { "systemd-cgroup", OPT_SYSTEMD_CGROUP, NULL, 0,
    "accepted for compatibility; systemd cgroup management is not supported", 0 },
  { "cgroup-manager", OPT_CGROUP_MANAGER, "MANAGER", 0, "cgroupfs (default) or disabled", 0 },
  { "rootless", OPT_ROOTLESS, "BOOL", OPTION_HIDDEN, "accepted for runc compatibility", 0 },
  { "version", 'v', NULL, 0, "print version, commit, spec version and features", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

struct global_args
{
  struct al_cli *cli;
  int verb_index;  /* index of the verb in argv, 0 if none */
  bool version;
};

static error_t
parse_global (int key, char *arg, struct argp_state *state)
{
  struct global_args *g = state->input;
  struct al_cli *cli = g->cli;

  switch (key)
    {
    case 'r':
      cli->root = arg;
      break;
    case OPT_LOG:
      cli->log_path = arg;
      break;
    case OPT_LOG_FORMAT:
      if (strcmp (arg, "json") == 0)
        cli->log_json = true;
      else if (strcmp (arg, "text") == 0)
        cli->log_json = false;
      else
        argp_error (state, "--log-format: unknown format `%s` (use text or json)", arg);
      break;
    case OPT_DEBUG:
      cli->debug = true;
      break;
    case OPT_SYSTEMD_CGROUP:
      cli->systemd_cgroup = true;
      break;
    case OPT_CGROUP_MANAGER:
      if (strcmp (arg, "cgroupfs") != 0 && strcmp (arg, "disabled") != 0 && strcmp (arg, "systemd") != 0)
        argp_error (state, "--cgroup-manager: unknown manager `%s` (use cgroupfs or disabled)", arg);
      cli->cgroup_manager = arg;
      break;
    case OPT_ROOTLESS:
      break;
    case 'v':
      g->version = true;
      break;
    case ARGP_KEY_ARG:
      /* The first non-option is the verb; everything after it is the verb's. */
      g->verb_index = state->next - 1;
      state->next = state->argc;
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static char *
help_filter (int key, const char *text, void *input)
{
  if (key != ARGP_KEY_HELP_POST_DOC)
    return (char *) text;

  size_t cap = 4096, len = 0;
  char *buf = malloc (cap);
  if (buf == NULL)
    return (char *) text;
  len += snprintf (buf + len, cap - len, "Commands:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0] && len < cap; i++)
    len += snprintf (buf + len, cap - len, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
  if (len < cap)
    snprintf (buf + len, cap - len,
              "\nRun `airlock COMMAND --help` for a command's options.  See airlock(8).");
  return buf;
}

static struct argp global_argp = {
  global_options, parse_global, "COMMAND [OPTION...] [ARG...]",
  "airlock -- an OCI runtime and sandbox for untrusted code\v", NULL, help_filter, NULL,
};

static void
print_version (void)
{
  const struct scmp_version *sv = seccomp_version ();
  printf ("airlock version %s\n", PACKAGE_VERSION);
  printf ("commit: %s\n", AL_COMMIT);
  printf ("spec: %s\n", AL_OCI_VERSION);
  printf ("+SECCOMP +CAP +MNL +BTRFSUTIL +JANSSON -SYSTEMD -SELINUX -APPARMOR\n");
  printf ("libseccomp: %u.%u.%u, jansson: %s\n", sv->major, sv->minor, sv->micro, jansson_version_str ());
}

int
al_cli_parse (const struct argp *argp, int argc, char **argv, void *input)
{
  return argp_parse (argp, argc, argv, ARGP_IN_ORDER, NULL, input);
}

int
al_cli_print_json (json_t *value, struct al_error *err)
{
  if (json_dumpf (value, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) < 0)
    return al_error_set (err, EIO, "write JSON to stdout");
  putchar ('\n');
  if (fflush (stdout) != 0)
    return al_error_set (err, errno, "write to stdout");
  return 0;
}

int
al_cli_parse_id (int key, char *arg, struct argp_state *state)
{
  const char **id = state->input;
  switch (key)
    {
    case ARGP_KEY_ARG:
      if (*id != NULL)
        argp_error (state, "unexpected argument `%s`", arg);
      *id = arg;
      return 0;
    case ARGP_KEY_END:
      if (*id == NULL)
        argp_error (state, "missing container ID");
      return 0;
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

int
main (int argc, char **argv)
{
  struct al_cli cli = { .root = AL_DEFAULT_ROOT };
  struct global_args g = { .cli = &cli };
  struct al_error err = { 0 };

  /* CVE-2019-5736: no process of a container (one without its own pid
   * namespace, while `run` or `exec` waits) may open /proc/PID/exe of
   * airlock or ptrace it; the container init inherits this until execve. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);

  argp_err_exit_status = 1;
  argp_parse (&global_argp, argc, argv, ARGP_IN_ORDER, NULL, &g);

  if (g.version)
    {
      print_version ();
      return 0;
    }
  if (g.verb_index == 0)
    {
      fprintf (stderr, "airlock: no command given\nTry `airlock --help' for more information.\n");
      return 1;
    }

  const char *name = argv[g.verb_index];
  const struct al_verb *verb = NULL;
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp (verbs[i].name, name) == 0)
      verb = &verbs[i];
  if (verb == NULL)
    {
      fprintf (stderr, "airlock: unknown command `%s'\nTry `airlock --help' for more information.\n", name);
      return 1;
    }

  cli.log.verb = verb->name;
  cli.log.debug = cli.debug;
  if (al_log_open (&cli.log, cli.log_path, cli.log_json, &err) < 0)
    {
      al_log_error (&cli.log, "%s", err.msg);
      return 1;
    }

  char progname[64];
  snprintf (progname, sizeof progname, "airlock %s", verb->name);
  char **vargv = argv + g.verb_index;
  vargv[0] = progname;

  int ret = verb->run (&cli, argc - g.verb_index, vargv, &err);
  if (ret < 0)
    al_log_error (&cli.log, "%s", err.msg);
  al_log_close (&cli.log);
  if (ret < 0)
    return verb->failure_status ? verb->failure_status : 1;
  return ret;
}
