/* cmd_state.c — `airlock state ID` and `airlock list`: read the state store. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "state.h"

static struct argp state_argp = {
  NULL, al_cli_parse_id, "ID",
  "Print the OCI state of a container as JSON (ociVersion, id, status, pid, bundle, annotations).",
  NULL, NULL, NULL,
};

int
al_cmd_state (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  const char *id = NULL;
  al_cli_parse (&state_argp, argc, argv, &id);

  struct al_state *st = NULL;
  int ret = al_state_load (cli->root, id, &st, err);
  if (ret < 0)
    return ret;

  json_t *j = al_state_to_oci_json (st);
  st = al_state_free (st);
  if (j == NULL)
    return al_error_set (err, ENOMEM, "%s: build state JSON", id);
  ret = al_cli_print_json (j, err);
  json_decref (j);
  return ret;
}

struct list_args
{
  bool json;
  bool quiet;
};

static struct argp_option list_options[] = {
  { "format", 'f', "FORMAT", 0, "table (default) or json", 0 },
  { "quiet", 'q', NULL, 0, "print only the container ids", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static error_t
parse_list (int key, char *arg, struct argp_state *state)
{
  struct list_args *a = state->input;
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
    case 'q':
      a->quiet = true;
      break;
    case ARGP_KEY_ARG:
      argp_error (state, "unexpected argument `%s`", arg);
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp list_argp = {
  list_options, parse_list, NULL,
  "List the containers in the state directory (--root).", NULL, NULL, NULL,
};

/* One entry as runc's `list --format json` prints it. */
static json_t *
list_entry_json (const struct al_state *st)
{
  char created[AL_STATE_TIME_MAX] = "";
  al_state_format_time (&st->created, created, sizeof created);
  json_t *o = json_pack ("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
                         "id", st->id,
                         "pid", (json_int_t) st->pid,
                         "status", al_status_to_string (st->status),
                         "bundle", st->bundle ? st->bundle : "",
                         "rootfs", st->rootfs ? st->rootfs : "",
                         "created", created,
                         "owner", st->owner ? st->owner : "");
  if (o && st->annotations && json_object_size (st->annotations) > 0)
    json_object_set (o, "annotations", st->annotations);
  return o;
}

int
al_cmd_list (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct list_args a = { 0 };
  al_cli_parse (&list_argp, argc, argv, &a);

  struct al_state **states = NULL;
  size_t count = 0, skipped = 0;
  int ret = al_state_list (cli->root, &states, &count, &skipped, err);
  if (ret < 0)
    return ret;
  if (skipped > 0)
    al_log_warn (&cli->log, "%zu container(s) in %s have unreadable state", skipped, cli->root);

  if (a.quiet)
    {
      for (size_t i = 0; i < count; i++)
        printf ("%s\n", states[i]->id);
    }
  else if (a.json)
    {
      json_t *arr = json_array ();
      for (size_t i = 0; arr && i < count; i++)
        if (json_array_append_new (arr, list_entry_json (states[i])) < 0)
          {
            json_decref (arr);
            arr = NULL;
          }
      ret = arr ? al_cli_print_json (arr, err) : al_error_set (err, ENOMEM, "build list JSON");
      json_decref (arr);
    }
  else
    {
      printf ("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
      for (size_t i = 0; i < count; i++)
        {
          const struct al_state *st = states[i];
          char created[AL_STATE_TIME_MAX] = "";
          al_state_format_time (&st->created, created, sizeof created);
          printf ("%-12s %-8d %-10s %-40s %-30s %s\n", st->id, (int) st->pid,
                  al_status_to_string (st->status), st->bundle ? st->bundle : "", created,
                  st->owner ? st->owner : "");
        }
    }
  al_state_list_free (states);
  if (ret == 0 && fflush (stdout) != 0)
    return al_error_set (err, errno, "write to stdout");
  return ret;
}
