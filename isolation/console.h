/* console.h — a container's terminal: a pty made inside the container and
 * its master handed to whoever holds the --console-socket (conmon,
 * containerd's shim), as runc and crun do.
 *
 * The runtime connects to the socket before it enters the container (the
 * path is the host's); the process inside opens /dev/ptmx of its own devpts,
 * sends the master over the socket (SCM_RIGHTS, one byte of payload "0"
 * naming nothing, as the clients expect only the fd), binds the slave onto
 * /dev/console when it is the init, and makes the slave its controlling
 * terminal and stdin/stdout/stderr.
 */
#ifndef AL_CONSOLE_H
#define AL_CONSOLE_H

#include <stddef.h>

#include "error.h"

/* A connected SOCK_STREAM fd to the UNIX socket at path (close-on-exec). */
int al_console_connect (const char *socket_path, struct al_error *err);

/* Open a new pty from /dev/ptmx of the current mount namespace: *ret_master
 * (close-on-exec), the slave's path in slave_path. */
int al_console_open (int *ret_master, char *slave_path, size_t size, struct al_error *err);

/* Send master_fd over sock_fd with SCM_RIGHTS. */
int al_console_send (int sock_fd, int master_fd, struct al_error *err);

/* TIOCSWINSZ; 0x0 leaves the size alone. */
int al_console_set_size (int fd, unsigned rows, unsigned cols, struct al_error *err);

/* Bind the slave onto /dev/console (created as an empty file if missing). */
int al_console_bind_dev_console (const char *slave_path, struct al_error *err);

/* setsid(), open the slave, make it the controlling terminal, dup it onto
 * 0, 1 and 2. */
int al_console_attach (const char *slave_path, struct al_error *err);

#endif
