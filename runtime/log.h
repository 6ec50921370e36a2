/* log.h — where airlock's own messages go.
 *
 * Errors and warnings always go to stderr as one line
 * `airlock: <verb>: <message>`.  With --log FILE they are also appended to
 * FILE: as the same text, or with --log-format json as one JSON object per
 * line, {"level":"error","msg":"...","time":"..."}, the form podman and
 * containerd's shim read back.  Debug lines appear only with --debug.
 */
#ifndef AL_LOG_H
#define AL_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

enum al_log_level
{
  AL_LOG_ERROR,
  AL_LOG_WARNING,
  AL_LOG_INFO,
  AL_LOG_DEBUG,
};

struct al_log
{
  FILE *file;  /* --log target, or NULL */
  bool json;   /* --log-format json */
  bool debug;  /* --debug */
  const char *verb;
};

/* Open FILE for appending (O_CLOEXEC).  path NULL or "" means no log file. */
int al_log_open (struct al_log *log, const char *path, bool json, struct al_error *err);
void al_log_close (struct al_log *log);

void al_log (struct al_log *log, enum al_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define al_log_error(log, ...) al_log ((log), AL_LOG_ERROR, __VA_ARGS__)
#define al_log_warn(log, ...) al_log ((log), AL_LOG_WARNING, __VA_ARGS__)
#define al_log_debug(log, ...) al_log ((log), AL_LOG_DEBUG, __VA_ARGS__)

#endif
