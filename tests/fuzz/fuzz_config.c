/* libFuzzer target for the config parser: every input goes through the
 * three entry points (config, bare resources, bare process).  Whatever the
 * input, parsing must not crash, leak or read out of bounds, and a failure
 * must leave one non-empty, single-line message. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci_config.h"

static void
check_error (int r, const struct al_error *err)
{
  if (r == 0)
    return;
  if (r >= 0 || err->msg[0] == '\0' || strchr (err->msg, '\n') != NULL)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *buf = (const char *) data;
  struct al_error err = { 0 };

  struct al_config *c = NULL;
  int r = al_config_parse (buf, size, "config.json", &c, &err);
  check_error (r, &err);
  if ((r == 0) != (c != NULL))
    abort ();
  al_config_free (c);

  struct al_resources *res = NULL;
  r = al_config_parse_resources (buf, size, "resources.json", &res, &err);
  check_error (r, &err);
  al_resources_free (res);

  struct al_process *p = NULL;
  r = al_config_parse_process (buf, size, "process.json", &p, &err);
  check_error (r, &err);
  al_process_free (p);
  return 0;
}
