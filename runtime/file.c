/* file.c — see file.h. */
#include "config.h"

#include "file.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int
al_read_file (int dirfd, const char *path, size_t max, char **ret_buf,
              size_t *ret_len, struct al_error *err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return al_error_set (err, errno, "open `%s`", path);

  struct stat st;
  if (fstat (fd, &st) < 0)
    return al_error_set (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return al_error_set (err, EISDIR, "read `%s`", path);

  size_t cap = S_ISREG (st.st_mode) && st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
  if (cap > max + 1)
    cap = max + 1;
  cleanup_free char *buf = malloc (cap);
  if (buf == NULL)
    return al_error_set (err, ENOMEM, "read `%s`", path);

  size_t len = 0;
  for (;;)
    {
      if (len + 1 >= cap)
        {
          if (cap > max)
            return al_error_set (err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
          size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
          char *n = realloc (buf, ncap);
          if (n == NULL)
            return al_error_set (err, ENOMEM, "read `%s`", path);
          buf = n;
          cap = ncap;
        }
      ssize_t r = read (fd, buf + len, cap - 1 - len);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return al_error_set (err, errno, "read `%s`", path);
        }
      if (r == 0)
        break;
      len += (size_t) r;
      if (len > max)
        return al_error_set (err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
    }
  buf[len] = '\0';
  if (ret_len)
    *ret_len = len;
  *ret_buf = al_steal_ptr (&buf);
  return 0;
}

static int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

static int
replace_file (int dirfd, const char *path, const void *buf, size_t len, mode_t mode, bool durable,
              struct al_error *err)
{
  char tmp[4096];
  int n = snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
  if (n < 0 || (size_t) n >= sizeof tmp)
    return al_error_set (err, ENAMETOOLONG, "write `%s`", path);

  cleanup_close int fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return al_error_set (err, errno, "create `%s`", tmp);

  int ret = write_all (fd, buf, len);
  if (ret == 0 && durable && fsync (fd) < 0)
    ret = -errno;
  if (ret < 0)
    {
      unlinkat (dirfd, tmp, 0);
      return al_error_set (err, -ret, "write `%s`", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, path) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return al_error_set (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
al_write_file_atomic (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                      struct al_error *err)
{
  return replace_file (dirfd, path, buf, len, mode, true, err);
}

int
al_write_runtime_file (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                       struct al_error *err)
{
  return replace_file (dirfd, path, buf, len, mode, false, err);
}

int
al_mkdir_p (int dirfd, const char *path, mode_t mode, struct al_error *err)
{
  size_t len = strlen (path);
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "mkdir `%s`", path);

  for (size_t i = 1; i <= len; i++)
    {
      if (copy[i] != '/' && copy[i] != '\0')
        continue;
      char saved = copy[i];
      copy[i] = '\0';
      if (mkdirat (dirfd, copy, mode) < 0 && errno != EEXIST)
        return al_error_set (err, errno, "mkdir `%s`", copy);
      copy[i] = saved;
    }
  return 0;
}

int
al_write_pid_file (const char *path, pid_t pid, struct al_error *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return al_error_set (err, ENOMEM, "pid file");
  char *slash = strrchr (copy, '/');
  const char *dir = ".", *base = copy;
  if (slash)
    {
      *slash = '\0';
      dir = slash == copy ? "/" : copy;
      base = slash + 1;
    }
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return al_error_set (err, errno, "pid file `%s`", path);
  return al_write_runtime_file (dfd, base, buf, (size_t) n, 0644, err);
}

int
al_send_with_fd (int sock, const void *buf, size_t len, int pass_fd)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &pass_fd, sizeof (int));
  size_t sent = 0;
  while (sent < len)
    {
      ssize_t w = sendmsg (sock, &msg, MSG_NOSIGNAL);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      sent += (size_t) w;
      iov.iov_base = (char *) buf + sent;
      iov.iov_len = len - sent;
      msg.msg_control = NULL; /* the fd went with the first bytes */
      msg.msg_controllen = 0;
    }
  return 0;
}
