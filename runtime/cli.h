/* cli.h — what every verb of the airlock CLI gets.
 *
 * main.c parses the global options (before the verb), then hands the rest
 * of argv to the verb's own argp parser.  A verb returns 0 or a negative
 * errno with `err` filled; main prints the error once as
 * `airlock: <verb>: <message>` and exits 1 (OCI verbs, as runc and crun do).
 */
#ifndef AL_CLI_H
#define AL_CLI_H

#include <stdbool.h>

#include "error.h"
#include "log.h"

#define AL_DEFAULT_ROOT "/run/airlock"

struct al_cli
{
  const char *root;        /* --root, state store directory */
  const char *log_path;    /* --log */
  bool log_json;           /* --log-format json */
  bool debug;              /* --debug */
  bool systemd_cgroup;     /* --systemd-cgroup: accepted, refused where it matters */
  const char *cgroup_manager; /* --cgroup-manager cgroupfs|disabled */
  struct al_log log;
};

struct al_verb
{
  const char *name;
  const char *summary;
  int (*run) (struct al_cli *cli, int argc, char **argv, struct al_error *err);
  int failure_status; /* exit status when run fails (0: 1, as runc) */
};

/* argp helper: parse a verb's argv (argv[0] is the verb name) with its own
 * options; usage errors exit 1 with argp's message. */
struct argp;
int al_cli_parse (const struct argp *argp, int argc, char **argv, void *input);

/* argp parser for a verb whose only argument is a container ID: its input
 * is a `const char **` that receives the ID.  Verbs with options call it
 * from their own parser for the keys they do not handle. */
struct argp_state;
int al_cli_parse_id (int key, char *arg, struct argp_state *state);

int al_cmd_spec (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_features (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_state (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_list (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_create (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_start (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_run (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_kill (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_delete (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_exec (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_ps (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_pause (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_resume (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_update (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_events (struct al_cli *cli, int argc, char **argv, struct al_error *err);
int al_cmd_sandbox (struct al_cli *cli, int argc, char **argv, struct al_error *err);

/* Print a JSON value to stdout (indented) followed by a newline. */
struct json_t;
int al_cli_print_json (struct json_t *value, struct al_error *err);

#endif
