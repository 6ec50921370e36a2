/* oci_config.c — see oci_config.h.
 *
 * jansson decodes the text; this file walks the tree with a path stack so
 * that every complaint can name its JSON path, and json_pos turns that path
 * back into a line:column only when there is something to complain about.
 *
 * One wrinkle: jansson's integers are long long, so a uint64 above INT64_MAX
 * (RLIM_INFINITY written as 18446744073709551615, a seccomp mask) is a
 * "too big integer" decode error (and 1e999 a "real number overflow").  We
 * then mask that literal in a private copy of the text with a string of the
 * same length (so every offset stays valid) and decode again.  Readers that
 * meet such a masked string go back to the caller's original text at the same
 * offset and read the digits there; a real string of the same shape is told
 * apart because the original text has a quote, not a digit, at that offset.
 * A number in key position is never masked: that would make bad JSON good.
 */
#include "config.h"

#include "oci_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "cleanup.h"
#include "file.h"
#include "json_pos.h"

#define MAX_DEPTH 16
#define NUMBER_MASK '\x7f' /* fills a masked number literal */
/* Each masked number costs a full re-decode: at most 64 of them, and at most
 * 64 MiB decoded again in all (4 for a 16 MiB file, about 2 s). */
#define MAX_REDECODES 64
#define REDECODE_BUDGET (64u << 20)
#define MSG_VALUE_MAX 64  /* bytes of a user string quoted in a message */

/* ------------------------------------------------------------ parse context */

struct ctx
{
  const char *orig; /* the caller's text */
  const char *text; /* what jansson decoded: orig, or masked_copy */
  char *masked_copy;
  size_t n_masked;
  size_t masked_start[MAX_REDECODES], masked_end[MAX_REDECODES];
  size_t len;
  const char *source;
  struct al_error *err;
  size_t depth; /* may exceed MAX_DEPTH; only the first MAX_DEPTH are kept */
  struct al_json_path_elem path[MAX_DEPTH];
};

enum need
{
  OPTIONAL,
  REQUIRED
};

static void
push_key (struct ctx *c, const char *key)
{
  if (c->depth < MAX_DEPTH)
    c->path[c->depth] = (struct al_json_path_elem){ .key = key };
  c->depth++;
}

static void
push_index (struct ctx *c, size_t index)
{
  if (c->depth < MAX_DEPTH)
    c->path[c->depth] = (struct al_json_path_elem){ .key = NULL, .index = index };
  c->depth++;
}

static void
pop (struct ctx *c)
{
  if (c->depth > 0)
    c->depth--;
}

static size_t
kept_depth (const struct ctx *c)
{
  return c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH;
}

/* Append printf output to buf[*pos..size), truncating silently. */
static void __attribute__ ((format (printf, 4, 5)))
append (char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
  if (*pos >= size)
    return;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf + *pos, size - *pos, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  *pos += (size_t) n;
  if (*pos >= size)
    *pos = size - 1;
}

/* A user-supplied string as a one-line, bounded, double-quoted literal. */
static void
quote (char *dst, size_t size, const char *s, size_t len)
{
  size_t pos = 0;
  append (dst, size, &pos, "\"");
  size_t shown = len;
  if (shown > MSG_VALUE_MAX)
    {
      shown = MSG_VALUE_MAX;
      while (shown > 0 && ((unsigned char) s[shown] & 0xc0) == 0x80)
        shown--; /* do not cut a UTF-8 sequence */
    }
  for (size_t i = 0; i < shown; i++)
    {
      unsigned char ch = (unsigned char) s[i];
      if (ch == '"' || ch == '\\')
        append (dst, size, &pos, "\\%c", ch);
      else if (ch < 0x20 || ch == 0x7f)
        append (dst, size, &pos, "\\x%02x", ch);
      else
        append (dst, size, &pos, "%c", ch);
    }
  append (dst, size, &pos, shown < len ? "...\"" : "\"");
}

static bool
is_plain_key (const char *key)
{
  if (*key == '\0')
    return false;
  for (const char *p = key; *p; p++)
    if (!isalnum ((unsigned char) *p) && *p != '_')
      return false;
  return true;
}

/* "linux.namespaces[3].type"; map keys that are not identifiers are shown
 * quoted: annotations["io.kubernetes.cri.sandbox-id"]. */
static void
format_path (const struct ctx *c, char *buf, size_t size)
{
  size_t pos = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < kept_depth (c); i++)
    {
      const char *key = c->path[i].key;
      if (key == NULL)
        append (buf, size, &pos, "[%zu]", c->path[i].index);
      else if (is_plain_key (key))
        append (buf, size, &pos, "%s%s", i > 0 ? "." : "", key);
      else
        {
          char q[MSG_VALUE_MAX * 4 + 8];
          quote (q, sizeof q, key, strlen (key));
          append (buf, size, &pos, "[%s]", q);
        }
    }
  if (c->depth > MAX_DEPTH)
    append (buf, size, &pos, "...");
}

/* Record "source:line:col: path: message" for the value at the current path
 * (or the nearest enclosing value that exists). */
static int __attribute__ ((format (printf, 2, 3)))
fail (struct ctx *c, const char *fmt, ...)
{
  char msg[AL_ERROR_MSG_MAX / 2];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);

  char path[AL_ERROR_MSG_MAX / 2];
  format_path (c, path, sizeof path);
  if (c->text == NULL) /* built in memory: no text to point into */
    {
      if (path[0] == '\0')
        return al_error_reason (c->err, EINVAL, "%s: %s", c->source, msg);
      return al_error_reason (c->err, EINVAL, "%s: %s: %s", c->source, path, msg);
    }

  size_t offset, line, column;
  al_json_pos_find (c->text, c->len, c->path, kept_depth (c), &offset);
  al_json_pos_line_col (c->text, c->len, offset, &line, &column);
  if (path[0] == '\0')
    return al_error_reason (c->err, EINVAL, "%s:%zu:%zu: %s", c->source, line, column, msg);
  return al_error_reason (c->err, EINVAL, "%s:%zu:%zu: %s: %s", c->source, line, column, path,
                          msg);
}

static int
fail_oom (struct ctx *c)
{
  return al_error_set (c->err, ENOMEM, "%s", c->source);
}

static int
missing (struct ctx *c, const char *key)
{
  push_key (c, key);
  int r = fail (c, "required field missing");
  pop (c);
  return r;
}

/* A member, with JSON null counting as absent. */
static json_t *
member (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return json_is_null (v) ? NULL : v;
}

/* ---------------------------------------------------------- big integers */

static bool
is_number_char (char ch)
{
  return ch != '\0' && strchr ("0123456789.eE+-", ch) != NULL;
}

static bool
is_digit_at (const char *t, size_t len, size_t p)
{
  return p < len && isdigit ((unsigned char) t[p]);
}

/* Where the JSON number starting at t[p] ends (RFC 8259 grammar, as jansson
 * lexes it), or p when none starts there. */
static size_t
number_end (const char *t, size_t len, size_t p)
{
  size_t q = p;
  if (q < len && t[q] == '-')
    q++;
  if (!is_digit_at (t, len, q))
    return p;
  if (t[q] == '0')
    q++;
  else
    while (is_digit_at (t, len, q))
      q++;
  if (q < len && t[q] == '.' && is_digit_at (t, len, q + 1))
    for (q += 2; is_digit_at (t, len, q); q++)
      ;
  if (q < len && (t[q] == 'e' || t[q] == 'E'))
    {
      size_t e = q + 1;
      if (e < len && (t[e] == '+' || t[e] == '-'))
        e++;
      if (is_digit_at (t, len, e))
        for (q = e; is_digit_at (t, len, q); q++)
          ;
    }
  return q;
}

/* jansson stopped at a number too big for it (an integer beyond int64, or a
 * real beyond double) that ends at byte `end`.  Mask it in the private copy;
 * false if what ends there does not look like a number literal. */
static bool
mask_big_number (struct ctx *c, int end_position)
{
  if (end_position <= 0 || (size_t) end_position > c->len)
    return false;
  size_t end = (size_t) end_position;
  size_t run = end;
  while (run > 0 && is_number_char (c->text[run - 1]))
    run--;
  if (end < c->len && is_number_char (c->text[end]))
    return false;
  if (run > 0 && (isalnum ((unsigned char) c->text[run - 1]) || c->text[run - 1] == '"'))
    return false;

  /* "12-1e999" is two tokens: lex the run forward to find the last one. */
  size_t start = run;
  for (;;)
    {
      size_t next = number_end (c->text, c->len, start);
      if (next == end)
        break;
      if (next == start || next > end)
        return false;
      start = next;
    }
  if (end - start < 2)
    return false;
  size_t next = end;
  while (next < c->len && strchr (" \t\r\n", c->text[next]) != NULL)
    next++;
  if (next < c->len && c->text[next] == ':')
    return false; /* in key position: a string there would make bad JSON good */

  if (c->masked_copy == NULL)
    {
      c->masked_copy = malloc (c->len);
      if (c->masked_copy == NULL)
        return false;
      memcpy (c->masked_copy, c->orig, c->len);
      c->text = c->masked_copy;
    }
  c->masked_copy[start] = '"';
  memset (c->masked_copy + start + 1, NUMBER_MASK, end - start - 2);
  c->masked_copy[end - 1] = '"';
  if (c->n_masked < MAX_REDECODES)
    {
      c->masked_start[c->n_masked] = start;
      c->masked_end[c->n_masked] = end;
      c->n_masked++;
    }
  return true;
}

/* If v is a masked big number, the offset of its literal in c->orig. */
static bool
masked_integer_offset (struct ctx *c, json_t *v, size_t *ret_offset)
{
  if (c->masked_copy == NULL || !json_is_string (v) || c->depth > MAX_DEPTH)
    return false;
  const char *s = json_string_value (v);
  size_t n = json_string_length (v);
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] != NUMBER_MASK)
      return false;

  size_t offset = 0;
  if (al_json_pos_find (c->text, c->len, c->path, c->depth, &offset) != c->depth)
    return false;
  if (offset >= c->len || c->text[offset] != '"')
    return false;
  if (c->orig[offset] != '-' && !isdigit ((unsigned char) c->orig[offset]))
    return false;
  *ret_offset = offset;
  return true;
}

/* ------------------------------------------------------------ scalar values */

struct integer
{
  bool negative;
  bool overflow;      /* magnitude above UINT64_MAX */
  uint64_t magnitude; /* absolute value */
  char text[48];      /* as written, for messages */
};

