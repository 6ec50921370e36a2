/* rootfs.c — see rootfs.h.
 *
 * The order is runc's and crun's:
 *   prepare   / gets its propagation (rslave unless configured); the mount
 *             holding the rootfs is made private if it is shared (pivot_root
 *             refuses a shared parent); the rootfs is bind-mounted onto
 *             itself; mounts[] in order; device nodes and /dev links.
 *   pivot     pivot_root(".", "."), the old root made rslave (so its unmount
 *             cannot travel to the host through shared peers) and detached.
 *   finalize  sysctl before readonlyPaths (which usually hold /proc/sys),
 *             masks, then root.readonly.
 * Every target inside the rootfs is an fd from safepath.h; mount(2) gets
 * /proc/self/fd/N, so a rootfs symlink cannot send a mount to the host.
 * After each mount the target is resolved again: the fd taken before the
 * mount still points at what the mount now covers (tmpcopyup reads that).
 */
#include "config.h"

#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"
#include "safepath.h"

#define MOUNT_DATA_MAX 4095       /* mount(2) copies one page of data */
#define MAX_PROPAGATION_OPTIONS 4 /* per mount entry */
#define PROC_FILE_MAX (16u << 20) /* /proc/self/mountinfo, /proc/self/cgroup */
#define COPY_UP_MAX_DEPTH 128     /* tmpcopyup: directory nesting */

/* Flags that belong to one mount rather than to its filesystem. */
#define PER_MOUNT_FLAGS                                                                            \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME         \
   | MS_STRICTATIME | MS_NOSYMFOLLOW)
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

struct ctx
{
  const struct al_config *c;
  const struct al_rootfs_opts *opts;
  int bundle_fd;
  int root_fd;
  bool dev_mounted; /* a filesystem of ours is on /dev: populate it */
  bool dev_bound;   /* /dev is a bind mount: never write into it */
  bool dev_late_ro; /* /dev asked for ro: applied once its nodes exist */
};

/* ------------------------------------------------------------ options */

enum option_kind
{
  OPT_NOOP,
  OPT_FLAG,            /* mount(2) flag, set; `clear` for its opposite */
  OPT_PROPAGATION,     /* MS_SHARED..., applied after the mount */
  OPT_RECURSIVE,       /* MOUNT_ATTR_* via mount_setattr AT_RECURSIVE */
  OPT_RECURSIVE_ATIME, /* atime is a mode: the new one replaces the old */
  OPT_BIND,
  OPT_RBIND,
  OPT_IDMAP,
  OPT_RIDMAP,
  OPT_TMPCOPYUP,
};

struct option_def
{
  const char *name;
  enum option_kind kind;
  bool clear;
  unsigned long value; /* MS_* or MOUNT_ATTR_* */
};

