/* identity.c — see identity.h. */
#include "config.h"

#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

/* -------------------------------------------------------------- user ns */

/* Whether id falls in one of the extents of a /proc/self/{uid,gid}_map;
 * true when the map cannot be read, so the caller keeps the kernel's
 * error. */
static bool
id_mapped (const char *map_path, uint32_t id)
{
  cleanup_free char *buf = NULL;
  if (al_read_file (AT_FDCWD, map_path, 64 * 1024, &buf, NULL, NULL) < 0)
    return true;
  const char *p = buf;
  while (*p)
    {
      unsigned long inside, outside, count;
      int used = 0;
      if (sscanf (p, " %lu %lu %lu%n", &inside, &outside, &count, &used) != 3)
        break;
      if (id >= inside && id - inside < count)
        return true;
      p += used;
    }
  return false;
}

static bool
setgroups_denied (void)
{
  cleanup_free char *buf = NULL;
  if (al_read_file (AT_FDCWD, "/proc/self/setgroups", 64, &buf, NULL, NULL) < 0)
    return false;
  return strncmp (buf, "deny", 4) == 0;
}

static int
set_groups (const struct al_user *user, struct al_error *err)
{
  size_t n = user->n_additional_gids;
  cleanup_free gid_t *gids = NULL;
  if (n > 0)
    {
      if ((gids = calloc (n, sizeof *gids)) == NULL)
        return al_error_set (err, ENOMEM, "process.user.additionalGids");
      for (size_t i = 0; i < n; i++)
        gids[i] = (gid_t) user->additional_gids[i];
    }
  if (setgroups (n, gids) == 0)
    return 0;

  int saved = errno;
  if (saved == EPERM && setgroups_denied ())
    {
      if (n == 0)
        return 0; /* nothing to set, and the namespace has no other groups */
      return al_error_reason (err, EPERM,
                              "process.user.additionalGids: setgroups is denied in this user "
                              "namespace (/proc/self/setgroups is \"deny\")");
    }
  if (saved == EINVAL)
    {
      long max = sysconf (_SC_NGROUPS_MAX);
      if (max > 0 && n > (size_t) max)
        return al_error_reason (err, EINVAL,
                                "process.user.additionalGids: %zu groups, the kernel takes at "
                                "most %ld",
                                n, max);
      for (size_t i = 0; i < n; i++)
        if (!id_mapped ("/proc/self/gid_map", user->additional_gids[i]))
          return al_error_reason (err, EINVAL,
                                  "process.user.additionalGids[%zu]: gid %" PRIu32
                                  " is not mapped in the user namespace",
                                  i, user->additional_gids[i]);
    }
  return al_error_set (err, saved, "process.user.additionalGids: setgroups");
}

