/* json_pos.c — see json_pos.h. */
#include "config.h"

#include "json_pos.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

static size_t
skip_space (const char *buf, size_t len, size_t p)
{
  while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
    p++;
  return p;
}

/* Let jansson decode the one value starting at buf[p] and tell where it
 * ends.  JSON_DISABLE_EOF_CHECK stops after the value; with JSON_DECODE_ANY
 * the lexer peeks one character past a scalar but gives it back, so
 * jerr.position is exactly the number of bytes the value took. */
static bool
decode_at (const char *buf, size_t len, size_t p, json_t **ret_value, size_t *ret_end)
{
  if (p >= len)
    return false;

  json_error_t jerr;
  json_t *v = json_loadb (buf + p, len - p,
                          JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
  if (v == NULL)
    return false;
  if (jerr.position <= 0 || (size_t) jerr.position > len - p)
    {
      json_decref (v);
      return false;
    }
  *ret_end = p + (size_t) jerr.position;
  if (ret_value)
    *ret_value = v;
  else
    json_decref (v);
  return true;
}

/* buf[p] is '{'.  Find the value of the last member named key. */
static bool
find_member (const char *buf, size_t len, size_t p, const char *key, size_t *ret_offset)
{
  size_t keylen = strlen (key);
  bool found = false;

  p = skip_space (buf, len, p + 1);
  while (p < len && buf[p] == '"')
    {
      json_t *k = NULL;
      size_t end;
      if (!decode_at (buf, len, p, &k, &end))
        break;
      bool match = json_is_string (k) && json_string_length (k) == keylen
                   && memcmp (json_string_value (k), key, keylen) == 0;
      json_decref (k);

      p = skip_space (buf, len, end);
      if (p >= len || buf[p] != ':')
        break;
      size_t value = skip_space (buf, len, p + 1);
      if (!decode_at (buf, len, value, NULL, &end))
        break;
      if (match)
        {
          found = true;
          *ret_offset = value;
        }

      p = skip_space (buf, len, end);
      if (p >= len || buf[p] != ',')
        break;
      p = skip_space (buf, len, p + 1);
    }
  return found;
}

/* buf[p] is '['.  Find element `index`. */
static bool
find_element (const char *buf, size_t len, size_t p, size_t index, size_t *ret_offset)
{
  p = skip_space (buf, len, p + 1);
  if (p >= len || buf[p] == ']')
    return false;

  for (size_t i = 0; p < len; i++)
    {
      if (i == index)
        {
          *ret_offset = p;
          return true;
        }
      size_t end;
      if (!decode_at (buf, len, p, NULL, &end))
        return false;
      p = skip_space (buf, len, end);
      if (p >= len || buf[p] != ',')
        return false;
      p = skip_space (buf, len, p + 1);
    }
  return false;
}

size_t
al_json_pos_find (const char *buf, size_t len, const struct al_json_path_elem *path,
                  size_t n_path, size_t *ret_offset)
{
  *ret_offset = 0;
  if (buf == NULL)
    return 0;

  size_t p = skip_space (buf, len, 0);
  if (p >= len)
    return 0;
  *ret_offset = p;

  for (size_t i = 0; i < n_path; i++)
    {
      size_t next;
      if (path[i].key != NULL)
        {
          if (buf[p] != '{' || !find_member (buf, len, p, path[i].key, &next))
            return i;
        }
      else
        {
          if (buf[p] != '[' || !find_element (buf, len, p, path[i].index, &next))
            return i;
        }
      p = next;
      *ret_offset = p;
    }
  return n_path;
}

void
al_json_pos_line_col (const char *buf, size_t len, size_t offset, size_t *ret_line,
                      size_t *ret_column)
{
  size_t line = 1, column = 1;

  if (buf == NULL)
    offset = 0;
  if (offset > len)
    offset = len;
  for (size_t i = 0; i < offset; i++)
    {
      unsigned char ch = (unsigned char) buf[i];
      if (ch == '\n')
        {
          line++;
          column = 1;
        }
      else if ((ch & 0xc0) != 0x80) /* not a UTF-8 continuation byte */
        column++;
    }
  *ret_line = line;
  *ret_column = column;
}
