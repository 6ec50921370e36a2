/* seccomp_gen.c — a build tool: the built-in profile of `sandbox run`,
 * compiled once at build time.
 *
 *   seccomp-gen > seccomp_default_bpf.h
 *
 * libseccomp builds the filter from al_seccomp_default_profile() (its
 * rules live in seccomp.c, nowhere else) and exports its BPF program; this
 * prints it as a C array that seccomp.c includes.  Building the profile
 * takes libseccomp about 25 ms, which every sandbox run would otherwise
 * pay before its program starts.  tests/unit/test_seccomp checks that the
 * array is what libseccomp exports for the profile now.
 */
#include "config.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seccomp.h"

int
main (void)
{
  struct al_error err = { 0 };
  scmp_filter_ctx ctx = NULL;
  if (al_seccomp_default_profile (&ctx, &err) < 0)
    {
      fprintf (stderr, "seccomp-gen: %s\n", err.msg);
      return 1;
    }
  int fd = memfd_create ("bpf", MFD_CLOEXEC);
  int r = fd < 0 ? -errno : seccomp_export_bpf (ctx, fd);
  if (r < 0)
    {
      fprintf (stderr, "seccomp-gen: export the filter: %s\n", strerror (-r));
      return 1;
    }
  off_t len = lseek (fd, 0, SEEK_END);
  unsigned char *buf = len > 0 ? malloc ((size_t) len) : NULL;
  if (buf == NULL || pread (fd, buf, (size_t) len, 0) != len || len % 8 != 0)
    {
      fprintf (stderr, "seccomp-gen: read the filter back\n");
      return 1;
    }
  const struct scmp_version *v = seccomp_version ();
  printf ("/* Generated at build time by seccomp-gen (isolation/seccomp_gen.c) from\n"
          " * al_seccomp_default_profile () with libseccomp %u.%u.%u: do not edit. */\n",
          v->major, v->minor, v->micro);
  printf ("static const struct sock_filter default_bpf_insns[] = {\n");
  for (off_t i = 0; i < len; i += 8)
    {
      struct sock_filter f;
      memcpy (&f, buf + i, sizeof f);
      printf ("  { 0x%04x, %u, %u, 0x%08x },\n", f.code, f.jt, f.jf, f.k);
    }
  printf ("};\n");
  seccomp_release (ctx);
  free (buf);
  return fflush (stdout) == 0 ? 0 : 1;
}
