/* bench-rollback.c — how long a rollback takes, by backend and by how much
 * changed, beside what it would cost without airlock.  run-bench.sh's
 * "rollback" section builds and runs it (root; it needs libairlock.a).
 *
 *   bench-rollback [-s SAMPLES] [-f BASE_FILES] [-c "10 1000 10000"] WORKDIR
 *
 * A base of BASE_FILES (10000) small files in 100 directories is made in
 * WORKDIR (the disk /tmp lives on).  For each count C of changed files and
 * each row, SAMPLES times: change C files of the base (overwrite), sync
 * the filesystem (so no row pays for another's writeback), then time the
 * rollback alone.  Rows:
 *   overlay        al_snap_rollback() of an overlay store in WORKDIR
 *   overlay (tmpfs)  the same with the store on a tmpfs: what is left
 *                  without the disk's fsync latency (meta.json)
 *   naive          rm -rf upper && mkdir upper in WORKDIR, done in-process
 *                  (al_tree_remove + mkdir: no process start counted)
 *   btrfs          al_snap_rollback() of a btrfs store
 *   btrfs-ioctl    the raw pair: BTRFS_IOC_SNAP_DESTROY of the writable
 *                  subvolume, BTRFS_IOC_SNAP_CREATE_V2 of the snapshot
 *                  (libbtrfsutil)
 *   btrfs-cli      `btrfs subvolume delete` + `btrfs subvolume snapshot`
 * The btrfs rows run on a loop-mounted btrfs image whose backing file is on
 * a tmpfs (btrfs_testlib.h), in a private mount namespace.  What a rollback
 * drops is deleted afterwards, untimed (al_snap_gc; the kernel's cleaner
 * for btrfs).  Reported: the median in ms per row and count, and the
 * targets: overlay <= 10 ms whatever the count, btrfs <= 1.2x btrfs-ioctl.
 * Exit 0 whether or not the targets are met (run-bench.sh reads the
 * "target" lines; BENCH_STRICT is its business).
 */
#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "btrfs_testlib.h"
#include "snapshot.h"
#include "tree.h"

#define MAX_COUNTS 8
#define MAX_SAMPLES 101

enum row
{
  ROW_OVERLAY,
  ROW_OVERLAY_TMPFS,
  ROW_NAIVE,
  ROW_BTRFS,
  ROW_IOCTL,
  ROW_CLI,
  N_ROWS
};
static const char *const row_names[N_ROWS]
    = { "overlay", "overlay (tmpfs)", "naive rm+mkdir", "btrfs", "btrfs-ioctl", "btrfs-cli" };

static int samples = 15;
static int base_files = 10000;
static int counts[MAX_COUNTS] = { 10, 1000, 10000 };
static int n_counts = 3;

static void __attribute__ ((noreturn, format (printf, 1, 2))) die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "bench-rollback: ");
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

/* snprintf of a path into buf[PATH_MAX]; a path too long is fatal. */
static char *__attribute__ ((format (printf, 2, 3))) pathf (char *buf, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, PATH_MAX, fmt, ap);
  va_end (ap);
  if (n < 0 || n >= PATH_MAX)
    die ("path too long: %s...", buf);
  return buf;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
sync_dir (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || syncfs (fd) < 0)
    die ("syncfs %s: %s", dir, strerror (errno));
  close (fd);
}

/* File i of the tree in dir: dir/dNN/fNNNNN. */
static void
file_path (char buf[PATH_MAX], const char *dir, int i)
{
  pathf (buf, "%s/d%02d/f%05d", dir, i % 100, i);
}

/* Write files 0..n-1 in dir (dirs made as needed), contents tagged. */
static void
write_files (const char *dir, int n, const char *tag)
{
  char p[PATH_MAX], text[96];
  for (int i = 0; i < 100 && i < n; i++)
    {
      pathf (p, "%s/d%02d", dir, i);
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        die ("mkdir %s: %s", p, strerror (errno));
    }
  for (int i = 0; i < n; i++)
    {
      file_path (p, dir, i);
      int len = snprintf (text, sizeof text, "%s %05d ................................\n", tag, i);
      int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write (fd, text, (size_t) len) != len)
        die ("write %s: %s", p, strerror (errno));
      close (fd);
    }
}

static void
check_file (const char *dir, int i, const char *tag)
{
  char p[PATH_MAX], want[96];
  file_path (p, dir, i);
  snprintf (want, sizeof want, "%s %05d", tag, i);
  const char *got = al_btrfs_read (p);
  if (strncmp (got, want, strlen (want)) != 0)
    die ("%s: `%.20s`, not `%s`: the rollback did not restore it", p, got, want);
}

