/* tree.c — see tree.h. */
#include "config.h"

#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"

#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OPAQUE_XATTR "trusted.overlay.opaque"

enum walk_mode
{
  MODE_COPY,  /* dst is empty */
  MODE_APPLY, /* src is an overlay upper; dst a plain tree */
  MODE_SYNC,  /* make dst equal to src */
};

struct link_entry
{
  dev_t dev;
  ino_t ino;
  char *path; /* relative to the dst root */
};

struct walk
{
  enum walk_mode mode;
  unsigned flags;
  dev_t top_dev; /* of the source's top (AL_TREE_ONE_FS) */
  int dst_root;
  void *links;         /* tsearch tree of struct link_entry */
  char path[PATH_MAX]; /* "/a/b" of the entry at hand, "" at the top */
  size_t len;
  struct al_error *err;
};

bool
al_tree_is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
is_overlay_xattr (const char *name)
{
  return strncmp (name, OVERLAY_XATTR_PREFIX, sizeof OVERLAY_XATTR_PREFIX - 1) == 0;
}

/* "/proc/self/fd/D/NAME", or "/proc/self/fd/D" for name NULL: a path the
 * l*xattr calls take without following a symlink at NAME. */
static const char *
entry_path (char buf[PATH_MAX], int dirfd, const char *name)
{
  if (name)
    snprintf (buf, PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
  else
    snprintf (buf, PATH_MAX, "/proc/self/fd/%d", dirfd);
  return buf;
}

static int
push (struct walk *w, const char *name)
{
  size_t n = strlen (name);
  if (w->len + 1 + n >= sizeof w->path)
    return al_error_reason (w->err, ENAMETOOLONG, "`%s/%s`: path too long", w->path, name);
  w->path[w->len] = '/';
  memcpy (w->path + w->len + 1, name, n + 1);
  w->len += 1 + n;
  return 0;
}

static void
pop (struct walk *w, const char *name)
{
  w->len -= 1 + strlen (name);
  w->path[w->len] = '\0';
}

static const char *
shown (const struct walk *w)
{
  return w->len ? w->path : "/";
}

/* The xattr names of path, NUL-separated, in *ret (NULL, 0 when none). */
static int
list_xattrs (const char *path, char **ret, ssize_t *ret_len)
{
  *ret = NULL;
  *ret_len = 0;
  for (;;)
    {
      ssize_t n = llistxattr (path, NULL, 0);
      if (n < 0)
        return errno == ENOTSUP ? 0 : -errno;
      if (n == 0)
        return 0;
      char *buf = malloc ((size_t) n);
      if (buf == NULL)
        return -ENOMEM;
      ssize_t m = llistxattr (path, buf, (size_t) n);
      if (m < 0)
        {
          int saved = errno;
          free (buf);
          if (saved == ERANGE)
            continue;
          return -saved;
        }
      *ret = buf;
      *ret_len = m;
      return 0;
    }
}

static int
get_xattr (const char *path, const char *name, char **ret, ssize_t *ret_len)
{
  for (;;)
    {
      ssize_t n = lgetxattr (path, name, NULL, 0);
      if (n < 0)
        return -errno;
      char *buf = malloc ((size_t) n + 1);
      if (buf == NULL)
        return -ENOMEM;
      ssize_t m = lgetxattr (path, name, buf, (size_t) n);
      if (m < 0)
        {
          int saved = errno;
          free (buf);
          if (saved == ERANGE)
            continue;
          return -saved;
        }
      *ret = buf;
      *ret_len = m;
      return 0;
    }
}

static bool
in_list (const char *list, ssize_t len, const char *name)
{
  for (const char *p = list; p < list + len; p += strlen (p) + 1)
    if (strcmp (p, name) == 0)
      return true;
  return false;
}

/* dst's xattrs become src's (trusted.overlay.* skipped when asked); with
 * replace, names dst has and src lacks are removed. */
static int
copy_xattrs (struct walk *w, const char *src, const char *dst, bool skip_overlay, bool replace)
{
  cleanup_free char *names = NULL;
  ssize_t len;
  int r = list_xattrs (src, &names, &len);
  if (r < 0)
    return al_error_set (w->err, -r, "list the xattrs of `%s`", shown (w));
  for (const char *p = names; p && p < names + len; p += strlen (p) + 1)
    {
      if (skip_overlay && is_overlay_xattr (p))
        continue;
      cleanup_free char *value = NULL;
      ssize_t vlen;
      r = get_xattr (src, p, &value, &vlen);
      if (r == -ENODATA)
        continue;
      if (r < 0)
        return al_error_set (w->err, -r, "read xattr %s of `%s`", p, shown (w));
      if (lsetxattr (dst, p, value, (size_t) vlen, 0) < 0)
        return al_error_set (w->err, errno, "set xattr %s on `%s`", p, shown (w));
    }
  if (!replace)
    return 0;
  cleanup_free char *old = NULL;
  ssize_t old_len;
  r = list_xattrs (dst, &old, &old_len);
  if (r < 0)
    return al_error_set (w->err, -r, "list the xattrs of `%s`", shown (w));
  for (const char *p = old; p && p < old + old_len; p += strlen (p) + 1)
    {
      if ((skip_overlay && is_overlay_xattr (p)) || !in_list (names, len, p))
        if (lremovexattr (dst, p) < 0 && errno != ENODATA)
          return al_error_set (w->err, errno, "remove xattr %s of `%s`", p, shown (w));
    }
  return 0;
}

/* Owner, xattrs, mode and times of src (st) onto dst; name NULL: the
 * directories themselves. */
static int
apply_meta2 (struct walk *w, int sdir, const char *sname, int ddir, const char *name,
             const struct stat *st, bool replace_xattrs)
{
  char sp[PATH_MAX], dp[PATH_MAX];
  entry_path (sp, sdir, sname);
  entry_path (dp, ddir, name);
  int at = name ? ddir : AT_FDCWD;
  const char *n = name ? name : dp;
  int nofollow = name ? AT_SYMLINK_NOFOLLOW : 0;
  if (fchownat (at, n, st->st_uid, st->st_gid, nofollow) < 0)
    return al_error_set (w->err, errno, "chown `%s`", shown (w));
  int r = copy_xattrs (w, sp, dp, w->mode != MODE_COPY || (w->flags & AL_TREE_SKIP_OVERLAY_XATTRS),
                       replace_xattrs);
  if (r < 0)
    return r;
  if (!S_ISLNK (st->st_mode) && fchmodat (at, n, st->st_mode & 07777, 0) < 0)
    return al_error_set (w->err, errno, "chmod `%s`", shown (w));
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (utimensat (at, n, ts, nofollow) < 0)
    return al_error_set (w->err, errno, "set the times of `%s`", shown (w));
  return 0;
}

static int
apply_meta (struct walk *w, int sdir, int ddir, const char *name, const struct stat *st,
            bool replace_xattrs)
{
  return apply_meta2 (w, sdir, name, ddir, name, st, replace_xattrs);
}

static int
copy_data_slow (int in, int out, off_t from, off_t to)
{
  char buf[65536];
  while (from < to)
    {
      size_t want = (size_t) (to - from) < sizeof buf ? (size_t) (to - from) : sizeof buf;
      ssize_t n = pread (in, buf, want, from);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      if (n == 0)
        return 0;
      for (ssize_t done = 0; done < n;)
        {
          ssize_t m = pwrite (out, buf + done, (size_t) (n - done), from + done);
          if (m < 0 && errno == EINTR)
            continue;
          if (m < 0)
            return -errno;
          done += m;
        }
      from += n;
    }
  return 0;
}

/* Data of in into out (empty): a reflink, else the data extents only. */
static int
copy_data (int in, int out, off_t size)
{
  if (size == 0)
    return 0;
  if (ioctl (out, FICLONE, in) == 0)
    return 0;
  off_t off = 0;
  bool use_cfr = true;
  while (off < size)
    {
      off_t data = lseek (in, off, SEEK_DATA);
      if (data < 0 && errno == ENXIO)
        break; /* a hole to the end */
      if (data < 0)
        data = off;
      off_t hole = lseek (in, data, SEEK_HOLE);
      if (hole < 0 || hole > size)
        hole = size;
      loff_t ioff = data, ooff = data;
      while (use_cfr && ioff < hole)
        {
          ssize_t n = copy_file_range (in, &ioff, out, &ooff, (size_t) (hole - ioff), 0);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0
              && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
            {
              use_cfr = false;
              break;
            }
          if (n < 0)
            return -errno;
          if (n == 0)
            break;
        }
      if (!use_cfr)
        {
          int r = copy_data_slow (in, out, ioff, hole);
          if (r < 0)
            return r;
        }
      off = hole;
    }
  if (ftruncate (out, size) < 0)
    return -errno;
  return 0;
}

static int
link_cmp (const void *a, const void *b)
{
  const struct link_entry *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino)
    return x->ino < y->ino ? -1 : 1;
  return 0;
}

