/* console.c — see console.h. */
#include "config.h"

#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"

int
al_console_connect (const char *socket_path, struct al_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (socket_path) >= sizeof addr.sun_path)
    return al_error_reason (err, ENAMETOOLONG, "--console-socket `%s`: path too long", socket_path);
  strcpy (addr.sun_path, socket_path);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return al_error_set (err, errno, "--console-socket: socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return al_error_set (err, errno, "--console-socket `%s`: connect", socket_path);
  return al_steal_fd (&fd);
}

int
al_console_open (int *ret_master, char *slave_path, size_t size, struct al_error *err)
{
  cleanup_close int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return al_error_set (err, errno, "terminal: open /dev/ptmx");
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return al_error_set (err, errno, "terminal: unlock the pty");
  int n;
  if (ioctl (master, TIOCGPTN, &n) < 0)
    return al_error_set (err, errno, "terminal: pty number");
  if ((size_t) snprintf (slave_path, size, "/dev/pts/%d", n) >= size)
    return al_error_reason (err, ENAMETOOLONG, "terminal: pty path");
  *ret_master = al_steal_fd (&master);
  return 0;
}

int
al_console_send (int sock_fd, int master_fd, struct al_error *err)
{
  int r = al_send_with_fd (sock_fd, "0", 1, master_fd);
  if (r < 0)
    return al_error_set (err, -r, "--console-socket: send the pty master");
  return 0;
}

int
al_console_set_size (int fd, unsigned rows, unsigned cols, struct al_error *err)
{
  if (rows == 0 && cols == 0)
    return 0;
  struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
  if (ioctl (fd, TIOCSWINSZ, &ws) < 0)
    return al_error_set (err, errno, "process.consoleSize: set the terminal size");
  return 0;
}

int
al_console_bind_dev_console (const char *slave_path, struct al_error *err)
{
  int fd = open ("/dev/console", O_CREAT | O_WRONLY | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    return al_error_set (err, errno, "terminal: create /dev/console");
  if (fd >= 0)
    close (fd);
  if (mount (slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return al_error_set (err, errno, "terminal: bind `%s` onto /dev/console", slave_path);
  return 0;
}

int
al_console_attach (const char *slave_path, struct al_error *err)
{
  if (setsid () < 0 && errno != EPERM)
    return al_error_set (err, errno, "terminal: setsid");
  cleanup_close int slave = open (slave_path, O_RDWR | O_NOCTTY);
  if (slave < 0)
    return al_error_set (err, errno, "terminal: open `%s`", slave_path);
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return al_error_set (err, errno, "terminal: make `%s` the controlling terminal", slave_path);
  for (int i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      return al_error_set (err, errno, "terminal: dup2 onto fd %d", i);
  return 0;
}