/* Rows overlay and btrfs: the store's own rollback. */
static void
bench_store (const char *store, const char *image, const char *target, enum al_snap_backend b,
             double ms[MAX_COUNTS])
{
  struct al_error err = { 0 };
  struct al_snap *s;
  if (al_snap_create (store, image, b, 0, 0, &s, &err) < 0 || al_snap_snapshot (s, "t0", &err) < 0)
    die ("%s", err.msg);
  for (int c = 0; c < n_counts; c++)
    {
      double t[MAX_SAMPLES];
      for (int k = 0; k < samples; k++)
        {
          if (al_snap_mount (s, target, &err) < 0)
            die ("%s", err.msg);
          write_files (target, counts[c], "changed");
          if (umount2 (target, 0) < 0)
            die ("umount %s: %s", target, strerror (errno));
          sync_dir (store);
          double t0 = now_ms ();
          if (al_snap_rollback (s, "t0", false, &err) < 0)
            die ("%s", err.msg);
          t[k] = now_ms () - t0;
          if (al_snap_gc (s, &err) < 0)
            die ("%s", err.msg);
          sync_dir (store);
        }
      ms[c] = median (t, samples);
      if (al_snap_mount (s, target, &err) < 0)
        die ("%s", err.msg);
      check_file (target, counts[c] - 1, "base");
      umount2 (target, 0);
    }
  if (al_snap_destroy (s, &err) < 0)
    die ("%s", err.msg);
  al_snap_close (s);
}

static void
bench_naive (const char *dir, double ms[MAX_COUNTS])
{
  char upper[PATH_MAX];
  pathf (upper, "%s/upper", dir);
  if (mkdir (dir, 0755) < 0 || mkdir (upper, 0755) < 0)
    die ("mkdir %s: %s", upper, strerror (errno));
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    die ("open %s: %s", dir, strerror (errno));
  for (int c = 0; c < n_counts; c++)
    {
      double t[MAX_SAMPLES];
      for (int k = 0; k < samples; k++)
        {
          write_files (upper, counts[c], "changed");
          sync_dir (dir);
          struct al_error err = { 0 };
          double t0 = now_ms ();
          if (al_tree_remove (dfd, "upper", &err) < 0 || mkdir (upper, 0755) < 0)
            die ("rm -rf %s: %s", upper, err.msg);
          t[k] = now_ms () - t0;
        }
      ms[c] = median (t, samples);
    }
  close (dfd);
}

/* Rows btrfs-ioctl and btrfs-cli: a base subvolume, its read-only
 * snapshot t0 and the writable cur. */
static void
bench_raw (const char *dir, bool cli, double ms[MAX_COUNTS])
{
  char base[PATH_MAX], t0p[PATH_MAX], cur[PATH_MAX];
  pathf (base, "%s/base", dir);
  pathf (t0p, "%s/t0", dir);
  pathf (cur, "%s/cur", dir);
  if (mkdir (dir, 0755) < 0)
    die ("mkdir %s: %s", dir, strerror (errno));
  enum btrfs_util_error e = btrfs_util_create_subvolume (base, 0, NULL, NULL);
  if (e != BTRFS_UTIL_OK)
    die ("create %s: %s", base, btrfs_util_strerror (e));
  write_files (base, base_files, "base");
  if ((e = btrfs_util_create_snapshot (base, t0p, BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, NULL, NULL))
          != BTRFS_UTIL_OK
      || (e = btrfs_util_create_snapshot (t0p, cur, 0, NULL, NULL)) != BTRFS_UTIL_OK)
    die ("snapshot %s: %s", t0p, btrfs_util_strerror (e));
  for (int c = 0; c < n_counts; c++)
    {
      double t[MAX_SAMPLES];
      for (int k = 0; k < samples; k++)
        {
          write_files (cur, counts[c], "changed");
          sync_dir (dir);
          double t0 = now_ms ();
          if (cli)
            {
              char *del[] = { "btrfs", "subvolume", "delete", cur, NULL };
              char *snap[] = { "btrfs", "subvolume", "snapshot", t0p, cur, NULL };
              if (al_btrfs_run (del, false) < 0 || al_btrfs_run (snap, false) < 0)
                die ("btrfs subvolume delete/snapshot %s failed", cur);
            }
          else if ((e = btrfs_util_delete_subvolume (cur, 0)) != BTRFS_UTIL_OK
                   || (e = btrfs_util_create_snapshot (t0p, cur, 0, NULL, NULL)) != BTRFS_UTIL_OK)
            die ("delete + snapshot %s: %s", cur, btrfs_util_strerror (e));
          t[k] = now_ms () - t0;
          sync_dir (dir);
        }
      ms[c] = median (t, samples);
      check_file (cur, counts[c] - 1, "base");
    }
}

