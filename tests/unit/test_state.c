/* test_state.c — the container state store (runtime/state.h). */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "file.h"
#include "state.h"

/* Each Criterion test runs in its own process: these are per test. */
static char tmpdir[64];
static char root[PATH_MAX];

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
setup (void)
{
  snprintf (tmpdir, sizeof tmpdir, "/tmp/al-state-XXXXXX");
  cr_assert_not_null (mkdtemp (tmpdir));
  /* Not created yet: the first al_state_open (CREATE) makes it. */
  snprintf (root, sizeof root, "%s/run", tmpdir);
}

static void
teardown (void)
{
  nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite (state, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------------ helpers */

static void
path_in (char *buf, size_t size, const char *id, const char *name)
{
  if (name)
    snprintf (buf, size, "%s/%s/%s", root, id, name);
  else
    snprintf (buf, size, "%s/%s", root, id);
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* A record with every field set; pid is this process, so it reads as live. */
static struct al_state *
full_state (const char *id)
{
  struct al_state *s = al_state_new ();
  struct al_error e = { 0 };
  cr_assert_not_null (s);
  s->id = strdup (id);
  s->status = AL_STATUS_RUNNING;
  s->pid = getpid ();
  cr_assert_eq (al_state_pid_start_time (s->pid, &s->pid_start_time, &e), 0, "%s", e.msg);
  s->bundle = strdup ("/var/lib/bundles/x");
  s->rootfs = strdup ("/var/lib/bundles/x/rootfs");
  s->created.tv_sec = 1700000000;
  s->created.tv_nsec = 123456789;
  s->owner = strdup ("alice");
  s->annotations = json_pack ("{s:s, s:s}", "org.example.key", "value", "empty", "");
  s->cgroup_path = strdup ("/sys/fs/cgroup/airlock/x");
  s->extra
      = json_pack ("{s:i, s:{s:[i,i]}, s:s}", "supervisor_pid", 77, "nested", "a", 1, 2, "s", "x");
  return s;
}

static void
create_with (const char *id, const struct al_state *s)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  cr_assert_eq (al_state_open (root, id, AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_write (h, s, &e), 0, "%s", e.msg);
  al_state_close (h);
}

static void
create_simple (const char *id)
{
  struct al_state *s = full_state (id);
  create_with (id, s);
  al_state_free (s);
}

static int
read_id (const char *id, struct al_state **ret, struct al_error *e)
{
  struct al_state_handle *h = NULL;
  int ret_open = al_state_open (root, id, AL_STATE_SHARED, &h, e);
  if (ret_open < 0)
    return ret_open;
  int r = al_state_read (h, ret, e);
  al_state_close (h);
  return r;
}

static void
write_raw (const char *id, const char *text, size_t len)
{
  char p[PATH_MAX + 64];
  path_in (p, sizeof p, id, "state.json");
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  cr_assert_geq (fd, 0);
  cr_assert_eq (write (fd, text, len), (ssize_t) len);
  close (fd);
}

/* Names in dir, sorted and joined with ','. */
static void
dir_names (const char *dir, char *buf, size_t size)
{
  struct dirent **list;
  int n = scandir (dir, &list, NULL, alphasort);
  buf[0] = '\0';
  cr_assert_geq (n, 0, "scandir %s: %s", dir, strerror (errno));
  for (int i = 0; i < n; i++)
    {
      if (strcmp (list[i]->d_name, ".") != 0 && strcmp (list[i]->d_name, "..") != 0)
        {
          if (buf[0])
            strncat (buf, ",", size - strlen (buf) - 1);
          strncat (buf, list[i]->d_name, size - strlen (buf) - 1);
        }
      free (list[i]);
    }
  free (list);
}

/* A child that waits in pause() until killed, or until the test process
 * dies (a failed assertion must not leave it behind). */
static pid_t
spawn_sleeper (void)
{
  pid_t parent = getpid ();
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (1);
      for (;;)
        pause ();
    }
  return pid;
}

static void
kill_and_reap (pid_t pid)
{
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static void
wait_child_ok (pid_t pid)
{
  int status;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child failed: status %#x", status);
}

/* ------------------------------------------------------------------ ids */

static void
expect_invalid (const char *id, const char *msg)
{
  struct al_error e = { 0 };
  cr_assert_eq (al_state_validate_id (id, &e), -EINVAL, "id accepted: %s", msg);
  cr_assert_eq (e.errnum, EINVAL);
  cr_assert_str_eq (e.msg, msg);
}

Test (state, id_rejects_empty_and_dots)
{
  expect_invalid ("", "invalid container id \"\": must not be empty");
  expect_invalid (NULL, "invalid container id \"\": must not be empty");
  expect_invalid (".", "invalid container id \".\": must not be \".\" or \"..\"");
  expect_invalid ("..", "invalid container id \"..\": must not be \".\" or \"..\"");
}

Test (state, id_rejects_slash)
{
  expect_invalid ("a/b", "invalid container id \"a/b\": must not contain '/'");
  expect_invalid ("/abs", "invalid container id \"/abs\": must not contain '/'");
  expect_invalid ("../x", "invalid container id \"../x\": must not contain '/'");
  expect_invalid ("a/", "invalid container id \"a/\": must not contain '/'");
}

Test (state, id_rejects_control_characters)
{
  expect_invalid ("a\nb",
                  "invalid container id \"a\\x0ab\": must not contain control character 0x0a");
  expect_invalid ("\tx",
                  "invalid container id \"\\x09x\": must not contain control character 0x09");
  expect_invalid ("x\x7f",
                  "invalid container id \"x\\x7f\": must not contain control character 0x7f");
  expect_invalid ("\x1b[31m", "invalid container id \"\\x1b[31m\": must not contain control "
                              "character 0x1b");
}

Test (state, id_rejects_other_characters)
{
  expect_invalid ("a b", "invalid container id \"a b\": must not contain ' ' (allowed: letters, "
                         "digits, '_', '+', '-', '.')");
  expect_invalid ("a:b", "invalid container id \"a:b\": must not contain ':' (allowed: letters, "
                         "digits, '_', '+', '-', '.')");
  expect_invalid ("a~b", "invalid container id \"a~b\": must not contain '~' (allowed: letters, "
                         "digits, '_', '+', '-', '.')");
  expect_invalid ("caf\xc3\xa9", "invalid container id \"caf\\xc3\\xa9\": must not contain byte "
                                 "0xc3 (allowed: letters, digits, '_', '+', '-', '.')");
}

Test (state, id_length_limit)
{
  char id[AL_STATE_ID_MAX + 2];
  struct al_error e = { 0 };

  memset (id, 'a', AL_STATE_ID_MAX);
  id[AL_STATE_ID_MAX] = '\0';
  cr_assert_eq (al_state_validate_id (id, &e), 0, "1024 bytes: %s", e.msg);

  id[AL_STATE_ID_MAX] = 'a';
  id[AL_STATE_ID_MAX + 1] = '\0';
  cr_assert_eq (al_state_validate_id (id, &e), -EINVAL, "1025 bytes accepted");
  cr_assert_str_eq (e.msg,
                    "invalid container id "
                    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": longer than 1024 "
                    "bytes");
}

Test (state, id_accepts_runc_set)
{
  static const char *const ok[] = {
    "abc",
    "A-Z_0.9+x",
    "-leading-dash",
    ".hidden",
    "...",
    "a..b",
    "0",
    "3f2a9c1e0b7d4e6f8a5b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      struct al_error e = { 0 };
      cr_assert_eq (al_state_validate_id (ok[i], &e), 0, "%s: %s", ok[i], e.msg);
    }
}

Test (state, open_refuses_id_longer_than_a_file_name)
{
  char id[NAME_MAX + 2];
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };

  memset (id, 'b', NAME_MAX + 1);
  id[NAME_MAX + 1] = '\0';
  cr_assert_eq (al_state_open (root, id, AL_STATE_CREATE, &h, &e), -ENAMETOOLONG);
  cr_assert (strstr (e.msg, "too long for a directory name"), "%s", e.msg);

  id[NAME_MAX] = '\0';
  cr_assert_eq (al_state_open (root, id, AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  al_state_close (h);
}

Test (state, open_rejects_bad_flags_and_ids)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };

  cr_assert_eq (al_state_open (root, "x", AL_STATE_CREATE | AL_STATE_SHARED, &h, &e), -EINVAL);
  cr_assert_eq (al_state_open (root, "x", 64, &h, &e), -EINVAL);
  cr_assert_eq (al_state_open (root, "a/b", AL_STATE_CREATE, &h, &e), -EINVAL);
  cr_assert_str_eq (e.msg, "invalid container id \"a/b\": must not contain '/'");
  cr_assert_eq (al_state_open (root, "..", AL_STATE_CREATE, &h, &e), -EINVAL);
  cr_assert_null (h);
  cr_assert_eq (access (root, F_OK), -1, "a refused open must not create the root");
}

/* ------------------------------------------------------------------ record */

Test (state, status_strings)
{
  static const char *const names[] = { "created", "running", "paused", "stopped" };
  enum al_status st;
  for (int i = 0; i < 4; i++)
    {
      cr_assert_str_eq (al_status_to_string ((enum al_status) i), names[i]);
      cr_assert_eq (al_status_from_string (names[i], &st), 0);
      cr_assert_eq ((int) st, i);
    }
  cr_assert_null (al_status_to_string ((enum al_status) 4));
  cr_assert_eq (al_status_from_string ("Running", &st), -EINVAL);
  cr_assert_eq (al_status_from_string ("creating", &st), -EINVAL);
}

Test (state, time_format_is_rfc3339_nano)
{
  char buf[AL_STATE_TIME_MAX];
  struct timespec ts = { 1700000000, 123456789 };
  cr_assert_eq (al_state_format_time (&ts, buf, sizeof buf), 0);
  cr_assert_str_eq (buf, "2023-11-14T22:13:20.123456789Z");
  ts.tv_nsec = 120000000;
  al_state_format_time (&ts, buf, sizeof buf);
  cr_assert_str_eq (buf, "2023-11-14T22:13:20.12Z");
  ts.tv_nsec = 1;
  al_state_format_time (&ts, buf, sizeof buf);
  cr_assert_str_eq (buf, "2023-11-14T22:13:20.000000001Z");
  ts = (struct timespec){ 0, 0 };
  al_state_format_time (&ts, buf, sizeof buf);
  cr_assert_str_eq (buf, "1970-01-01T00:00:00Z");
  ts.tv_nsec = 1000000000;
  cr_assert_eq (al_state_format_time (&ts, buf, sizeof buf), -EINVAL);
  ts.tv_nsec = 5;
  cr_assert_eq (al_state_format_time (&ts, buf, 10), -EOVERFLOW);
}

Test (state, free_and_close_accept_null)
{
  cr_assert_null (al_state_free (NULL));
  cr_assert_null (al_state_close (NULL));
  al_state_list_free (NULL);
  al_state_refresh (NULL);
}

Test (state, new_state_defaults)
{
  struct timespec before;
  clock_gettime (CLOCK_REALTIME, &before);
  struct al_state *s = al_state_new ();
  cr_assert_not_null (s);
  cr_assert_eq (s->status, AL_STATUS_CREATED);
  cr_assert_geq (s->created.tv_sec, before.tv_sec);
  cr_assert_null (s->id);
  cr_assert_null (s->annotations);
  al_state_free (s);
}

Test (state, round_trip_every_field)
{
  struct al_state *in = full_state ("round-trip");
  struct al_state *out = NULL;
  struct al_error e = { 0 };

  create_with ("round-trip", in);
  cr_assert_eq (read_id ("round-trip", &out, &e), 0, "%s", e.msg);
  cr_assert_str_eq (out->id, "round-trip");
  cr_assert_eq (out->status, AL_STATUS_RUNNING);
  cr_assert_eq (out->pid, getpid ());
  cr_assert_eq (out->pid_start_time, in->pid_start_time);
  cr_assert_str_eq (out->bundle, in->bundle);
  cr_assert_str_eq (out->rootfs, in->rootfs);
  cr_assert_eq (out->created.tv_sec, 1700000000);
  cr_assert_eq (out->created.tv_nsec, 123456789);
  cr_assert_str_eq (out->owner, "alice");
  cr_assert_str_eq (out->cgroup_path, in->cgroup_path);
  cr_assert (json_equal (out->annotations, in->annotations));
  cr_assert (json_equal (out->extra, in->extra));

  /* The private record lives under "airlock" in the file. */
  char p[PATH_MAX + 64];
  path_in (p, sizeof p, "round-trip", "state.json");
  json_t *raw = json_load_file (p, 0, NULL);
  cr_assert_not_null (raw);
  cr_assert (json_equal (json_object_get (raw, "airlock"), in->extra));
  cr_assert_str_eq (json_string_value (json_object_get (raw, "created")),
                    "2023-11-14T22:13:20.123456789Z");
  json_decref (raw);

  al_state_free (in);
  al_state_free (out);
}

Test (state, round_trip_minimal_and_every_status)
{
  static const enum al_status live[] = { AL_STATUS_CREATED, AL_STATUS_RUNNING, AL_STATUS_PAUSED };
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;
  struct al_state *in = al_state_new ();
  in->pid = getpid ();
  in->bundle = strdup ("/b");
  in->rootfs = strdup ("rootfs");
  in->created.tv_nsec = 0;

  cr_assert_eq (al_state_open (root, "min", AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
    {
      struct al_state *out = NULL;
      in->status = live[i];
      cr_assert_eq (al_state_write (h, in, &e), 0, "%s", e.msg);
      cr_assert_eq (al_state_read (h, &out, &e), 0, "%s", e.msg);
      cr_assert_eq (out->status, live[i]);
      cr_assert_eq (out->pid, getpid ());
      cr_assert_str_eq (out->id, "min");
      cr_assert_str_eq (out->owner, "");
      cr_assert_null (out->annotations);
      cr_assert_null (out->cgroup_path);
      cr_assert_null (out->extra);
      cr_assert_eq (out->created.tv_sec, in->created.tv_sec);
      cr_assert_eq (out->created.tv_nsec, 0);
      al_state_free (out);
    }
  al_state_close (h);
  al_state_free (in);
}

Test (state, layout_and_modes)
{
  struct stat st;
  char p[PATH_MAX + 64];

  create_simple ("modes");
  cr_assert_eq (stat (root, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0700, "root mode %o", st.st_mode & 07777);
  path_in (p, sizeof p, "modes", NULL);
  cr_assert_eq (lstat (p, &st), 0);
  cr_assert (S_ISDIR (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, 0700);
  path_in (p, sizeof p, "modes", "state.json");
  cr_assert_eq (lstat (p, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0600);

  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "modes", "no temporary entry left in the root");
  path_in (p, sizeof p, "modes", NULL);
  dir_names (p, names, sizeof names);
  cr_assert_str_eq (names, "state.json");
}

Test (state, write_validates_record)
{
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;
  struct al_state *s = full_state ("w");

  cr_assert_eq (al_state_open (root, "w", AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  free (s->bundle);
  s->bundle = strdup ("relative/bundle");
  cr_assert_eq (al_state_write (h, s, &e), -EINVAL);
  cr_assert (strstr (e.msg, "bundle must be an absolute path"), "%s", e.msg);
  free (s->bundle);
  s->bundle = strdup ("/ok");

  free (s->id);
  s->id = strdup ("other");
  cr_assert_eq (al_state_write (h, s, &e), -EINVAL);
  cr_assert_str_eq (e.msg, "w: state is for container \"other\"");
  free (s->id);
  s->id = NULL; /* NULL means the handle's id */

  json_object_set_new (s->annotations, "n", json_integer (1));
  cr_assert_eq (al_state_write (h, s, &e), -EINVAL);
  json_object_del (s->annotations, "n");

  free (s->bundle);
  s->bundle = strdup ("/bad\xff");
  cr_assert_eq (al_state_write (h, s, &e), -EINVAL);
  cr_assert (strstr (e.msg, "not valid UTF-8"), "%s", e.msg);
  free (s->bundle);
  s->bundle = strdup ("/ok");

  cr_assert_eq (al_state_write (h, s, &e), 0, "%s", e.msg);
  al_state_close (h);

  /* Shared holders may not write or remove. */
  cr_assert_eq (al_state_open (root, "w", AL_STATE_SHARED, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_write (h, s, &e), -EINVAL);
  cr_assert_str_eq (e.msg, "w: writing the state needs the exclusive lock");
  cr_assert_eq (al_state_remove (h, &e), -EINVAL);
  al_state_close (h);
  al_state_free (s);
}

Test (state, write_refuses_record_over_limit)
{
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;
  struct al_state *s = full_state ("big");
  struct al_state *out = NULL;

  create_with ("big", s);
  char *huge = malloc (AL_STATE_FILE_MAX + 1);
  memset (huge, 'x', AL_STATE_FILE_MAX);
  huge[AL_STATE_FILE_MAX] = '\0';
  json_object_set_new (s->annotations, "huge", json_string (huge));
  free (huge);

  cr_assert_eq (al_state_open (root, "big", 0, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_write (h, s, &e), -EFBIG);
  cr_assert (strstr (e.msg, "the limit is 1048576"), "%s", e.msg);
  cr_assert_eq (al_state_read (h, &out, &e), 0, "old record must survive: %s", e.msg);
  cr_assert_null (json_object_get (out->annotations, "huge"));
  al_state_close (h);
  al_state_free (out);
  al_state_free (s);
}

/* ------------------------------------------------------------------ exists / not */

Test (state, create_existing_is_eexist)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  struct al_state *out = NULL;

  create_simple ("dup");
  cr_assert_eq (al_state_open (root, "dup", AL_STATE_CREATE, &h, &e), -EEXIST);
  cr_assert_eq (e.errnum, EEXIST);
  cr_assert_str_eq (e.msg, "dup: container already exists");
  cr_assert_null (h);
  cr_assert_eq (read_id ("dup", &out, &e), 0, "existing entry damaged: %s", e.msg);
  al_state_free (out);

  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "dup", "a failed create leaves nothing behind");
}

Test (state, open_unknown_is_enoent)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };

  /* Missing root: "does not exist", and the root is not created. */
  cr_assert_eq (al_state_open (root, "nosuch", 0, &h, &e), -ENOENT);
  cr_assert_eq (e.errnum, ENOENT);
  cr_assert_str_eq (e.msg, "nosuch: container does not exist");
  cr_assert_eq (access (root, F_OK), -1);

  create_simple ("other");
  static const int modes[]
      = { 0, AL_STATE_SHARED, AL_STATE_NONBLOCK, AL_STATE_SHARED | AL_STATE_NONBLOCK };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    {
      e = (struct al_error){ 0 };
      cr_assert_eq (al_state_open (root, "nosuch", modes[i], &h, &e), -ENOENT);
      cr_assert_eq (e.errnum, ENOENT);
      cr_assert_str_eq (e.msg, "nosuch: container does not exist");
    }
  cr_assert_null (h);
}

Test (state, create_makes_nested_root)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  struct stat st;
  char deep[PATH_MAX];

  snprintf (deep, sizeof deep, "%s/a/b/airlock", tmpdir);
  cr_assert_eq (al_state_open (deep, "x", AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  al_state_close (h);
  cr_assert_eq (stat (deep, &st), 0);
  cr_assert_eq (st.st_mode & 0777, 0700);
}

/* ------------------------------------------------------------------ atomicity */

static struct al_state *
big_state (const char *id, char fill)
{
  struct al_state *s = full_state (id);
  static char value[256 * 1024];
  memset (value, fill, sizeof value - 1);
  value[sizeof value - 1] = '\0';
  json_object_set_new (s->annotations, "big", json_string (value));
  return s;
}

Test (state, concurrent_reader_never_sees_partial_record)
{
  struct al_error e = { 0 };
  struct al_state *a = big_state ("atomic", 'a');
  char p[PATH_MAX + 64];

  create_with ("atomic", a);
  path_in (p, sizeof p, "atomic", "state.json");

  pid_t writer = fork ();
  cr_assert_geq (writer, 0);
  if (writer == 0)
    {
      struct al_state_handle *h = NULL;
      struct al_state *b = big_state ("atomic", 'b');
      if (al_state_open (root, "atomic", 0, &h, &e) < 0)
        _exit (2);
      for (int i = 0; i < 200; i++)
        if (al_state_write (h, i % 2 ? a : b, &e) < 0)
          _exit (3);
      al_state_close (h);
      al_state_free (a);
      al_state_free (b);
      _exit (0);
    }

  int reads = 0, seen_b = 0;
  for (;;)
    {
      int done = waitpid (writer, NULL, WNOHANG) == writer;

      json_error_t jerr;
      json_t *raw = json_load_file (p, 0, &jerr);
      cr_assert_not_null (raw, "read %d did not parse: %s", reads, jerr.text);
      const char *v
          = json_string_value (json_object_get (json_object_get (raw, "annotations"), "big"));
      cr_assert_not_null (v);
      cr_assert_eq (strlen (v), 256 * 1024 - 1);
      cr_assert (strspn (v, v[0] == 'a' ? "a" : "b") == strlen (v), "mixed record");
      seen_b += v[0] == 'b';
      json_decref (raw);

      struct al_state **list = NULL;
      size_t n = 0, skipped = 0;
      cr_assert_eq (al_state_list (root, &list, &n, &skipped, &e), 0, "%s", e.msg);
      cr_assert_eq (n, 1);
      cr_assert_eq (skipped, 0);
      al_state_list_free (list);
      reads++;
      if (done)
        break;
    }
  cr_assert_gt (reads, 2);
  (void) seen_b;

  char names[256];
  path_in (p, sizeof p, "atomic", NULL);
  dir_names (p, names, sizeof names);
  cr_assert_str_eq (names, "state.json", "temporary files left behind");
  al_state_free (a);
}

Test (state, crash_before_rename_keeps_old_record)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  struct al_state *s = full_state ("crash");
  char p[PATH_MAX + 64];

  create_with ("crash", s);
  /* What a writer killed between its temp write and the rename leaves. */
  path_in (p, sizeof p, "crash", "state.json.tmp.99999");
  int fd = open (p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  cr_assert_geq (fd, 0);
  cr_assert_eq (write (fd, "{\"version\":1,\"id\":\"cra", 22), 22);
  close (fd);

  cr_assert_eq (read_id ("crash", &out, &e), 0, "%s", e.msg);
  cr_assert_str_eq (out->bundle, s->bundle);
  al_state_free (out);

  struct al_state **list = NULL;
  size_t n = 0, skipped = 0;
  cr_assert_eq (al_state_list (root, &list, &n, &skipped, &e), 0, "%s", e.msg);
  cr_assert_eq (n, 1);
  cr_assert_eq (skipped, 0);
  al_state_list_free (list);

  /* Removal takes the leftover with it. */
  struct al_state_handle *h = NULL;
  cr_assert_eq (al_state_open (root, "crash", 0, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_remove (h, &e), 0, "%s", e.msg);
  al_state_close (h);
  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "");
  al_state_free (s);
}

/* ------------------------------------------------------------------ locking */

/* A child that opens id with flags, reports through a pipe that it holds
 * the lock, holds it hold_ms, then sends the time of its release. */
static pid_t
spawn_holder (const char *id, int flags, int hold_ms, int *ret_release_fd)
{
  int ready[2], release[2];
  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (release, O_CLOEXEC), 0);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      struct al_state_handle *h = NULL;
      struct al_error e = { 0 };
      if (al_state_open (root, id, flags, &h, &e) < 0)
        _exit (2);
      if (write (ready[1], "r", 1) != 1)
        _exit (3);
      sleep_ms (hold_ms);
      double t = now_s ();
      if (write (release[1], &t, sizeof t) != sizeof t)
        _exit (3);
      al_state_close (h);
      _exit (0);
    }
  close (ready[1]);
  close (release[1]);
  char c;
  cr_assert_eq (read (ready[0], &c, 1), 1, "holder failed to lock");
  close (ready[0]);
  *ret_release_fd = release[0];
  return pid;
}

static double
read_release_time (int fd)
{
  double t = 0;
  cr_assert_eq (read (fd, &t, sizeof t), (ssize_t) sizeof t);
  close (fd);
  return t;
}

Test (state, exclusive_lock_blocks_second_open)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  int release_fd;

  create_simple ("locked");
  double start = now_s ();
  pid_t child = spawn_holder ("locked", 0, 400, &release_fd);
  cr_assert_eq (al_state_open (root, "locked", 0, &h, &e), 0, "%s", e.msg);
  double acquired = now_s ();
  double released = read_release_time (release_fd);
  cr_assert_geq (acquired, released, "second open returned %.3fs before the holder released",
                 released - acquired);
  cr_assert_geq (acquired - start, 0.3);
  al_state_close (h);
  wait_child_ok (child);
}

Test (state, shared_waits_for_exclusive_and_exclusive_for_shared)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  int release_fd;

  create_simple ("rw");
  pid_t child = spawn_holder ("rw", 0, 300, &release_fd);
  cr_assert_eq (al_state_open (root, "rw", AL_STATE_SHARED, &h, &e), 0, "%s", e.msg);
  double acquired = now_s ();
  cr_assert_geq (acquired, read_release_time (release_fd));
  al_state_close (h);
  wait_child_ok (child);

  child = spawn_holder ("rw", AL_STATE_SHARED, 300, &release_fd);
  /* Readers share ... */
  cr_assert_eq (al_state_open (root, "rw", AL_STATE_SHARED | AL_STATE_NONBLOCK, &h, &e), 0, "%s",
                e.msg);
  al_state_close (h);
  /* ... a writer waits for them. */
  cr_assert_eq (al_state_open (root, "rw", 0, &h, &e), 0, "%s", e.msg);
  acquired = now_s ();
  cr_assert_geq (acquired, read_release_time (release_fd));
  al_state_close (h);
  wait_child_ok (child);
}

Test (state, nonblock_reports_ewouldblock)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  int release_fd;

  create_simple ("busy");
  pid_t child = spawn_holder ("busy", 0, 300, &release_fd);
  /* Had it waited, the open would succeed once the holder lets go. */
  cr_assert_eq (al_state_open (root, "busy", AL_STATE_NONBLOCK, &h, &e), -EWOULDBLOCK);
  cr_assert_eq (e.errnum, EAGAIN);
  cr_assert_str_eq (e.msg, "busy: container is locked by another process");
  cr_assert_eq (al_state_open (root, "busy", AL_STATE_SHARED | AL_STATE_NONBLOCK, &h, &e),
                -EWOULDBLOCK);
  cr_assert_null (h);
  read_release_time (release_fd);
  wait_child_ok (child);
}

Test (state, lock_is_per_container)
{
  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  int release_fd;

  create_simple ("one");
  create_simple ("two");
  pid_t child = spawn_holder ("one", 0, 300, &release_fd);
  cr_assert_eq (al_state_open (root, "two", AL_STATE_NONBLOCK, &h, &e), 0, "%s", e.msg);
  al_state_close (h);
  read_release_time (release_fd);
  wait_child_ok (child);
}

Test (state, waiter_after_removal_sees_enoent)
{
  create_simple ("doomed");

  int ready[2];
  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  pid_t child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      struct al_state_handle *h = NULL;
      struct al_error e = { 0 };
      if (al_state_open (root, "doomed", 0, &h, &e) < 0 || write (ready[1], "r", 1) != 1)
        _exit (2);
      sleep_ms (400); /* the parent is waiting in flock by now */
      if (al_state_remove (h, &e) < 0)
        _exit (3);
      al_state_close (h);
      _exit (0);
    }
  close (ready[1]);
  char c;
  cr_assert_eq (read (ready[0], &c, 1), 1);
  close (ready[0]);

  struct al_state_handle *h = NULL;
  struct al_error e = { 0 };
  double start = now_s ();
  cr_assert_eq (al_state_open (root, "doomed", AL_STATE_SHARED, &h, &e), -ENOENT, "got: %s", e.msg);
  cr_assert_geq (now_s () - start, 0.3, "did not wait for the lock");
  cr_assert_eq (e.errnum, ENOENT);
  cr_assert_str_eq (e.msg, "doomed: container does not exist");
  wait_child_ok (child);
}

Test (state, waiter_after_remove_and_recreate_gets_new_entry)
{
  create_simple ("phoenix");

  int ready[2];
  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  pid_t child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      struct al_state_handle *old = NULL, *fresh = NULL;
      struct al_error e = { 0 };
      if (al_state_open (root, "phoenix", 0, &old, &e) < 0 || write (ready[1], "r", 1) != 1)
        _exit (2);
      sleep_ms (300);
      if (al_state_remove (old, &e) < 0
          || al_state_open (root, "phoenix", AL_STATE_CREATE, &fresh, &e) < 0)
        _exit (3);
      struct al_state *s = full_state ("phoenix");
      free (s->bundle);
      s->bundle = strdup ("/reborn");
      if (al_state_write (fresh, s, &e) < 0)
        _exit (4);
      al_state_close (old); /* wakes the waiter on the dead entry */
      sleep_ms (200);
      al_state_close (fresh);
      al_state_free (s);
      _exit (0);
    }
  close (ready[1]);
  char c;
  cr_assert_eq (read (ready[0], &c, 1), 1);
  close (ready[0]);

  struct al_state_handle *h = NULL;
  struct al_state *out = NULL;
  struct al_error e = { 0 };
  double start = now_s ();
  cr_assert_eq (al_state_open (root, "phoenix", AL_STATE_SHARED, &h, &e), 0, "%s", e.msg);
  cr_assert_geq (now_s () - start, 0.4, "did not wait for the new entry's lock");
  cr_assert_eq (al_state_read (h, &out, &e), 0, "%s", e.msg);
  cr_assert_str_eq (out->bundle, "/reborn");
  al_state_free (out);
  al_state_close (h);
  wait_child_ok (child);
}

