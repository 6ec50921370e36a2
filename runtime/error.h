/* error.h — how airlock reports failure.
 *
 * Every fallible function takes a `struct al_error *err` as its last
 * parameter, returns a negative errno-style value on failure and fills
 * `err` with the errno and a message.  Callers add context on the way up
 * with al_error_wrap(); only the CLI prints, once, at the top.
 *
 *   if (fd < 0)
 *     return al_error_set (err, errno, "open `%s`", path);
 *   ...
 *   if (ret < 0)
 *     return al_error_wrap (err, "prepare rootfs");
 *
 * The message ends with ": strerror(errno)" when errnum is non-zero.
 */
#ifndef AL_ERROR_H
#define AL_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define AL_ERROR_MSG_MAX 1024

struct al_error
{
  int errnum;                 /* errno of the root cause, 0 if none */
  char msg[AL_ERROR_MSG_MAX]; /* "context: context: cause[: strerror]" */
};

/* Record a failure.  Returns -errnum, or -EINVAL when errnum is 0, so it can
 * be returned directly.  err may be NULL. */
int al_error_set (struct al_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int al_error_setv (struct al_error *err, int errnum, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

/* Like al_error_set, but the message already says why: no strerror is
 * appended.  errnum is still recorded so callers can branch on it (ENOENT,
 * EEXIST, ...). */
int al_error_reason (struct al_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefix the recorded message with "context: ".  Returns the same negative
 * value al_error_set returned. */
int al_error_wrap (struct al_error *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* The negative return value for an error already recorded in err. */
int al_error_code (const struct al_error *err);

void al_error_clear (struct al_error *err);

#endif