static int
read_integer (struct ctx *c, json_t *v, struct integer *ret)
{
  *ret = (struct integer){ 0 };
  size_t offset = 0;
  if (json_is_integer (v))
    {
      json_int_t i = json_integer_value (v);
      ret->negative = i < 0;
      ret->magnitude = i < 0 ? (uint64_t) (-(i + 1)) + 1 : (uint64_t) i;
      snprintf (ret->text, sizeof ret->text, "%" JSON_INTEGER_FORMAT, i);
      return 0;
    }
  if (!masked_integer_offset (c, v, &offset))
    return fail (c, "expected an integer");

  size_t p = offset, pos = 0;
  size_t end = offset + json_string_length (v) + 2; /* the literal's length */
  if (c->orig[p] == '-')
    {
      ret->negative = true;
      p++;
    }
  for (; p < end && isdigit ((unsigned char) c->orig[p]); p++)
    {
      unsigned d = (unsigned) (c->orig[p] - '0');
      if (ret->magnitude > (UINT64_MAX - d) / 10)
        ret->overflow = true;
      else
        ret->magnitude = ret->magnitude * 10 + d;
    }
  if (p != end)
    return fail (c, "expected an integer"); /* a real beyond double */
  size_t shown = p - offset;
  if (shown > sizeof ret->text - 4)
    shown = sizeof ret->text - 4;
  append (ret->text, sizeof ret->text, &pos, "%.*s%s", (int) shown, c->orig + offset,
          shown < p - offset ? "..." : "");
  return 0;
}

static int
want_uint (struct ctx *c, json_t *v, uint64_t max, uint64_t *ret)
{
  struct integer i;
  int r = read_integer (c, v, &i);
  if (r < 0)
    return r;
  if ((i.negative && i.magnitude != 0) || i.overflow || i.magnitude > max)
    return fail (c, "expected an integer from 0 to %" PRIu64 ", got %s", max, i.text);
  *ret = i.magnitude;
  return 0;
}

static int
want_int (struct ctx *c, json_t *v, int64_t min, int64_t max, int64_t *ret)
{
  struct integer i;
  int r = read_integer (c, v, &i);
  if (r < 0)
    return r;
  int64_t value;
  if (i.overflow)
    goto range;
  if (i.negative)
    {
      if (i.magnitude > (uint64_t) INT64_MAX + 1)
        goto range;
      value = i.magnitude == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) i.magnitude;
    }
  else
    {
      if (i.magnitude > (uint64_t) INT64_MAX)
        goto range;
      value = (int64_t) i.magnitude;
    }
  if (value < min || value > max)
    goto range;
  *ret = value;
  return 0;

range:
  return fail (c, "expected an integer from %" PRId64 " to %" PRId64 ", got %s", min, max, i.text);
}

/* A string value; masked integers and embedded NULs are refused.  Returns
 * jansson's string, valid while the tree lives. */
static int
want_string_ref (struct ctx *c, json_t *v, const char **ret)
{
  size_t offset = 0;
  if (!json_is_string (v) || masked_integer_offset (c, v, &offset))
    return fail (c, "expected a string");
  const char *s = json_string_value (v);
  if (memchr (s, '\0', json_string_length (v)) != NULL)
    return fail (c, "must not contain NUL characters");
  *ret = s;
  return 0;
}

static int
want_string (struct ctx *c, json_t *v, char **ret)
{
  const char *s = NULL;
  int r = want_string_ref (c, v, &s);
  if (r < 0)
    return r;
  char *copy = strdup (s);
  if (copy == NULL)
    return fail_oom (c);
  free (*ret);
  *ret = copy;
  return 0;
}

static int
check_absolute (struct ctx *c, const char *s)
{
  if (s[0] != '/')
    {
      char q[MSG_VALUE_MAX * 4 + 8];
      quote (q, sizeof q, s, strlen (s));
      return fail (c, "must be an absolute path, got %s", q);
    }
  if (strlen (s) >= PATH_MAX)
    return fail (c, "path longer than %d bytes", PATH_MAX - 1);
  return 0;
}

/* Look a string value up in a table of names; the index into the table. */
static int
want_name (struct ctx *c, json_t *v, const char *const *names, size_t n_names, const char *what,
           size_t *ret_index)
{
  const char *s = NULL;
  int r = want_string_ref (c, v, &s);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n_names; i++)
    if (names[i] != NULL && strcmp (names[i], s) == 0)
      {
        *ret_index = i;
        return 0;
      }

  char q[MSG_VALUE_MAX * 4 + 8], list[512] = "";
  size_t pos = 0;
  quote (q, sizeof q, s, strlen (s));
  if (n_names <= 10)
    {
      const char *sep = " (expected one of ";
      for (size_t i = 0; i < n_names; i++)
        if (names[i] != NULL)
          {
            append (list, sizeof list, &pos, "%s%s", sep, names[i]);
            sep = ", ";
          }
      append (list, sizeof list, &pos, ")");
    }
  return fail (c, "unknown %s %s%s", what, q, list);
}

/* ------------------------------------------------------------ member access */

/* The get_* helpers below read member `key` of obj: they return 1 when it
 * was present (and valid), 0 when it was absent or null and optional, <0 on
 * error.  Outputs are left alone when the member is absent. */
static int
get_member (struct ctx *c, json_t *obj, const char *key, enum need need, json_t **ret)
{
  *ret = member (obj, key);
  if (*ret == NULL)
    return need == REQUIRED ? missing (c, key) : 0;
  return 1;
}

static int
get_string (struct ctx *c, json_t *obj, const char *key, enum need need, char **ret)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = want_string (c, v, ret);
  pop (c);
  return r < 0 ? r : 1;
}

static int
get_abs_path (struct ctx *c, json_t *obj, const char *key, enum need need, char **ret)
{
  int r = get_string (c, obj, key, need, ret);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = check_absolute (c, *ret);
  pop (c);
  return r < 0 ? r : 1;
}

static int
get_bool (struct ctx *c, json_t *obj, const char *key, enum need need, bool *ret, bool *ret_has)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  if (!json_is_boolean (v))
    {
      push_key (c, key);
      r = fail (c, "expected a boolean");
      pop (c);
      return r;
    }
  *ret = json_is_true (v);
  if (ret_has)
    *ret_has = true;
  return 1;
}

static int
get_uint (struct ctx *c, json_t *obj, const char *key, enum need need, uint64_t max, uint64_t *ret,
          bool *ret_has)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = want_uint (c, v, max, ret);
  pop (c);
  if (r < 0)
    return r;
  if (ret_has)
    *ret_has = true;
  return 1;
}

static int
get_int (struct ctx *c, json_t *obj, const char *key, enum need need, int64_t min, int64_t max,
         int64_t *ret, bool *ret_has)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = want_int (c, v, min, max, ret);
  pop (c);
  if (r < 0)
    return r;
  if (ret_has)
    *ret_has = true;
  return 1;
}

static int
get_u64 (struct ctx *c, json_t *obj, const char *key, enum need need, uint64_t *ret, bool *ret_has)
{
  return get_uint (c, obj, key, need, UINT64_MAX, ret, ret_has);
}

static int
get_u32 (struct ctx *c, json_t *obj, const char *key, enum need need, uint32_t *ret, bool *ret_has)
{
  uint64_t v = 0;
  int r = get_uint (c, obj, key, need, UINT32_MAX, &v, ret_has);
  if (r > 0)
    *ret = (uint32_t) v;
  return r;
}

static int
get_u16 (struct ctx *c, json_t *obj, const char *key, enum need need, uint16_t *ret, bool *ret_has)
{
  uint64_t v = 0;
  int r = get_uint (c, obj, key, need, UINT16_MAX, &v, ret_has);
  if (r > 0)
    *ret = (uint16_t) v;
  return r;
}

static int
get_i64 (struct ctx *c, json_t *obj, const char *key, enum need need, int64_t *ret, bool *ret_has)
{
  return get_int (c, obj, key, need, INT64_MIN, INT64_MAX, ret, ret_has);
}

static int
get_i32 (struct ctx *c, json_t *obj, const char *key, enum need need, int32_t min, int32_t max,
         int32_t *ret, bool *ret_has)
{
  int64_t v = 0;
  int r = get_int (c, obj, key, need, min, max, &v, ret_has);
  if (r > 0)
    *ret = (int32_t) v;
  return r;
}

static int
get_name (struct ctx *c, json_t *obj, const char *key, enum need need, const char *const *names,
          size_t n_names, const char *what, size_t *ret_index)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = want_name (c, v, names, n_names, what, ret_index);
  pop (c);
  return r < 0 ? r : 1;
}

/* An optional or required object member; *ret NULL when absent. */
static int
get_object (struct ctx *c, json_t *obj, const char *key, enum need need, json_t **ret)
{
  int r = get_member (c, obj, key, need, ret);
  if (r <= 0)
    return r;
  if (!json_is_object (*ret))
    {
      push_key (c, key);
      r = fail (c, "expected an object");
      pop (c);
      return r;
    }
  return 1;
}

static int
check_count (struct ctx *c, size_t n, size_t max)
{
  if (n > max)
    return fail (c, "more than %zu entries", max);
  return 0;
}

/* The current value as a string list.  *ret is NULL-terminated and owned by
 * the caller even on failure. */