Test (state, concurrent_creators_one_wins)
{
  enum
  {
    N = 8
  };
  pid_t kids[N];
  for (int i = 0; i < N; i++)
    {
      kids[i] = fork ();
      cr_assert_geq (kids[i], 0);
      if (kids[i] == 0)
        {
          struct al_state_handle *h = NULL;
          struct al_error e = { 0 };
          int r = al_state_open (root, "race", AL_STATE_CREATE, &h, &e);
          if (r == -EEXIST)
            _exit (10);
          if (r < 0)
            _exit (2);
          struct al_state *s = full_state ("race");
          r = al_state_write (h, s, &e);
          al_state_free (s);
          al_state_close (h);
          _exit (r < 0 ? 3 : 0);
        }
    }
  int won = 0, lost = 0;
  for (int i = 0; i < N; i++)
    {
      int status;
      cr_assert_eq (waitpid (kids[i], &status, 0), kids[i]);
      cr_assert (WIFEXITED (status) && (WEXITSTATUS (status) == 0 || WEXITSTATUS (status) == 10),
                 "creator failed: status %#x", status);
      won += WEXITSTATUS (status) == 0;
      lost += WEXITSTATUS (status) == 10;
    }
  cr_assert_eq (won, 1);
  cr_assert_eq (lost, N - 1);
  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "race");
}