int
al_identity_apply (const struct al_user *user, bool keep_caps, struct al_error *err)
{
  int r = set_groups (user, err);
  if (r < 0)
    return r;

  if (setresgid (user->gid, user->gid, user->gid) < 0)
    {
      if (errno == EINVAL && !id_mapped ("/proc/self/gid_map", user->gid))
        return al_error_reason (err, EINVAL,
                                "process.user.gid %" PRIu32 ": not mapped in the user namespace",
                                user->gid);
      return al_error_set (err, errno, "process.user.gid %" PRIu32 ": setresgid", user->gid);
    }

  if (keep_caps && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return al_error_set (err, errno,
                         "process.user.uid %" PRIu32 ": keep capabilities across "
                         "the uid change",
                         user->uid);
  if (setresuid (user->uid, user->uid, user->uid) < 0)
    {
      if (errno == EINVAL && !id_mapped ("/proc/self/uid_map", user->uid))
        return al_error_reason (err, EINVAL,
                                "process.user.uid %" PRIu32 ": not mapped in the user namespace",
                                user->uid);
      return al_error_set (err, errno, "process.user.uid %" PRIu32 ": setresuid", user->uid);
    }
  /* The flag only matters at the uid change itself; execve would clear
   * it anyway, a later setuid in the container must not inherit it. */
  if (keep_caps && prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return al_error_set (err, errno, "process.user.uid %" PRIu32 ": reset keepcaps", user->uid);

  umask (user->has_umask ? (mode_t) (user->umask & 0777) : AL_DEFAULT_UMASK);
  return 0;
}

/* --------------------------------------------------------------- passwd */

/* Open etc/passwd inside the root without following anything out of it;
 * -ENOENT when there is none. */
static int
open_passwd (int root_dirfd, struct al_error *err)
{
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  cleanup_close int fd = (int) syscall (SYS_openat2, root_dirfd, "etc/passwd", &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) /* kernel < 5.6: only safe once pivoted */
    fd = openat (root_dirfd, "etc/passwd", (int) how.flags);
  if (fd < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return -ENOENT;
      return al_error_set (err, errno, "open the container's /etc/passwd");
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    return al_error_set (err, errno, "stat the container's /etc/passwd");
  if (!S_ISREG (st.st_mode))
    return al_error_reason (err, EINVAL, "the container's /etc/passwd is not a regular file");
  return al_steal_fd (&fd);
}

static int
read_bounded (int fd, size_t max, char **ret_buf, size_t *ret_len, struct al_error *err)
{
  /* Growing to max + 1 at most: reading that byte proves the file too big. */
  size_t cap = max < 4096 ? max + 1 : 4096, len = 0;
  cleanup_free char *buf = malloc (cap);
  if (buf == NULL)
    return al_error_set (err, ENOMEM, "read the container's /etc/passwd");
  for (;;)
    {
      if (len == cap)
        {
          if (cap > max)
            return al_error_reason (err, EFBIG,
                                    "the container's /etc/passwd is larger than %zu bytes", max);
          cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
          char *n = realloc (buf, cap);
          if (n == NULL)
            return al_error_set (err, ENOMEM, "read the container's /etc/passwd");
          buf = n;
        }
      ssize_t r = read (fd, buf + len, cap - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return al_error_set (err, errno, "read the container's /etc/passwd");
      if (r == 0)
        break;
      len += (size_t) r;
    }
  *ret_len = len;
  *ret_buf = al_steal_ptr (&buf);
  return 0;
}

/* A uid field: decimal digits only, within uint32. */
static bool
parse_uid (const char *s, size_t len, uint32_t *ret)
{
  if (len == 0 || len > 10)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (uint64_t) (s[i] - '0');
    }
  if (v > UINT32_MAX)
    return false;
  *ret = (uint32_t) v;
  return true;
}

/* The home field of the first well-formed line for uid, as [*ret, *ret +
 * *ret_len), or false.  Malformed lines (too few fields, a bad uid, a NUL,
 * NIS "+"/"-" entries) are skipped, never trusted. */
static bool
find_home (const char *buf, size_t len, uint32_t uid, const char **ret, size_t *ret_len)
{
  const char *end = buf + len;
  for (const char *line = buf; line < end;)
    {
      const char *nl = memchr (line, '\n', (size_t) (end - line));
      const char *eol = nl ? nl : end;
      const char *next = nl ? nl + 1 : end;

      /* name:passwd:uid:gid:gecos:home[:shell] */
      const char *field[7];
      size_t flen[7];
      size_t nf = 0;
      bool bad = memchr (line, '\0', (size_t) (eol - line)) != NULL || line == eol || *line == '+'
                 || *line == '-' || *line == '#';
      for (const char *f = line; !bad && nf < 7;)
        {
          const char *colon = memchr (f, ':', (size_t) (eol - f));
          const char *fend = colon ? colon : eol;
          field[nf] = f;
          flen[nf] = (size_t) (fend - f);
          nf++;
          if (colon == NULL)
            break;
          f = colon + 1;
        }

      uint32_t line_uid;
      if (!bad && nf >= 6 && parse_uid (field[2], flen[2], &line_uid) && line_uid == uid
          && flen[5] > 0)
        {
          *ret = field[5];
          *ret_len = flen[5];
          return true;
        }
      line = next;
    }
  return false;
}

int
al_passwd_home (int root_dirfd, uint32_t uid, char **ret_home, struct al_error *err)
{
  cleanup_close int fd = open_passwd (root_dirfd, err);
  if (fd == -ENOENT)
    {
      if ((*ret_home = strdup ("/")) == NULL)
        return al_error_set (err, ENOMEM, "resolve HOME");
      return 0;
    }
  if (fd < 0)
    return fd;

  cleanup_free char *buf = NULL;
  size_t len = 0;
  int r = read_bounded (fd, AL_PASSWD_MAX_BYTES, &buf, &len, err);
  if (r < 0)
    return r;

  const char *home = "/";
  size_t home_len = 1;
  find_home (buf, len, uid, &home, &home_len);
  if ((*ret_home = strndup (home, home_len)) == NULL)
    return al_error_set (err, ENOMEM, "resolve HOME");
  return 0;
}

int
al_env_with_home (char *const *env, size_t n_env, int root_dirfd, uint32_t uid, char ***ret_env,
                  size_t *ret_n, struct al_error *err)
{
  bool has_home = false;
  for (size_t i = 0; i < n_env && !has_home; i++)
    has_home = strncmp (env[i], "HOME=", 5) == 0;

  cleanup_free char *home = NULL;
  if (!has_home)
    {
      int r = al_passwd_home (root_dirfd, uid, &home, err);
      if (r < 0)
        return al_error_wrap (err, "set HOME for uid %" PRIu32, uid);
    }

  size_t n = n_env + (has_home ? 0 : 1);
  cleanup_strv char **out = calloc (n + 1, sizeof *out);
  if (out == NULL)
    return al_error_set (err, ENOMEM, "build the environment");
  for (size_t i = 0; i < n_env; i++)
    if ((out[i] = strdup (env[i])) == NULL)
      return al_error_set (err, ENOMEM, "build the environment");
  if (!has_home && asprintf (&out[n_env], "HOME=%s", home) < 0)
    {
      out[n_env] = NULL;
      return al_error_set (err, ENOMEM, "build the environment");
    }
  *ret_env = al_steal_ptr (&out);
  *ret_n = n;
  return 0;
}
