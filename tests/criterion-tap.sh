#!/bin/sh
# Run one Criterion test binary with a TAP report on stdout for automake's
# tap-driver; Criterion writes TAP to stderr, which the driver merges.
exec "$@" --tap=- --jobs="${AL_TEST_JOBS:-2}"