static void
link_free (void *p)
{
  struct link_entry *e = p;
  free (e->path);
  free (e);
}

/* A non-directory src/name (st) made at ddir/name, which does not exist. */
static int
copy_nondir2 (struct walk *w, int sdir, const char *name, int ddir, const char *dname,
              const struct stat *st)
{
  struct link_entry key = { .dev = st->st_dev, .ino = st->st_ino };
  if (st->st_nlink > 1)
    {
      struct link_entry **found = tfind (&key, &w->links, link_cmp);
      if (found)
        {
          if (linkat (w->dst_root, (*found)->path + 1, ddir, dname, 0) == 0)
            return 0;
          if (errno != ENOENT)
            return al_error_set (w->err, errno, "link `%s` to `%s`", shown (w), (*found)->path);
          /* The first name was replaced since: make a new inode. */
        }
    }

  if (S_ISREG (st->st_mode))
    {
      cleanup_close int in = openat (sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (in < 0)
        return al_error_set (w->err, errno, "open `%s`", shown (w));
      cleanup_close int out
          = openat (ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0)
        return al_error_set (w->err, errno, "create `%s`", shown (w));
      int r = copy_data (in, out, st->st_size);
      if (r < 0)
        return al_error_set (w->err, -r, "copy `%s`", shown (w));
    }
  else if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (sdir, name, target, sizeof target - 1);
      if (n < 0)
        return al_error_set (w->err, errno, "readlink `%s`", shown (w));
      target[n] = '\0';
      if (symlinkat (target, ddir, dname) < 0)
        return al_error_set (w->err, errno, "symlink `%s`", shown (w));
    }
  else if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) || S_ISFIFO (st->st_mode)
           || S_ISSOCK (st->st_mode))
    {
      if (mknodat (ddir, dname, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
        return al_error_set (w->err, errno, "mknod `%s`", shown (w));
    }
  else
    return al_error_reason (w->err, EINVAL, "copy `%s`: unknown file type", shown (w));

  int r = apply_meta2 (w, sdir, name, ddir, dname, st, false);
  if (r < 0)
    return r;
  if (st->st_nlink > 1)
    {
      struct link_entry *e = calloc (1, sizeof *e);
      if (e == NULL || (e->path = strdup (w->path)) == NULL)
        {
          free (e);
          return al_error_set (w->err, ENOMEM, "copy `%s`", shown (w));
        }
      e->dev = st->st_dev;
      e->ino = st->st_ino;
      struct link_entry **slot = tsearch (e, &w->links, link_cmp);
      if (slot == NULL)
        {
          link_free (e);
          return al_error_set (w->err, ENOMEM, "copy `%s`", shown (w));
        }
      if (*slot != e)
        {
          /* Replace the stale first name. */
          free ((*slot)->path);
          (*slot)->path = al_steal_ptr (&e->path);
          free (e);
        }
    }
  return 0;
}

static int
copy_nondir (struct walk *w, int sdir, int ddir, const char *name, const struct stat *st)
{
  return copy_nondir2 (w, sdir, name, ddir, name, st);
}

static int
open_dir (int dirfd, const char *name)
{
  return openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static DIR *
open_stream (int fd)
{
  int copy = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0)
    return NULL;
  DIR *d = fdopendir (copy);
  if (d == NULL)
    close (copy);
  return d;
}

static bool
is_dot (const char *name)
{
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static bool
is_opaque (int dirfd, const char *name)
{
  char p[PATH_MAX], v[2];
  ssize_t n = lgetxattr (entry_path (p, dirfd, name), OPAQUE_XATTR, v, sizeof v);
  return n == 1 && v[0] == 'y';
}

/* The next entry of d but . and ..: 1 (in *ret), 0 at the end, or
 * -errno. */
static int
next_entry (DIR *d, struct dirent **ret)
{
  for (;;)
    {
      errno = 0;
      struct dirent *e = readdir (d);
      if (e == NULL)
        return errno ? -errno : 0;
      if (!is_dot (e->d_name))
        {
          *ret = e;
          return 1;
        }
    }
}

static int remove_entry (int dirfd, const char *name, struct al_error *err);

static int compare_entry (struct walk *w, int odir, int ndir, const char *name,
                          const struct stat *os, const struct stat *ns, bool *ret_differs);

static int walk_dir (struct walk *w, int sfd, int dfd);

/* The directory src/name (st) into dst/name: made if missing (or
 * replaced when replace), filled, then its metadata applied. */
static int
walk_subdir (struct walk *w, int sdir, int ddir, const char *name, const struct stat *st,
             bool exists)
{
  if (!exists && mkdirat (ddir, name, 0700) < 0)
    return al_error_set (w->err, errno, "mkdir `%s`", shown (w));
  cleanup_close int s = open_dir (sdir, name);
  if (s < 0)
    return al_error_set (w->err, errno, "open `%s`", shown (w));
  cleanup_close int d = open_dir (ddir, name);
  if (d < 0)
    return al_error_set (w->err, errno, "open `%s` in the copy", shown (w));
  struct stat sst;
  bool other_mount = (w->flags & AL_TREE_ONE_FS) && fstat (s, &sst) == 0 && sst.st_dev != w->top_dev;
  int r = other_mount ? 0 : walk_dir (w, s, d);
  if (r < 0)
    return r;
  return apply_meta (w, sdir, ddir, name, st, exists);
}

static int
walk_entry (struct walk *w, int sfd, int dfd, const char *name)
{
  struct stat st, dst;
  if (fstatat (sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return al_error_set (w->err, errno, "stat `%s`", shown (w));
  bool exists = false;
  if (w->mode != MODE_COPY)
    {
      if (fstatat (dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0)
        exists = true;
      else if (errno != ENOENT)
        return al_error_set (w->err, errno, "stat `%s` in the copy", shown (w));
    }

  if (w->mode == MODE_APPLY && al_tree_is_whiteout (&st))
    {
      int r = exists ? remove_entry (dfd, name, w->err) : 0;
      return r < 0 ? al_error_wrap (w->err, "`%s`", shown (w)) : 0;
    }

  bool keep = false; /* dst's entry stays (merged into, or equal) */
  if (exists && S_ISDIR (st.st_mode) && S_ISDIR (dst.st_mode))
    keep = !(w->mode == MODE_APPLY && is_opaque (sfd, name));
  else if (exists && w->mode == MODE_SYNC && (st.st_mode & S_IFMT) == (dst.st_mode & S_IFMT))
    {
      bool differs;
      int r = compare_entry (w, dfd, sfd, name, &dst, &st, &differs);
      if (r < 0)
        return r;
      if (!differs)
        return 0;
    }
  if (exists && !keep)
    {
      int r = remove_entry (dfd, name, w->err);
      if (r < 0)
        return al_error_wrap (w->err, "replace `%s`", shown (w));
    }
  if (S_ISDIR (st.st_mode))
    return walk_subdir (w, sfd, dfd, name, &st, keep);
  return copy_nondir (w, sfd, dfd, name, &st);
}

static int
walk_dir (struct walk *w, int sfd, int dfd)
{
  cleanup_dir DIR *d = open_stream (sfd);
  if (d == NULL)
    return al_error_set (w->err, errno, "read `%s`", shown (w));
  struct dirent *e;
  for (int more;;)
    {
      if ((more = next_entry (d, &e)) < 0)
        return al_error_set (w->err, -more, "read `%s`", shown (w));
      if (more == 0)
        break;
      int r = push (w, e->d_name);
      if (r < 0)
        return r;
      r = walk_entry (w, sfd, dfd, e->d_name);
      pop (w, e->d_name);
      if (r < 0)
        return r;
    }
  if (w->mode != MODE_SYNC)
    return 0;

  /* What dst has and src lacks. */
  cleanup_dir DIR *dd = open_stream (dfd);
  if (dd == NULL)
    return al_error_set (w->err, errno, "read `%s` in the copy", shown (w));
  for (int more;;)
    {
      if ((more = next_entry (dd, &e)) < 0)
        return al_error_set (w->err, -more, "read `%s` in the copy", shown (w));
      if (more == 0)
        break;
      struct stat st;
      if (fstatat (sfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        continue;
      if (errno != ENOENT)
        return al_error_set (w->err, errno, "stat `%s/%s`", w->path, e->d_name);
      int r = remove_entry (dfd, e->d_name, w->err);
      if (r < 0)
        return al_error_wrap (w->err, "`%s`", shown (w));
    }
  return 0;
}

static int
run_walk (enum walk_mode mode, unsigned flags, int src_fd, int dst_fd, struct al_error *err)
{
  struct walk *w = calloc (1, sizeof *w);
  if (w == NULL)
    return al_error_set (err, ENOMEM, "copy a tree");
  w->mode = mode;
  w->flags = flags;
  w->dst_root = dst_fd;
  w->err = err;
  struct stat top;
  w->top_dev = fstat (src_fd, &top) == 0 ? top.st_dev : 0;
  int r = walk_dir (w, src_fd, dst_fd);
  if (r == 0)
    {
      struct stat st;
      if (fstat (src_fd, &st) < 0)
        r = al_error_set (err, errno, "stat the top of the tree");
      else
        r = apply_meta (w, src_fd, dst_fd, NULL, &st, mode != MODE_COPY);
    }
  tdestroy (w->links, link_free);
  free (w);
  return r;
}

int
al_tree_copy_opts (int src_dirfd, int dst_dirfd, unsigned flags, struct al_error *err)
{
  return run_walk (MODE_COPY, flags, src_dirfd, dst_dirfd, err);
}

int
al_tree_copy (int src_dirfd, int dst_dirfd, struct al_error *err)
{
  return run_walk (MODE_COPY, 0, src_dirfd, dst_dirfd, err);
}

int
al_tree_apply_upper (int upper_fd, int dst_fd, struct al_error *err)
{
  return run_walk (MODE_APPLY, AL_TREE_SKIP_OVERLAY_XATTRS, upper_fd, dst_fd, err);
}

int
al_tree_sync (int src_fd, int dst_fd, struct al_error *err)
{
  return run_walk (MODE_SYNC, AL_TREE_SKIP_OVERLAY_XATTRS, src_fd, dst_fd, err);
}

int
al_tree_sync_opts (int src_fd, int dst_fd, unsigned flags, struct al_error *err)
{
  return run_walk (MODE_SYNC, flags | AL_TREE_SKIP_OVERLAY_XATTRS, src_fd, dst_fd, err);
}

int
al_tree_copy_meta (int src_fd, int dst_fd, unsigned flags, struct al_error *err)
{
  struct walk w = { .mode = MODE_COPY, .flags = flags, .err = err };
  struct stat st;
  if (fstat (src_fd, &st) < 0)
    return al_error_set (err, errno, "stat a directory");
  return apply_meta (&w, src_fd, dst_fd, NULL, &st, true);
}

int
al_tree_copy_file (int src_dirfd, const char *name, int dst_dirfd, const char *dst_name,
                   unsigned flags, struct al_error *err)
{
  struct walk *w = calloc (1, sizeof *w);
  if (w == NULL)
    return al_error_set (err, ENOMEM, "copy `%s`", name);
  w->mode = MODE_COPY;
  w->flags = flags;
  w->err = err;
  w->dst_root = dst_dirfd;
  int r = push (w, name);
  struct stat st;
  if (r == 0 && fstatat (src_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    r = al_error_set (err, errno, "stat `%s`", name);
  if (r == 0 && S_ISDIR (st.st_mode))
    r = al_error_reason (err, EISDIR, "copy `%s`: a directory", name);
  if (r == 0)
    {
      st.st_nlink = 1; /* one name only: no link map */
      r = copy_nondir2 (w, src_dirfd, name, dst_dirfd, dst_name, &st);
    }
  free (w);
  return r;
}

/* ---------------------------------------------------------- link clone */

static int
link_dir (struct walk *w, int sfd, int dfd)
{
  cleanup_dir DIR *d = open_stream (sfd);
  if (d == NULL)
    return al_error_set (w->err, errno, "read `%s`", shown (w));
  struct dirent *e;
  for (int more;;)
    {
      if ((more = next_entry (d, &e)) < 0)
        return al_error_set (w->err, -more, "read `%s`", shown (w));
      if (more == 0)
        return 0;
      int r = push (w, e->d_name);
      if (r < 0)
        return r;
      struct stat st;
      if (fstatat (sfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        r = al_error_set (w->err, errno, "stat `%s`", shown (w));
      else if (!S_ISDIR (st.st_mode))
        {
          if (linkat (sfd, e->d_name, dfd, e->d_name, 0) < 0)
            r = al_error_set (w->err, errno, "link `%s`", shown (w));
        }
      else if (mkdirat (dfd, e->d_name, 0700) < 0)
        r = al_error_set (w->err, errno, "mkdir `%s`", shown (w));
      else
        {
          cleanup_close int s = open_dir (sfd, e->d_name);
          cleanup_close int t = open_dir (dfd, e->d_name);
          if (s < 0 || t < 0)
            r = al_error_set (w->err, errno, "open `%s`", shown (w));
          else if ((r = link_dir (w, s, t)) == 0)
            r = apply_meta (w, sfd, dfd, e->d_name, &st, false);
        }
      pop (w, e->d_name);
      if (r < 0)
        return r;
    }
}

int
al_tree_link_clone (int src_fd, int dst_fd, struct al_error *err)
{
  struct walk *w = calloc (1, sizeof *w);
  if (w == NULL)
    return al_error_set (err, ENOMEM, "link a tree");
  w->mode = MODE_COPY;
  w->err = err;
  int r = link_dir (w, src_fd, dst_fd);
  struct stat st;
  if (r == 0 && fstat (src_fd, &st) < 0)
    r = al_error_set (err, errno, "stat the top of the tree");
  if (r == 0)
    r = apply_meta (w, src_fd, dst_fd, NULL, &st, false);
  free (w);
  return r;
}

/* ---------------------------------------------------------------- diff */

struct diff
{
  struct walk w;
  int (*cb) (void *data, char kind, const char *path);
  void *data;
};

static int
report (struct diff *d, char kind)
{
  int r = d->cb (d->data, kind, shown (&d->w));
  if (r != 0 && d->w.err->errnum == 0 && r < 0)
    al_error_set (d->w.err, -r, "diff `%s`", shown (&d->w));
  return r;
}

/* Whether the xattrs (but trusted.overlay.*) of two entries differ. */
static int
xattrs_differ (struct walk *w, int odir, int ndir, const char *name, bool *ret)
{
  char op[PATH_MAX], np[PATH_MAX];
  entry_path (op, odir, name);
  entry_path (np, ndir, name);
  cleanup_free char *on = NULL, *nn = NULL;
  ssize_t ol, nl;
  int r;
  if ((r = list_xattrs (op, &on, &ol)) < 0 || (r = list_xattrs (np, &nn, &nl)) < 0)
    return al_error_set (w->err, -r, "list the xattrs of `%s`", shown (w));
  *ret = true;
  size_t count = 0;
  for (const char *p = on; p && p < on + ol; p += strlen (p) + 1)
    {
      if (is_overlay_xattr (p))
        continue;
      count++;
      cleanup_free char *a = NULL, *b = NULL;
      ssize_t al, bl;
      if (get_xattr (op, p, &a, &al) < 0 || get_xattr (np, p, &b, &bl) < 0)
        return 0;
      if (al != bl || memcmp (a, b, (size_t) al) != 0)
        return 0;
    }
  for (const char *p = nn; p && p < nn + nl; p += strlen (p) + 1)
    if (!is_overlay_xattr (p))
      count--;
  *ret = count != 0;
  return 0;
}

static int
content_differs (struct walk *w, int odir, int ndir, const char *name, bool *ret)
{
  cleanup_close int a = openat (odir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  cleanup_close int b = openat (ndir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (a < 0 || b < 0)
    return al_error_set (w->err, errno, "open `%s`", shown (w));
  /* On the heap: a static or thread-local buffer would sit in every
     airlock process (a thread-local one is set up at each start). */
  cleanup_free char *x = malloc (65536), *y = malloc (65536);
  if (x == NULL || y == NULL)
    return al_error_set (w->err, ENOMEM, "compare `%s`", shown (w));
  for (;;)
    {
      ssize_t n = read (a, x, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return al_error_set (w->err, errno, "read `%s`", shown (w));
      ssize_t got = 0;
      while (got < n)
        {
          ssize_t m = read (b, y + got, (size_t) (n - got));
          if (m < 0 && errno == EINTR)
            continue;
          if (m < 0)
            return al_error_set (w->err, errno, "read `%s`", shown (w));
          if (m == 0)
            break;
          got += m;
        }
      if (got != n || memcmp (x, y, (size_t) n) != 0)
        {
          *ret = true;
          return 0;
        }
      if (n == 0)
        {
          *ret = false;
          return 0;
        }
    }
}

static int
compare_entry (struct walk *w, int odir, int ndir, const char *name, const struct stat *os,
               const struct stat *ns, bool *ret_differs)
{
  *ret_differs = true;
  if (os->st_mode != ns->st_mode || os->st_uid != ns->st_uid || os->st_gid != ns->st_gid
      || os->st_mtim.tv_sec != ns->st_mtim.tv_sec || os->st_mtim.tv_nsec != ns->st_mtim.tv_nsec)
    return 0;
  if (!S_ISDIR (os->st_mode) && os->st_size != ns->st_size)
    return 0;
  if ((S_ISCHR (os->st_mode) || S_ISBLK (os->st_mode)) && os->st_rdev != ns->st_rdev)
    return 0;
  if (S_ISLNK (os->st_mode))
    {
      char a[PATH_MAX], b[PATH_MAX];
      ssize_t al = readlinkat (odir, name, a, sizeof a);
      ssize_t bl = readlinkat (ndir, name, b, sizeof b);
      if (al < 0 || bl < 0)
        return al_error_set (w->err, errno, "readlink `%s`", shown (w));
      if (al != bl || memcmp (a, b, (size_t) al) != 0)
        return 0;
    }
  bool differs = false;
  int r = xattrs_differ (w, odir, ndir, name, &differs);
  if (r < 0 || differs)
    return r;
  if (S_ISREG (os->st_mode) && os->st_size > 0
      && (os->st_ino != ns->st_ino || os->st_ctim.tv_sec != ns->st_ctim.tv_sec
          || os->st_ctim.tv_nsec != ns->st_ctim.tv_nsec))
    return content_differs (w, odir, ndir, name, ret_differs);
  *ret_differs = false;
  return 0;
}

static int diff_dir (struct diff *d, int ofd, int nfd);

/* Everything under the directory nfd as added. */
static int
report_added (struct diff *d, int nfd)
{
  cleanup_dir DIR *dir = open_stream (nfd);
  if (dir == NULL)
    return al_error_set (d->w.err, errno, "read `%s`", shown (&d->w));
  struct dirent *e;
  for (int more;;)
    {
      if ((more = next_entry (dir, &e)) < 0)
        return al_error_set (d->w.err, -more, "read `%s`", shown (&d->w));
      if (more == 0)
        return 0;
      int r = push (&d->w, e->d_name);
      if (r < 0)
        return r;
      r = report (d, 'A');
      struct stat st;
      if (r == 0 && fstatat (nfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
        {
          cleanup_close int sub = open_dir (nfd, e->d_name);
          r = sub < 0 ? al_error_set (d->w.err, errno, "open `%s`", shown (&d->w))
                      : report_added (d, sub);
        }
      pop (&d->w, e->d_name);
      if (r != 0)
        return r;
    }
}

static int
diff_entry (struct diff *d, int ofd, int nfd, const char *name)
{
  struct stat ns, os;
  if (fstatat (nfd, name, &ns, AT_SYMLINK_NOFOLLOW) < 0)
    return al_error_set (d->w.err, errno, "stat `%s`", shown (&d->w));
  bool new_dir = S_ISDIR (ns.st_mode);
  if (fstatat (ofd, name, &os, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return al_error_set (d->w.err, errno, "stat `%s`", shown (&d->w));
      int r = report (d, 'A');
      if (r != 0 || !new_dir)
        return r;
      cleanup_close int sub = open_dir (nfd, name);
      return sub < 0 ? al_error_set (d->w.err, errno, "open `%s`", shown (&d->w))
                     : report_added (d, sub);
    }
  bool differs = false;
  int r = compare_entry (&d->w, ofd, nfd, name, &os, &ns, &differs);
  if (r < 0)
    return r;
  if (differs && (r = report (d, 'M')) != 0)
    return r;
  if (!new_dir)
    return 0;
  cleanup_close int nsub = open_dir (nfd, name);
  if (nsub < 0)
    return al_error_set (d->w.err, errno, "open `%s`", shown (&d->w));
  if (!S_ISDIR (os.st_mode))
    return report_added (d, nsub);
  cleanup_close int osub = open_dir (ofd, name);
  if (osub < 0)
    return al_error_set (d->w.err, errno, "open `%s`", shown (&d->w));
  return diff_dir (d, osub, nsub);
}

static int
diff_dir (struct diff *d, int ofd, int nfd)
{
  cleanup_dir DIR *dir = open_stream (nfd);
  if (dir == NULL)
    return al_error_set (d->w.err, errno, "read `%s`", shown (&d->w));
  struct dirent *e;
  for (int more;;)
    {
      if ((more = next_entry (dir, &e)) < 0)
        return al_error_set (d->w.err, -more, "read `%s`", shown (&d->w));
      if (more == 0)
        break;
      int r = push (&d->w, e->d_name);
      if (r < 0)
        return r;
      r = diff_entry (d, ofd, nfd, e->d_name);
      pop (&d->w, e->d_name);
      if (r != 0)
        return r;
    }
  cleanup_dir DIR *old = open_stream (ofd);
  if (old == NULL)
    return al_error_set (d->w.err, errno, "read `%s`", shown (&d->w));
  for (int more;;)
    {
      if ((more = next_entry (old, &e)) < 0)
        return al_error_set (d->w.err, -more, "read `%s`", shown (&d->w));
      if (more == 0)
        return 0;
      struct stat st;
      if (fstatat (nfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        continue;
      if (errno != ENOENT)
        return al_error_set (d->w.err, errno, "stat `%s/%s`", d->w.path, e->d_name);
      int r = push (&d->w, e->d_name);
      if (r < 0)
        return r;
      r = report (d, 'D');
      pop (&d->w, e->d_name);
      if (r != 0)
        return r;
    }
}

int
al_tree_diff (int old_fd, int new_fd, int (*cb) (void *data, char kind, const char *path),
              void *data, struct al_error *err)
{
  struct diff *d = calloc (1, sizeof *d);
  if (d == NULL)
    return al_error_set (err, ENOMEM, "compare two trees");
  d->w.err = err;
  d->cb = cb;
  d->data = data;
  err->errnum = 0;
  int r = diff_dir (d, old_fd, new_fd);
  free (d);
  return r;
}

/* The guided walk: only names the guides hold are looked at. */

struct names
{
  char **v;
  size_t n, cap;
};

static int
names_add (struct names *ns, const char *name)
{
  if (ns->n == ns->cap)
    {
      size_t cap = ns->cap ? ns->cap * 2 : 16;
      char **v = realloc (ns->v, cap * sizeof *v);
      if (v == NULL)
        return -ENOMEM;
      ns->v = v;
      ns->cap = cap;
    }
  if ((ns->v[ns->n] = strdup (name)) == NULL)
    return -ENOMEM;
  ns->n++;
  return 0;
}

static void
names_free (struct names *ns)
{
  for (size_t i = 0; i < ns->n; i++)
    free (ns->v[i]);
  free (ns->v);
}

static int
names_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

struct guided
{
  struct diff *d;
  const struct al_tree_guide *guides;
  size_t n_guides;
};

/* The guide whose path is the one at hand, if any. */
static const struct al_tree_guide *
guide_at (const struct guided *g, const char *path)
{
  for (size_t i = 0; i < g->n_guides; i++)
    if (strcmp (g->guides[i].path, path) == 0)
      return &g->guides[i];
  return NULL;
}

static void
close_fds (int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    close (fds[i]);
}

static int gdiff_dir (struct guided *g, int ofd, int nfd, const int *fds, size_t n_fds);

/* The names in the guide dirs fds, and the next components of deeper
 * guides' paths, sorted, once each. */
static int
guided_names (struct guided *g, const int *fds, size_t n_fds, struct names *ns)
{
  struct diff *d = g->d;
  for (size_t i = 0; i < n_fds; i++)
    {
      cleanup_dir DIR *dir = open_stream (fds[i]);
      if (dir == NULL)
        return al_error_set (d->w.err, errno, "read a layer at `%s`", shown (&d->w));
      struct dirent *e;
      for (int more;;)
        {
          if ((more = next_entry (dir, &e)) < 0)
            return al_error_set (d->w.err, -more, "read a layer at `%s`", shown (&d->w));
          if (more == 0)
            break;
          if (names_add (ns, e->d_name) < 0)
            return al_error_set (d->w.err, ENOMEM, "diff `%s`", shown (&d->w));
        }
    }
  size_t len = d->w.len;
  for (size_t i = 0; i < g->n_guides; i++)
    {
      const char *p = g->guides[i].path;
      if (strncmp (p, d->w.path, len) != 0 || p[len] != '/')
        continue;
      char next[NAME_MAX + 1];
      const char *start = p + len + 1, *end = strchr (start, '/');
      size_t n = end ? (size_t) (end - start) : strlen (start);
      if (n == 0 || n > NAME_MAX)
        continue;
      memcpy (next, start, n);
      next[n] = '\0';
      if (names_add (ns, next) < 0)
        return al_error_set (d->w.err, ENOMEM, "diff `%s`", shown (&d->w));
    }
  if (ns->n > 1)
    qsort (ns->v, ns->n, sizeof *ns->v, names_cmp);
  return 0;
}

/* Both old and new have the directory name: compare below it, guided by
 * the guides' directories at name, or in full where a guide replaced it. */
static int
gdiff_subdir (struct guided *g, int ofd, int nfd, const char *name, const int *fds, size_t n_fds)
{
  struct diff *d = g->d;
  cleanup_close int osub = open_dir (ofd, name);
  cleanup_close int nsub = open_dir (nfd, name);
  if (osub < 0 || nsub < 0)
    return al_error_set (d->w.err, errno, "open `%s`", shown (&d->w));
  const struct al_tree_guide *mount = guide_at (g, d->w.path);
  if (mount)
    return gdiff_dir (g, osub, nsub, mount->fds, mount->n);
  cleanup_free int *sub = calloc (n_fds ? n_fds : 1, sizeof *sub);
  if (sub == NULL)
    return al_error_set (d->w.err, ENOMEM, "diff `%s`", shown (&d->w));
  size_t n_sub = 0;
  bool full = false;
  for (size_t i = 0; i < n_fds && !full; i++)
    {
      struct stat st;
      if (fstatat (fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (st.st_mode) || is_opaque (fds[i], name))
        full = true; /* what was below is gone in that layer */
      else if ((sub[n_sub] = open_dir (fds[i], name)) >= 0)
        n_sub++;
      else
        {
          int r = al_error_set (d->w.err, errno, "open a layer at `%s`", shown (&d->w));
          close_fds (sub, n_sub);
          return r;
        }
    }
  int r = full ? diff_dir (d, osub, nsub) : gdiff_dir (g, osub, nsub, sub, n_sub);
  close_fds (sub, n_sub);
  return r;
}

static int
gdiff_entry (struct guided *g, int ofd, int nfd, const char *name, const int *fds, size_t n_fds)
{
  struct diff *d = g->d;
  struct stat os, ns;
  bool in_old = fstatat (ofd, name, &os, AT_SYMLINK_NOFOLLOW) == 0;
  if (!in_old && errno != ENOENT)
    return al_error_set (d->w.err, errno, "stat `%s`", shown (&d->w));
  bool in_new = fstatat (nfd, name, &ns, AT_SYMLINK_NOFOLLOW) == 0;
  if (!in_new && errno != ENOENT)
    return al_error_set (d->w.err, errno, "stat `%s`", shown (&d->w));
  if (!in_new)
    return in_old ? report (d, 'D') : 0;
  if (!in_old)
    return diff_entry (d, ofd, nfd, name); /* added: reported with its contents */
  if (!S_ISDIR (os.st_mode) || !S_ISDIR (ns.st_mode))
    return diff_entry (d, ofd, nfd, name);
  bool differs;
  int r = compare_entry (&d->w, ofd, nfd, name, &os, &ns, &differs);
  if (r < 0)
    return r;
  if (differs && (r = report (d, 'M')) != 0)
    return r;
  return gdiff_subdir (g, ofd, nfd, name, fds, n_fds);
}

static int
gdiff_dir (struct guided *g, int ofd, int nfd, const int *fds, size_t n_fds)
{
  struct names ns = { 0 };
  int r = guided_names (g, fds, n_fds, &ns);
  for (size_t i = 0; r == 0 && i < ns.n; i++)
    {
      if (i > 0 && strcmp (ns.v[i], ns.v[i - 1]) == 0)
        continue;
      if ((r = push (&g->d->w, ns.v[i])) < 0)
        break;
      r = gdiff_entry (g, ofd, nfd, ns.v[i], fds, n_fds);
      pop (&g->d->w, ns.v[i]);
    }
  names_free (&ns);
  return r;
}

int
al_tree_diff_guided (int old_fd, int new_fd, const struct al_tree_guide *guides, size_t n_guides,
                     int (*cb) (void *data, char kind, const char *path), void *data,
                     struct al_error *err)
{
  struct diff *d = calloc (1, sizeof *d);
  if (d == NULL)
    return al_error_set (err, ENOMEM, "compare two trees");
  d->w.err = err;
  d->cb = cb;
  d->data = data;
  err->errnum = 0;
  struct guided g = { .d = d, .guides = guides, .n_guides = n_guides };
  const struct al_tree_guide *top = guide_at (&g, "");
  int r = gdiff_dir (&g, old_fd, new_fd, top ? top->fds : NULL, top ? top->n : 0);
  free (d);
  return r;
}

/* -------------------------------------------------------------- remove */

static int
remove_contents (int fd, struct al_error *err)
{
  cleanup_dir DIR *d = open_stream (fd);
  if (d == NULL)
    return al_error_set (err, errno, "read a directory to remove");
  struct dirent *e;
  for (int more;;)
    {
      if ((more = next_entry (d, &e)) < 0)
        return al_error_set (err, -more, "read a directory to remove");
      if (more == 0)
        return 0;
      int r = remove_entry (fd, e->d_name, err);
      if (r < 0 && r != -ENOENT)
        return r;
    }
}

static int
remove_entry (int dirfd, const char *name, struct al_error *err)
{
  if (unlinkat (dirfd, name, 0) == 0)
    return 0;
  if (errno == ENOENT)
    return al_error_set (err, errno, "remove `%s`", name);
  if (errno != EISDIR && errno != EPERM)
    return al_error_set (err, errno, "remove `%s`", name);
  /* A directory: empty it, then remove it; a readdir that missed entries
   * removed under it gets another pass. */
  for (int pass = 0;; pass++)
    {
      cleanup_close int fd = open_dir (dirfd, name);
      if (fd < 0)
        return al_error_set (err, errno, "open `%s` to remove it", name);
      int r = remove_contents (fd, err);
      if (r < 0)
        return al_error_wrap (err, "`%s`", name);
      if (unlinkat (dirfd, name, AT_REMOVEDIR) == 0)
        return 0;
      if (errno != ENOTEMPTY || pass > 8)
        return al_error_set (err, errno, "remove `%s`", name);
    }
}

int
al_tree_remove (int dirfd, const char *name, struct al_error *err)
{
  return remove_entry (dirfd, name, err);
}