static int
want_strv (struct ctx *c, json_t *v, char ***ret, size_t *ret_n)
{
  if (!json_is_array (v))
    return fail (c, "expected an array of strings");
  size_t n = json_array_size (v);
  int r = check_count (c, n, AL_CONFIG_MAX_ITEMS);
  if (r < 0)
    return r;
  char **list = calloc (n + 1, sizeof *list);
  if (list == NULL)
    return fail_oom (c);
  *ret = list;
  *ret_n = n;
  for (size_t i = 0; i < n; i++)
    {
      push_index (c, i);
      r = want_string (c, json_array_get (v, i), &list[i]);
      pop (c);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
get_strv (struct ctx *c, json_t *obj, const char *key, enum need need, char ***ret, size_t *ret_n)
{
  json_t *v;
  int r = get_member (c, obj, key, need, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = want_strv (c, v, ret, ret_n);
  pop (c);
  return r < 0 ? r : 1;
}

/* A list of absolute paths (maskedPaths, readonlyPaths). */
static int
get_abs_strv (struct ctx *c, json_t *obj, const char *key, char ***ret, size_t *ret_n)
{
  int r = get_strv (c, obj, key, OPTIONAL, ret, ret_n);
  if (r <= 0)
    return r;
  push_key (c, key);
  for (size_t i = 0; i < *ret_n; i++)
    {
      push_index (c, i);
      if ((r = check_absolute (c, (*ret)[i])) < 0)
        return r;
      pop (c);
    }
  pop (c);
  return 1;
}

static int
get_string_map (struct ctx *c, json_t *obj, const char *key, struct al_string_map *ret)
{
  json_t *v;
  int r = get_member (c, obj, key, OPTIONAL, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  if (!json_is_object (v))
    {
      r = fail (c, "expected an object of strings");
      pop (c);
      return r;
    }
  size_t n = json_object_size (v);
  if ((r = check_count (c, n, AL_CONFIG_MAX_ITEMS)) < 0)
    return r;
  ret->keys = calloc (n + 1, sizeof *ret->keys);
  ret->values = calloc (n + 1, sizeof *ret->values);
  if (ret->keys == NULL || ret->values == NULL)
    return fail_oom (c);

  const char *k;
  json_t *value;
  json_object_foreach (v, k, value)
  {
    if (json_is_null (value))
      continue;
    push_key (c, k);
    if (k[0] == '\0')
      return fail (c, "empty key");
    size_t i = ret->n;
    if ((ret->keys[i] = strdup (k)) == NULL)
      return fail_oom (c);
    ret->n++;
    if ((r = want_string (c, value, &ret->values[i])) < 0)
      return r;
    pop (c);
  }
  pop (c);
  return 0;
}

/* Arrays of objects: allocate zeroed items, then parse each in place.  The
 * items belong to the enclosing struct from the start, so its free function
 * cleans up after a failure half-way. */
typedef int (*parse_item_fn) (struct ctx *c, json_t *o, void *item);

static int
parse_object_array (struct ctx *c, json_t *a, size_t max, size_t item_size, void **items,
                    size_t *n_items, parse_item_fn parse)
{
  if (!json_is_array (a))
    return fail (c, "expected an array of objects");
  size_t n = json_array_size (a);
  int r = check_count (c, n, max);
  if (r < 0 || n == 0)
    return r;
  *items = calloc (n, item_size);
  if (*items == NULL)
    return fail_oom (c);
  *n_items = n;
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_array_get (a, i);
      push_index (c, i);
      if (!json_is_object (e))
        return fail (c, "expected an object");
      if ((r = parse (c, e, (char *) *items + i * item_size)) < 0)
        return r;
      pop (c);
    }
  return 0;
}

static int
get_object_array_ (struct ctx *c, json_t *obj, const char *key, enum need need, size_t max,
                   size_t item_size, void **items, size_t *n_items, parse_item_fn parse)
{
  json_t *a;
  int r = get_member (c, obj, key, need, &a);
  if (r <= 0)
    return r;
  push_key (c, key);
  r = parse_object_array (c, a, max, item_size, items, n_items, parse);
  pop (c);
  return r;
}

/* Typed front end: stores into `items` and `n` whatever was allocated, also
 * on failure. */
#define get_object_array(c, obj, key, need, max, items, n, parse)                                  \
  __extension__ ({                                                                                 \
    void *items_ = NULL;                                                                           \
    size_t n_ = 0;                                                                                 \
    int r_ = get_object_array_ ((c), (obj), (key), (need), (max), sizeof *(items), &items_, &n_,   \
                                (parse));                                                          \
    (items) = items_;                                                                              \
    (n) = n_;                                                                                      \
    r_;                                                                                            \
  })

/* -------------------------------------------------------------- name tables */

static const char *const namespace_names[AL_NS__COUNT] = {
  [AL_NS_PID] = "pid",   [AL_NS_NETWORK] = "network", [AL_NS_MOUNT] = "mount",
  [AL_NS_IPC] = "ipc",   [AL_NS_UTS] = "uts",         [AL_NS_USER] = "user",
  [AL_NS_CGROUP] = "cgroup", [AL_NS_TIME] = "time",
};

static const char *const seccomp_action_names[] = {
  [AL_SECCOMP_ACT_KILL] = "SCMP_ACT_KILL",
  [AL_SECCOMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [AL_SECCOMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
  [AL_SECCOMP_ACT_TRAP] = "SCMP_ACT_TRAP",
  [AL_SECCOMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
  [AL_SECCOMP_ACT_TRACE] = "SCMP_ACT_TRACE",
  [AL_SECCOMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
  [AL_SECCOMP_ACT_LOG] = "SCMP_ACT_LOG",
  [AL_SECCOMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_op_names[] = {
  [AL_SECCOMP_OP_NE] = "SCMP_CMP_NE", [AL_SECCOMP_OP_LT] = "SCMP_CMP_LT",
  [AL_SECCOMP_OP_LE] = "SCMP_CMP_LE", [AL_SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
  [AL_SECCOMP_OP_GE] = "SCMP_CMP_GE", [AL_SECCOMP_OP_GT] = "SCMP_CMP_GT",
  [AL_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const struct
{
  const char *oci, *libseccomp;
} seccomp_archs[] = {
  [AL_SECCOMP_ARCH_X86] = { "SCMP_ARCH_X86", "x86" },
  [AL_SECCOMP_ARCH_X86_64] = { "SCMP_ARCH_X86_64", "x86_64" },
  [AL_SECCOMP_ARCH_X32] = { "SCMP_ARCH_X32", "x32" },
  [AL_SECCOMP_ARCH_ARM] = { "SCMP_ARCH_ARM", "arm" },
  [AL_SECCOMP_ARCH_AARCH64] = { "SCMP_ARCH_AARCH64", "aarch64" },
  [AL_SECCOMP_ARCH_MIPS] = { "SCMP_ARCH_MIPS", "mips" },
  [AL_SECCOMP_ARCH_MIPS64] = { "SCMP_ARCH_MIPS64", "mips64" },
  [AL_SECCOMP_ARCH_MIPS64N32] = { "SCMP_ARCH_MIPS64N32", "mips64n32" },
  [AL_SECCOMP_ARCH_MIPSEL] = { "SCMP_ARCH_MIPSEL", "mipsel" },
  [AL_SECCOMP_ARCH_MIPSEL64] = { "SCMP_ARCH_MIPSEL64", "mipsel64" },
  [AL_SECCOMP_ARCH_MIPSEL64N32] = { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32" },
  [AL_SECCOMP_ARCH_PPC] = { "SCMP_ARCH_PPC", "ppc" },
  [AL_SECCOMP_ARCH_PPC64] = { "SCMP_ARCH_PPC64", "ppc64" },
  [AL_SECCOMP_ARCH_PPC64LE] = { "SCMP_ARCH_PPC64LE", "ppc64le" },
  [AL_SECCOMP_ARCH_S390] = { "SCMP_ARCH_S390", "s390" },
  [AL_SECCOMP_ARCH_S390X] = { "SCMP_ARCH_S390X", "s390x" },
  [AL_SECCOMP_ARCH_PARISC] = { "SCMP_ARCH_PARISC", "parisc" },
  [AL_SECCOMP_ARCH_PARISC64] = { "SCMP_ARCH_PARISC64", "parisc64" },
  [AL_SECCOMP_ARCH_RISCV64] = { "SCMP_ARCH_RISCV64", "riscv64" },
  [AL_SECCOMP_ARCH_LOONGARCH64] = { "SCMP_ARCH_LOONGARCH64", "loongarch64" },
  [AL_SECCOMP_ARCH_M68K] = { "SCMP_ARCH_M68K", "m68k" },
  [AL_SECCOMP_ARCH_SH] = { "SCMP_ARCH_SH", "sh" },
  [AL_SECCOMP_ARCH_SHEB] = { "SCMP_ARCH_SHEB", "sheb" },
};
#define N_SECCOMP_ARCHS (sizeof seccomp_archs / sizeof seccomp_archs[0])

static const char *const seccomp_flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", /* bit 0 = AL_SECCOMP_FLAG_TSYNC, and so on */
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static const struct
{
  const char *name;
  int resource;
} rlimits[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};
#define N_RLIMITS (sizeof rlimits / sizeof rlimits[0])

/* Index = the kernel's SCHED_* value. */
static const char *const sched_policy_names[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
  "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};

/* Bit i = the kernel's SCHED_FLAG_* value 1 << i. */
static const char *const sched_flag_names[] = {
  "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
};

/* Index = IOPRIO_CLASS_* value. */
static const char *const ioprio_class_names[] = {
  NULL,
  "IOPRIO_CLASS_RT",
  "IOPRIO_CLASS_BE",
  "IOPRIO_CLASS_IDLE",
};

static const char *const propagation_names[] = {
  [AL_PROPAGATION_UNSET] = NULL,
  [AL_PROPAGATION_PRIVATE] = "private",
  [AL_PROPAGATION_RPRIVATE] = "rprivate",
  [AL_PROPAGATION_SLAVE] = "slave",
  [AL_PROPAGATION_RSLAVE] = "rslave",
  [AL_PROPAGATION_SHARED] = "shared",
  [AL_PROPAGATION_RSHARED] = "rshared",
  [AL_PROPAGATION_UNBINDABLE] = "unbindable",
  [AL_PROPAGATION_RUNBINDABLE] = "runbindable",
};

static const char *const hook_kind_names[AL_HOOK__COUNT] = {
  [AL_HOOK_PRESTART] = "prestart",
  [AL_HOOK_CREATE_RUNTIME] = "createRuntime",
  [AL_HOOK_CREATE_CONTAINER] = "createContainer",
  [AL_HOOK_START_CONTAINER] = "startContainer",
  [AL_HOOK_POSTSTART] = "poststart",
  [AL_HOOK_POSTSTOP] = "poststop",
};

static const char *const personality_domain_names[] = {
  [AL_PERSONALITY_LINUX] = "LINUX",
  [AL_PERSONALITY_LINUX32] = "LINUX32",
};

#define N_OF(a) (sizeof (a) / sizeof (a)[0])

const char *
al_namespace_type_name (enum al_namespace_type type)
{
  return (unsigned) type < AL_NS__COUNT ? namespace_names[type] : NULL;
}

const char *
al_seccomp_action_name (enum al_seccomp_action action)
{
  return (unsigned) action < N_OF (seccomp_action_names) ? seccomp_action_names[action] : NULL;
}

const char *
al_seccomp_arch_libseccomp_name (enum al_seccomp_arch arch)
{
  return (unsigned) arch < N_SECCOMP_ARCHS ? seccomp_archs[arch].libseccomp : NULL;
}

const char *
al_rlimit_name (int resource)
{
  for (size_t i = 0; i < N_RLIMITS; i++)
    if (rlimits[i].resource == resource)
      return rlimits[i].name;
  return NULL;
}

const char *
al_hook_kind_name (enum al_hook_kind kind)
{
  return (unsigned) kind < AL_HOOK__COUNT ? hook_kind_names[kind] : NULL;
}

const char *
al_string_map_get (const struct al_string_map *m, const char *key)
{
  for (size_t i = m->n; i-- > 0;)
    if (strcmp (m->keys[i], key) == 0)
      return m->values[i];
  return NULL;
}

const struct al_namespace *
al_config_find_namespace (const struct al_config *c, enum al_namespace_type type)
{
  if (c == NULL || c->linux_spec == NULL)
    return NULL;
  for (size_t i = 0; i < c->linux_spec->n_namespaces; i++)
    if (c->linux_spec->namespaces[i].type == type)
      return &c->linux_spec->namespaces[i];
  return NULL;
}

/* ----------------------------------------------------------------- common */

static int
parse_id_mapping (struct ctx *c, json_t *o, void *item)
{
  struct al_id_mapping *m = item;
  int r;
  if ((r = get_u32 (c, o, "containerID", REQUIRED, &m->container_id, NULL)) < 0
      || (r = get_u32 (c, o, "hostID", REQUIRED, &m->host_id, NULL)) < 0
      || (r = get_u32 (c, o, "size", REQUIRED, &m->size, NULL)) < 0)
    return r;
  return 0;
}

static int
get_id_mappings (struct ctx *c, json_t *obj, const char *key, struct al_id_mapping **items,
                 size_t *n)
{
  return get_object_array (c, obj, key, OPTIONAL, AL_CONFIG_MAX_ID_MAPPINGS, *items, *n,
                           parse_id_mapping);
}

/* ---------------------------------------------------------------- process */

static int
get_cap_list (struct ctx *c, json_t *obj, const char *key, struct al_cap_list *ret)
{
  json_t *v;
  int r = get_member (c, obj, key, OPTIONAL, &v);
  if (r <= 0)
    return r;
  push_key (c, key);
  if (!json_is_array (v))
    {
      r = fail (c, "expected an array of strings");
      pop (c);
      return r;
    }
  size_t n = json_array_size (v);
  if ((r = check_count (c, n, AL_CONFIG_MAX_ITEMS)) < 0)
    return r;
  if (n > 0 && (ret->caps = calloc (n, sizeof *ret->caps)) == NULL)
    return fail_oom (c);
  for (size_t i = 0; i < n; i++)
    {
      const char *name = NULL;
      push_index (c, i);
      if ((r = want_string_ref (c, json_array_get (v, i), &name)) < 0)
        return r;

      /* cap_from_name() also takes "12", lower case and prefixes such as
       * "cap_chown+ep"; accept only the exact upper-case name libcap knows. */
      cap_value_t value = 0;
      bool known = false;
      if (strncmp (name, "CAP_", 4) == 0 && cap_from_name (name, &value) == 0)
        {
          char *canonical = cap_to_name (value);
          if (canonical != NULL && strlen (canonical) == strlen (name))
            {
              known = true;
              for (size_t k = 0; name[k] && known; k++)
                known = name[k] == toupper ((unsigned char) canonical[k]);
            }
          cap_free (canonical);
        }
      if (!known)
        {
          char q[MSG_VALUE_MAX * 4 + 8];
          quote (q, sizeof q, name, strlen (name));
          return fail (c, "unknown capability %s", q);
        }
      ret->caps[ret->n++] = value;
      pop (c);
    }
  pop (c);
  return 0;
}

static int
parse_capabilities (struct ctx *c, json_t *o, struct al_capabilities *caps)
{
  int r;
  if ((r = get_cap_list (c, o, "bounding", &caps->bounding)) < 0
      || (r = get_cap_list (c, o, "effective", &caps->effective)) < 0
      || (r = get_cap_list (c, o, "inheritable", &caps->inheritable)) < 0
      || (r = get_cap_list (c, o, "permitted", &caps->permitted)) < 0
      || (r = get_cap_list (c, o, "ambient", &caps->ambient)) < 0)
    return r;
  return 0;
}

static int
parse_rlimit (struct ctx *c, json_t *o, void *item)
{
  struct al_rlimit *rl = item;
  const char *names[N_RLIMITS];
  for (size_t i = 0; i < N_RLIMITS; i++)
    names[i] = rlimits[i].name;

  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "type", REQUIRED, names, N_RLIMITS, "rlimit", &index)) < 0)
    return r;
  rl->resource = rlimits[index].resource;
  if ((r = get_u64 (c, o, "soft", REQUIRED, &rl->soft, NULL)) < 0
      || (r = get_u64 (c, o, "hard", REQUIRED, &rl->hard, NULL)) < 0)
    return r;
  if (rl->soft > rl->hard)
    {
      push_key (c, "soft");
      r = fail (c, "soft limit %" PRIu64 " is above the hard limit %" PRIu64, rl->soft, rl->hard);
      pop (c);
      return r;
    }
  return 0;
}

static int
parse_user (struct ctx *c, json_t *o, struct al_user *u)
{
  int r;
  if ((r = get_u32 (c, o, "uid", REQUIRED, &u->uid, NULL)) < 0
      || (r = get_u32 (c, o, "gid", REQUIRED, &u->gid, NULL)) < 0
      || (r = get_u32 (c, o, "umask", OPTIONAL, &u->umask, &u->has_umask)) < 0
      || (r = get_string (c, o, "username", OPTIONAL, &u->username)) < 0)
    return r;

  json_t *v;
  if ((r = get_member (c, o, "additionalGids", OPTIONAL, &v)) <= 0)
    return r;
  push_key (c, "additionalGids");
  if (!json_is_array (v))
    return fail (c, "expected an array of integers");
  size_t n = json_array_size (v);
  if ((r = check_count (c, n, AL_CONFIG_MAX_ITEMS)) < 0)
    return r;
  if (n > 0 && (u->additional_gids = calloc (n, sizeof *u->additional_gids)) == NULL)
    return fail_oom (c);
  u->n_additional_gids = n;
  for (size_t i = 0; i < n; i++)
    {
      uint64_t gid = 0;
      push_index (c, i);
      if ((r = want_uint (c, json_array_get (v, i), UINT32_MAX, &gid)) < 0)
        return r;
      u->additional_gids[i] = (uint32_t) gid;
      pop (c);
    }
  pop (c);
  return 0;
}

static int
parse_scheduler (struct ctx *c, json_t *o, struct al_scheduler *s)
{
  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "policy", REQUIRED, sched_policy_names, N_OF (sched_policy_names),
                     "scheduler policy", &index))
      < 0)
    return r;
  s->policy = (int) index;
  if ((r = get_i32 (c, o, "nice", OPTIONAL, -20, 19, &s->nice, &s->has_nice)) < 0
      || (r = get_i32 (c, o, "priority", OPTIONAL, INT32_MIN, INT32_MAX, &s->priority,
                       &s->has_priority))
             < 0
      || (r = get_u64 (c, o, "runtime", OPTIONAL, &s->runtime, &s->has_runtime)) < 0
      || (r = get_u64 (c, o, "deadline", OPTIONAL, &s->deadline, &s->has_deadline)) < 0
      || (r = get_u64 (c, o, "period", OPTIONAL, &s->period, &s->has_period)) < 0)
    return r;

  json_t *v;
  if ((r = get_member (c, o, "flags", OPTIONAL, &v)) <= 0)
    return r;
  push_key (c, "flags");
  if (!json_is_array (v))
    return fail (c, "expected an array of strings");
  if ((r = check_count (c, json_array_size (v), AL_CONFIG_MAX_ITEMS)) < 0)
    return r;
  for (size_t i = 0; i < json_array_size (v); i++)
    {
      push_index (c, i);
      if ((r = want_name (c, json_array_get (v, i), sched_flag_names, N_OF (sched_flag_names),
                          "scheduler flag", &index))
          < 0)
        return r;
      s->flags |= UINT64_C (1) << index;
      pop (c);
    }
  pop (c);
  return 0;
}

static int
check_env (struct ctx *c, char **env, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *eq = strchr (env[i], '=');
      if (eq == NULL || eq == env[i])
        {
          char q[MSG_VALUE_MAX * 4 + 8];
          quote (q, sizeof q, env[i], strlen (env[i]));
          push_index (c, i);
          int r = fail (c, "expected NAME=VALUE, got %s", q);
          pop (c);
          return r;
        }
    }
  return 0;
}

static int
parse_process_object (struct ctx *c, json_t *o, struct al_process *p)
{
  json_t *v;
  int r;

  if ((r = get_bool (c, o, "terminal", OPTIONAL, &p->terminal, NULL)) < 0)
    return r;

  if ((r = get_object (c, o, "consoleSize", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "consoleSize");
      if ((r = get_u16 (c, v, "height", REQUIRED, &p->console_height, NULL)) < 0
          || (r = get_u16 (c, v, "width", REQUIRED, &p->console_width, NULL)) < 0)
        return r;
      pop (c);
      p->has_console_size = true;
    }

  if ((r = get_object (c, o, "user", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "user");
      if ((r = parse_user (c, v, &p->user)) < 0)
        return r;
      pop (c);
    }

  if ((r = get_strv (c, o, "args", REQUIRED, &p->args, &p->n_args)) < 0)
    return r;
  if (p->n_args == 0)
    {
      push_key (c, "args");
      return fail (c, "must contain at least one entry");
    }

  if ((r = get_strv (c, o, "env", OPTIONAL, &p->env, &p->n_env)) < 0)
    return r;
  push_key (c, "env");
  if ((r = check_env (c, p->env, p->n_env)) < 0)
    return r;
  pop (c);

  if ((r = get_abs_path (c, o, "cwd", REQUIRED, &p->cwd)) < 0)
    return r;

  if ((r = get_object (c, o, "capabilities", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "capabilities");
      if ((r = parse_capabilities (c, v, &p->capabilities)) < 0)
        return r;
      pop (c);
      p->has_capabilities = true;
    }

  if ((r = get_object_array (c, o, "rlimits", OPTIONAL, AL_CONFIG_MAX_ITEMS, p->rlimits,
                             p->n_rlimits, parse_rlimit))
      < 0)
    return r;
  bool seen[N_RLIMITS] = { false };
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      size_t k = 0;
      while (rlimits[k].resource != p->rlimits[i].resource)
        k++;
      if (seen[k])
        {
          push_key (c, "rlimits");
          push_index (c, i);
          push_key (c, "type");
          return fail (c, "duplicate rlimit \"%s\"", rlimits[k].name);
        }
      seen[k] = true;
    }

  if ((r = get_bool (c, o, "noNewPrivileges", OPTIONAL, &p->no_new_privileges, NULL)) < 0
      || (r = get_string (c, o, "apparmorProfile", OPTIONAL, &p->apparmor_profile)) < 0
      || (r = get_string (c, o, "selinuxLabel", OPTIONAL, &p->selinux_label)) < 0)
    return r;

  int32_t oom = 0;
  if ((r = get_i32 (c, o, "oomScoreAdj", OPTIONAL, -1000, 1000, &oom, &p->has_oom_score_adj)) < 0)
    return r;
  if (p->has_oom_score_adj)
    p->oom_score_adj = oom;

  if ((r = get_object (c, o, "ioPriority", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      size_t index = 0;
      int32_t prio = 0;
      push_key (c, "ioPriority");
      if ((r = get_name (c, v, "class", REQUIRED, ioprio_class_names, N_OF (ioprio_class_names),
                         "I/O priority class", &index))
              < 0
          || (r = get_i32 (c, v, "priority", REQUIRED, 0, 7, &prio, NULL)) < 0)
        return r;
      pop (c);
      p->has_io_priority = true;
      p->io_priority_class = (enum al_ioprio_class) index;
      p->io_priority = prio;
    }

  if ((r = get_object (c, o, "scheduler", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      if ((p->scheduler = calloc (1, sizeof *p->scheduler)) == NULL)
        return fail_oom (c);
      push_key (c, "scheduler");
      if ((r = parse_scheduler (c, v, p->scheduler)) < 0)
        return r;
      pop (c);
    }

  if ((r = get_object (c, o, "execCPUAffinity", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "execCPUAffinity");
      if ((r = get_string (c, v, "initial", OPTIONAL, &p->exec_cpu_affinity_initial)) < 0
          || (r = get_string (c, v, "final", OPTIONAL, &p->exec_cpu_affinity_final)) < 0)
        return r;
      pop (c);
    }
  return 0;
}

/* ----------------------------------------------------------- mounts, hooks */

static int
parse_mount (struct ctx *c, json_t *o, void *item)
{
  struct al_mount *m = item;
  int r;
  if ((r = get_abs_path (c, o, "destination", REQUIRED, &m->destination)) < 0
      || (r = get_string (c, o, "source", OPTIONAL, &m->source)) < 0
      || (r = get_string (c, o, "type", OPTIONAL, &m->type)) < 0
      || (r = get_strv (c, o, "options", OPTIONAL, &m->options, &m->n_options)) < 0
      || (r = get_id_mappings (c, o, "uidMappings", &m->uid_mappings, &m->n_uid_mappings)) < 0
      || (r = get_id_mappings (c, o, "gidMappings", &m->gid_mappings, &m->n_gid_mappings)) < 0)
    return r;
  return 0;
}

static int
parse_hook (struct ctx *c, json_t *o, void *item)
{
  struct al_hook *h = item;
  int64_t timeout = 0;
  int r;
  if ((r = get_abs_path (c, o, "path", REQUIRED, &h->path)) < 0
      || (r = get_strv (c, o, "args", OPTIONAL, &h->args, &h->n_args)) < 0
      || (r = get_strv (c, o, "env", OPTIONAL, &h->env, &h->n_env)) < 0
      || (r = get_int (c, o, "timeout", OPTIONAL, INT_MIN, INT_MAX, &timeout, &h->has_timeout))
             < 0)
    return r;
  if (h->has_timeout)
    {
      if (timeout <= 0)
        {
          push_key (c, "timeout");
          return fail (c, "must be greater than 0, got %" PRId64, timeout);
        }
      h->timeout = (int) timeout;
    }
  return 0;
}

static int
parse_hooks (struct ctx *c, json_t *o, struct al_hook_list *hooks)
{
  for (int kind = 0; kind < AL_HOOK__COUNT; kind++)
    {
      int r = get_object_array (c, o, hook_kind_names[kind], OPTIONAL, AL_CONFIG_MAX_ITEMS,
                                hooks[kind].hooks, hooks[kind].n, parse_hook);
      if (r < 0)
        return r;
    }
  return 0;
}

/* -------------------------------------------------------------- resources */

static int
parse_device_rule (struct ctx *c, json_t *o, void *item)
{
  static const char *const types[] = { "a", "c", "b" };
  struct al_device_rule *d = item;
  size_t index = 0;
  int r;

  d->type = AL_DEVICE_RULE_ALL;
  d->major = d->minor = -1;
  if ((r = get_bool (c, o, "allow", REQUIRED, &d->allow, NULL)) < 0
      || (r = get_name (c, o, "type", OPTIONAL, types, N_OF (types), "device type", &index)) < 0)
    return r;
  if (r > 0)
    d->type = (enum al_device_rule_type) types[index][0];
  if ((r = get_int (c, o, "major", OPTIONAL, -1, INT64_MAX, &d->major, NULL)) < 0
      || (r = get_int (c, o, "minor", OPTIONAL, -1, INT64_MAX, &d->minor, NULL)) < 0)
    return r;

  char *access = NULL;
  if ((r = get_string (c, o, "access", OPTIONAL, &access)) < 0)
    return r;
  if (access == NULL)
    return 0;
  d->has_access = true;
  for (const char *p = access; *p; p++)
    {
      unsigned bit = *p == 'r' ? AL_DEVICE_ACCESS_READ
                     : *p == 'w' ? AL_DEVICE_ACCESS_WRITE
                     : *p == 'm' ? AL_DEVICE_ACCESS_MKNOD
                                 : 0;
      if (bit == 0 || (d->access & bit))
        {
          char q[MSG_VALUE_MAX * 4 + 8];
          quote (q, sizeof q, access, strlen (access));
          free (access);
          push_key (c, "access");
          return fail (c, "expected a combination of r, w and m, got %s", q);
        }
      d->access |= bit;
    }
  free (access);
  return 0;
}

static int
parse_memory (struct ctx *c, json_t *o, struct al_memory *m)
{
  int r;
  if ((r = get_i64 (c, o, "limit", OPTIONAL, &m->limit, &m->has_limit)) < 0
      || (r = get_i64 (c, o, "reservation", OPTIONAL, &m->reservation, &m->has_reservation)) < 0
      || (r = get_i64 (c, o, "swap", OPTIONAL, &m->swap, &m->has_swap)) < 0
      || (r = get_i64 (c, o, "kernel", OPTIONAL, &m->kernel, &m->has_kernel)) < 0
      || (r = get_i64 (c, o, "kernelTCP", OPTIONAL, &m->kernel_tcp, &m->has_kernel_tcp)) < 0
      || (r = get_uint (c, o, "swappiness", OPTIONAL, 100, &m->swappiness, &m->has_swappiness))
             < 0
      || (r = get_bool (c, o, "disableOOMKiller", OPTIONAL, &m->disable_oom_killer,
                        &m->has_disable_oom_killer))
             < 0
      || (r = get_bool (c, o, "useHierarchy", OPTIONAL, &m->use_hierarchy, &m->has_use_hierarchy))
             < 0
      || (r = get_bool (c, o, "checkBeforeUpdate", OPTIONAL, &m->check_before_update,
                        &m->has_check_before_update))
             < 0)
    return r;
  return 0;
}

static int
parse_cpu (struct ctx *c, json_t *o, struct al_cpu *cpu)
{
  int r;
  if ((r = get_u64 (c, o, "shares", OPTIONAL, &cpu->shares, &cpu->has_shares)) < 0
      || (r = get_i64 (c, o, "quota", OPTIONAL, &cpu->quota, &cpu->has_quota)) < 0
      || (r = get_u64 (c, o, "burst", OPTIONAL, &cpu->burst, &cpu->has_burst)) < 0
      || (r = get_u64 (c, o, "period", OPTIONAL, &cpu->period, &cpu->has_period)) < 0
      || (r = get_i64 (c, o, "realtimeRuntime", OPTIONAL, &cpu->realtime_runtime,
                       &cpu->has_realtime_runtime))
             < 0
      || (r = get_u64 (c, o, "realtimePeriod", OPTIONAL, &cpu->realtime_period,
                       &cpu->has_realtime_period))
             < 0
      || (r = get_string (c, o, "cpus", OPTIONAL, &cpu->cpus)) < 0
      || (r = get_string (c, o, "mems", OPTIONAL, &cpu->mems)) < 0
      || (r = get_i64 (c, o, "idle", OPTIONAL, &cpu->idle, &cpu->has_idle)) < 0)
    return r;
  return 0;
}

static int
parse_weight_device (struct ctx *c, json_t *o, void *item)
{
  struct al_weight_device *d = item;
  int r;
  if ((r = get_i64 (c, o, "major", REQUIRED, &d->major, NULL)) < 0
      || (r = get_i64 (c, o, "minor", REQUIRED, &d->minor, NULL)) < 0
      || (r = get_u16 (c, o, "weight", OPTIONAL, &d->weight, &d->has_weight)) < 0
      || (r = get_u16 (c, o, "leafWeight", OPTIONAL, &d->leaf_weight, &d->has_leaf_weight)) < 0)
    return r;
  return 0;
}

static int
parse_throttle_device (struct ctx *c, json_t *o, void *item)
{
  struct al_throttle_device *d = item;
  int r;
  if ((r = get_i64 (c, o, "major", REQUIRED, &d->major, NULL)) < 0
      || (r = get_i64 (c, o, "minor", REQUIRED, &d->minor, NULL)) < 0
      || (r = get_u64 (c, o, "rate", REQUIRED, &d->rate, NULL)) < 0)
    return r;
  return 0;
}

static int
get_throttle_list (struct ctx *c, json_t *o, const char *key, struct al_throttle_list *l)
{
  return get_object_array (c, o, key, OPTIONAL, AL_CONFIG_MAX_ITEMS, l->devices, l->n,
                           parse_throttle_device);
}

static int
parse_block_io (struct ctx *c, json_t *o, struct al_block_io *b)
{
  int r;
  if ((r = get_u16 (c, o, "weight", OPTIONAL, &b->weight, &b->has_weight)) < 0
      || (r = get_u16 (c, o, "leafWeight", OPTIONAL, &b->leaf_weight, &b->has_leaf_weight)) < 0
      || (r = get_object_array (c, o, "weightDevice", OPTIONAL, AL_CONFIG_MAX_ITEMS,
                                b->weight_devices, b->n_weight_devices, parse_weight_device))
             < 0
      || (r = get_throttle_list (c, o, "throttleReadBpsDevice", &b->throttle_read_bps)) < 0
      || (r = get_throttle_list (c, o, "throttleWriteBpsDevice", &b->throttle_write_bps)) < 0
      || (r = get_throttle_list (c, o, "throttleReadIOPSDevice", &b->throttle_read_iops)) < 0
      || (r = get_throttle_list (c, o, "throttleWriteIOPSDevice", &b->throttle_write_iops)) < 0)
    return r;
  return 0;
}

static int
parse_hugepage_limit (struct ctx *c, json_t *o, void *item)
{
  struct al_hugepage_limit *h = item;
  int r;
  if ((r = get_string (c, o, "pageSize", REQUIRED, &h->page_size)) < 0
      || (r = get_u64 (c, o, "limit", REQUIRED, &h->limit, NULL)) < 0)
    return r;
  return 0;
}

static int
parse_net_priority (struct ctx *c, json_t *o, void *item)
{
  struct al_net_priority *p = item;
  int r;
  if ((r = get_string (c, o, "name", REQUIRED, &p->name)) < 0
      || (r = get_u32 (c, o, "priority", REQUIRED, &p->priority, NULL)) < 0)
    return r;
  return 0;
}

static int
parse_network (struct ctx *c, json_t *o, struct al_network *n)
{
  int r;
  if ((r = get_u32 (c, o, "classID", OPTIONAL, &n->class_id, &n->has_class_id)) < 0
      || (r = get_object_array (c, o, "priorities", OPTIONAL, AL_CONFIG_MAX_ITEMS, n->priorities,
                                n->n_priorities, parse_net_priority))
             < 0)
    return r;
  return 0;
}

static int
parse_rdma (struct ctx *c, json_t *o, struct al_resources *res)
{
  size_t n = json_object_size (o);
  int r = check_count (c, n, AL_CONFIG_MAX_ITEMS);
  if (r < 0 || n == 0)
    return r;
  if ((res->rdma = calloc (n, sizeof *res->rdma)) == NULL)
    return fail_oom (c);

  const char *device;
  json_t *v;
  json_object_foreach (o, device, v)
  {
    if (json_is_null (v))
      continue;
    struct al_rdma *d = &res->rdma[res->n_rdma++];
    if ((d->device = strdup (device)) == NULL)
      return fail_oom (c);
    push_key (c, device);
    if (!json_is_object (v))
      return fail (c, "expected an object");
    if ((r = get_u32 (c, v, "hcaHandles", OPTIONAL, &d->hca_handles, &d->has_hca_handles)) < 0
        || (r = get_u32 (c, v, "hcaObjects", OPTIONAL, &d->hca_objects, &d->has_hca_objects)) < 0)
      return r;
    pop (c);
  }
  return 0;
}

/* Allocate *ret and parse member `key` of o into it, if present. */
#define get_sub_object(c, o, key, ret, parse)                                                      \
  __extension__ ({                                                                                 \
    json_t *v_;                                                                                    \
    int r_ = get_object ((c), (o), (key), OPTIONAL, &v_);                                          \
    if (r_ > 0)                                                                                    \
      {                                                                                            \
        if (((ret) = calloc (1, sizeof *(ret))) == NULL)                                           \
          r_ = fail_oom (c);                                                                       \
        else                                                                                       \
          {                                                                                        \
            push_key ((c), (key));                                                                 \
            r_ = parse ((c), v_, (ret));                                                           \
            pop (c);                                                                               \
          }                                                                                        \
      }                                                                                            \
    r_ < 0 ? r_ : 0;                                                                               \
  })

static int
parse_resources_object (struct ctx *c, json_t *o, struct al_resources *res)
{
  int r;
  if ((r = get_object_array (c, o, "devices", OPTIONAL, AL_CONFIG_MAX_ITEMS, res->devices,
                             res->n_devices, parse_device_rule))
          < 0
      || (r = get_sub_object (c, o, "memory", res->memory, parse_memory)) < 0
      || (r = get_sub_object (c, o, "cpu", res->cpu, parse_cpu)) < 0)
    return r;

  json_t *v;
  if ((r = get_object (c, o, "pids", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      if ((res->pids = calloc (1, sizeof *res->pids)) == NULL)
        return fail_oom (c);
      push_key (c, "pids");
      if ((r = get_i64 (c, v, "limit", OPTIONAL, &res->pids->limit, &res->pids->has_limit)) < 0)
        return r;
      pop (c);
    }

  if ((r = get_sub_object (c, o, "blockIO", res->block_io, parse_block_io)) < 0
      || (r = get_object_array (c, o, "hugepageLimits", OPTIONAL, AL_CONFIG_MAX_ITEMS,
                                res->hugepage_limits, res->n_hugepage_limits,
                                parse_hugepage_limit))
             < 0
      || (r = get_sub_object (c, o, "network", res->network, parse_network)) < 0
      || (r = get_string_map (c, o, "unified", &res->unified)) < 0)
    return r;

  if ((r = get_object (c, o, "rdma", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "rdma");
      if ((r = parse_rdma (c, v, res)) < 0)
        return r;
      pop (c);
    }
  return 0;
}

/* ---------------------------------------------------------------- seccomp */

static int
parse_seccomp_arg (struct ctx *c, json_t *o, void *item)
{
  struct al_seccomp_arg *a = item;
  uint64_t arg_index = 0;
  size_t index = 0;
  int r;
  if ((r = get_uint (c, o, "index", REQUIRED, 5, &arg_index, NULL)) < 0)
    return r;
  a->index = (uint32_t) arg_index;
  if ((r = get_u64 (c, o, "value", REQUIRED, &a->value, NULL)) < 0
      || (r = get_u64 (c, o, "valueTwo", OPTIONAL, &a->value_two, &a->has_value_two)) < 0
      || (r = get_name (c, o, "op", REQUIRED, seccomp_op_names, N_OF (seccomp_op_names),
                        "operator", &index))
             < 0)
    return r;
  a->op = (enum al_seccomp_op) index;
  return 0;
}

static int
parse_seccomp_syscall (struct ctx *c, json_t *o, void *item)
{
  struct al_seccomp_syscall *s = item;
  size_t index = 0;
  int r;
  if ((r = get_strv (c, o, "names", REQUIRED, &s->names, &s->n_names)) < 0
      || (r = get_name (c, o, "action", REQUIRED, seccomp_action_names,
                        N_OF (seccomp_action_names), "action", &index))
             < 0)
    return r;
  s->action = (enum al_seccomp_action) index;
  if ((r = get_u32 (c, o, "errnoRet", OPTIONAL, &s->errno_ret, &s->has_errno_ret)) < 0
      || (r = get_object_array (c, o, "args", OPTIONAL, AL_CONFIG_MAX_ITEMS, s->args, s->n_args,
                                parse_seccomp_arg))
             < 0)
    return r;
  return 0;
}

static int
parse_seccomp (struct ctx *c, json_t *o, struct al_seccomp *s)
{
  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "defaultAction", REQUIRED, seccomp_action_names,
                     N_OF (seccomp_action_names), "action", &index))
      < 0)
    return r;
  s->default_action = (enum al_seccomp_action) index;
  if ((r = get_u32 (c, o, "defaultErrnoRet", OPTIONAL, &s->default_errno_ret,
                    &s->has_default_errno_ret))
          < 0
      || (r = get_string (c, o, "listenerPath", OPTIONAL, &s->listener_path)) < 0
      || (r = get_string (c, o, "listenerMetadata", OPTIONAL, &s->listener_metadata)) < 0)
    return r;

  json_t *v;
  if ((r = get_member (c, o, "architectures", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      const char *names[N_SECCOMP_ARCHS];
      for (size_t i = 0; i < N_SECCOMP_ARCHS; i++)
        names[i] = seccomp_archs[i].oci;
      push_key (c, "architectures");
      if (!json_is_array (v))
        return fail (c, "expected an array of strings");
      size_t n = json_array_size (v);
      if ((r = check_count (c, n, AL_CONFIG_MAX_ITEMS)) < 0)
        return r;
      if (n > 0 && (s->architectures = calloc (n, sizeof *s->architectures)) == NULL)
        return fail_oom (c);
      s->n_architectures = n;
      for (size_t i = 0; i < n; i++)
        {
          push_index (c, i);
          if ((r = want_name (c, json_array_get (v, i), names, N_SECCOMP_ARCHS, "architecture",
                              &index))
              < 0)
            return r;
          s->architectures[i] = (enum al_seccomp_arch) index;
          pop (c);
        }
      pop (c);
    }

  if ((r = get_member (c, o, "flags", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "flags");
      if (!json_is_array (v))
        return fail (c, "expected an array of strings");
      if ((r = check_count (c, json_array_size (v), AL_CONFIG_MAX_ITEMS)) < 0)
        return r;
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          push_index (c, i);
          if ((r = want_name (c, json_array_get (v, i), seccomp_flag_names,
                              N_OF (seccomp_flag_names), "seccomp flag", &index))
              < 0)
            return r;
          s->flags |= 1u << index;
          pop (c);
        }
      pop (c);
    }

  if ((r = get_object_array (c, o, "syscalls", OPTIONAL, AL_CONFIG_MAX_ITEMS, s->syscalls,
                             s->n_syscalls, parse_seccomp_syscall))
      < 0)
    return r;

  bool notify = s->default_action == AL_SECCOMP_ACT_NOTIFY;
  for (size_t i = 0; i < s->n_syscalls; i++)
    notify |= s->syscalls[i].action == AL_SECCOMP_ACT_NOTIFY;
  if (notify && (s->listener_path == NULL || s->listener_path[0] == '\0'))
    {
      push_key (c, "listenerPath");
      return fail (c, "required when an action is SCMP_ACT_NOTIFY");
    }
  return 0;
}

/* ------------------------------------------------------------------ linux */

static int
parse_namespace (struct ctx *c, json_t *o, void *item)
{
  struct al_namespace *ns = item;
  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "type", REQUIRED, namespace_names, AL_NS__COUNT, "namespace type",
                     &index))
      < 0)
    return r;
  ns->type = (enum al_namespace_type) index;
  return get_abs_path (c, o, "path", OPTIONAL, &ns->path);
}

static int
parse_device (struct ctx *c, json_t *o, void *item)
{
  static const char *const types[] = { "c", "b", "u", "p" };
  struct al_device *d = item;
  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "type", REQUIRED, types, N_OF (types), "device type", &index)) < 0)
    return r;
  d->type = (enum al_device_type) types[index][0];
  enum need numbers = d->type == AL_DEVICE_FIFO ? OPTIONAL : REQUIRED;
  if ((r = get_abs_path (c, o, "path", REQUIRED, &d->path)) < 0
      || (r = get_i64 (c, o, "major", numbers, &d->major, NULL)) < 0
      || (r = get_i64 (c, o, "minor", numbers, &d->minor, NULL)) < 0
      || (r = get_u32 (c, o, "fileMode", OPTIONAL, &d->file_mode, &d->has_file_mode)) < 0
      || (r = get_u32 (c, o, "uid", OPTIONAL, &d->uid, &d->has_uid)) < 0
      || (r = get_u32 (c, o, "gid", OPTIONAL, &d->gid, &d->has_gid)) < 0)
    return r;
  return 0;
}

static int
parse_time_offsets (struct ctx *c, json_t *o, struct al_linux *l)
{
  const char *clock;
  json_t *v;
  json_object_foreach (o, clock, v)
  {
    if (json_is_null (v))
      continue;
    push_key (c, clock);
    struct al_time_offset *t = strcmp (clock, "monotonic") == 0  ? &l->time_offset_monotonic
                               : strcmp (clock, "boottime") == 0 ? &l->time_offset_boottime
                                                                 : NULL;
    if (t == NULL)
      return fail (c, "unknown clock (expected monotonic or boottime)");
    if (!json_is_object (v))
      return fail (c, "expected an object");
    uint64_t ns = 0;
    int r;
    if ((r = get_i64 (c, v, "secs", OPTIONAL, &t->secs, NULL)) < 0
        || (r = get_uint (c, v, "nanosecs", OPTIONAL, 999999999, &ns, NULL)) < 0)
      return r;
    t->nanosecs = (uint32_t) ns;
    t->present = true;
    pop (c);
  }
  return 0;
}

static int
parse_intel_rdt (struct ctx *c, json_t *o, struct al_intel_rdt *rdt)
{
  int r;
  if ((r = get_string (c, o, "closID", OPTIONAL, &rdt->clos_id)) < 0
      || (r = get_string (c, o, "l3CacheSchema", OPTIONAL, &rdt->l3_cache_schema)) < 0
      || (r = get_string (c, o, "memBwSchema", OPTIONAL, &rdt->mem_bw_schema)) < 0
      || (r = get_strv (c, o, "schemata", OPTIONAL, &rdt->schemata, &rdt->n_schemata)) < 0
      || (r = get_bool (c, o, "enableMonitoring", OPTIONAL, &rdt->enable_monitoring, NULL)) < 0
      || (r = get_bool (c, o, "enableCMT", OPTIONAL, &rdt->enable_cmt, NULL)) < 0
      || (r = get_bool (c, o, "enableMBM", OPTIONAL, &rdt->enable_mbm, NULL)) < 0)
    return r;
  return 0;
}

static int
parse_personality (struct ctx *c, json_t *o, struct al_personality *p)
{
  size_t index = 0;
  int r;
  if ((r = get_name (c, o, "domain", REQUIRED, personality_domain_names,
                     N_OF (personality_domain_names), "personality domain", &index))
      < 0)
    return r;
  p->domain = (enum al_personality_domain) index;
  return get_strv (c, o, "flags", OPTIONAL, &p->flags, &p->n_flags);
}

static int
parse_linux (struct ctx *c, json_t *o, struct al_linux *l)
{
  int r;
  if ((r = get_object_array (c, o, "namespaces", OPTIONAL, AL_CONFIG_MAX_ITEMS, l->namespaces,
                             l->n_namespaces, parse_namespace))
      < 0)
    return r;
  bool seen[AL_NS__COUNT] = { false };
  for (size_t i = 0; i < l->n_namespaces; i++)
    {
      enum al_namespace_type type = l->namespaces[i].type;
      if (seen[type])
        {
          push_key (c, "namespaces");
          push_index (c, i);
          push_key (c, "type");
          return fail (c, "duplicate namespace \"%s\"", namespace_names[type]);
        }
      seen[type] = true;
    }

  if ((r = get_id_mappings (c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings)) < 0
      || (r = get_id_mappings (c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings)) < 0)
    return r;

  json_t *v;
  if ((r = get_object (c, o, "timeOffsets", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "timeOffsets");
      if ((r = parse_time_offsets (c, v, l)) < 0)
        return r;
      pop (c);
    }

  size_t index = 0;
  if ((r = get_object_array (c, o, "devices", OPTIONAL, AL_CONFIG_MAX_ITEMS, l->devices,
                             l->n_devices, parse_device))
          < 0
      || (r = get_string (c, o, "cgroupsPath", OPTIONAL, &l->cgroups_path)) < 0
      || (r = get_sub_object (c, o, "resources", l->resources, parse_resources_object)) < 0
      || (r = get_string_map (c, o, "sysctl", &l->sysctl)) < 0
      || (r = get_sub_object (c, o, "seccomp", l->seccomp, parse_seccomp)) < 0
      || (r = get_name (c, o, "rootfsPropagation", OPTIONAL, propagation_names,
                        N_OF (propagation_names), "propagation", &index))
             < 0)
    return r;
  if (r > 0)
    l->rootfs_propagation = (enum al_propagation) index;
  if ((r = get_abs_strv (c, o, "maskedPaths", &l->masked_paths, &l->n_masked_paths)) < 0
      || (r = get_abs_strv (c, o, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths)) < 0
      || (r = get_string (c, o, "mountLabel", OPTIONAL, &l->mount_label)) < 0
      || (r = get_sub_object (c, o, "intelRdt", l->intel_rdt, parse_intel_rdt)) < 0
      || (r = get_sub_object (c, o, "personality", l->personality, parse_personality)) < 0)
    return r;
  return 0;
}

/* ----------------------------------------------------------------- config */

/* "1.MINOR.PATCH" with optional "-prerelease" and "+build" (semver 2.0). */
static bool
parse_version (const char *s, unsigned long *ret_major, unsigned long *ret_minor,
               unsigned long *ret_patch)
{
  unsigned long *parts[3] = { ret_major, ret_minor, ret_patch };
  const char *p = s;
  for (int i = 0; i < 3; i++)
    {
      if (!isdigit ((unsigned char) *p))
        return false;
      if (*p == '0' && isdigit ((unsigned char) p[1]))
        return false; /* no leading zeros */
      unsigned long v = 0;
      for (int digits = 0; isdigit ((unsigned char) *p); p++, digits++)
        {
          if (digits >= 9)
            return false;
          v = v * 10 + (unsigned long) (*p - '0');
        }
      *parts[i] = v;
      if (i < 2 && *p++ != '.')
        return false;
    }
  for (char tag = '-'; tag; tag = tag == '-' ? '+' : 0)
    {
      if (*p != tag)
        continue;
      p++;
      for (;;) /* dot-separated, non-empty [0-9A-Za-z-]+ identifiers */
        {
          const char *start = p;
          while (isalnum ((unsigned char) *p) || *p == '-')
            p++;
          if (p == start)
            return false;
          if (*p != '.')
            break;
          p++;
        }
    }
  return *p == '\0';
}

static int
check_version (struct ctx *c, struct al_config *cfg)
{
  char q[MSG_VALUE_MAX * 4 + 8];
  unsigned long major, minor, patch;
  quote (q, sizeof q, cfg->oci_version, strlen (cfg->oci_version));
  push_key (c, "ociVersion");
  if (!parse_version (cfg->oci_version, &major, &minor, &patch))
    return fail (c, "malformed version %s (expected 1.MINOR.PATCH)", q);
  if (major != 1 || minor > 3)
    return fail (c, "unsupported version %s (airlock supports 1.0.0 to 1.3.x)", q);
  pop (c);
  cfg->version_minor = (unsigned) minor;
  cfg->version_patch = (unsigned) patch;
  return 0;
}

static int
check_name_length (struct ctx *c, const char *key, const char *value)
{
  if (value == NULL || strlen (value) <= AL_CONFIG_MAX_HOSTNAME)
    return 0;
  push_key (c, key);
  int r = fail (c, "longer than %u bytes", AL_CONFIG_MAX_HOSTNAME);
  pop (c);
  return r;
}

static int
parse_config_object (struct ctx *c, json_t *o, struct al_config *cfg)
{
  json_t *v;
  int r;

  if ((r = get_string (c, o, "ociVersion", REQUIRED, &cfg->oci_version)) < 0
      || (r = check_version (c, cfg)) < 0)
    return r;

  if ((r = get_object (c, o, "root", REQUIRED, &v)) < 0)
    return r;
  push_key (c, "root");
  if ((r = get_string (c, v, "path", REQUIRED, &cfg->root_path)) < 0
      || (r = get_bool (c, v, "readonly", OPTIONAL, &cfg->root_readonly, NULL)) < 0)
    return r;
  if (cfg->root_path[0] == '\0')
    {
      push_key (c, "path");
      return fail (c, "must not be empty");
    }
  pop (c);

  if ((r = get_sub_object (c, o, "process", cfg->process, parse_process_object)) < 0)
    return r;

  if ((r = get_string (c, o, "hostname", OPTIONAL, &cfg->hostname)) < 0
      || (r = check_name_length (c, "hostname", cfg->hostname)) < 0
      || (r = get_string (c, o, "domainname", OPTIONAL, &cfg->domainname)) < 0
      || (r = check_name_length (c, "domainname", cfg->domainname)) < 0)
    return r;

  if ((r = get_object_array (c, o, "mounts", OPTIONAL, AL_CONFIG_MAX_ITEMS, cfg->mounts,
                             cfg->n_mounts, parse_mount))
      < 0)
    return r;

  if ((r = get_object (c, o, "hooks", OPTIONAL, &v)) < 0)
    return r;
  if (v != NULL)
    {
      push_key (c, "hooks");
      if ((r = parse_hooks (c, v, cfg->hooks)) < 0)
        return r;
      pop (c);
    }

  if ((r = get_string_map (c, o, "annotations", &cfg->annotations)) < 0)
    return r;
  if (cfg->annotations.keys != NULL)
    {
      /* Built from the map, so it holds exactly what the map holds. */
      json_t *a = cfg->annotations_json = json_object ();
      for (size_t i = 0; a != NULL && i < cfg->annotations.n; i++)
        if (json_object_set_new (a, cfg->annotations.keys[i],
                                 json_string (cfg->annotations.values[i]))
            < 0)
          a = NULL;
      if (a == NULL)
        return fail_oom (c);
    }

  if ((r = get_sub_object (c, o, "linux", cfg->linux_spec, parse_linux)) < 0)
    return r;
  return 0;
}

/* Decode buf into *ret_root (an object), masking big integers as described
 * at the top.  On failure the error names source:line:column. */
static int
decode (struct ctx *c, const char *buf, size_t len, const char *source, json_t **ret_root,
        struct al_error *err)
{
  *c = (struct ctx){ .orig = buf, .text = buf, .len = len, .source = source, .err = err };
  if (buf == NULL && len > 0)
    return al_error_reason (err, EINVAL, "%s: no input", source);
  if (len > AL_CONFIG_MAX_BYTES)
    return al_error_reason (err, EFBIG, "%s: larger than %u MiB (%zu bytes)", source,
                            AL_CONFIG_MAX_BYTES >> 20, len);

  size_t first = 0;
  while (first < len && strchr (" \t\r\n", buf[first]) != NULL && buf[first] != '\0')
    first++;
  if (first == len)
    return al_error_reason (err, EINVAL, "%s:1:1: invalid JSON: empty input", source);

  /* jansson takes a raw NUL byte for the end of the input and would accept
   * whatever follows; no JSON text contains one. */
  const char *nul = memchr (buf, '\0', len);
  if (nul != NULL)
    {
      size_t line, column;
      al_json_pos_line_col (buf, len, (size_t) (nul - buf), &line, &column);
      return al_error_reason (err, EINVAL, "%s:%zu:%zu: invalid JSON: NUL byte", source, line,
                              column);
    }

  json_error_t jerr;
  json_t *root;
  for (int masked = 0;; masked++)
    {
      root = json_loadb (c->text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
      if (root != NULL)
        break;
      bool overflow = json_error_code (&jerr) == json_error_numeric_overflow;
      if (overflow && (masked >= MAX_REDECODES || (size_t) (masked + 1) * len > REDECODE_BUDGET))
        return al_error_reason (err, EINVAL,
                                "%s:%d:%d: too many numbers beyond 64 bits (at most %d in a file "
                                "of this size)",
                                source, jerr.line > 0 ? jerr.line : 1,
                                jerr.column > 0 ? jerr.column : 1, masked);
      if (overflow && mask_big_number (c, jerr.position))
        continue;

      char text[sizeof jerr.text + 64];
      for (size_t i = 0; i < sizeof jerr.text; i++)
        {
          unsigned char ch = (unsigned char) jerr.text[i];
          text[i] = ch == '\0' || (ch >= 0x20 && ch != 0x7f) ? (char) ch : ' ';
          if (ch == '\0')
            break;
        }
      text[sizeof jerr.text - 1] = '\0';

      /* Stopped right after a literal we masked: show it as written. */
      for (size_t i = 0; i < c->n_masked; i++)
        if (jerr.position > 0 && c->masked_end[i] == (size_t) jerr.position)
          {
            char *near = strstr (text, " near '");
            size_t pos = near != NULL ? (size_t) (near - text) : strlen (text);
            size_t n = c->masked_end[i] - c->masked_start[i];
            append (text, sizeof text, &pos, " near '%.*s%s'", (int) (n < 40 ? n : 40),
                    c->orig + c->masked_start[i], n > 40 ? "..." : "");
          }
      return al_error_reason (err, EINVAL, "%s:%d:%d: invalid JSON: %s", source,
                              jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1,
                              text);
    }

  if (!json_is_object (root))
    {
      json_decref (root);
      return fail (c, "expected a JSON object at the top level");
    }
  *ret_root = root;
  return 0;
}

static const char *
source_or (const char *source, const char *fallback)
{
  return source != NULL && source[0] != '\0' ? source : fallback;
}

int
al_config_parse (const char *buf, size_t len, const char *source, struct al_config **ret_config,
                 struct al_error *err)
{
  struct ctx c;
  json_t *root = NULL;
  source = source_or (source, "config.json");
  int r = decode (&c, buf, len, source, &root, err);
  if (r < 0)
    {
      free (c.masked_copy);
      return r;
    }

  struct al_config *cfg = calloc (1, sizeof *cfg);
  if (cfg == NULL)
    r = fail_oom (&c);
  else
    r = parse_config_object (&c, root, cfg);
  json_decref (root);
  free (c.masked_copy);
  if (r < 0)
    {
      al_config_free (cfg);
      return r;
    }
  *ret_config = cfg;
  return 0;
}

int
al_config_from_json (json_t *root, const char *source, struct al_config **ret_config,
                     struct al_error *err)
{
  struct ctx c = { .source = source_or (source, "config"), .err = err };
  if (!json_is_object (root))
    return fail (&c, "expected a JSON object at the top level");
  struct al_config *cfg = calloc (1, sizeof *cfg);
  int r = cfg == NULL ? fail_oom (&c) : parse_config_object (&c, root, cfg);
  if (r < 0)
    {
      al_config_free (cfg);
      return r;
    }
  *ret_config = cfg;
  return 0;
}

int
al_config_parse_resources (const char *buf, size_t len, const char *source,
                           struct al_resources **ret, struct al_error *err)
{
  struct ctx c;
  json_t *root = NULL;
  source = source_or (source, "resources.json");
  int r = decode (&c, buf, len, source, &root, err);
  if (r < 0)
    {
      free (c.masked_copy);
      return r;
    }

  struct al_resources *res = calloc (1, sizeof *res);
  if (res == NULL)
    r = fail_oom (&c);
  else
    r = parse_resources_object (&c, root, res);
  json_decref (root);
  free (c.masked_copy);
  if (r < 0)
    {
      al_resources_free (res);
      return r;
    }
  *ret = res;
  return 0;
}

int
al_config_parse_process (const char *buf, size_t len, const char *source,
                         struct al_process **ret, struct al_error *err)
{
  struct ctx c;
  json_t *root = NULL;
  source = source_or (source, "process.json");
  int r = decode (&c, buf, len, source, &root, err);
  if (r < 0)
    {
      free (c.masked_copy);
      return r;
    }

  struct al_process *p = calloc (1, sizeof *p);
  if (p == NULL)
    r = fail_oom (&c);
  else
    r = parse_process_object (&c, root, p);
  json_decref (root);
  free (c.masked_copy);
  if (r < 0)
    {
      al_process_free (p);
      return r;
    }
  *ret = p;
  return 0;
}

int
al_config_load (int dirfd, const char *path, struct al_config **ret_config, struct al_error *err)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash != NULL && slash[1] != '\0' ? slash + 1 : path;

  cleanup_free char *buf = NULL;
  size_t len = 0;
  int r = al_read_file (dirfd, path, AL_CONFIG_MAX_BYTES, &buf, &len, err);
  if (r == -EFBIG)
    return al_error_reason (err, EFBIG, "%s: larger than %u MiB", base,
                            AL_CONFIG_MAX_BYTES >> 20);
  if (r < 0)
    return r;
  return al_config_parse (buf, len, base, ret_config, err);
}

/* ------------------------------------------------------------------- free */

static void
free_strv (char **v, size_t n)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

static void
free_string_map (struct al_string_map *m)
{
  free_strv (m->keys, m->n);
  free_strv (m->values, m->n);
}

void
al_process_free (struct al_process *p)
{
  if (p == NULL)
    return;
  free (p->user.additional_gids);
  free (p->user.username);
  free_strv (p->args, p->n_args);
  free_strv (p->env, p->n_env);
  free (p->cwd);
  free (p->capabilities.bounding.caps);
  free (p->capabilities.effective.caps);
  free (p->capabilities.inheritable.caps);
  free (p->capabilities.permitted.caps);
  free (p->capabilities.ambient.caps);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p->scheduler);
  free (p->exec_cpu_affinity_initial);
  free (p->exec_cpu_affinity_final);
  free (p);
}

void
al_resources_free (struct al_resources *r)
{
  if (r == NULL)
    return;
  free (r->devices);
  free (r->memory);
  if (r->cpu != NULL)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
      free (r->cpu);
    }
  free (r->pids);
  if (r->block_io != NULL)
    {
      free (r->block_io->weight_devices);
      free (r->block_io->throttle_read_bps.devices);
      free (r->block_io->throttle_write_bps.devices);
      free (r->block_io->throttle_read_iops.devices);
      free (r->block_io->throttle_write_iops.devices);
      free (r->block_io);
    }
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  if (r->network != NULL)
    {
      for (size_t i = 0; i < r->network->n_priorities; i++)
        free (r->network->priorities[i].name);
      free (r->network->priorities);
      free (r->network);
    }
  for (size_t i = 0; i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  free_string_map (&r->unified);
  free (r);
}

static void
free_seccomp (struct al_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->architectures);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      free_strv (s->syscalls[i].names, s->syscalls[i].n_names);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s);
}

static void
free_linux (struct al_linux *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n_namespaces; i++)
    free (l->namespaces[i].path);
  free (l->namespaces);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  al_resources_free (l->resources);
  free_string_map (&l->sysctl);
  free_seccomp (l->seccomp);
  free_strv (l->masked_paths, l->n_masked_paths);
  free_strv (l->readonly_paths, l->n_readonly_paths);
  free (l->mount_label);
  if (l->intel_rdt != NULL)
    {
      free (l->intel_rdt->clos_id);
      free (l->intel_rdt->l3_cache_schema);
      free (l->intel_rdt->mem_bw_schema);
      free_strv (l->intel_rdt->schemata, l->intel_rdt->n_schemata);
      free (l->intel_rdt);
    }
  if (l->personality != NULL)
    {
      free_strv (l->personality->flags, l->personality->n_flags);
      free (l->personality);
    }
  free (l);
}

void
al_config_free (struct al_config *c)
{
  if (c == NULL)
    return;
  free (c->oci_version);
  free (c->root_path);
  al_process_free (c->process);
  free (c->hostname);
  free (c->domainname);
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      struct al_mount *m = &c->mounts[i];
      free (m->destination);
      free (m->source);
      free (m->type);
      free_strv (m->options, m->n_options);
      free (m->uid_mappings);
      free (m->gid_mappings);
    }
  free (c->mounts);
  for (int kind = 0; kind < AL_HOOK__COUNT; kind++)
    {
      for (size_t i = 0; i < c->hooks[kind].n; i++)
        {
          struct al_hook *h = &c->hooks[kind].hooks[i];
          free (h->path);
          free_strv (h->args, h->n_args);
          free_strv (h->env, h->n_env);
        }
      free (c->hooks[kind].hooks);
    }
  free_string_map (&c->annotations);
  json_decref (c->annotations_json);
  free_linux (c->linux_spec);
  free (c);
}

int
al_config_parse_seccomp (const char *buf, size_t len, const char *source, struct al_seccomp **ret,
                         struct al_error *err)
{
  struct ctx c;
  json_t *root = NULL;
  source = source_or (source, "seccomp.json");
  int r = decode (&c, buf, len, source, &root, err);
  if (r < 0)
    {
      free (c.masked_copy);
      return r;
    }

  struct al_seccomp *sc = calloc (1, sizeof *sc);
  if (sc == NULL)
    r = fail_oom (&c);
  else if (!json_is_object (root))
    r = fail (&c, "expected an object");
  else
    r = parse_seccomp (&c, root, sc);
  json_decref (root);
  free (c.masked_copy);
  if (r < 0)
    {
      al_seccomp_free (sc);
      return r;
    }
  *ret = sc;
  return 0;
}

void
al_seccomp_free (struct al_seccomp *s)
{
  if (s == NULL)
    return;
  free_seccomp (s);
}