Test (state, create_holds_lock_until_close)
{
  struct al_state_handle *creator = NULL, *h = NULL;
  struct al_error e = { 0 };

  cr_assert_eq (al_state_open (root, "fresh", AL_STATE_CREATE, &creator, &e), 0, "%s", e.msg);
  /* Before the first write nobody gets in, not even to read. */
  cr_assert_eq (al_state_open (root, "fresh", AL_STATE_SHARED | AL_STATE_NONBLOCK, &h, &e),
                -EWOULDBLOCK, "%s", e.msg);
  struct al_state **list = NULL;
  size_t n = 9, skipped = 9;
  cr_assert_eq (al_state_list (root, &list, &n, &skipped, &e), 0, "%s", e.msg);
  cr_assert_eq (n, 0);
  cr_assert_eq (skipped, 0, "an entry being created is not an error");
  al_state_list_free (list);
  al_state_close (creator);
}

/* ------------------------------------------------------------------ stale detection */

static void
write_pid (const char *id, enum al_status status, pid_t pid, unsigned long long start)
{
  struct al_state *s = full_state (id);
  s->status = status;
  s->pid = pid;
  s->pid_start_time = start;
  create_with (id, s);
  al_state_free (s);
}

Test (state, dead_init_reads_stopped)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  unsigned long long start;

  pid_t child = spawn_sleeper ();
  cr_assert_eq (al_state_pid_start_time (child, &start, &e), 0, "%s", e.msg);
  write_pid ("dead", AL_STATUS_RUNNING, child, start);

  cr_assert_eq (read_id ("dead", &out, &e), 0, "%s", e.msg);
  cr_assert_eq (out->status, AL_STATUS_RUNNING);
  cr_assert_eq (out->pid, child);
  out = al_state_free (out);

  kill_and_reap (child);
  cr_assert_eq (read_id ("dead", &out, &e), 0, "%s", e.msg);
  cr_assert_eq (out->status, AL_STATUS_STOPPED);
  cr_assert_eq (out->pid, 0);
  cr_assert_eq (out->pid_start_time, 0);
  al_state_free (out);

  struct al_state **list = NULL;
  size_t n = 0;
  cr_assert_eq (al_state_list (root, &list, &n, NULL, &e), 0, "%s", e.msg);
  cr_assert_eq (n, 1);
  cr_assert_eq (list[0]->status, AL_STATUS_STOPPED, "list refreshes too");
  al_state_list_free (list);
}

