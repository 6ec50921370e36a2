/* safepath.c — see safepath.h. */
#include "config.h"

#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#define MAX_SYMLINKS 40 /* the kernel's MAXSYMLINKS */

const char *
al_fd_path (int fd, char buf[AL_FD_PATH_MAX])
{
  snprintf (buf, AL_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

bool
al_path_escapes (const char *path)
{
  long depth = 0;
  const char *p = path;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      const char *end = strchrnul (p, '/');
      size_t n = (size_t) (end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (--depth < 0)
            return true;
        }
      else if (!(n == 1 && p[0] == '.'))
        depth++;
      p = end;
    }
  return false;
}

/* ------------------------------------------------------ user-space walk */

/* The directories walked below the root, innermost last; ".." pops one. */
struct walk_stack
{
  int *fds;
  size_t n, cap;
};

static void
walk_stack_free (struct walk_stack *s)
{
  for (size_t i = 0; i < s->n; i++)
    close (s->fds[i]);
  free (s->fds);
}

static int
walk_stack_push (struct walk_stack *s, int fd)
{
  if (s->n == s->cap)
    {
      size_t cap = s->cap ? s->cap * 2 : 16;
      int *fds = realloc (s->fds, cap * sizeof *fds);
      if (fds == NULL)
        {
          close (fd);
          return -ENOMEM;
        }
      s->fds = fds;
      s->cap = cap;
    }
  s->fds[s->n++] = fd;
  return 0;
}

static void
walk_stack_pop_all (struct walk_stack *s)
{
  while (s->n > 0)
    close (s->fds[--s->n]);
}

/* RESOLVE_IN_ROOT done by hand: each component is opened O_PATH|O_NOFOLLOW
 * relative to the directory before it; a symlink's text replaces it (from
 * the root when absolute), so the walk only ever descends from root_fd. */
static int
walk (int root_fd, const char *path, int open_flags, unsigned flags)
{
  __attribute__ ((cleanup (walk_stack_free))) struct walk_stack stack = { 0 };
  cleanup_free char *todo = strdup (path);
  if (todo == NULL)
    return -ENOMEM;
  size_t pos = 0;
  unsigned links = 0;

  for (;;)
    {
      char *p = todo + pos;
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      char *end = strchrnul (p, '/');
      size_t len = (size_t) (end - p);
      const char *rest = end;
      while (*rest == '/')
        rest++;
      bool last = *rest == '\0';
      pos = (size_t) (end - todo);

      char name[NAME_MAX + 1];
      if (len > NAME_MAX)
        return -ENAMETOOLONG;
      memcpy (name, p, len);
      name[len] = '\0';

      int cur = stack.n ? stack.fds[stack.n - 1] : root_fd;
      if (strcmp (name, ".") == 0)
        continue;
      if (strcmp (name, "..") == 0)
        {
          if (stack.n > 0)
            close (stack.fds[--stack.n]);
          continue;
        }

      cleanup_close int fd = openat (cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return -errno;
      struct stat st;
      if (fstat (fd, &st) < 0)
        return -errno;

      if (S_ISLNK (st.st_mode) && !(last && (flags & AL_SAFE_NOFOLLOW)))
        {
          if (++links > MAX_SYMLINKS)
            return -ELOOP;
          char target[PATH_MAX];
          ssize_t n = readlinkat (fd, "", target, sizeof target);
          if (n < 0)
            return -errno;
          if ((size_t) n >= sizeof target)
            return -ENAMETOOLONG;
          target[n] = '\0';
          if (target[0] == '/')
            walk_stack_pop_all (&stack);
          /* The link's text, then whatever followed it. */
          size_t tail = strlen (todo + pos);
          if ((size_t) n + 1 + tail >= PATH_MAX)
            return -ENAMETOOLONG;
          char *next = malloc ((size_t) n + 1 + tail + 1);
          if (next == NULL)
            return -ENOMEM;
          memcpy (next, target, (size_t) n);
          next[n] = '/';
          memcpy (next + n + 1, todo + pos, tail + 1);
          free (todo);
          todo = next;
          pos = 0;
          continue;
        }

      if (!last)
        {
          if (!S_ISDIR (st.st_mode))
            return -ENOTDIR;
          int r = walk_stack_push (&stack, al_steal_fd (&fd));
          if (r < 0)
            return r;
          continue;
        }

      if (open_flags & O_PATH)
        {
          if ((open_flags & O_DIRECTORY) && !S_ISDIR (st.st_mode))
            return -ENOTDIR;
          return al_steal_fd (&fd);
        }
      int r = openat (cur, name, open_flags | O_NOFOLLOW | O_CLOEXEC);
      return r < 0 ? -errno : r;
    }

  /* The path ended on a directory already walked: the root, "." or "..". */
  int cur = stack.n ? stack.fds[stack.n - 1] : root_fd;
  int r = openat (cur, ".", open_flags | O_CLOEXEC);
  return r < 0 ? -errno : r;
}

/* ---------------------------------------------------------- resolution */

/* An fd for path inside root_fd, or -errno (no err: callers word it). */
static int
resolve (int root_fd, const char *path, int open_flags, unsigned flags)
{
  if (open_flags & O_NOFOLLOW)
    flags |= AL_SAFE_NOFOLLOW;
  if (*path == '\0')
    path = "/";

  if (!(flags & AL_SAFE_NO_OPENAT2))
    {
      struct open_how how = {
        .flags
        = (uint64_t) (open_flags | O_CLOEXEC | ((flags & AL_SAFE_NOFOLLOW) ? O_NOFOLLOW : 0)),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
      };
      /* EAGAIN: a rename raced with a ".." lookup; the kernel asks for a
         retry rather than risk a wrong answer. */
      for (int tries = 0; tries < 32; tries++)
        {
          long fd = syscall (SYS_openat2, root_fd, path, &how, sizeof how);
          if (fd >= 0)
            return (int) fd;
          if (errno != EAGAIN)
            break;
        }
      if (errno != ENOSYS)
        return -errno;
    }
  return walk (root_fd, path, open_flags, flags);
}

/* Split path into its parent and last component, trailing slashes dropped.
 * *ret_name is "" when path names the root itself. */
static int
split_last (const char *path, char **ret_parent, char **ret_name)
{
  size_t len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    len--;
  size_t start = len;
  while (start > 0 && path[start - 1] != '/')
    start--;
  cleanup_free char *parent = strndup (path, start);
  cleanup_free char *name = strndup (path + start, len - start);
  if (parent == NULL || name == NULL)
    return -ENOMEM;
  *ret_parent = al_steal_ptr (&parent);
  *ret_name = al_steal_ptr (&name);
  return 0;
}

static bool
is_plain_name (const char *name)
{
  return *name && strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

static int
check_length (const char *path, const char *what, struct al_error *err)
{
  if (strnlen (path, PATH_MAX) >= PATH_MAX)
    return al_error_set (err, ENAMETOOLONG, "%s in root", what);
  return 0;
}

/* The directory that will hold path's last component, made if missing. */
static int
make_parent (int root_fd, const char *path, unsigned flags, char **ret_name, struct al_error *err)
{
  cleanup_free char *parent = NULL;
  cleanup_free char *name = NULL;
  if (split_last (path, &parent, &name) < 0)
    return al_error_set (err, ENOMEM, "`%s`", path);
  if (!is_plain_name (name))
    return al_error_reason (err, EINVAL, "`%s` does not end in a file name", path);
  int dir = al_safe_mkdir_p (root_fd, parent, 0755, flags, err);
  if (dir < 0)
    return dir;
  *ret_name = al_steal_ptr (&name);
  return dir;
}

int
al_safe_open (int root_fd, const char *path, int open_flags, unsigned flags, struct al_error *err)
{
  if ((open_flags & O_CREAT) || (open_flags & O_TMPFILE) == O_TMPFILE)
    return al_error_reason (err, EINVAL, "open `%s` in root: O_CREAT is not supported", path);
  int r = check_length (path, "open", err);
  if (r < 0)
    return r;
  int fd = resolve (root_fd, path, open_flags, flags);
  if (fd < 0)
    return al_error_set (err, -fd, "open `%s` in root", path);
  return fd;
}

static int
mkdir_p (int root_fd, const char *path, mode_t mode, unsigned flags, unsigned depth,
         struct al_error *err)
{
  int fd = resolve (root_fd, path, O_PATH | O_DIRECTORY, flags);
  if (fd >= 0)
    return fd;
  if (fd != -ENOENT)
    return al_error_set (err, -fd, "mkdir `%s` in root", path);

  cleanup_free char *parent = NULL;
  cleanup_free char *name = NULL;
  if (split_last (path, &parent, &name) < 0)
    return al_error_set (err, ENOMEM, "mkdir `%s` in root", path);
  if (*name == '\0' || depth > PATH_MAX / 2)
    return al_error_set (err, ENOENT, "mkdir `%s` in root", path);

  cleanup_close int dir = mkdir_p (root_fd, parent, mode, flags, depth + 1, err);
  if (dir < 0)
    return dir;
  if (mkdirat (dir, name, mode) < 0 && errno != EEXIST)
    return al_error_set (err, errno, "mkdir `%s` in root", path);

  /* Resolve again from the root: what now stands at path is what counts. */
  fd = resolve (root_fd, path, O_PATH | O_DIRECTORY, flags);
  if (fd == -ENOENT)
    return al_error_reason (err, ENOENT, "mkdir `%s` in root: a dangling symlink is in the way",
                            path);
  if (fd < 0)
    return al_error_set (err, -fd, "mkdir `%s` in root", path);
  return fd;
}

int
al_safe_mkdir_p (int root_fd, const char *path, mode_t mode, unsigned flags, struct al_error *err)
{
  int r = check_length (path, "mkdir", err);
  if (r < 0)
    return r;
  return mkdir_p (root_fd, path, mode, flags, 0, err);
}

int
al_safe_create_file (int root_fd, const char *path, mode_t mode, unsigned flags,
                     struct al_error *err)
{
  int r = check_length (path, "create", err);
  if (r < 0)
    return r;
  cleanup_close int fd = resolve (root_fd, path, O_PATH, flags);
  if (fd == -ENOENT)
    {
      cleanup_free char *name = NULL;
      cleanup_close int dir = make_parent (root_fd, path, flags, &name, err);
      if (dir < 0)
        return al_error_wrap (err, "create `%s` in root", path);
      if (mknodat (dir, name, S_IFREG | (mode & 07777), 0) < 0 && errno != EEXIST)
        return al_error_set (err, errno, "create `%s` in root", path);
      fd = resolve (root_fd, path, O_PATH, flags);
      if (fd == -ENOENT)
        return al_error_reason (err, ENOENT,
                                "create `%s` in root: a dangling symlink is in the way", path);
    }
  if (fd < 0)
    return al_error_set (err, -fd, "create `%s` in root", path);

  struct stat st;
  if (fstat (fd, &st) < 0)
    return al_error_set (err, errno, "stat `%s` in root", path);
  if (S_ISDIR (st.st_mode))
    return al_error_set (err, EISDIR, "create `%s` in root", path);
  return al_steal_fd (&fd);
}

int
al_safe_mknod (int root_fd, const char *path, mode_t mode, dev_t dev, unsigned flags,
               struct al_error *err)
{
  int r = check_length (path, "mknod", err);
  if (r < 0)
    return r;
  cleanup_free char *name = NULL;
  cleanup_close int dir = make_parent (root_fd, path, flags, &name, err);
  if (dir < 0)
    return al_error_wrap (err, "mknod `%s` in root", path);
  if (mknodat (dir, name, mode, dev) < 0)
    return al_error_set (err, errno, "mknod `%s` in root", path);
  int fd = openat (dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return al_error_set (err, errno, "open `%s` in root", path);
  return fd;
}

int
al_safe_symlink (int root_fd, const char *target, const char *path, unsigned flags,
                 struct al_error *err)
{
  int r = check_length (path, "symlink", err);
  if (r < 0)
    return r;
  cleanup_free char *name = NULL;
  cleanup_close int dir = make_parent (root_fd, path, flags, &name, err);
  if (dir < 0)
    return al_error_wrap (err, "symlink `%s` in root", path);
  if (symlinkat (target, dir, name) < 0)
    return al_error_set (err, errno, "symlink `%s` in root", path);
  return 0;
}
