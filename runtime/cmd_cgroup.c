/* cmd_cgroup.c — the verbs that act on a container's cgroup: pause,
 * resume, update.  The work is in container.c and isolation/cgroup.c. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "file.h"
#include "oci_config.h"

static struct argp pause_argp = {
  NULL, al_cli_parse_id, "ID", "Freeze every process of a running container (its cgroup's freezer).",
  NULL, NULL, NULL,
};
static struct argp resume_argp = {
  NULL, al_cli_parse_id, "ID", "Thaw a paused container.", NULL, NULL, NULL,
};

int
al_cmd_pause (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  const char *id = NULL;
  al_cli_parse (&pause_argp, argc, argv, &id);
  return al_container_pause (cli->root, id, err);
}

int
al_cmd_resume (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  const char *id = NULL;
  al_cli_parse (&resume_argp, argc, argv, &id);
  return al_container_resume (cli->root, id, err);
}

/* ---------------------------------------------------------------- update */

enum
{
  OPT_MEMORY = 1000,
  OPT_MEMORY_SWAP,
  OPT_MEMORY_RESERVATION,
  OPT_PIDS_LIMIT,
  OPT_CPU_QUOTA,
  OPT_CPU_PERIOD,
  OPT_CPU_SHARE,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_BLKIO_WEIGHT,
};

struct update_args
{
  const char *id;
  const char *resources; /* FILE or - */
  json_t *flags;         /* LinuxResources built from the flags */
  const char *error;
};

static struct argp_option update_options[] = {
  { "resources", 'r', "FILE", 0, "a LinuxResources JSON object (- for stdin)", 0 },
  { "memory", OPT_MEMORY, "BYTES", 0, "memory limit (k, m, g suffixes; -1 unlimited)", 0 },
  { "memory-swap", OPT_MEMORY_SWAP, "BYTES", 0, "memory + swap limit", 0 },
  { "memory-reservation", OPT_MEMORY_RESERVATION, "BYTES", 0, "memory soft limit", 0 },
  { "pids-limit", OPT_PIDS_LIMIT, "N", 0, "maximum number of processes", 0 },
  { "cpu-quota", OPT_CPU_QUOTA, "US", 0, "CPU time per period (microseconds; -1 unlimited)", 0 },
  { "cpu-period", OPT_CPU_PERIOD, "US", 0, "CPU CFS period (microseconds)", 0 },
  { "cpu-share", OPT_CPU_SHARE, "N", 0, "CPU shares (relative weight)", 0 },
  { "cpuset-cpus", OPT_CPUSET_CPUS, "LIST", 0, "CPUs to run on, e.g. 0-1", 0 },
  { "cpuset-mems", OPT_CPUSET_MEMS, "LIST", 0, "memory nodes to use", 0 },
  { "blkio-weight", OPT_BLKIO_WEIGHT, "N", 0, "block IO weight (10-1000)", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

/* "512m" -> 536870912; "-1" stays -1. */
static bool
parse_size (const char *s, int64_t *ret)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (end == s || errno)
    return false;
  int64_t mult = 1;
  if (*end)
    {
      switch (*end | 0x20)
        {
        case 'b': mult = 1; break;
        case 'k': mult = 1LL << 10; break;
        case 'm': mult = 1LL << 20; break;
        case 'g': mult = 1LL << 30; break;
        default: return false;
        }
      end++;
      if ((*end | 0x20) == 'b' && mult > 1)
        end++;
      if (*end)
        return false;
    }
  if (v < -1 || (v > 0 && v > INT64_MAX / mult))
    return false;
  *ret = v == -1 ? -1 : v * mult;
  return true;
}

static void
set_path (json_t *root, const char *section, const char *key, json_t *value)
{
  json_t *o = json_object_get (root, section);
  if (o == NULL)
    {
      o = json_object ();
      json_object_set_new (root, section, o);
    }
  json_object_set_new (o, key, value);
}

static error_t
parse_update (int key, char *arg, struct argp_state *state)
{
  struct update_args *a = state->input;
  int64_t v = 0;
  switch (key)
    {
    case 'r':
      a->resources = arg;
      return 0;
    case OPT_MEMORY:
    case OPT_MEMORY_SWAP:
    case OPT_MEMORY_RESERVATION:
      if (!parse_size (arg, &v))
        argp_error (state, "invalid size `%s`", arg);
      set_path (a->flags, "memory",
                key == OPT_MEMORY        ? "limit"
                : key == OPT_MEMORY_SWAP ? "swap"
                                         : "reservation",
                json_integer (v));
      return 0;
    case OPT_PIDS_LIMIT:
    case OPT_CPU_QUOTA:
    case OPT_CPU_PERIOD:
    case OPT_CPU_SHARE:
    case OPT_BLKIO_WEIGHT:
      {
        char *end;
        errno = 0;
        long long n = strtoll (arg, &end, 10);
        if (*arg == '\0' || *end || errno)
          argp_error (state, "invalid number `%s`", arg);
        if (key == OPT_PIDS_LIMIT)
          set_path (a->flags, "pids", "limit", json_integer (n));
        else if (key == OPT_BLKIO_WEIGHT)
          set_path (a->flags, "blockIO", "weight", json_integer (n));
        else
          set_path (a->flags, "cpu",
                    key == OPT_CPU_QUOTA    ? "quota"
                    : key == OPT_CPU_PERIOD ? "period"
                                            : "shares",
                    json_integer (n));
        return 0;
      }
    case OPT_CPUSET_CPUS:
      set_path (a->flags, "cpu", "cpus", json_string (arg));
      return 0;
    case OPT_CPUSET_MEMS:
      set_path (a->flags, "cpu", "mems", json_string (arg));
      return 0;
    case ARGP_KEY_END:
      if (a->resources && json_object_size (a->flags) > 0)
        argp_error (state, "--resources and the limit flags are exclusive");
      return al_cli_parse_id (key, arg, state);
    default:
      /* The ID (struct's first member). */
      return al_cli_parse_id (key, arg, state);
    }
}

static struct argp update_argp = {
  update_options, parse_update, "ID",
  "Change the resource limits of a container (its cgroup), from flags or a LinuxResources "
  "JSON object (--resources FILE, - for stdin).",
  NULL, NULL, NULL,
};

int
al_cmd_update (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct update_args a = { .flags = json_object () };
  if (a.flags == NULL)
    return al_error_set (err, ENOMEM, "update");
  al_cli_parse (&update_argp, argc, argv, &a);

  cleanup_free char *buf = NULL;
  size_t len = 0;
  const char *source = "resources";
  int ret;
  if (a.resources)
    {
      source = strcmp (a.resources, "-") == 0 ? "stdin" : a.resources;
      /* stdin is reopened through /proc: a pipe or a file both work. */
      const char *path = strcmp (a.resources, "-") == 0 ? "/proc/self/fd/0" : a.resources;
      ret = al_read_file (AT_FDCWD, path, AL_CONFIG_MAX_BYTES, &buf, &len, err);
      if (ret < 0)
        {
          json_decref (a.flags);
          return al_error_wrap (err, "--resources");
        }
    }
  else
    {
      buf = json_dumps (a.flags, JSON_COMPACT);
      len = buf ? strlen (buf) : 0;
    }
  json_decref (a.flags);
  if (buf == NULL)
    return al_error_set (err, ENOMEM, "update");

  struct al_resources *res = NULL;
  ret = al_config_parse_resources (buf, len, source, &res, err);
  if (ret < 0)
    return ret;
  ret = al_container_update (cli->root, a.id, res, err);
  al_resources_free (res);
  return ret;
}
