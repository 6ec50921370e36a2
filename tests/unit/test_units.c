/* test_units.c — runtime/units.h: sizes and durations from the command line. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "units.h"

static uint64_t
size_ok (const char *s)
{
  struct al_error err = { 0 };
  uint64_t v = 0;
  cr_assert_eq (al_parse_size ("--memory", s, &v, &err), 0, "%s: %s", s, err.msg);
  return v;
}

static void
size_bad (const char *s, int errnum)
{
  struct al_error err = { 0 };
  uint64_t v = 12345;
  cr_assert_eq (al_parse_size ("--memory", s, &v, &err), -errnum, "`%s` accepted", s);
  cr_assert_eq (v, 12345, "`%s` wrote a result", s);
  cr_assert (strstr (err.msg, "--memory") != NULL, "%s", err.msg);
  cr_assert (strchr (err.msg, '\n') == NULL);
}

Test (units, sizes_take_binary_suffixes)
{
  cr_assert_eq (size_ok ("0"), 0);
  cr_assert_eq (size_ok ("4096"), 4096);
  cr_assert_eq (size_ok ("100B"), 100);
  cr_assert_eq (size_ok ("64k"), 64 << 10);
  cr_assert_eq (size_ok ("512M"), 512ull << 20);
  cr_assert_eq (size_ok ("512MB"), 512ull << 20);
  cr_assert_eq (size_ok ("512MiB"), 512ull << 20);
  cr_assert_eq (size_ok ("1.5G"), 3ull << 29);
  cr_assert_eq (size_ok ("2t"), 2ull << 40);
}

Test (units, bad_sizes_name_the_option)
{
  size_bad ("12XB", EINVAL);
  size_bad ("", EINVAL);
  size_bad ("-1", EINVAL);
  size_bad ("1e3", EINVAL);
  size_bad ("5 M", EINVAL);
  size_bad ("M", EINVAL);
  size_bad ("1.5", EINVAL); /* a fraction of a byte */
  size_bad ("99999999999T", ERANGE);
  struct al_error err = { 0 };
  uint64_t v;
  al_parse_size ("--memory", "12XB", &v, &err);
  cr_assert_str_eq (err.msg, "--memory: invalid size `12XB` (use a number with K, M, G or T)");
}

Test (units, durations_are_milliseconds_rounded_up)
{
  struct al_error err = { 0 };
  uint64_t v;
  static const struct
  {
    const char *s;
    uint64_t ms;
  } ok[] = { { "30s", 30000 }, { "30", 30000 }, { "1.5", 1500 }, { "500ms", 500 },
             { "2m", 120000 }, { "1h", 3600000 }, { "0", 0 }, { "0.0001", 1 } };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      cr_assert_eq (al_parse_duration ("--timeout", ok[i].s, &v, &err), 0, "%s", ok[i].s);
      cr_assert_eq (v, ok[i].ms, "%s -> %llu", ok[i].s, (unsigned long long) v);
    }
  static const char *const bad[] = { "-1", "", "1d", "s", "1 s", "1.2.3", "ms5" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cr_assert_eq (al_parse_duration ("--timeout", bad[i], &v, &err), -EINVAL, "`%s`", bad[i]);
      cr_assert (strncmp (err.msg, "--timeout: invalid duration", 27) == 0, "%s", err.msg);
    }
}

Test (units, whole_numbers_in_range)
{
  struct al_error err = { 0 };
  uint64_t v;
  cr_assert_eq (al_parse_uint ("--pids", "100", 1, 1000, &v, &err), 0);
  cr_assert_eq (v, 100);
  cr_assert_eq (al_parse_uint ("--pids", "0", 1, 1000, &v, &err), -ERANGE);
  cr_assert (strstr (err.msg, "--pids: `0` is out of range (1..1000)") != NULL, "%s", err.msg);
  cr_assert_eq (al_parse_uint ("--pids", "-5", 1, 1000, &v, &err), -EINVAL);
  cr_assert_eq (al_parse_uint ("--pids", "", 1, 1000, &v, &err), -EINVAL);
  cr_assert_eq (al_parse_uint ("--pids", "18446744073709551616", 0, UINT64_MAX, &v, &err), -ERANGE);
}
