/* cmd_features.c — `airlock features`: the OCI features document
 * (runtime-spec features.md): what this build of airlock recognises, so a
 * caller can tell before it writes a config.
 */
#include "config.h"

#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "cli.h"

static struct argp features_argp = {
  NULL, NULL, NULL, "Print the OCI features JSON of this runtime.", NULL, NULL, NULL,
};

static json_t *
string_array (const char *const *names, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (names[i]));
  return a;
}

#define STRINGS(arr) string_array ((arr), sizeof (arr) / sizeof (arr)[0])

static const char *const hooks[] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static const char *const mount_options[] = {
  "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
  "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
  "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
  "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
  "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime",
  "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro",
  "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable",
  "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
  "tmpcopyup", "unbindable",
};

static const char *const namespaces[] = {
  "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
};

static const char *const seccomp_actions[] = {
  "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};

static const char *const seccomp_operators[] = {
  "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
  "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

static const char *const seccomp_known_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/* SCMP_ARCH_* names the OCI spec defines; listed if libseccomp knows them. */
static const char *const seccomp_archs[] = {
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
};

static json_t *
capabilities (void)
{
  /* The running kernel's capabilities, by the names libcap knows; a
   * capability newer than libcap comes back as a number and is left out. */
  json_t *a = json_array ();
  int n = (int) cap_max_bits ();
  for (int i = 0; i < n; i++)
    {
      char *name = cap_to_name (i);
      if (name == NULL)
        continue;
      if (!isdigit ((unsigned char) name[0]))
        {
          char buf[64];
          size_t j;
          for (j = 0; name[j] && j < sizeof buf - 1; j++)
            buf[j] = (char) toupper ((unsigned char) name[j]);
          buf[j] = '\0';
          json_array_append_new (a, json_string (buf));
        }
      cap_free (name);
    }
  return a;
}

static json_t *
archs (void)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < sizeof seccomp_archs / sizeof seccomp_archs[0]; i++)
    {
      char lower[32];
      const char *s = seccomp_archs[i] + strlen ("SCMP_ARCH_");
      size_t j;
      for (j = 0; s[j] && j < sizeof lower - 1; j++)
        lower[j] = (char) tolower ((unsigned char) s[j]);
      lower[j] = '\0';
      if (seccomp_arch_resolve_name (lower) != 0)
        json_array_append_new (a, json_string (seccomp_archs[i]));
    }
  return a;
}

static json_t *
supported_seccomp_flags (void)
{
  /* libseccomp's API level says which filter flags it can pass to this
   * kernel: 2 adds TSYNC, 3 LOG, 4 SPEC_ALLOW, 7 WAIT_KILLABLE_RECV. */
  unsigned int level = seccomp_api_get ();
  json_t *a = json_array ();
  if (level >= 2)
    json_array_append_new (a, json_string ("SECCOMP_FILTER_FLAG_TSYNC"));
  if (level >= 3)
    json_array_append_new (a, json_string ("SECCOMP_FILTER_FLAG_LOG"));
  if (level >= 4)
    json_array_append_new (a, json_string ("SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  if (level >= 7)
    json_array_append_new (a, json_string ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
  return a;
}

int
al_cmd_features (struct al_cli *cli, int argc, char **argv, struct al_error *err)
{
  al_cli_parse (&features_argp, argc, argv, NULL);

  const struct scmp_version *sv = seccomp_version ();
  char seccomp_ver[32];
  snprintf (seccomp_ver, sizeof seccomp_ver, "%u.%u.%u", sv->major, sv->minor, sv->micro);

  json_t *f = json_pack (
      "{s:s, s:s, s:o, s:o,"
      " s:{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b},"
      "    s:{s:b, s:o, s:o, s:o, s:o, s:o},"
      "    s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}},"
      " s:{s:s, s:s, s:s}}",
      "ociVersionMin", "1.0.0",
      "ociVersionMax", "1.3.0",
      "hooks", STRINGS (hooks),
      "mountOptions", STRINGS (mount_options),
      "linux",
      "namespaces", STRINGS (namespaces),
      "capabilities", capabilities (),
      "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
      "seccomp", "enabled", 1, "actions", STRINGS (seccomp_actions),
      "operators", STRINGS (seccomp_operators), "archs", archs (),
      "knownFlags", STRINGS (seccomp_known_flags), "supportedFlags", supported_seccomp_flags (),
      "apparmor", "enabled", 0,
      "selinux", "enabled", 0,
      "intelRdt", "enabled", 0,
      "mountExtensions", "idmap", "enabled", 1,
      "annotations",
      "io.github.seccomp.libseccomp.version", seccomp_ver,
      "org.airlock.version", PACKAGE_VERSION,
      "org.airlock.commit", AL_COMMIT);
  if (f == NULL)
    return al_error_set (err, ENOMEM, "build features JSON");
  int ret = al_cli_print_json (f, err);
  json_decref (f);
  return ret;
}
