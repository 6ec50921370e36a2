#!/bin/sh
# check-all.sh — the whole test suite, exactly as CI runs it.
#
#   bash tests/check-all.sh
#
# Installs missing dependencies, builds out of tree in build/ with warnings
# as errors, runs every test (`make check`: unit, integration, podman and
# containerd), rebuilds in build-asan/ with --enable-sanitizers (ASan +
# UBSan) and runs the tests again there, then runs the integration tests
# once more on a pure cgroup-v2 host (`make check-vm`, a qemu guest).
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
jobs=$(nproc 2>/dev/null || echo 2)

sh contrib/install-deps.sh
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || ./autogen.sh

passed=0
failed=0
status=0

run_suite () {
  dir=$1
  shift
  mkdir -p "$dir"
  (cd "$dir" && "$src/configure" --enable-werror "$@" >configure.out) ||
    { cat "$dir/configure.out"; echo "check-all: configure failed in $dir" >&2; return 1; }
  make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1 ||
    { cat "$dir/make.out"; echo "check-all: build failed in $dir" >&2; return 1; }
  rc=0
  make -C "$dir" -j"$jobs" check || rc=$?
  if [ -f "$dir/test-suite.log" ]; then
    p=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log" | head -n1)
    f=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log" | head -n1)
    e=$(sed -n 's/^# ERROR: *//p' "$dir/test-suite.log" | head -n1)
    xp=$(sed -n 's/^# XPASS: *//p' "$dir/test-suite.log" | head -n1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${xp:-0}))
    [ "$rc" = 0 ] || cat "$dir/test-suite.log"
  else
    failed=$((failed + 1))
  fi
  return "$rc"
}

echo "== build and test (build/)"
run_suite build || status=1

echo "== build and test with ASan + UBSan (build-asan/)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan --enable-sanitizers || status=1

echo "== integration tests on cgroup v2 (make check-vm)"
vm_log=build/check-vm.out
rc=0
make -C build check-vm >"$vm_log" 2>&1 || rc=$?
line=$(grep -a '^VM-TESTS: ' "$vm_log" | tail -n1 || true)
vp=$(echo "$line" | sed -n 's/^VM-TESTS: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
vf=$(echo "$line" | sed -n 's/^VM-TESTS: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
echo "${line:-VM-TESTS: no result line}"
passed=$((passed + ${vp:-0}))
failed=$((failed + ${vf:-0}))
if [ "$rc" != 0 ]; then
  tail -n 60 "$vm_log"
  [ "${vf:-0}" != 0 ] || failed=$((failed + 1))
  status=1
fi

# The failures again, last, where a tail of this output shows them.
if [ "$failed" != 0 ]; then
  echo "== what failed"
  for dir in build build-asan; do
    [ -f "$dir/test-suite.log" ] && grep -a -A8 -E '^not ok |^(FAIL|ERROR): ' "$dir/test-suite.log" \
      | sed "s|^|$dir: |" | head -n 60
  done
  [ -f "$vm_log" ] && grep -a -A8 -E '^not ok |without a failing test case|cgroups left behind' \
    "$vm_log" | sed 's|^|vm: |' | head -n 60
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] || status=1
exit "$status"