int
main (int argc, char **argv)
{
  int opt;
  while ((opt = getopt (argc, argv, "s:f:c:")) != -1)
    switch (opt)
      {
      case 's':
        samples = atoi (optarg);
        break;
      case 'f':
        base_files = atoi (optarg);
        break;
      case 'c':
        {
          n_counts = 0;
          char *save = NULL;
          for (char *t = strtok_r (optarg, " ,", &save); t && n_counts < MAX_COUNTS;
               t = strtok_r (NULL, " ,", &save))
            counts[n_counts++] = atoi (t);
          break;
        }
      default:
        die ("usage: bench-rollback [-s SAMPLES] [-f BASE_FILES] [-c COUNTS] WORKDIR");
      }
  if (optind != argc - 1 || samples < 1 || samples > MAX_SAMPLES || base_files < 100
      || n_counts < 1)
    die ("usage: bench-rollback [-s SAMPLES] [-f BASE_FILES] [-c COUNTS] WORKDIR");
  for (int c = 0; c < n_counts; c++)
    if (counts[c] < 1 || counts[c] > base_files)
      die ("a count of changed files must be 1..%d", base_files);
  const char *work = argv[optind];

  /* Our own mount namespace (the btrfs, the roots we mount) first. */
  struct al_btrfs_fixture fx;
  al_btrfs_fixture_setup (&fx, 2048);

  char image[PATH_MAX], p[PATH_MAX], q[PATH_MAX], target[PATH_MAX];
  pathf (image, "%s/image", work);
  pathf (target, "%s/target", fx.dir);
  if (mkdir (image, 0755) < 0 || mkdir (target, 0755) < 0)
    die ("mkdir %s: %s", image, strerror (errno));
  write_files (image, base_files, "base");

  double ms[N_ROWS][MAX_COUNTS];
  pathf (p, "%s/overlay-store", work);
  bench_store (p, image, target, AL_SNAP_OVERLAY, ms[ROW_OVERLAY]);
  pathf (p, "%s/overlay-store", fx.dir);
  bench_store (p, image, target, AL_SNAP_OVERLAY, ms[ROW_OVERLAY_TMPFS]);
  pathf (p, "%s/naive", work);
  bench_naive (p, ms[ROW_NAIVE]);
  pathf (p, "%s/btrfs-store", fx.mnt);
  bench_store (p, image, target, AL_SNAP_BTRFS, ms[ROW_BTRFS]);
  pathf (p, "%s/raw-ioctl", fx.mnt);
  bench_raw (p, false, ms[ROW_IOCTL]);
  pathf (q, "%s/raw-cli", fx.mnt);
  bench_raw (q, true, ms[ROW_CLI]);

  double load[3] = { 0 };
  getloadavg (load, 3);
  printf ("rollback: median ms over %d samples, %d-file base; overlay store and naive on %s; "
          "load %.2f\n",
          samples, base_files, work, load[0]);
  printf ("%-16s", "changed files");
  for (int c = 0; c < n_counts; c++)
    printf (" %10d", counts[c]);
  printf ("\n");
  for (int r = 0; r < N_ROWS; r++)
    {
      printf ("%-16s", row_names[r]);
      for (int c = 0; c < n_counts; c++)
        printf (" %10.2f", ms[r][c]);
      printf ("\n");
    }
  double ov_max = 0, ov_min = 1e9, ratio_max = 0;
  for (int c = 0; c < n_counts; c++)
    {
      ov_max = ms[ROW_OVERLAY][c] > ov_max ? ms[ROW_OVERLAY][c] : ov_max;
      ov_min = ms[ROW_OVERLAY][c] < ov_min ? ms[ROW_OVERLAY][c] : ov_min;
      double ratio = ms[ROW_BTRFS][c] / ms[ROW_IOCTL][c];
      ratio_max = ratio > ratio_max ? ratio : ratio_max;
    }
  printf ("target overlay <= 10 ms at every count: %s (max %.2f ms, max/min %.2f)\n",
          ov_max <= 10 ? "met" : "MISSED", ov_max, ov_max / ov_min);
  printf ("target btrfs <= 1.2x btrfs-ioctl: %s (worst ratio %.2f)\n",
          ratio_max <= 1.2 ? "met" : "MISSED", ratio_max);
  static const char *const json_names[N_ROWS]
      = { "overlay", "overlay_tmpfs", "naive", "btrfs", "btrfs_ioctl", "btrfs_cli" };
  printf ("BENCH_JSON {\"bench\":\"rollback\",\"samples\":%d,\"base_files\":%d,\"counts\":[",
          samples, base_files);
  for (int c = 0; c < n_counts; c++)
    printf ("%s%d", c ? "," : "", counts[c]);
  printf ("],\"median_ms\":{");
  for (int r = 0; r < N_ROWS; r++)
    {
      printf ("%s\"%s\":[", r ? "," : "", json_names[r]);
      for (int c = 0; c < n_counts; c++)
        printf ("%s%.3f", c ? "," : "", ms[r][c]);
      printf ("]");
    }
  printf ("}}\n");

  al_btrfs_fixture_teardown (&fx);
  al_btrfs_remove_tree (image);
  pathf (p, "%s/naive", work);
  al_btrfs_remove_tree (p);
  return 0;
}
