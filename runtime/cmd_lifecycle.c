/* cmd_lifecycle.c — the OCI lifecycle verbs: create, start, run, kill,
 * delete.  The work is in container.c; this file is their command lines. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "process.h"

enum
{
  OPT_PID_FILE = 1000,
  OPT_CONSOLE_SOCKET,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
  OPT_DETACH,
};

struct create_args
{
  struct al_create_opts opts;
  bool detach;
  int nargs;
};

static struct argp_option create_options[] = {
  { "bundle", 'b', "DIR", 0, "bundle directory (default: .)", 0 },
  { "pid-file", OPT_PID_FILE, "FILE", 0, "write the init's pid to FILE", 0 },
  { "console-socket", OPT_CONSOLE_SOCKET, "SOCK", 0, "send the pty master to this UNIX socket", 0 },
  { "no-pivot", OPT_NO_PIVOT, NULL, 0, "use MS_MOVE + chroot instead of pivot_root", 0 },
  { "no-new-keyring", OPT_NO_NEW_KEYRING, NULL, 0, "keep the caller's session keyring", 0 },
  { "preserve-fds", OPT_PRESERVE_FDS, "N", 0, "pass N extra fds (3..3+N-1) into the container", 0 },
  { "detach", 'd', NULL, 0, "run: return once the container started", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static error_t
parse_create (int key, char *arg, struct argp_state *state)
{
  struct create_args *a = state->input;
  char *end;
  switch (key)
    {
    case 'b':
      a->opts.bundle = arg;
      break;
    case OPT_PID_FILE:
      a->opts.pid_file = arg;
      break;
    case OPT_CONSOLE_SOCKET:
      a->opts.console_socket = arg;
      break;
    case OPT_NO_PIVOT:
      a->opts.no_pivot = true;
      break;
    case OPT_NO_NEW_KEYRING:
      a->opts.no_new_keyring = true;
      break;
    case OPT_PRESERVE_FDS:
      errno = 0;
      long n = strtol (arg, &end, 10);
      if (*arg == '\0' || *end || errno || n < 0 || n > 65536)
        argp_error (state, "--preserve-fds: invalid count `%s`", arg);
      a->opts.preserve_fds = (int) n;
      break;
    case 'd':
      a->detach = true;
      break;
    case ARGP_KEY_ARG:
      if (a->opts.id)
        argp_error (state, "unexpected argument `%s`", arg);
      a->opts.id = arg;
      break;
    case ARGP_KEY_END:
      if (a->opts.id == NULL)
        argp_error (state, "missing container ID");
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp create_argp = {
  create_options, parse_create, "ID",
  "Create a container from a bundle; it waits for `airlock start`.", NULL, NULL, NULL,
};

static int
fill_common (struct al_cli *cli, struct create_args *a, struct al_error *err)
{
  /* Socket activation: fds systemd passed to us go to the container too. */
  unsigned listen_fds = 0;
  int ret = al_listen_fds (getenv ("LISTEN_PID"), getenv ("LISTEN_FDS"), getpid (), &listen_fds, err);
  if (ret < 0)
    return ret;
  a->opts.preserve_fds += (int) listen_fds;
  a->opts.root = cli->root;
  a->opts.log = &cli->log;
  a->opts.cgroups_disabled = cli->cgroup_manager && strcmp (cli->cgroup_manager, "disabled") == 0;
  return 0;
}

static int
refuse_systemd (struct al_cli *cli, struct al_error *err)
{
  if (cli->systemd_cgroup || (cli->cgroup_manager && strcmp (cli->cgroup_manager, "systemd") == 0))
    return al_error_reason (err, ENOTSUP, "systemd cgroup management is not supported; use cgroupfs");
  return 0;
}

int
al_cmd_create (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct create_args a = { 0 };
  al_cli_parse (&create_argp, argc, argv, &a);
  int ret = fill_common (cli, &a, err);
  if (ret == 0)
    ret = refuse_systemd (cli, err);
  if (ret < 0)
    return ret;
  pid_t pid;
  return al_container_create (&a.opts, &pid, err);
}

static volatile pid_t forward_to;

static void
forward_signal (int sig)
{
  if (forward_to > 0)
    kill (forward_to, sig);
}

/* While `run` waits, the signals a user or supervisor sends airlock go to
 * the container's init, as runc does. */
static void
forward_signals (pid_t pid)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  forward_to = pid;
  struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
  sigemptyset (&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, NULL);
}

int
al_cmd_run (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct create_args a = { 0 };
  al_cli_parse (&create_argp, argc, argv, &a);
  int ret = fill_common (cli, &a, err);
  if (ret == 0)
    ret = refuse_systemd (cli, err);
  if (ret < 0)
    return ret;

  pid_t pid;
  a.opts.start = true;
  ret = al_container_create (&a.opts, &pid, err);
  if (ret < 0)
    return ret;
  if (a.detach)
    return 0;

  forward_signals (pid);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  struct al_error derr = { 0 };
  if (al_container_delete (cli->root, a.opts.id, true, &cli->log, &derr) < 0)
    al_log_warn (&cli->log, "%s", derr.msg);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

struct id_args
{
  const char *id;
  const char *signal;
  bool all;
  bool force;
};

static struct argp_option id_options[] = {
  { "all", 'a', NULL, 0, "kill: signal every process in the container's cgroup", 0 },
  { "force", 'f', NULL, 0, "delete: kill a container that is still running", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static error_t
parse_id (int key, char *arg, struct argp_state *state)
{
  struct id_args *a = state->input;
  switch (key)
    {
    case 'a':
      a->all = true;
      break;
    case 'f':
      a->force = true;
      break;
    case ARGP_KEY_ARG:
      if (a->id == NULL)
        a->id = arg;
      else if (a->signal == NULL && strcmp (state->argv[0], "airlock kill") == 0)
        a->signal = arg;
      else
        argp_error (state, "unexpected argument `%s`", arg);
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

static struct argp start_argp = { NULL, parse_id, "ID", "Start a created container.", NULL, NULL, NULL };
static struct argp kill_argp = {
  id_options, parse_id, "ID [SIGNAL]",
  "Send a signal (default SIGTERM; a name like KILL or SIGKILL, or a number) to a container.",
  NULL, NULL, NULL,
};
static struct argp delete_argp = {
  id_options, parse_id, "ID",
  "Delete a stopped container (with --force, a running or created one too).", NULL, NULL, NULL,
};

int
al_cmd_start (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct id_args a = { 0 };
  al_cli_parse (&start_argp, argc, argv, &a);
  return al_container_start (cli->root, a.id, &cli->log, err);
}

int
al_cmd_kill (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct id_args a = { 0 };
  al_cli_parse (&kill_argp, argc, argv, &a);
  int sig = SIGTERM;
  if (a.signal)
    {
      int ret = al_parse_signal (a.signal, &sig, err);
      if (ret < 0)
        return ret;
    }
  return al_container_kill (cli->root, a.id, sig, a.all, err);
}

int
al_cmd_delete (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct id_args a = { 0 };
  al_cli_parse (&delete_argp, argc, argv, &a);
  return al_container_delete (cli->root, a.id, a.force, &cli->log, err);
}
