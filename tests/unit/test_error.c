/* Unit tests for the error and cleanup idioms every module uses. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "file.h"

Test (error, set_appends_strerror_and_returns_negative_errno)
{
  struct al_error err = { 0 };
  int ret = al_error_set (&err, ENOENT, "open `%s`", "/nope");
  cr_assert_eq (ret, -ENOENT);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert_str_eq (err.msg, "open `/nope`: No such file or directory");
}

Test (error, set_without_errno_is_einval_and_plain)
{
  struct al_error err = { 0 };
  cr_assert_eq (al_error_set (&err, 0, "bad %s", "thing"), -EINVAL);
  cr_assert_str_eq (err.msg, "bad thing");
}

Test (error, reason_keeps_errno_without_strerror)
{
  struct al_error err = { 0 };
  cr_assert_eq (al_error_reason (&err, ENOENT, "x: container does not exist"), -ENOENT);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert_str_eq (err.msg, "x: container does not exist");
}

Test (error, wrap_prefixes_context_and_keeps_code)
{
  struct al_error err = { 0 };
  al_error_set (&err, EACCES, "open `f`");
  cr_assert_eq (al_error_wrap (&err, "prepare rootfs %d", 2), -EACCES);
  cr_assert_str_eq (err.msg, "prepare rootfs 2: open `f`: Permission denied");
}

Test (error, long_messages_are_truncated_not_overflowed)
{
  struct al_error err = { 0 };
  char big[4096];
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  al_error_set (&err, EIO, "%s", big);
  cr_assert_eq (strlen (err.msg), AL_ERROR_MSG_MAX - 1);
  al_error_wrap (&err, "%s", big);
  cr_assert_eq (strlen (err.msg), AL_ERROR_MSG_MAX - 1);
}

Test (error, null_error_is_allowed)
{
  cr_assert_eq (al_error_set (NULL, EPERM, "x"), -EPERM);
  cr_assert_eq (al_error_reason (NULL, 0, "x"), -EINVAL);
}

Test (cleanup, close_and_steal)
{
  int stolen;
  {
    cleanup_close int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq (fd, 0);
    stolen = al_steal_fd (&fd);
    cr_assert_eq (fd, -1);
  }
  cr_assert_eq (fcntl (stolen, F_GETFD), FD_CLOEXEC, "stolen fd must stay open");
  int closed;
  {
    cleanup_close int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    closed = fd;
  }
  cr_assert_eq (fcntl (closed, F_GETFD), -1, "fd must be closed at scope exit");
  close (stolen);
}

Test (cleanup, pid_kills_and_reaps_child)
{
  pid_t child;
  {
    cleanup_pid pid_t pid = fork ();
    if (pid == 0)
      {
        pause ();
        _exit (0);
      }
    child = pid;
  }
  /* Reaped: waitpid has nothing left to collect. */
  cr_assert_eq (waitpid (child, NULL, WNOHANG), -1);
  cr_assert_eq (errno, ECHILD);
}

Test (file, atomic_write_then_read)
{
  char dir[] = "/tmp/al-file-XXXXXX";
  cr_assert_not_null (mkdtemp (dir));
  cleanup_close int dfd = open (dir, O_DIRECTORY | O_CLOEXEC);
  struct al_error err = { 0 };
  cr_assert_eq (al_write_file_atomic (dfd, "f", "hello", 5, 0600, &err), 0, "%s", err.msg);
  cr_assert_eq (al_write_file_atomic (dfd, "f", "bye", 3, 0600, &err), 0, "%s", err.msg);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  cr_assert_eq (al_read_file (dfd, "f", 100, &buf, &len, &err), 0, "%s", err.msg);
  cr_assert_eq (len, 3);
  cr_assert_str_eq (buf, "bye");
  struct stat st;
  cr_assert_eq (fstatat (dfd, "f", &st, 0), 0);
  cr_assert_eq (st.st_mode & 0777, 0600);
  /* Only the target is left: no temp file. */
  cleanup_dir DIR *d = fdopendir (dup (dfd));
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  cr_assert_eq (n, 1);
  unlinkat (dfd, "f", 0);
  rmdir (dir);
}

Test (file, read_refuses_oversized_and_directories)
{
  struct al_error err = { 0 };
  char *buf = NULL;
  cr_assert_eq (al_read_file (AT_FDCWD, "/etc/passwd", 4, &buf, NULL, &err), -EFBIG);
  cr_assert (strstr (err.msg, "larger than 4 bytes"), "%s", err.msg);
  cr_assert_eq (al_read_file (AT_FDCWD, "/tmp", 4096, &buf, NULL, &err), -EISDIR);
  cr_assert_eq (al_read_file (AT_FDCWD, "/nonexistent/x", 4096, &buf, NULL, &err), -ENOENT);
  cr_assert_str_eq (err.msg, "open `/nonexistent/x`: No such file or directory");
  cr_assert_null (buf);
}

Test (file, mkdir_p_creates_nested_and_tolerates_existing)
{
  char dir[] = "/tmp/al-mkdir-XXXXXX";
  cr_assert_not_null (mkdtemp (dir));
  cleanup_close int dfd = open (dir, O_DIRECTORY | O_CLOEXEC);
  struct al_error err = { 0 };
  cr_assert_eq (al_mkdir_p (dfd, "a/b/c", 0700, &err), 0, "%s", err.msg);
  cr_assert_eq (al_mkdir_p (dfd, "a/b/c", 0700, &err), 0, "%s", err.msg);
  struct stat st;
  cr_assert_eq (fstatat (dfd, "a/b/c", &st, 0), 0);
  cr_assert (S_ISDIR (st.st_mode));
  unlinkat (dfd, "a/b/c", AT_REMOVEDIR);
  unlinkat (dfd, "a/b", AT_REMOVEDIR);
  unlinkat (dfd, "a", AT_REMOVEDIR);
  rmdir (dir);
}
