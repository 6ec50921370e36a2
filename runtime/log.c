/* log.c — see log.h. */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {
  [AL_LOG_ERROR] = "error",
  [AL_LOG_WARNING] = "warning",
  [AL_LOG_INFO] = "info",
  [AL_LOG_DEBUG] = "debug",
};

int
al_log_open (struct al_log *log, const char *path, bool json, struct al_error *err)
{
  log->json = json;
  log->file = NULL;
  if (path == NULL || *path == '\0')
    return 0;

  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0)
    return al_error_set (err, errno, "open log file `%s`", path);
  log->file = fdopen (fd, "a");
  if (log->file == NULL)
    {
      int saved = errno;
      close (fd);
      return al_error_set (err, saved, "open log file `%s`", path);
    }
  setvbuf (log->file, NULL, _IOLBF, 0);
  return 0;
}

void
al_log_close (struct al_log *log)
{
  if (log->file)
    fclose (log->file);
  log->file = NULL;
}

static void
rfc3339_now (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

void
al_log (struct al_log *log, enum al_log_level level, const char *fmt, ...)
{
  if (level == AL_LOG_DEBUG && !log->debug)
    return;

  char msg[AL_ERROR_MSG_MAX + 256];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);

  const char *verb = log->verb ? log->verb : NULL;
  const char *tag = level == AL_LOG_ERROR ? "" : level == AL_LOG_WARNING ? "warning: " : "";
  if (level <= AL_LOG_WARNING || log->debug)
    {
      if (verb)
        fprintf (stderr, "airlock: %s: %s%s\n", verb, tag, msg);
      else
        fprintf (stderr, "airlock: %s%s\n", tag, msg);
    }

  if (log->file == NULL)
    return;
  if (log->json)
    {
      char when[64];
      rfc3339_now (when, sizeof when);
      json_t *o = json_pack ("{s:s, s:s, s:s}", "level", level_names[level],
                             "msg", msg, "time", when);
      if (o)
        {
          char *line = json_dumps (o, JSON_COMPACT | JSON_ENSURE_ASCII);
          if (line)
            fprintf (log->file, "%s\n", line);
          free (line);
          json_decref (o);
        }
    }
  else if (verb)
    fprintf (log->file, "airlock: %s: %s%s\n", verb, tag, msg);
  else
    fprintf (log->file, "airlock: %s%s\n", tag, msg);
}
