/* cmd_spec.c — `airlock spec`: write a default config.json into a bundle.
 *
 * The default is what `runc spec` writes, so people and tools that know runc
 * find what they expect: `sh` on a terminal, a read-only `rootfs`, the usual
 * pseudo-filesystems, pid/net/ipc/uts/mount/cgroup namespaces, three
 * capabilities, and the masked and read-only paths that hide the host.
 * --rootless adds a user namespace mapping root to the caller, drops the
 * network namespace and the mounts an unprivileged user cannot make.
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "file.h"

static const char default_spec[] =
  "{"
  "\"ociVersion\": \"" AL_OCI_VERSION "\","
  "\"process\": {"
  "  \"terminal\": true,"
  "  \"user\": {\"uid\": 0, \"gid\": 0},"
  "  \"args\": [\"sh\"],"
  "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],"
  "  \"cwd\": \"/\","
  "  \"capabilities\": {"
  "    \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
  "    \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
  "    \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]"
  "  },"
  "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
  "  \"noNewPrivileges\": true"
  "},"
  "\"root\": {\"path\": \"rootfs\", \"readonly\": true},"
  "\"hostname\": \"airlock\","
  "\"mounts\": ["
  "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
  "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
  "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
  "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
  "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"
  "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
  "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
  "  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
  "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}"
  "],"
  "\"linux\": {"
  "  \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
  "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
  "                 {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],"
  "  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
  "    \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\","
  "    \"/sys/firmware\", \"/sys/devices/virtual/powercap\", \"/proc/scsi\"],"
  "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]"
  "}"
  "}";

struct spec_args
{
  const char *bundle;
  bool rootless;
};

enum
{
  OPT_ROOTLESS = 1000
};

static struct argp_option spec_options[] = {
  { "bundle", 'b', "DIR", 0, "bundle directory to write config.json into (default: .)", 0 },
  { "rootless", OPT_ROOTLESS, NULL, 0, "a config for an unprivileged user (user namespace)", 0 },
  { NULL, 0, NULL, 0, NULL, 0 },
};

static error_t
parse_spec (int key, char *arg, struct argp_state *state)
{
  struct spec_args *a = state->input;
  switch (key)
    {
    case 'b':
      a->bundle = arg;
      break;
    case OPT_ROOTLESS:
      a->rootless = true;
      break;
    case ARGP_KEY_ARG:
      argp_error (state, "unexpected argument `%s`", arg);
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static struct argp spec_argp = {
  spec_options, parse_spec, NULL,
  "Write a default OCI config.json (like `runc spec`) into the bundle directory.", NULL, NULL, NULL,
};

static int
make_rootless (json_t *spec, struct al_error *err)
{
  json_t *linux_ = json_object_get (spec, "linux");
  json_t *ns = json_array ();
  const char *types[] = { "pid", "ipc", "uts", "mount", "cgroup", "user" };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    json_array_append_new (ns, json_pack ("{s:s}", "type", types[i]));
  json_object_set_new (linux_, "namespaces", ns);
  json_object_del (linux_, "resources");
  json_object_set_new (linux_, "uidMappings",
                       json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                  (json_int_t) geteuid (), "size", 1));
  json_object_set_new (linux_, "gidMappings",
                       json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                  (json_int_t) getegid (), "size", 1));

  /* Without a network namespace sysfs cannot be mounted, and an unprivileged
   * user has no gid 5 to give devpts nor a cgroup hierarchy to mount. */
  json_t *mounts = json_object_get (spec, "mounts");
  size_t i;
  json_t *m;
  json_t *kept = json_array ();
  json_array_foreach (mounts, i, m)
    {
      const char *dst = json_string_value (json_object_get (m, "destination"));
      if (strcmp (dst, "/sys/fs/cgroup") == 0)
        continue;
      if (strcmp (dst, "/sys") == 0)
        {
          json_array_append_new (kept, json_pack ("{s:s, s:s, s:s, s:[s,s,s,s,s]}",
                                                  "destination", "/sys", "type", "none",
                                                  "source", "/sys", "options", "rbind",
                                                  "nosuid", "noexec", "nodev", "ro"));
          continue;
        }
      if (strcmp (dst, "/dev/pts") == 0)
        {
          json_t *opts = json_object_get (m, "options");
          size_t j;
          json_t *o;
          json_array_foreach (opts, j, o)
            if (strcmp (json_string_value (o), "gid=5") == 0)
              {
                json_array_remove (opts, j);
                break;
              }
        }
      json_array_append (kept, m);
    }
  json_object_set_new (spec, "mounts", kept);
  if (json_object_size (linux_) == 0)
    return al_error_set (err, EINVAL, "build rootless spec");
  return 0;
}

int
al_cmd_spec (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  struct spec_args a = { .bundle = "." };
  al_cli_parse (&spec_argp, argc, argv, &a);

  json_error_t jerr;
  json_t *spec = json_loads (default_spec, 0, &jerr);
  if (spec == NULL)
    return al_error_reason (err, EINVAL, "built-in spec: %d:%d: %s", jerr.line, jerr.column, jerr.text);

  int ret = 0;
  if (a.rootless)
    ret = make_rootless (spec, err);
  cleanup_free char *text = ret == 0 ? json_dumps (spec, JSON_INDENT (2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref (spec);
  if (ret < 0)
    return ret;
  if (text == NULL)
    return al_error_set (err, ENOMEM, "serialise config.json");

  cleanup_close int dirfd = open (a.bundle, O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (dirfd < 0)
    return al_error_set (err, errno, "open bundle `%s`", a.bundle);

  /* Never overwrite a config someone wrote by hand. */
  if (faccessat (dirfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return al_error_reason (err, EEXIST, "%s/config.json already exists; remove it first", a.bundle);

  size_t len = strlen (text);
  text[len] = '\n';
  ret = al_write_file_atomic (dirfd, "config.json", text, len + 1, 0644, err);
  text[len] = '\0';
  return ret;
}
