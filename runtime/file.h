/* file.h — whole-file reads and crash-safe writes.
 *
 * al_read_file reads a regular file into a NUL-terminated buffer, refusing
 * anything over `max` bytes (every user-controlled input is bounded).
 * al_write_file_atomic writes a temporary file in the same directory, fsyncs
 * it and renames it over the target, so a reader sees either the old or the
 * new contents, never a mix.  Both take a directory fd first (AT_FDCWD for
 * the current directory), and every fd they open is O_CLOEXEC.
 */
#ifndef AL_FILE_H
#define AL_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

int al_read_file (int dirfd, const char *path, size_t max, char **ret_buf,
                  size_t *ret_len, struct al_error *err);

/* The same without the fsync: for runtime state (state.json, pid files)
 * that describes running processes and so means nothing after a reboot.
 * Readers still see the old or the new content, never a mix. */
int al_write_runtime_file (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                           struct al_error *err);

int al_write_file_atomic (int dirfd, const char *path, const void *buf,
                          size_t len, mode_t mode, struct al_error *err);

/* mkdir -p relative to dirfd; existing directories are fine. */
int al_mkdir_p (int dirfd, const char *path, mode_t mode, struct al_error *err);

/* Write pid (decimal, no newline, as runc) to path atomically; a relative
 * path is taken from the current directory. */
int al_write_pid_file (const char *path, pid_t pid, struct al_error *err);

/* Send buf[0..len) over a UNIX socket with pass_fd attached (SCM_RIGHTS)
 * to the first byte; on a stream socket the rest may take more writes.
 * Never raises SIGPIPE.  0 or -errno. */
int al_send_with_fd (int sock, const void *buf, size_t len, int pass_fd);

#endif
