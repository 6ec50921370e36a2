/* json_pos.h — where a value sits in a JSON text, for error messages.
 *
 * jansson keeps no source positions for decoded values, so when a config
 * field turns out to be wrong we go back to the text: al_json_pos_find walks
 * a path of member names and array indices from the top-level value and
 * returns the byte offset of the value it names.  The walk only steps over
 * whitespace and the structural characters { } [ ] : , itself; every key and
 * every value it skips is decoded by jansson, so it is not a second JSON
 * parser.  A member that occurs more than once resolves to its last
 * occurrence, the one jansson keeps.  The text should be one the decoder
 * accepted (with JSON_DECODE_ANY | JSON_ALLOW_NUL); on anything else the walk
 * stops early and reports how far it got — it never reads outside buf[0..len)
 * and never fails.
 *
 * Meant for error paths only: each step re-decodes the values it skips.
 */
#ifndef AL_JSON_POS_H
#define AL_JSON_POS_H

#include <stddef.h>

/* One step of a path: a member name, or (key == NULL) an array index. */
struct al_json_path_elem
{
  const char *key;
  size_t index;
};

/* Follow path[0..n_path) from the top-level value of buf[0..len).  Stores in
 * *ret_offset the byte offset of the deepest value reached (0 if the text has
 * no value at all) and returns how many path elements were followed: n_path
 * when the whole path was found, fewer when a member or element is missing
 * (the offset is then that of the enclosing object or array). */
size_t al_json_pos_find (const char *buf, size_t len, const struct al_json_path_elem *path,
                         size_t n_path, size_t *ret_offset);

/* 1-based line and column of byte `offset` in buf.  Lines end at '\n' (so
 * CRLF text counts right); columns count UTF-8 characters, like jansson's own
 * error positions.  An offset past the end is clamped to len. */
void al_json_pos_line_col (const char *buf, size_t len, size_t offset, size_t *ret_line,
                           size_t *ret_column);

#endif