Test (state, reused_pid_reads_stopped)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  unsigned long long start;

  pid_t child = spawn_sleeper ();
  cr_assert_eq (al_state_pid_start_time (child, &start, &e), 0, "%s", e.msg);
  write_pid ("reused", AL_STATUS_CREATED, child, start + 1);
  cr_assert_eq (read_id ("reused", &out, &e), 0, "%s", e.msg);
  cr_assert_eq (out->status, AL_STATUS_STOPPED);
  cr_assert_eq (out->pid, 0);
  out = al_state_free (out);

  write_pid ("right", AL_STATUS_CREATED, child, start);
  cr_assert_eq (read_id ("right", &out, &e), 0, "%s", e.msg);
  cr_assert_eq (out->status, AL_STATUS_CREATED);
  cr_assert_eq (out->pid, child);
  al_state_free (out);
  kill_and_reap (child);
}

Test (state, zombie_init_reads_stopped)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  unsigned long long start;

  pid_t child = spawn_sleeper ();
  cr_assert_eq (al_state_pid_start_time (child, &start, &e), 0, "%s", e.msg);
  write_pid ("zombie", AL_STATUS_RUNNING, child, start);
  kill (child, SIGKILL);

  /* Not reaped: wait until the kernel shows it as a zombie. */
  char p[64], buf[512];
  snprintf (p, sizeof p, "/proc/%d/stat", (int) child);
  for (int i = 0; i < 200; i++)
    {
      FILE *f = fopen (p, "re");
      cr_assert_not_null (f);
      size_t n = fread (buf, 1, sizeof buf - 1, f);
      fclose (f);
      buf[n] = '\0';
      if (strstr (buf, ") Z "))
        break;
      sleep_ms (10);
    }
  cr_assert (strstr (buf, ") Z "), "child never became a zombie: %s", buf);

  cr_assert_eq (read_id ("zombie", &out, &e), 0, "%s", e.msg);
  cr_assert_eq (out->status, AL_STATUS_STOPPED);
  cr_assert_eq (out->pid, 0);
  al_state_free (out);
  waitpid (child, NULL, 0);
}