static const struct option_def option_defs[] = {
  { "defaults", OPT_NOOP, false, 0 },
  { "ro", OPT_FLAG, false, MS_RDONLY },
  { "rw", OPT_FLAG, true, MS_RDONLY },
  { "nosuid", OPT_FLAG, false, MS_NOSUID },
  { "suid", OPT_FLAG, true, MS_NOSUID },
  { "nodev", OPT_FLAG, false, MS_NODEV },
  { "dev", OPT_FLAG, true, MS_NODEV },
  { "noexec", OPT_FLAG, false, MS_NOEXEC },
  { "exec", OPT_FLAG, true, MS_NOEXEC },
  { "sync", OPT_FLAG, false, MS_SYNCHRONOUS },
  { "async", OPT_FLAG, true, MS_SYNCHRONOUS },
  { "dirsync", OPT_FLAG, false, MS_DIRSYNC },
  { "remount", OPT_FLAG, false, MS_REMOUNT },
  { "mand", OPT_FLAG, false, MS_MANDLOCK },
  { "nomand", OPT_FLAG, true, MS_MANDLOCK },
  { "atime", OPT_FLAG, true, MS_NOATIME },
  { "noatime", OPT_FLAG, false, MS_NOATIME },
  { "diratime", OPT_FLAG, true, MS_NODIRATIME },
  { "nodiratime", OPT_FLAG, false, MS_NODIRATIME },
  { "relatime", OPT_FLAG, false, MS_RELATIME },
  { "norelatime", OPT_FLAG, true, MS_RELATIME },
  { "strictatime", OPT_FLAG, false, MS_STRICTATIME },
  { "nostrictatime", OPT_FLAG, true, MS_STRICTATIME },
  { "lazytime", OPT_FLAG, false, MS_LAZYTIME },
  { "nolazytime", OPT_FLAG, true, MS_LAZYTIME },
  { "nosymfollow", OPT_FLAG, false, MS_NOSYMFOLLOW },
  { "symfollow", OPT_FLAG, true, MS_NOSYMFOLLOW },
  { "bind", OPT_BIND, false, 0 },
  { "rbind", OPT_RBIND, false, 0 },
  { "private", OPT_PROPAGATION, false, MS_PRIVATE },
  { "rprivate", OPT_PROPAGATION, false, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROPAGATION, false, MS_SHARED },
  { "rshared", OPT_PROPAGATION, false, MS_SHARED | MS_REC },
  { "slave", OPT_PROPAGATION, false, MS_SLAVE },
  { "rslave", OPT_PROPAGATION, false, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROPAGATION, false, MS_UNBINDABLE },
  { "runbindable", OPT_PROPAGATION, false, MS_UNBINDABLE | MS_REC },
  { "rro", OPT_RECURSIVE, false, MOUNT_ATTR_RDONLY },
  { "rrw", OPT_RECURSIVE, true, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPT_RECURSIVE, false, MOUNT_ATTR_NOSUID },
  { "rsuid", OPT_RECURSIVE, true, MOUNT_ATTR_NOSUID },
  { "rnodev", OPT_RECURSIVE, false, MOUNT_ATTR_NODEV },
  { "rdev", OPT_RECURSIVE, true, MOUNT_ATTR_NODEV },
  { "rnoexec", OPT_RECURSIVE, false, MOUNT_ATTR_NOEXEC },
  { "rexec", OPT_RECURSIVE, true, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", OPT_RECURSIVE, false, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", OPT_RECURSIVE, true, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", OPT_RECURSIVE, false, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", OPT_RECURSIVE, true, MOUNT_ATTR_NOSYMFOLLOW },
  /* Undoing noatime or strictatime means the kernel's default, relatime. */
  { "rnoatime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_NOATIME },
  { "rstrictatime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_STRICTATIME },
  { "rrelatime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_RELATIME },
  { "ratime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_RELATIME },
  { "rnostrictatime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_RELATIME },
  { "rnorelatime", OPT_RECURSIVE_ATIME, false, MOUNT_ATTR_RELATIME },
  { "idmap", OPT_IDMAP, false, 0 },
  { "ridmap", OPT_RIDMAP, false, 0 },
  { "tmpcopyup", OPT_TMPCOPYUP, false, 0 },
  { "notmpcopyup", OPT_TMPCOPYUP, true, 0 },
};

struct mount_opts
{
  unsigned long set, clr;    /* MS_* named, and those their opposites clear */
  uint64_t rec_set, rec_clr; /* MOUNT_ATTR_* for the whole tree */
  unsigned long propagation[MAX_PROPAGATION_OPTIONS];
  size_t n_propagation;
  bool bind, rec, idmap, ridmap, tmpcopyup;
  char *data; /* what the filesystem parses, comma-joined; NULL if none */
};

static void
mount_opts_free (struct mount_opts *o)
{
  free (o->data);
}

static const struct option_def *
find_option (const char *name)
{
  for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++)
    if (strcmp (option_defs[i].name, name) == 0)
      return &option_defs[i];
  return NULL;
}

static int
parse_options (const struct al_mount *m, struct mount_opts *o, struct al_error *err)
{
  size_t data_len = 0;
  for (size_t i = 0; i < m->n_options; i++)
    {
      const char *opt = m->options[i];
      const struct option_def *d = find_option (opt);
      if (d == NULL)
        {
          if (*opt == '\0')
            continue;
          size_t len = strlen (opt);
          if (data_len + len + 1 > MOUNT_DATA_MAX)
            return al_error_reason (err, E2BIG, "options: filesystem data longer than %d bytes",
                                    MOUNT_DATA_MAX);
          if (o->data == NULL && (o->data = malloc (MOUNT_DATA_MAX + 1)) == NULL)
            return al_error_set (err, ENOMEM, "options");
          if (data_len > 0)
            o->data[data_len++] = ',';
          memcpy (o->data + data_len, opt, len + 1);
          data_len += len;
          continue;
        }
      switch (d->kind)
        {
        case OPT_NOOP:
          break;
        case OPT_FLAG:
          if (d->clear)
            {
              o->clr |= d->value;
              o->set &= ~d->value;
            }
          else
            {
              o->set |= d->value;
              o->clr &= ~d->value;
            }
          break;
        case OPT_PROPAGATION:
          if (o->n_propagation == MAX_PROPAGATION_OPTIONS)
            return al_error_reason (err, EINVAL, "options: more than %d propagation options",
                                    MAX_PROPAGATION_OPTIONS);
          o->propagation[o->n_propagation++] = d->value;
          break;
        case OPT_RECURSIVE:
          if (d->clear)
            {
              o->rec_clr |= d->value;
              o->rec_set &= ~(uint64_t) d->value;
            }
          else
            {
              o->rec_set |= d->value;
              o->rec_clr &= ~(uint64_t) d->value;
            }
          break;
        case OPT_RECURSIVE_ATIME:
          o->rec_clr |= MOUNT_ATTR__ATIME;
          o->rec_set = (o->rec_set & ~(uint64_t) MOUNT_ATTR__ATIME) | d->value;
          break;
        case OPT_BIND:
          o->bind = true;
          break;
        case OPT_RBIND:
          o->bind = o->rec = true;
          break;
        case OPT_IDMAP:
          o->idmap = true;
          break;
        case OPT_RIDMAP:
          o->ridmap = true;
          break;
        case OPT_TMPCOPYUP:
          o->tmpcopyup = !d->clear;
          break;
        }
    }
  return 0;
}

/* Whether the comma-separated data has KEY=... */
static bool
data_has_key (const char *data, const char *key)
{
  size_t klen = strlen (key);
  for (const char *p = data; p && *p;)
    {
      if (strncmp (p, key, klen) == 0 && p[klen] == '=')
        return true;
      p = strchr (p, ',');
      if (p)
        p++;
    }
  return false;
}

static unsigned long
propagation_flags (enum al_propagation p)
{
  switch (p)
    {
    case AL_PROPAGATION_PRIVATE:
      return MS_PRIVATE;
    case AL_PROPAGATION_RPRIVATE:
      return MS_PRIVATE | MS_REC;
    case AL_PROPAGATION_SLAVE:
      return MS_SLAVE;
    case AL_PROPAGATION_RSLAVE:
      return MS_SLAVE | MS_REC;
    case AL_PROPAGATION_SHARED:
      return MS_SHARED;
    case AL_PROPAGATION_RSHARED:
      return MS_SHARED | MS_REC;
    case AL_PROPAGATION_UNBINDABLE:
      return MS_UNBINDABLE;
    case AL_PROPAGATION_RUNBINDABLE:
      return MS_UNBINDABLE | MS_REC;
    case AL_PROPAGATION_UNSET:
      break;
    }
  return 0;
}

/* --------------------------------------------------------------- paths */

/* The next component of p ("." skipped), its length in *ret_len (0 at the
 * end). */
static const char *
next_component (const char *p, size_t *ret_len)
{
  for (;;)
    {
      while (*p == '/')
        p++;
      size_t n = strcspn (p, "/");
      if (n == 1 && *p == '.')
        {
          p++;
          continue;
        }
      *ret_len = n;
      return p;
    }
}

/* Whether a and b name the same path, read lexically ("//dev/." is "/dev"). */
static bool
path_equal (const char *a, const char *b)
{
  for (;;)
    {
      size_t na, nb;
      a = next_component (a, &na);
      b = next_component (b, &nb);
      if (na != nb || memcmp (a, b, na) != 0)
        return false;
      if (na == 0)
        return true;
      a += na;
      b += nb;
    }
}

/* ------------------------------------------------------ mount helpers */

static int
bind_mount (int src_fd, int target_fd, bool recursive)
{
  char s[AL_FD_PATH_MAX], t[AL_FD_PATH_MAX];
  if (mount (al_fd_path (src_fd, s), al_fd_path (target_fd, t), NULL,
             MS_BIND | (recursive ? MS_REC : 0), NULL)
      < 0)
    return -errno;
  return 0;
}

static void
flags_to_mount_attr (unsigned long set, unsigned long clr, struct mount_attr *a)
{
  static const struct
  {
    unsigned long ms;
    uint64_t attr;
  } bits[] = {
    { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
    { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
    { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
  };
  for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
    {
      if (set & bits[i].ms)
        a->attr_set |= bits[i].attr;
      if (clr & bits[i].ms)
        a->attr_clr |= bits[i].attr;
    }
  if ((set & ATIME_FLAGS) || (clr & (MS_NOATIME | MS_STRICTATIME)))
    {
      a->attr_clr |= MOUNT_ATTR__ATIME;
      a->attr_set |= (set & MS_NOATIME)       ? MOUNT_ATTR_NOATIME
                     : (set & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                              : MOUNT_ATTR_RELATIME;
    }
}

/* Set and clear per-mount flags on the mount fd is the root of, leaving the
 * others alone (a user namespace locks some of them).  Before Linux 5.12 a
 * bind remount sets them all at once, so the current ones are carried. */
static int
set_mount_flags (int fd, unsigned long set, unsigned long clr)
{
  set &= PER_MOUNT_FLAGS;
  clr &= PER_MOUNT_FLAGS;
  if (set == 0 && clr == 0)
    return 0;
  struct mount_attr attr = { 0 };
  flags_to_mount_attr (set, clr, &attr);
  if (mount_setattr (fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return -errno;

  static const struct
  {
    unsigned long st, ms;
  } current[] = {
    { ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },   { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },     { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
  };
  struct statvfs sv;
  if (fstatvfs (fd, &sv) < 0)
    return -errno;
  unsigned long keep = 0;
  for (size_t i = 0; i < sizeof current / sizeof current[0]; i++)
    if (sv.f_flag & current[i].st)
      keep |= current[i].ms;
  if (set & ATIME_FLAGS)
    keep &= ~(unsigned long) ATIME_FLAGS;
  char p[AL_FD_PATH_MAX];
  if (mount (NULL, al_fd_path (fd, p), NULL, MS_BIND | MS_REMOUNT | set | (keep & ~clr), NULL) < 0)
    return -errno;
  return 0;
}

static int
set_mount_attr_recursive (int fd, uint64_t set, uint64_t clr)
{
  if (set == 0 && clr == 0)
    return 0;
  struct mount_attr attr = { .attr_set = set, .attr_clr = clr };
  if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return -errno;
  return 0;
}

/* What now stands at the destination: the new mount. */
static int
reopen_target (const struct ctx *x, const char *destination, struct al_error *err)
{
  return al_safe_open (x->root_fd, destination, O_PATH, 0, err);
}

/* After the mount itself: per-mount flags still to apply (set, clr),
 * recursive flags, then propagation. */
static int
finish_mount (int mnt, const struct mount_opts *o, unsigned long set, unsigned long clr,
              struct al_error *err)
{
  int r = set_mount_flags (mnt, set, clr);
  if (r < 0)
    return al_error_set (err, -r, "apply mount flags");
  r = set_mount_attr_recursive (mnt, o->rec_set, o->rec_clr);
  if (r == -ENOSYS)
    return al_error_reason (err, ENOSYS, "recursive mount options need mount_setattr (Linux 5.12)");
  if (r < 0)
    return al_error_set (err, -r, "apply recursive mount flags");
  char p[AL_FD_PATH_MAX];
  for (size_t i = 0; i < o->n_propagation; i++)
    if (mount (NULL, al_fd_path (mnt, p), NULL, o->propagation[i], NULL) < 0)
      return al_error_set (err, errno, "set mount propagation");
  return 0;
}

/* -------------------------------------------------------- /proc files */

struct mountinfo_line
{
  unsigned long id;
  char *root;        /* within the filesystem */
  char *mount_point; /* as the caller sees it */
  bool shared;
  char *fstype;
  char *super_options;
};

static void
unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

/* Split one line of /proc/self/mountinfo in place:
 * ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER */
static bool
parse_mountinfo_line (char *line, struct mountinfo_line *e)
{
  char *fields[6];
  for (int i = 0; i < 6; i++)
    if ((fields[i] = strsep (&line, " ")) == NULL)
      return false;
  e->id = strtoul (fields[0], NULL, 10);
  e->root = fields[3];
  e->mount_point = fields[4];
  e->shared = false;
  for (;;)
    {
      char *tag = strsep (&line, " ");
      if (tag == NULL)
        return false;
      if (strcmp (tag, "-") == 0)
        break;
      if (strncmp (tag, "shared:", 7) == 0)
        e->shared = true;
    }
  e->fstype = strsep (&line, " ");
  if (e->fstype == NULL || strsep (&line, " ") == NULL || line == NULL)
    return false;
  e->super_options = line;
  unescape_octal (e->root);
  unescape_octal (e->mount_point);
  return true;
}

/* Calls match on each line until it returns true; *ret then holds that line
 * (pointing into *ret_buf, which the caller frees).  -ENOENT if none. */
static int
find_mountinfo (bool (*match) (const struct mountinfo_line *, const void *), const void *arg,
                struct mountinfo_line *ret, char **ret_buf, struct al_error *err)
{
  cleanup_free char *buf = NULL;
  int r = al_read_file (AT_FDCWD, "/proc/self/mountinfo", PROC_FILE_MAX, &buf, NULL, err);
  if (r < 0)
    return r;
  char *next = buf;
  while (next && *next)
    {
      char *line = strsep (&next, "\n");
      if (parse_mountinfo_line (line, ret) && match (ret, arg))
        {
          *ret_buf = al_steal_ptr (&buf);
          return 0;
        }
    }
  return -ENOENT;
}

static int
mount_id_of (int fd, uint64_t *ret)
{
  struct statx stx;
  if (statx (fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
    return -errno;
  if (!(stx.stx_mask & STATX_MNT_ID))
    return -EOPNOTSUPP;
  *ret = stx.stx_mnt_id;
  return 0;
}

static bool
match_mount_id (const struct mountinfo_line *e, const void *arg)
{
  return e->id == *(const uint64_t *) arg;
}

/* pivot_root and MS_MOVE refuse a rootfs whose parent mount is shared (as it
 * is under rootfsPropagation rshared): make that one mount private. */
static int
make_parent_mount_private (int dir, struct al_error *err)
{
  cleanup_close int cur = openat (dir, ".", O_PATH | O_CLOEXEC);
  if (cur < 0)
    return al_error_set (err, errno, "open the rootfs");
  uint64_t id;
  if (mount_id_of (cur, &id) < 0)
    return 0; /* statx without mount ids (Linux < 5.8): nothing to check with */

  /* Walk up to the root of that mount: its parent is on another mount. */
  for (int depth = 0; depth < PATH_MAX / 2; depth++)
    {
      cleanup_close int up = openat (cur, "..", O_PATH | O_CLOEXEC);
      uint64_t up_id;
      struct stat a, b;
      if (up < 0 || mount_id_of (up, &up_id) < 0 || fstat (cur, &a) < 0 || fstat (up, &b) < 0)
        return al_error_set (err, errno, "find the mount holding the rootfs");
      if (up_id != id || (a.st_dev == b.st_dev && a.st_ino == b.st_ino))
        break;
      close (cur);
      cur = al_steal_fd (&up);
    }

  cleanup_free char *buf = NULL;
  struct mountinfo_line e;
  int r = find_mountinfo (match_mount_id, &id, &e, &buf, err);
  if (r == -ENOENT || (r == 0 && !e.shared))
    return 0;
  if (r < 0)
    return al_error_wrap (err, "find the mount holding the rootfs");
  char p[AL_FD_PATH_MAX];
  if (mount (NULL, al_fd_path (cur, p), NULL, MS_PRIVATE, NULL) < 0)
    return al_error_set (err, errno, "make `%s` (holding the rootfs) private", e.mount_point);
  return 0;
}

/* -------------------------------------------------------- bind mounts */

static int
write_id_map (const char *proc_pid, const char *file, const struct al_id_mapping *maps, size_t n,
              struct al_error *err)
{
  size_t cap = n * 36 + 1;
  cleanup_free char *buf = malloc (cap);
  if (buf == NULL)
    return al_error_set (err, ENOMEM, "idmap: write %s", file);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (buf + len, cap - len, "%u %u %u\n", maps[i].container_id,
                              maps[i].host_id, maps[i].size);
  char path[64];
  snprintf (path, sizeof path, "/proc/%s/%s", proc_pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "idmap: open %s", path);
  ssize_t w = write (fd, buf, len);
  if (w < 0)
    return al_error_set (err, errno, "idmap: write %s", path);
  if ((size_t) w != len)
    return al_error_set (err, EIO, "idmap: short write to %s", path);
  return 0;
}

/* A user namespace holding the mount's id mappings (a child unshares one,
 * we write its maps and keep its ns fd); without mappings, ours (the spec
 * says the container's). */
static int
make_idmap_userns (const struct al_mount *m, struct al_error *err)
{
  if (m->n_uid_mappings == 0 && m->n_gid_mappings == 0)
    {
      int fd = open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return al_error_set (err, errno, "idmap: open /proc/self/ns/user");
      return fd;
    }
  if (m->n_uid_mappings == 0 || m->n_gid_mappings == 0)
    return al_error_reason (err, EINVAL, "idmap: uidMappings and gidMappings go together");

  int sync[2];
  if (pipe2 (sync, O_CLOEXEC) < 0)
    return al_error_set (err, errno, "idmap: pipe");
  cleanup_close int rd = sync[0];
  cleanup_close int wr = sync[1];
  cleanup_pid pid_t pid = fork ();
  if (pid < 0)
    return al_error_set (err, errno, "idmap: fork");
  if (pid == 0)
    {
      /* Our pid namespace may not be /proc's: tell the parent our name
         there. */
      char self[32];
      ssize_t len = readlink ("/proc/self", self, sizeof self - 1);
      if (len <= 0 || unshare (CLONE_NEWUSER) < 0 || write (wr, self, (size_t) len) != len)
        _exit (1);
      for (;;)
        pause (); /* until the parent has the ns fd and kills us */
    }
  close (al_steal_fd (&wr));
  char proc_pid[32];
  ssize_t n;
  while ((n = read (rd, proc_pid, sizeof proc_pid - 1)) < 0 && errno == EINTR)
    ;
  if (n <= 0)
    return al_error_reason (err, EPERM, "idmap: could not create a user namespace");
  proc_pid[n] = '\0';

  int r = write_id_map (proc_pid, "uid_map", m->uid_mappings, m->n_uid_mappings, err);
  if (r < 0)
    return r;
  r = write_id_map (proc_pid, "gid_map", m->gid_mappings, m->n_gid_mappings, err);
  if (r < 0)
    return r;
  char path[64];
  snprintf (path, sizeof path, "/proc/%s/ns/user", proc_pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "idmap: open %s", path);
  return fd;
}

/* An idmapped mount is made detached (open_tree), mapped, then attached. */
static int
bind_idmapped (const struct al_mount *m, const struct mount_opts *o, int src, int target,
               struct al_error *err)
{
  cleanup_close int userns = make_idmap_userns (m, err);
  if (userns < 0)
    return userns;
  cleanup_close int tree = open_tree (
      src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (o->rec ? AT_RECURSIVE : 0));
  if (tree < 0)
    return al_error_set (err, errno, "idmap: open_tree `%s`", m->source);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
  if (mount_setattr (tree, "", AT_EMPTY_PATH | (o->ridmap ? AT_RECURSIVE : 0), &attr, sizeof attr)
      < 0)
    return al_error_set (err, errno, "idmap `%s`", m->source);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return al_error_set (err, errno, "idmap: attach `%s`", m->source);
  return 0;
}

static int
mount_bind (struct ctx *x, const struct al_mount *m, const struct mount_opts *o,
            struct al_error *err)
{
  if (m->source == NULL || *m->source == '\0')
    return al_error_reason (err, EINVAL, "a bind mount needs a source");
  cleanup_close int src = openat (x->bundle_fd, m->source, O_PATH | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "source `%s`", m->source);
  struct stat st;
  if (fstat (src, &st) < 0)
    return al_error_set (err, errno, "source `%s`", m->source);

  cleanup_close int target = S_ISDIR (st.st_mode)
                                 ? al_safe_mkdir_p (x->root_fd, m->destination, 0755, 0, err)
                                 : al_safe_create_file (x->root_fd, m->destination, 0644, 0, err);
  if (target < 0)
    return target;

  int r;
  if (o->idmap || o->ridmap)
    {
      if ((r = bind_idmapped (m, o, src, target, err)) < 0)
        return r;
    }
  else if ((r = bind_mount (src, target, o->rec)) < 0)
    return al_error_set (err, -r, "bind `%s`", m->source);

  cleanup_close int mnt = reopen_target (x, m->destination, err);
  if (mnt < 0)
    return mnt;
  if (path_equal (m->destination, "/dev"))
    {
      x->dev_bound = true;
      x->dev_mounted = x->dev_late_ro = false;
    }
  return finish_mount (mnt, o, o->set, o->clr, err);
}

/* --------------------------------------------------------- filesystems */

static int
copy_file (int src_dir, int dst_dir, const char *name, const struct stat *st)
{
  cleanup_close int in = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return -errno;
  cleanup_close int out = openat (
      dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  if (out < 0)
    return -errno;
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      if (n == 0)
        break;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (out, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return -errno;
          off += w;
        }
    }
  if (fchown (out, st->st_uid, st->st_gid) < 0 || fchmod (out, st->st_mode & 07777) < 0)
    return -errno;
  return 0;
}

/* Copy the tree under src_dir into dst_dir: directories, files, symlinks
 * and nodes, with owners and modes (tmpcopyup).  Descriptors only. */
static int
copy_tree (int src_dir, int dst_dir, int depth, char *failed, size_t failed_size)
{
  if (depth > COPY_UP_MAX_DEPTH)
    return -ELOOP;
  int dup_fd = openat (src_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0)
    return -errno;
  cleanup_dir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return -errno;
    }
  struct dirent *de;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      snprintf (failed, failed_size, "%s", name);
      struct stat st;
      if (fstatat (src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
      int r = 0;
      if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (dst_dir, name, 0700) < 0)
            return -errno;
          cleanup_close int s
              = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int t
              = openat (dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (s < 0 || t < 0)
            return -errno;
          if ((r = copy_tree (s, t, depth + 1, failed, failed_size)) < 0)
            return r;
          if (fchown (t, st.st_uid, st.st_gid) < 0 || fchmod (t, st.st_mode & 07777) < 0)
            return -errno;
          continue;
        }
      if (S_ISREG (st.st_mode))
        r = copy_file (src_dir, dst_dir, name, &st);
      else if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (src_dir, name, target, sizeof target);
          if (n < 0)
            return -errno;
          if ((size_t) n == sizeof target)
            return -ENAMETOOLONG;
          target[n] = '\0';
          if (symlinkat (target, dst_dir, name) < 0)
            return -errno;
        }
      else if (S_ISSOCK (st.st_mode))
        continue; /* a socket means nothing without its listener */
      else if (mknodat (dst_dir, name, st.st_mode, st.st_rdev) < 0)
        return -errno;
      if (r < 0)
        return r;
      if (!S_ISREG (st.st_mode)
          && fchownat (dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    }
  if (errno != 0)
    return -errno;
  failed[0] = '\0';
  return 0;
}

static int
copy_up (int below, int mnt, const char *data, struct al_error *err)
{
  cleanup_close int src = openat (below, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dst = openat (mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0 || dst < 0)
    return al_error_set (err, errno, "tmpcopyup: open");
  char failed[NAME_MAX + 1] = "";
  int r = copy_tree (src, dst, 0, failed, sizeof failed);
  if (r < 0)
    return al_error_set (err, -r, "tmpcopyup: copy `%s`", failed);
  struct stat st;
  if (fstat (src, &st) < 0)
    return al_error_set (err, errno, "tmpcopyup: stat");
  if (!data_has_key (data, "mode") && fchmod (dst, st.st_mode & 07777) < 0)
    return al_error_set (err, errno, "tmpcopyup: chmod");
  if (!data_has_key (data, "uid") && !data_has_key (data, "gid")
      && fchown (dst, st.st_uid, st.st_gid) < 0)
    return al_error_set (err, errno, "tmpcopyup: chown");
  return 0;
}

/* sysfs cannot be mounted without owning the network namespace (a user
 * namespace sharing the host's): show the host's, read-only if asked. */
static int
bind_host_sys (struct ctx *x, const struct al_mount *m, const struct mount_opts *o, int target,
               struct al_error *err)
{
  cleanup_close int sys = open ("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sys < 0)
    return al_error_set (err, errno, "sysfs fallback: open /sys");
  int r = bind_mount (sys, target, true);
  if (r < 0)
    return al_error_set (err, -r, "sysfs fallback: bind /sys");
  cleanup_close int mnt = reopen_target (x, m->destination, err);
  if (mnt < 0)
    return mnt;
  struct mount_attr attr = { 0 };
  flags_to_mount_attr (o->set & PER_MOUNT_FLAGS & ~ATIME_FLAGS, 0, &attr);
  if ((r = set_mount_attr_recursive (mnt, attr.attr_set, 0)) < 0)
    return al_error_set (err, -r, "sysfs fallback: apply mount flags");
  return finish_mount (mnt, o, 0, 0, err);
}

static int
mount_filesystem (struct ctx *x, const struct al_mount *m, const char *type,
                  const struct mount_opts *o, struct al_error *err)
{
  bool is_dev = path_equal (m->destination, "/dev");
  cleanup_close int target = al_safe_mkdir_p (x->root_fd, m->destination, 0755, 0, err);
  if (target < 0)
    return target;

  /* Written into before it may become read-only. */
  unsigned long flags = o->set;
  unsigned long late = 0;
  if ((flags & MS_RDONLY) && (o->tmpcopyup || is_dev))
    {
      flags &= ~(unsigned long) MS_RDONLY;
      late = MS_RDONLY;
    }

  const char *source = m->source && *m->source ? m->source : type;
  char t[AL_FD_PATH_MAX];
  if (mount (source, al_fd_path (target, t), type, flags, o->data) < 0)
    {
      int e = errno;
      if (strcmp (type, "sysfs") == 0 && (e == EPERM || e == EBUSY))
        return bind_host_sys (x, m, o, target, err);
      return al_error_set (err, e, "mount %s", type);
    }
  cleanup_close int mnt = reopen_target (x, m->destination, err);
  if (mnt < 0)
    return mnt;
  if (is_dev)
    {
      x->dev_mounted = true;
      x->dev_bound = false;
      x->dev_late_ro = late != 0;
      late = 0;
    }
  if (o->tmpcopyup)
    {
      int r = copy_up (target, mnt, o->data, err);
      if (r < 0)
        return r;
    }
  return finish_mount (mnt, o, late, 0, err);
}

/* -------------------------------------------------------------- cgroup */

struct cgroup_match
{
  bool unified;
  const char *controller; /* the first of the line's, e.g. "cpu" or "name=systemd" */
};

static bool
match_cgroup_mount (const struct mountinfo_line *e, const void *arg)
{
  const struct cgroup_match *want = arg;
  if (want->unified)
    return strcmp (e->fstype, "cgroup2") == 0;
  if (strcmp (e->fstype, "cgroup") != 0)
    return false;
  size_t n = strlen (want->controller);
  for (const char *p = e->super_options; p && *p;)
    {
      if (strncmp (p, want->controller, n) == 0 && (p[n] == ',' || p[n] == '\0'))
        return true;
      p = strchr (p, ',');
      if (p)
        p++;
    }
  return false;
}

/* Bind the caller's cgroup directory of one hierarchy from the host's mount
 * of it.  -ENOENT (err untouched) when the host does not show it. */
static int
bind_own_cgroup (bool unified, const char *controllers, const char *path, int target,
                 struct al_error *err)
{
  char first[256];
  snprintf (first, sizeof first, "%.*s", (int) strcspn (controllers, ","), controllers);
  struct cgroup_match want = { unified, first };
  cleanup_free char *buf = NULL;
  struct mountinfo_line e;
  struct al_error ignored = { 0 };
  int r = find_mountinfo (match_cgroup_mount, &want, &e, &buf, &ignored);
  if (r < 0)
    return r == -ENOENT ? r : al_error_set (err, -r, "%s", ignored.msg);

  const char *rel = path;
  if (strcmp (e.root, "/") != 0)
    {
      size_t n = strlen (e.root);
      if (strncmp (path, e.root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        return -ENOENT;
      rel = path + n;
    }
  cleanup_free char *source = NULL;
  if (asprintf (&source, "%s/%s", e.mount_point, rel) < 0)
    return al_error_set (err, ENOMEM, "cgroup");
  cleanup_close int src = open (source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "cgroup: open `%s`", source);
  if ((r = bind_mount (src, target, false)) < 0)
    return al_error_set (err, -r, "cgroup: bind `%s`", source);
  return 0;
}

/* v1/hybrid: a tmpfs at mnt with a directory per hierarchy of ours. */
static int
mount_cgroup_v1_hierarchies (struct ctx *x, int mnt, unsigned long flags, struct al_error *err)
{
  bool cgroupns = al_config_find_namespace (x->c, AL_NS_CGROUP) != NULL;
  cleanup_free char *cgroups = NULL;
  int r = al_read_file (AT_FDCWD, "/proc/self/cgroup", PROC_FILE_MAX, &cgroups, NULL, err);
  if (r < 0)
    return r;

  char *next = cgroups;
  while (next && *next)
    {
      /* ID:CONTROLLERS:PATH, "0::PATH" being the unified hierarchy */
      char *line = strsep (&next, "\n");
      char *id = strsep (&line, ":");
      char *controllers = strsep (&line, ":");
      char *path = line;
      if (id == NULL || controllers == NULL || path == NULL)
        continue;
      bool unified = strcmp (id, "0") == 0 && *controllers == '\0';
      if (!unified && *controllers == '\0')
        continue;
      const char *name = unified                                  ? "unified"
                         : strncmp (controllers, "name=", 5) == 0 ? controllers + 5
                                                                  : controllers;
      if (*name == '\0' || strchr (name, '/') || strcmp (name, ".") == 0
          || strcmp (name, "..") == 0)
        continue;

      if (mkdirat (mnt, name, 0755) < 0 && errno != EEXIST)
        return al_error_set (err, errno, "cgroup: mkdir %s", name);
      cleanup_close int sub = openat (mnt, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return al_error_set (err, errno, "cgroup: open %s", name);

      if (cgroupns)
        {
          /* Our cgroup namespace makes a fresh mount show our cgroup as
             its root. */
          char p[AL_FD_PATH_MAX];
          const char *type = unified ? "cgroup2" : "cgroup";
          if (mount (type, al_fd_path (sub, p), type, flags, unified ? NULL : controllers) < 0)
            return al_error_set (err, errno, "mount %s %s", type, name);
        }
      else
        {
          r = bind_own_cgroup (unified, controllers, path, sub, err);
          if (r == -ENOENT)
            {
              unlinkat (mnt, name, AT_REMOVEDIR);
              continue;
            }
          if (r < 0)
            return r;
          cleanup_close int bound = openat (mnt, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (bound < 0)
            return al_error_set (err, errno, "cgroup: open %s", name);
          if ((r = set_mount_flags (bound, flags, 0)) < 0)
            return al_error_set (err, -r, "cgroup: apply mount flags to %s", name);
        }

      /* cpu -> cpu,cpuacct, as the host has them. */
      if (!unified && strchr (controllers, ',') && strncmp (controllers, "name=", 5) != 0)
        {
          cleanup_free char *list = strdup (controllers);
          if (list == NULL)
            return al_error_set (err, ENOMEM, "cgroup");
          for (char *rest = list, *one; (one = strsep (&rest, ",")) != NULL;)
            if (*one && strncmp (one, "name=", 5) != 0 && symlinkat (name, mnt, one) < 0
                && errno != EEXIST)
              return al_error_set (err, errno, "cgroup: symlink %s", one);
        }
    }
  return 0;
}

static int
mount_cgroup (struct ctx *x, const struct al_mount *m, const struct mount_opts *o,
              struct al_error *err)
{
  cleanup_close int target = al_safe_mkdir_p (x->root_fd, m->destination, 0755, 0, err);
  if (target < 0)
    return target;
  unsigned long flags = o->set & ~(unsigned long) MS_REMOUNT;
  char t[AL_FD_PATH_MAX];
  al_fd_path (target, t);

  struct statfs sfs;
  if (statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
    {
      if (mount ("cgroup2", t, "cgroup2", flags, o->data) < 0)
        {
          /* Refused (no cgroup namespace of our own in a user namespace):
             the host's tree, with the flags asked for. */
          int e = errno;
          if (e != EPERM && e != EBUSY)
            return al_error_set (err, e, "mount cgroup2");
          cleanup_close int host = open ("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
          int r = host < 0 ? -errno : bind_mount (host, target, true);
          if (r < 0)
            return al_error_set (err, -r, "cgroup2 fallback: bind /sys/fs/cgroup");
          cleanup_close int mnt = reopen_target (x, m->destination, err);
          if (mnt < 0)
            return mnt;
          struct mount_attr attr = { 0 };
          flags_to_mount_attr (flags & PER_MOUNT_FLAGS & ~ATIME_FLAGS, 0, &attr);
          if ((r = set_mount_attr_recursive (mnt, attr.attr_set, 0)) < 0)
            return al_error_set (err, -r, "cgroup2 fallback: apply mount flags");
          return finish_mount (mnt, o, 0, 0, err);
        }
      cleanup_close int mnt = reopen_target (x, m->destination, err);
      if (mnt < 0)
        return mnt;
      return finish_mount (mnt, o, 0, 0, err);
    }

  if (mount ("cgroup", t, "tmpfs", flags & ~(unsigned long) MS_RDONLY, "mode=755") < 0)
    return al_error_set (err, errno, "mount tmpfs for the cgroup hierarchies");
  cleanup_close int mnt = reopen_target (x, m->destination, err);
  if (mnt < 0)
    return mnt;
  int r = mount_cgroup_v1_hierarchies (x, mnt, flags, err);
  if (r < 0)
    return r;
  return finish_mount (mnt, o, flags & MS_RDONLY, 0, err);
}

/* --------------------------------------------------------------- mounts */

static int
mount_entry (struct ctx *x, const struct al_mount *m, struct al_error *err)
{
  if (al_path_escapes (m->destination))
    return al_error_reason (err, EINVAL, "destination climbs out of the root with `..`");
  if (path_equal (m->destination, "/"))
    return al_error_reason (err, EINVAL, "a mount over / is not supported (use root.path)");

  __attribute__ ((cleanup (mount_opts_free))) struct mount_opts o = { 0 };
  int r = parse_options (m, &o, err);
  if (r < 0)
    return r;

  const char *type = m->type && *m->type ? m->type : NULL;
  bool bind = o.bind || (type && strcmp (type, "bind") == 0);
  if (type == NULL && !bind)
    return al_error_reason (err, EINVAL, "no type and no bind option");
  if ((o.idmap || o.ridmap) && !bind)
    return al_error_reason (err, EOPNOTSUPP, "idmap is supported on bind mounts only");
  if (o.tmpcopyup && (bind || strcmp (type, "tmpfs") != 0))
    return al_error_reason (err, EINVAL, "tmpcopyup needs a tmpfs");

  if (bind)
    return mount_bind (x, m, &o, err);
  if (strcmp (type, "cgroup") == 0)
    return mount_cgroup (x, m, &o, err);
  return mount_filesystem (x, m, type, &o, err);
}

/* -------------------------------------------------------------- devices */

/* mknod refused (a user namespace): the host's node at the same path. */
static int
bind_host_node (const struct ctx *x, const char *path, struct al_error *err)
{
  cleanup_close int src = open (path, O_PATH | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "mknod refused, and the host's `%s` cannot be bound", path);
  cleanup_close int target = al_safe_create_file (x->root_fd, path, 0644, 0, err);
  if (target < 0)
    return target;
  int r = bind_mount (src, target, false);
  if (r < 0)
    return al_error_set (err, -r, "bind the host's `%s`", path);
  return 0;
}

/* A device node at path; an existing one is left as it is. */
static int
make_node (const struct ctx *x, const char *path, mode_t mode, dev_t dev, const uid_t *uid,
           const gid_t *gid, struct al_error *err)
{
  cleanup_close int fd = al_safe_mknod (x->root_fd, path, mode, dev, 0, err);
  if (fd == -EEXIST)
    {
      al_error_clear (err);
      return 0;
    }
  if (fd == -EPERM && !S_ISFIFO (mode))
    {
      al_error_clear (err);
      return bind_host_node (x, path, err);
    }
  if (fd < 0)
    return fd;
  char p[AL_FD_PATH_MAX];
  if (chmod (al_fd_path (fd, p), mode & 07777) < 0)
    return al_error_set (err, errno, "chmod `%s`", path);
  if ((uid || gid)
      && fchownat (fd, "", uid ? *uid : (uid_t) -1, gid ? *gid : (gid_t) -1, AT_EMPTY_PATH) < 0)
    return al_error_set (err, errno, "chown `%s`", path);
  return 0;
}

static int
make_config_devices (const struct ctx *x, struct al_error *err)
{
  const struct al_linux *l = x->c->linux_spec;
  for (size_t i = 0; l && i < l->n_devices; i++)
    {
      const struct al_device *d = &l->devices[i];
      mode_t type = d->type == AL_DEVICE_BLOCK  ? S_IFBLK
                    : d->type == AL_DEVICE_FIFO ? S_IFIFO
                                                : S_IFCHR;
      mode_t perm = d->has_file_mode ? d->file_mode & 07777 : 0666;
      int r;
      if (al_path_escapes (d->path))
        r = al_error_reason (err, EINVAL, "path climbs out of the root with `..`");
      else if (d->major < 0 || d->major > UINT32_MAX || d->minor < 0 || d->minor > UINT32_MAX)
        r = al_error_reason (err, EINVAL, "major/minor out of range");
      else
        {
          uid_t uid = d->uid;
          gid_t gid = d->gid;
          r = make_node (x, d->path, type | perm,
                         makedev ((unsigned) d->major, (unsigned) d->minor),
                         d->has_uid ? &uid : NULL, d->has_gid ? &gid : NULL, err);
        }
      if (r < 0)
        return al_error_wrap (err, "linux.devices[%zu] %s", i, d->path);
    }
  return 0;
}

static const struct
{
  const char *path;
  unsigned major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct
{
  const char *target, *path;
} default_links[] = {
  { "/proc/self/fd", "/dev/fd" },
  { "/proc/self/fd/0", "/dev/stdin" },
  { "/proc/self/fd/1", "/dev/stdout" },
  { "/proc/self/fd/2", "/dev/stderr" },
};

static int
populate_dev (const struct ctx *x, struct al_error *err)
{
  int r;
  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    if ((r = make_node (x, default_devices[i].path, S_IFCHR | 0666,
                        makedev (default_devices[i].major, default_devices[i].minor), NULL, NULL,
                        err))
        < 0)
      return r;

  for (size_t i = 0; i < sizeof default_links / sizeof default_links[0]; i++)
    if ((r = al_safe_symlink (x->root_fd, default_links[i].target, default_links[i].path, 0, err))
        < 0)
      {
        if (r != -EEXIST)
          return r;
        al_error_clear (err);
      }

  /* The container's own ptmx, in its devpts instance. */
  cleanup_close int dev = al_safe_mkdir_p (x->root_fd, "/dev", 0755, 0, err);
  if (dev < 0)
    return dev;
  if (unlinkat (dev, "ptmx", 0) < 0 && errno != ENOENT)
    return al_error_set (err, errno, "remove /dev/ptmx");
  if (symlinkat ("pts/ptmx", dev, "ptmx") < 0)
    return al_error_set (err, errno, "symlink /dev/ptmx");

  cleanup_close int shm = al_safe_open (x->root_fd, "/dev/shm", O_PATH | O_DIRECTORY, 0, err);
  if (shm == -ENOENT)
    {
      al_error_clear (err);
      shm = al_safe_mkdir_p (x->root_fd, "/dev/shm", 01777, 0, err);
      char p[AL_FD_PATH_MAX];
      if (shm >= 0 && chmod (al_fd_path (shm, p), 01777) < 0)
        return al_error_set (err, errno, "chmod /dev/shm");
    }
  if (shm < 0)
    return shm;
  return 0;
}

static int
bind_console (const struct ctx *x, const char *console, struct al_error *err)
{
  cleanup_close int src = open (console, O_PATH | O_CLOEXEC);
  if (src < 0)
    return al_error_set (err, errno, "console `%s`", console);
  cleanup_close int target = x->dev_bound
                                 ? al_safe_open (x->root_fd, "/dev/console", O_PATH, 0, err)
                                 : al_safe_create_file (x->root_fd, "/dev/console", 0600, 0, err);
  if (target < 0)
    return target;
  int r = bind_mount (src, target, false);
  if (r < 0)
    return al_error_set (err, -r, "bind console `%s` on /dev/console", console);
  return 0;
}

static int
setup_dev (struct ctx *x, struct al_error *err)
{
  int r;
  if (!x->dev_bound && (r = make_config_devices (x, err)) < 0)
    return r;
  if (x->dev_mounted && (r = populate_dev (x, err)) < 0)
    return al_error_wrap (err, "populate /dev");
  if (x->opts && x->opts->console_path && (r = bind_console (x, x->opts->console_path, err)) < 0)
    return r;
  if (x->dev_late_ro)
    {
      cleanup_close int dev = reopen_target (x, "/dev", err);
      if (dev < 0)
        return dev;
      if ((r = set_mount_flags (dev, MS_RDONLY, 0)) < 0)
        return al_error_set (err, -r, "make /dev read-only");
    }
  return 0;
}

/* ------------------------------------------------------------- prepare */

int
al_rootfs_prepare (const struct al_config *c, int bundle_fd, const struct al_rootfs_opts *opts,
                   int *ret_root_fd, struct al_error *err)
{
  enum al_propagation prop
      = c->linux_spec ? c->linux_spec->rootfs_propagation : AL_PROPAGATION_UNSET;
  unsigned long root_flags
      = prop == AL_PROPAGATION_UNSET ? MS_SLAVE | MS_REC : propagation_flags (prop);
  if (mount (NULL, "/", NULL, root_flags, NULL) < 0)
    return al_error_set (err, errno, "set the propagation of /");

  cleanup_close int dir = openat (bundle_fd, c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return al_error_set (err, errno, "root.path `%s`", c->root_path);
  int r = make_parent_mount_private (dir, err);
  if (r < 0)
    return r;
  if ((r = bind_mount (dir, dir, true)) < 0)
    return al_error_set (err, -r, "bind root.path `%s` onto itself", c->root_path);

  /* By name again: the fd from before the bind is under it. */
  struct ctx x = { .c = c, .opts = opts, .bundle_fd = bundle_fd };
  cleanup_close int root = openat (bundle_fd, c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat before, after;
  if (root < 0 || fstat (dir, &before) < 0 || fstat (root, &after) < 0)
    return al_error_set (err, errno, "reopen root.path `%s`", c->root_path);
  if (before.st_dev != after.st_dev || before.st_ino != after.st_ino)
    return al_error_reason (err, EBUSY, "root.path `%s` changed while it was bind-mounted",
                            c->root_path);
  x.root_fd = root;

  for (size_t i = 0; i < c->n_mounts; i++)
    if ((r = mount_entry (&x, &c->mounts[i], err)) < 0)
      return al_error_wrap (err, "mounts[%zu] %s", i, c->mounts[i].destination);

  if ((r = setup_dev (&x, err)) < 0)
    return r;
  *ret_root_fd = al_steal_fd (&root);
  return 0;
}

/* --------------------------------------------------------------- pivot */

int
al_rootfs_pivot (const struct al_config *c, int root_fd, const struct al_rootfs_opts *opts,
                 struct al_error *err)
{
  if (fchdir (root_fd) < 0)
    return al_error_set (err, errno, "chdir to the rootfs");

  if (opts && opts->no_pivot)
    {
      if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
        return al_error_set (err, errno, "move the rootfs onto /");
      if (chroot (".") < 0)
        return al_error_set (err, errno, "chroot to the rootfs");
    }
  else
    {
      cleanup_close int old_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (old_root < 0)
        return al_error_set (err, errno, "open the old root");
      /* The old root goes away; pivot_root refuses it shared. */
      if (mount (NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
        return al_error_set (err, errno, "make the old root private");
      if (syscall (SYS_pivot_root, ".", ".") < 0)
        return al_error_set (err, errno, "pivot_root");
      /* The old root is now stacked on the new one.  Stand in it and make
         it rslave, so detaching it cannot unmount anything in a peer (the
         host); "." alone would name the new root under it. */
      if (fchdir (old_root) < 0)
        return al_error_set (err, errno, "chdir to the old root");
      if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return al_error_set (err, errno, "make the old root rslave");
      if (umount2 (".", MNT_DETACH) < 0)
        return al_error_set (err, errno, "detach the old root");
    }
  if (chdir ("/") < 0)
    return al_error_set (err, errno, "chdir /");

  /* pivot_root wants the new root unshared, so / gets its propagation only
     now; not recursively, which would undo the mounts' own options. */
  enum al_propagation prop
      = c->linux_spec ? c->linux_spec->rootfs_propagation : AL_PROPAGATION_UNSET;
  if (prop != AL_PROPAGATION_UNSET
      && mount (NULL, "/", NULL, propagation_flags (prop) & ~(unsigned long) MS_REC, NULL) < 0)
    return al_error_set (err, errno, "apply rootfsPropagation to /");
  return 0;
}

/* ------------------------------------------------------------ finalize */

static const char *const ipc_sysctls[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* key as a path under /proc/sys, if it is well-formed and namespaced. */
static int
sysctl_path (const struct al_config *c, const char *key, char **ret, struct al_error *err)
{
  size_t len = strnlen (key, NAME_MAX + 1);
  if (len == 0 || len > NAME_MAX)
    return al_error_reason (err, EINVAL, "not a sysctl name");
  /* "a.b.c", or "a/b/c" when a part has dots (a VLAN interface). */
  char sep = strchr (key, '/') ? '/' : '.';
  cleanup_free char *path = strdup (key);
  cleanup_free char *dotted = strdup (key);
  if (path == NULL || dotted == NULL)
    return al_error_set (err, ENOMEM, "sysctl");
  for (const char *p = key;;)
    {
      size_t n = strcspn (p, sep == '/' ? "/" : ".");
      if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return al_error_reason (err, EINVAL, "not a sysctl name (empty, `.` or `..` part)");
      if (p[n] == '\0')
        break;
      p += n + 1;
    }
  for (char *p = path; *p; p++)
    if (*p == '.' && sep == '.')
      *p = '/';
  for (char *p = dotted; *p; p++)
    if (*p == '/')
      *p = '.';

  enum al_namespace_type need = AL_NS__COUNT;
  if (strncmp (dotted, "net.", 4) == 0)
    need = AL_NS_NETWORK;
  else if (strncmp (dotted, "fs.mqueue.", 10) == 0)
    need = AL_NS_IPC;
  else if (strcmp (dotted, "kernel.domainname") == 0)
    need = AL_NS_UTS;
  for (size_t i = 0; i < sizeof ipc_sysctls / sizeof ipc_sysctls[0]; i++)
    if (strcmp (dotted, ipc_sysctls[i]) == 0)
      need = AL_NS_IPC;
  if (need == AL_NS__COUNT)
    return al_error_reason (err, EPERM, "not namespaced: it would change the host");
  if (al_config_find_namespace (c, need) == NULL)
    return al_error_reason (err, EPERM, "needs a %s namespace", al_namespace_type_name (need));
  *ret = al_steal_ptr (&path);
  return 0;
}

static int
write_sysctl (const struct al_config *c, int proc_sys, const char *key, const char *value,
              struct al_error *err)
{
  cleanup_free char *path = NULL;
  int r = sysctl_path (c, key, &path, err);
  if (r < 0)
    return r;
  cleanup_close int fd = al_safe_open (proc_sys, path, O_WRONLY, AL_SAFE_NOFOLLOW, err);
  if (fd < 0)
    return fd;
  size_t len = strlen (value);
  ssize_t w = write (fd, value, len);
  if (w < 0)
    return al_error_set (err, errno, "write `%s`", value);
  if ((size_t) w != len)
    return al_error_set (err, EIO, "short write of `%s`", value);
  return 0;
}

static int
apply_sysctls (const struct al_config *c, int root, struct al_error *err)
{
  const struct al_string_map *map = &c->linux_spec->sysctl;
  if (map->n == 0)
    return 0;
  /* Every key is checked before the first is written: a refused one must
     not leave the container half-configured, nor follow a write. */
  for (size_t i = 0; i < map->n; i++)
    {
      cleanup_free char *path = NULL;
      if (sysctl_path (c, map->keys[i], &path, err) < 0)
        return al_error_wrap (err, "sysctl `%s`", map->keys[i]);
    }
  cleanup_close int proc_sys = al_safe_open (root, "/proc/sys", O_PATH | O_DIRECTORY, 0, err);
  if (proc_sys < 0)
    return al_error_wrap (err, "sysctl");
  struct statfs sfs;
  if (fstatfs (proc_sys, &sfs) < 0)
    return al_error_set (err, errno, "sysctl: statfs /proc/sys");
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return al_error_reason (err, ENOTSUP, "sysctl: /proc/sys is not procfs (no proc mount?)");
  for (size_t i = 0; i < map->n; i++)
    {
      int r = write_sysctl (c, proc_sys, map->keys[i], map->values[i], err);
      if (r < 0)
        return al_error_wrap (err, "sysctl `%s`", map->keys[i]);
    }
  return 0;
}

static int
make_readonly (int root, const char *path, struct al_error *err)
{
  cleanup_close int fd = al_safe_open (root, path, O_PATH, 0, err);
  if (fd == -ENOENT)
    {
      al_error_clear (err);
      return 0;
    }
  if (fd < 0)
    return fd;
  int r = bind_mount (fd, fd, true);
  if (r < 0)
    return al_error_set (err, -r, "bind onto itself");
  cleanup_close int mnt = al_safe_open (root, path, O_PATH, 0, err);
  if (mnt < 0)
    return mnt;
  r = set_mount_attr_recursive (mnt, MOUNT_ATTR_RDONLY, 0);
  if (r == -ENOSYS)
    r = set_mount_flags (mnt, MS_RDONLY, 0); /* the top mount only */
  if (r < 0)
    return al_error_set (err, -r, "make read-only");
  return 0;
}

static int
mask_path (int root, const char *path, int *null_fd, struct al_error *err)
{
  cleanup_close int fd = al_safe_open (root, path, O_PATH, 0, err);
  if (fd == -ENOENT)
    {
      al_error_clear (err);
      return 0;
    }
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return al_error_set (err, errno, "stat");
  char p[AL_FD_PATH_MAX];
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", al_fd_path (fd, p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 NULL)
          < 0)
        return al_error_set (err, errno, "mount an empty tmpfs over it");
      return 0;
    }
  if (*null_fd < 0)
    {
      struct stat ns;
      *null_fd = al_safe_open (root, "/dev/null", O_PATH, 0, err);
      if (*null_fd < 0)
        return al_error_wrap (err, "masking a file needs /dev/null");
      if (fstat (*null_fd, &ns) < 0)
        return al_error_set (err, errno, "stat /dev/null");
      if (!S_ISCHR (ns.st_mode) || ns.st_rdev != makedev (1, 3))
        return al_error_reason (err, EINVAL, "/dev/null in the container is not the null device");
    }
  int r = bind_mount (*null_fd, fd, false);
  if (r < 0)
    return al_error_set (err, -r, "bind /dev/null over it");
  return 0;
}

static int
make_root_readonly (int root, struct al_error *err)
{
  int r = set_mount_flags (root, MS_RDONLY, 0);
  if (r < 0)
    return al_error_set (err, -r, "root.readonly: remount / read-only");
  return 0;
}

int
al_rootfs_finalize (const struct al_config *c, struct al_error *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return al_error_set (err, errno, "open /");
  const struct al_linux *l = c->linux_spec;
  int r;
  if (l)
    {
      if ((r = apply_sysctls (c, root, err)) < 0)
        return r;
      for (size_t i = 0; i < l->n_readonly_paths; i++)
        if ((r = make_readonly (root, l->readonly_paths[i], err)) < 0)
          return al_error_wrap (err, "readonlyPaths[%zu] %s", i, l->readonly_paths[i]);
      cleanup_close int null_fd = -1;
      for (size_t i = 0; i < l->n_masked_paths; i++)
        if ((r = mask_path (root, l->masked_paths[i], &null_fd, err)) < 0)
          return al_error_wrap (err, "maskedPaths[%zu] %s", i, l->masked_paths[i]);
    }
  if (c->root_readonly && (r = make_root_readonly (root, err)) < 0)
    return r;
  return 0;
}
