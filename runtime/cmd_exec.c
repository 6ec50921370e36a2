/* cmd_exec.c — `airlock exec` and `airlock ps`; the work is in exec.c.
 *
 *   exec [OPTION...] ID [COMMAND [ARG...]]
 *   ps [--format table|json] ID [-- PS-OPTIONS (ignored)]
 *
 * Options of exec come before the ID, as runc takes them: everything after
 * the ID is the command, options included (`exec ID ls -l`).
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "exec.h"

enum
{
  OPT_CONSOLE_SOCKET = 1000,
  OPT_PID_FILE,
  OPT_CWD,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_PROCESS_LABEL,
  OPT_APPARMOR,
  OPT_IGNORE_PAUSED,
  OPT_FORMAT,
};

struct exec_args
{
  struct al_exec_opts opts;
  /* Growing lists behind opts.env, opts.caps, opts.additional_gids. */
  char **env;
  char **caps;
  uint32_t *gids;
  bool oom;
};

static struct argp_option exec_options[] = {
  { "process", 'p', "FILE", 0, "the process to run: a runtime-spec process object (- for stdin)", 0 },
  { "tty", 't', NULL, 0, "give the process a terminal (needs --console-socket)", 0 },
  { "console-socket", OPT_CONSOLE_SOCKET, "SOCK", 0, "send the pty master to this UNIX socket", 0 },
  { "pid-file", OPT_PID_FILE, "FILE", 0, "write the process's host pid to FILE", 0 },
  { "detach", 'd', NULL, 0, "return once the process runs instead of waiting for it", 0 },
  { "cwd", OPT_CWD, "DIR", 0, "working directory inside the container", 0 },
  { "env", 'e', "KEY=VALUE", 0, "set an environment variable (repeatable)", 0 },
  { "user", 'u', "UID[:GID]", 0, "run as this numeric user (and group)", 0 },
  { "additional-gids", 'g', "GID", 0, "add a supplementary group (repeatable)", 0 },
  { "cap", 'c', "CAP", 0, "add a capability (repeatable), e.g. CAP_NET_ADMIN", 0 },
  { "no-new-privs", OPT_NO_NEW_PRIVS, NULL, 0, "set no_new_privs for the process", 0 },
  { "preserve-fds", OPT_PRESERVE_FDS, "N", 0, "pass N extra fds (3..3+N-1) to the process", 0 },
  { "process-label", OPT_PROCESS_LABEL, "LABEL", 0, "accepted; SELinux is not supported", 0 },
  { "apparmor", OPT_APPARMOR, "PROFILE", 0, "accepted; AppArmor is not supported", 0 },
  { "ignore-paused", OPT_IGNORE_PAUSED, NULL, 0, "exec even into a paused container", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static bool
push_str (char ***v, size_t *n, char *s)
{
  char **nv = realloc (*v, (*n + 1) * sizeof *nv);
  if (nv == NULL)
    return false;
  nv[(*n)++] = s;
  *v = nv;
  return true;
}

static error_t
parse_exec (int key, char *arg, struct argp_state *state)
{
  struct exec_args *a = state->input;
  struct al_exec_opts *o = &a->opts;
  char *end;
  switch (key)
    {
    case 'p':
      o->process_path = arg;
      break;
    case 't':
      o->tty_set = true;
      o->tty = true;
      break;
    case OPT_CONSOLE_SOCKET:
      o->console_socket = arg;
      break;
    case OPT_PID_FILE:
      o->pid_file = arg;
      break;
    case 'd':
      o->detach = true;
      break;
    case OPT_CWD:
      o->cwd = arg;
      break;
    case 'e':
      if (!push_str (&a->env, &o->n_env, arg))
        argp_failure (state, 1, ENOMEM, "--env");
      o->env = a->env;
      break;
    case 'u':
      o->user = arg;
      break;
    case 'g':
      {
        errno = 0;
        unsigned long long g = strtoull (arg, &end, 10);
        if (*arg < '0' || *arg > '9' || *end || errno || g > UINT32_MAX)
          argp_error (state, "--additional-gids: invalid group id `%s`", arg);
        uint32_t *ng = realloc (a->gids, (o->n_additional_gids + 1) * sizeof *ng);
        if (ng == NULL)
          argp_failure (state, 1, ENOMEM, "--additional-gids");
        ng[o->n_additional_gids++] = (uint32_t) g;
        a->gids = ng;
        o->additional_gids = ng;
        break;
      }
    case 'c':
      if (!push_str (&a->caps, &o->n_caps, arg))
        argp_failure (state, 1, ENOMEM, "--cap");
      o->caps = a->caps;
      break;
    case OPT_NO_NEW_PRIVS:
      o->no_new_privs = true;
      break;
    case OPT_PRESERVE_FDS:
      {
        errno = 0;
        long n = strtol (arg, &end, 10);
        if (*arg == '\0' || *end || errno || n < 0 || n > 65536)
          argp_error (state, "--preserve-fds: invalid count `%s`", arg);
        o->preserve_fds = (int) n;
        break;
      }
    case OPT_PROCESS_LABEL:
    case OPT_APPARMOR:
      break;
    case OPT_IGNORE_PAUSED:
      o->ignore_paused = true;
      break;
    case ARGP_KEY_ARG:
      /* The ID; everything after it is the command, options included. */
      o->id = arg;
      if (state->next < state->argc && strcmp (state->argv[state->next], "--") == 0)
        state->next++;
      o->args = state->argv + state->next;
      o->n_args = (size_t) (state->argc - state->next);
      state->next = state->argc;
      break;
    case ARGP_KEY_END:
      if (o->id == NULL)
        argp_error (state, "missing container ID");
      if (o->process_path && o->n_args > 0)
        argp_error (state, "give either --process or a command, not both");
      if (o->process_path == NULL && o->n_args == 0)
        argp_error (state, "missing the command to run (or --process FILE)");
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp exec_argp = {
  exec_options, parse_exec, "ID COMMAND [ARG...]\n--process FILE ID",
  "Run a process in a running (or created) container.\v"
  "Without --process the process is the config's, with the command as its args and the options "
  "applied.  Without --detach airlock waits and exits with the process's status (128+N when "
  "signal N killed it).",
  NULL, NULL, NULL,
};

int
al_cmd_exec (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct exec_args a = { 0 };
  al_cli_parse (&exec_argp, argc, argv, &a);
  a.opts.root = cli->root;
  a.opts.log = &cli->log;
  int status = 0;
  int ret = al_container_exec (&a.opts, &status, err);
  free (a.env);
  free (a.caps);
  free (a.gids);
  return ret < 0 ? ret : status;
}

/* ------------------------------------------------------------------- ps */

struct ps_args
{
  const char *id;
  bool json;
};

static struct argp_option ps_options[] = {
  { "format", 'f', "FORMAT", 0, "table (default) or json (an array of host pids)", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static error_t
parse_ps (int key, char *arg, struct argp_state *state)
{
  struct ps_args *a = state->input;
  switch (key)
    {
    case 'f':
      if (strcmp (arg, "json") == 0)
        a->json = true;
      else if (strcmp (arg, "table") == 0)
        a->json = false;
      else
        argp_error (state, "--format: unknown format `%s` (use table or json)", arg);
      break;
    case ARGP_KEY_ARG:
      /* ps options after the ID (runc passes them to ps(1)) are ignored. */
      if (a->id == NULL)
        a->id = arg;
      state->next = state->argc;
      break;
    case ARGP_KEY_END:
      if (a->id == NULL)
        argp_error (state, "missing container ID");
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp ps_argp = {
  ps_options, parse_ps, "ID [-- PS-OPTIONS]",
  "List the processes of a container (its cgroup), by host pid.", NULL, NULL, NULL,
};

/* /proc/PID/cmdline with spaces for the NULs; [comm] for kernel-less
 * cmdlines (zombies). */
static void
print_cmd (pid_t pid)
{
  char path[64], buf[4096];
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  ssize_t n = -1;
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    n = read (fd, buf, sizeof buf - 1);
  if (n > 0)
    {
      for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0' || buf[i] == '\n')
          buf[i] = ' ';
      while (n > 0 && buf[n - 1] == ' ')
        n--;
      buf[n] = '\0';
      printf ("%s\n", buf);
      return;
    }
  snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
  cleanup_close int cfd = open (path, O_RDONLY | O_CLOEXEC);
  n = cfd >= 0 ? read (cfd, buf, sizeof buf - 1) : -1;
  if (n > 0)
    {
      buf[n] = '\0';
      buf[strcspn (buf, "\n")] = '\0';
      printf ("[%s]\n", buf);
    }
  else
    printf ("?\n");
}

int
al_cmd_ps (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct ps_args a = { 0 };
  al_cli_parse (&ps_argp, argc, argv, &a);
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = al_container_pids (cli->root, a.id, &pids, &n, err);
  if (ret < 0)
    return ret;
  if (a.json)
    {
      json_t *arr = json_array ();
      for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new (arr, json_integer (pids[i])) < 0)
          {
            json_decref (arr);
            arr = NULL;
          }
      if (arr == NULL)
        ret = al_error_set (err, ENOMEM, "ps");
      else if (json_dumpf (arr, stdout, JSON_COMPACT) < 0 || putchar ('\n') == EOF)
        ret = al_error_set (err, EIO, "write to stdout");
      json_decref (arr);
    }
  else
    {
      printf ("%-8s %s\n", "PID", "CMD");
      for (size_t i = 0; i < n; i++)
        {
          printf ("%-8d ", (int) pids[i]);
          print_cmd (pids[i]);
        }
    }
  free (pids);
  if (ret == 0 && fflush (stdout) != 0)
    ret = al_error_set (err, errno, "write to stdout");
  return ret;
}