Test (state, refresh_in_memory)
{
  struct al_state s = { .status = AL_STATUS_STOPPED, .pid = getpid (), .pid_start_time = 5 };
  al_state_refresh (&s);
  cr_assert_eq (s.pid, 0, "stopped always reports pid 0");

  s = (struct al_state){ .status = AL_STATUS_RUNNING, .pid = 0 };
  al_state_refresh (&s);
  cr_assert_eq (s.status, AL_STATUS_STOPPED, "no pid, nothing running");

  s = (struct al_state){ .status = AL_STATUS_PAUSED, .pid = getpid () };
  al_state_refresh (&s);
  cr_assert_eq (s.status, AL_STATUS_PAUSED, "start time 0 = unknown: liveness only");
  cr_assert_eq (s.pid, getpid ());
}

Test (state, pid_start_time_matches_proc)
{
  struct al_error e = { 0 };
  unsigned long long got = 0, want = 0;
  char buf[1024];

  FILE *f = fopen ("/proc/self/stat", "re");
  cr_assert_not_null (f);
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  /* Independent parse: 20 space-separated fields after "pid (comm) ". */
  char *p = strrchr (buf, ')') + 2;
  for (int i = 0; i < 19; i++)
    p = strchr (p, ' ') + 1;
  want = strtoull (p, NULL, 10);

  cr_assert_eq (al_state_pid_start_time (getpid (), &got, &e), 0, "%s", e.msg);
  cr_assert_eq (got, want);
  cr_assert_gt (got, 0);

  pid_t child = spawn_sleeper ();
  kill_and_reap (child);
  cr_assert_eq (al_state_pid_start_time (child, &got, &e), -ESRCH);
  cr_assert_eq (al_state_pid_start_time (0, &got, &e), -EINVAL);
}

/* ------------------------------------------------------------------ listing */

Test (state, list_sorted_skipping_bad_entries)
{
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;
  char p[PATH_MAX + 64];

  create_simple ("b");
  create_simple ("a");
  create_simple ("c-10");
  create_simple ("c-9");
  /* Corrupt record: skipped and counted. */
  create_simple ("d");
  write_raw ("d", "{\"version\":", 11);
  /* No state.json and nobody holding it: a crashed create, counted. */
  cr_assert_eq (al_state_open (root, "e", AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  al_state_close (h);
  /* Not containers: skipped silently. */
  path_in (p, sizeof p, ".~new.0123456789abcdef", NULL);
  cr_assert_eq (mkdir (p, 0700), 0);
  path_in (p, sizeof p, "not valid", NULL);
  cr_assert_eq (mkdir (p, 0700), 0);

  struct al_state **list = NULL;
  size_t n = 0, skipped = 0;
  cr_assert_eq (al_state_list (root, &list, &n, &skipped, &e), 0, "%s", e.msg);
  cr_assert_eq (n, 4);
  cr_assert_str_eq (list[0]->id, "a");
  cr_assert_str_eq (list[1]->id, "b");
  cr_assert_str_eq (list[2]->id, "c-10");
  cr_assert_str_eq (list[3]->id, "c-9");
  cr_assert_null (list[4]);
  cr_assert_eq (skipped, 2);
  cr_assert_str_eq (list[0]->bundle, "/var/lib/bundles/x");
  al_state_list_free (list);

  /* ret_skipped is optional. */
  cr_assert_eq (al_state_list (root, &list, &n, NULL, &e), 0, "%s", e.msg);
  cr_assert_eq (n, 4);
  al_state_list_free (list);
}

Test (state, list_missing_root_is_empty)
{
  struct al_error e = { 0 };
  struct al_state **list = NULL;
  size_t n = 7, skipped = 7;

  cr_assert_eq (al_state_list (root, &list, &n, &skipped, &e), 0, "%s", e.msg);
  cr_assert_not_null (list);
  cr_assert_null (list[0]);
  cr_assert_eq (n, 0);
  cr_assert_eq (skipped, 0);
  cr_assert_eq (access (root, F_OK), -1, "listing must not create the root");
  al_state_list_free (list);
}

/* ------------------------------------------------------------------ removal */

Test (state, remove_leaves_nothing)
{
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;
  struct al_state *out = NULL;
  char p[PATH_MAX + 64], victim[PATH_MAX];

  create_simple ("gone");
  create_simple ("stays");
  cr_assert_eq (al_state_open (root, "gone", 0, &h, &e), 0, "%s", e.msg);
  /* Files other modules keep in the entry go too; symlinks are not followed. */
  int dfd = al_state_dir_fd (h);
  cr_assert_eq (mkfifoat (dfd, "exec.fifo", 0600), 0);
  cr_assert_eq (mkdirat (dfd, "sub", 0700), 0);
  cr_assert_eq (mkdirat (dfd, "sub/deeper", 0700), 0);
  close (openat (dfd, "sub/deeper/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  snprintf (victim, sizeof victim, "%s/victim", tmpdir);
  close (open (victim, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  cr_assert_eq (symlinkat (victim, dfd, "link"), 0);
  cr_assert_eq (symlinkat (tmpdir, dfd, "dirlink"), 0);
  cr_assert_str_eq (al_state_handle_id (h), "gone");

  cr_assert_eq (al_state_remove (h, &e), 0, "%s", e.msg);
  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "stays");
  cr_assert_eq (access (victim, F_OK), 0, "removal followed a symlink");

  /* The handle is dead; ENOENT is distinguishable from other failures. */
  struct al_state *s = full_state ("gone");
  cr_assert_eq (al_state_read (h, &out, &e), -ENOENT);
  cr_assert_eq (al_state_write (h, s, &e), -ENOENT);
  cr_assert_eq (al_state_remove (h, &e), -ENOENT);
  cr_assert_str_eq (e.msg, "gone: container does not exist");
  al_state_close (h);
  al_state_free (s);

  cr_assert_eq (al_state_open (root, "gone", 0, &h, &e), -ENOENT);
  cr_assert_str_eq (e.msg, "gone: container does not exist");
  path_in (p, sizeof p, "gone", NULL);
  cr_assert_eq (access (p, F_OK), -1);

  /* The id is free again. */
  create_simple ("gone");
}

Test (state, remove_finishes_incomplete_and_corrupt_entries)
{
  struct al_error e = { 0 };
  struct al_state_handle *h = NULL;

  cr_assert_eq (al_state_open (root, "half", AL_STATE_CREATE, &h, &e), 0, "%s", e.msg);
  al_state_close (h);
  create_simple ("rotten");
  write_raw ("rotten", "garbage", 7);

  cr_assert_eq (al_state_open (root, "half", 0, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_remove (h, &e), 0, "%s", e.msg);
  al_state_close (h);
  cr_assert_eq (al_state_open (root, "rotten", 0, &h, &e), 0, "%s", e.msg);
  cr_assert_eq (al_state_remove (h, &e), 0, "%s", e.msg);
  al_state_close (h);
  char names[256];
  dir_names (root, names, sizeof names);
  cr_assert_str_eq (names, "");
}

/* ------------------------------------------------------------------ corrupt state */

static void
expect_corrupt (const char *text, const char *why)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  char p[PATH_MAX + 64], want[PATH_MAX + 512];

  write_raw ("bad", text, strlen (text));
  cr_assert_eq (read_id ("bad", &out, &e), -EBADMSG, "accepted: %s", text);
  cr_assert_null (out);
  cr_assert_eq (e.errnum, EBADMSG);
  path_in (p, sizeof p, "bad", "state.json");
  snprintf (want, sizeof want, "bad: `%s`: %s", p, why);
  cr_assert_str_eq (e.msg, want, "for %s:\n got  %s\n want %s", text, e.msg, want);
}

#define GOOD_HEAD "{\"version\":1,\"id\":\"bad\",\"status\":\"running\",\"pid\":1,"
#define GOOD_TAIL "\"bundle\":\"/b\",\"rootfs\":\"r\",\"created\":\"2024-01-02T03:04:05Z\""

Test (state, corrupt_state_is_a_clear_error)
{
  create_simple ("bad");

  expect_corrupt ("", "line 1 column 0: '[' or '{' expected near end of file");
  expect_corrupt ("{\"version\":1,\"id\":\"ba",
                  "line 1 column 21: premature end of input near '\"ba'");
  expect_corrupt ("[1]", "not a JSON object");
  expect_corrupt ("{}", "missing \"version\"");
  expect_corrupt ("{\"version\":2}", "format version 2 is not 1, the one this airlock reads");
  expect_corrupt ("{\"version\":1}", "missing \"id\"");
  expect_corrupt ("{\"version\":1,\"id\":\"x\",\"id\":\"y\"}",
                  "line 1 column 26: duplicate object key near '\"id\"'");
  expect_corrupt ("{\"version\":1,\"id\":\"other\",\"status\":\"running\",\"pid\":1," GOOD_TAIL "}",
                  "records id \"other\", not \"bad\"");
  expect_corrupt ("{\"version\":1,\"id\":\"bad\",\"status\":\"zzz\",\"pid\":1," GOOD_TAIL "}",
                  "unknown \"status\" \"zzz\"");
  expect_corrupt ("{\"version\":1,\"id\":\"bad\",\"status\":\"running\",\"pid\":\"1\"," GOOD_TAIL
                  "}",
                  "\"pid\" must be an integer from 0 to 2147483647");
  expect_corrupt ("{\"version\":1,\"id\":\"bad\",\"status\":\"running\",\"pid\":-4," GOOD_TAIL "}",
                  "\"pid\" must be an integer from 0 to 2147483647");
  expect_corrupt (GOOD_HEAD
                  "\"bundle\":\"b\",\"rootfs\":\"r\",\"created\":\"2024-01-02T03:04:05Z\"}",
                  "\"bundle\" must be an absolute path");
  expect_corrupt (GOOD_HEAD "\"bundle\":\"/b\",\"rootfs\":7,\"created\":\"2024-01-02T03:04:05Z\"}",
                  "\"rootfs\" must be a string");
  expect_corrupt (GOOD_HEAD
                  "\"bundle\":\"/b\",\"rootfs\":\"r\",\"created\":\"2024-02-30T03:04:05Z\"}",
                  "\"created\" is not an RFC 3339 UTC time: \"2024-02-30T03:04:05Z\"");
  expect_corrupt (GOOD_HEAD
                  "\"bundle\":\"/b\",\"rootfs\":\"r\",\"created\":\"2024-01-02 03:04:05\"}",
                  "\"created\" is not an RFC 3339 UTC time: \"2024-01-02 03:04:05\"");
  expect_corrupt (GOOD_HEAD GOOD_TAIL ",\"annotations\":{\"k\":1}}",
                  "\"annotations\" must be an object of strings");
  expect_corrupt (GOOD_HEAD GOOD_TAIL ",\"airlock\":[]}", "\"airlock\" must be an object");
  expect_corrupt (GOOD_HEAD GOOD_TAIL ",\"pid_start_time\":1.5}",
                  "\"pid_start_time\" must be an integer from 0 to 9223372036854775807");
  expect_corrupt (GOOD_HEAD GOOD_TAIL "} trailing",
                  "line 1 column 120: end of file expected near 'trailing'");

  /* The same prefix with a good ending parses: the cases above fail for
   * the reason they name. */
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  write_raw ("bad", GOOD_HEAD GOOD_TAIL "}", strlen (GOOD_HEAD GOOD_TAIL "}"));
  cr_assert_eq (read_id ("bad", &out, &e), 0, "%s", e.msg);
  al_state_free (out);
}

Test (state, truncated_real_record_is_rejected)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  char p[PATH_MAX + 64];

  create_simple ("bad");
  path_in (p, sizeof p, "bad", "state.json");
  char *text = NULL;
  size_t len = 0;
  cr_assert_eq (al_read_file (AT_FDCWD, p, 1 << 20, &text, &len, &e), 0, "%s", e.msg);
  for (size_t cut = 0; cut < len; cut += 7)
    {
      write_raw ("bad", text, cut);
      cr_assert_eq (read_id ("bad", &out, &e), -EBADMSG, "accepted a record cut at %zu", cut);
      cr_assert (strstr (e.msg, p), "message does not name the file: %s", e.msg);
    }
  free (text);
}

Test (state, oversized_and_missing_state_files)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  char p[PATH_MAX + 64], want[PATH_MAX + 256];

  create_simple ("bad");
  path_in (p, sizeof p, "bad", "state.json");
  size_t len = AL_STATE_FILE_MAX + 1;
  char *huge = malloc (len);
  memset (huge, ' ', len);
  write_raw ("bad", huge, len);
  free (huge);
  cr_assert_eq (read_id ("bad", &out, &e), -EBADMSG);
  snprintf (want, sizeof want, "bad: `%s`: larger than 1048576 bytes", p);
  cr_assert_str_eq (e.msg, want);

  cr_assert_eq (unlink (p), 0);
  cr_assert_eq (read_id ("bad", &out, &e), -EBADMSG);
  snprintf (want, sizeof want, "bad: `%s`: missing (the container entry is incomplete)", p);
  cr_assert_str_eq (e.msg, want);
}

/* ------------------------------------------------------------------ OCI state */

static void
expect_oci (const struct al_state *s, const char *want)
{
  json_t *j = al_state_to_oci_json (s);
  cr_assert_not_null (j);
  char *text = json_dumps (j, JSON_COMPACT);
  cr_assert_str_eq (text, want);
  free (text);
  json_decref (j);
}

Test (state, oci_state_json_exact)
{
  struct al_state *s = full_state ("web-1");
  s->pid = 4242;
  char want[512];

  snprintf (want, sizeof want,
            "{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"status\":\"running\",\"pid\":4242,"
            "\"bundle\":\"/var/lib/bundles/x\",\"annotations\":{\"org.example.key\":\"value\","
            "\"empty\":\"\"}}");
  expect_oci (s, want);

  json_decref (s->annotations);
  s->annotations = json_object ();
  s->status = AL_STATUS_CREATED;
  expect_oci (s, "{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"status\":\"created\",\"pid\":4242,"
                 "\"bundle\":\"/var/lib/bundles/x\"}");

  json_decref (s->annotations);
  s->annotations = NULL;
  s->status = AL_STATUS_PAUSED;
  expect_oci (s, "{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"status\":\"paused\",\"pid\":4242,"
                 "\"bundle\":\"/var/lib/bundles/x\"}");

  s->status = AL_STATUS_STOPPED;
  expect_oci (s, "{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"status\":\"stopped\",\"pid\":0,"
                 "\"bundle\":\"/var/lib/bundles/x\"}");
  al_state_free (s);
}

Test (state, oci_state_after_round_trip)
{
  struct al_error e = { 0 };
  struct al_state *out = NULL;
  struct al_state *s = full_state ("rt");
  s->annotations = (json_decref (s->annotations), json_pack ("{s:s}", "a", "b"));
  create_with ("rt", s);
  cr_assert_eq (read_id ("rt", &out, &e), 0, "%s", e.msg);
  char want[512];
  snprintf (want, sizeof want,
            "{\"ociVersion\":\"1.2.0\",\"id\":\"rt\",\"status\":\"running\",\"pid\":%d,"
            "\"bundle\":\"/var/lib/bundles/x\",\"annotations\":{\"a\":\"b\"}}",
            (int) getpid ());
  expect_oci (out, want);
  al_state_free (out);
  al_state_free (s);
}
