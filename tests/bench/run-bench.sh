#!/bin/bash
# run-bench.sh — startup benchmark of airlock side by side with crun, runc,
# bubblewrap and a bare unshare(1), then of `airlock sandbox run` against
# crun and bubblewrap and of the sandbox supervisor's memory.  A benchmark,
# not a test: `make bench` runs it; `make check` does not.
#
#   AIRLOCK=/path/to/airlock tests/bench/run-bench.sh
#
# Environment:
#   AIRLOCK        airlock binary (default: airlock on PATH)
#   BENCH_SAMPLES  timed samples per runtime (default 7)
#   BENCH_STARTS   sequential starts per sample (default 20)
#   BENCH_RUNTIMES space-separated rows to run (default: all below but
#                  airlock-v1only)
#   BENCH_SECTIONS startup, sandbox and/or rollback (default all three),
#                  see below
#   BENCH_SANDBOX_SAMPLES  paired samples of the sandbox section (default
#                  BENCH_SAMPLES)
#   BENCH_SANDBOX_STARTS   starts per runtime per sample there (default
#                  BENCH_STARTS)
#   BENCH_RSS_RUNS runs per supervisor memory case (default 3)
#   BENCH_ROLLBACK_SAMPLES  timed rollbacks per row and count (default 15)
#   BENCH_ROLLBACK_FILES    files in the rollback section's base (10000)
#   BENCH_ROLLBACK_COUNTS   changed-file counts (default "10 1000 10000")
#   AL_BUILDDIR    build dir holding libairlock.a (default: AIRLOCK's dir)
#   BENCH_STRICT=1 exit 2 when a target is missed
#   CC             compiler for the tiny timing helper (default cc)
#
# What is measured.  Every row runs /bin/true of the same busybox-static
# rootfs (tests/fixtures/make-bundle.sh) and the OCI rows use the same
# config.json: `airlock spec`'s default (pid, network, ipc, uts, mount and
# cgroup namespaces, read-only root, /proc /dev /dev/pts /dev/shm /dev/mqueue
# /sys /sys/fs/cgroup mounts, masked and read-only paths, 3 capabilities,
# no_new_privs, no seccomp) plus a linux.cgroupsPath of
# /airlock/bench-TAG-ROW-I, so every runtime makes its cgroups under
# airlock/ in each hierarchy.  Each start has its own bundle directory
# (config.json only; root.path points at the one shared rootfs) and its
# own container id; `run` removes state and cgroups itself, which is
# checked after every sample.
#
# A sample is BENCH_STARTS sequential `RUNTIME --root R run --bundle B ID`,
# each started with posix_spawn by tests/bench/bench-exec.c and reaped
# before the next; time per start = wall-clock of the whole sample / starts,
# so it is start-to-exit including state removal and cgroup teardown.
# The reported figure is the median over BENCH_SAMPLES samples; rows are
# interleaved (the order rotates every sample) so slow drift on a shared
# machine hits every row alike.  One untimed warm-up sample per row first.
#
# Every row's timed loop runs inside its own private mount namespace
# (unshare -m --propagation private), because Debian's crun 1.8.1 refuses
# to start on a hybrid host whose cgroup2 mount holds a controller; for the
# crun rows (and for the airlock-v1only row, for comparison) an empty
# tmpfs covers /sys/fs/cgroup/unified there, so crun sees a pure v1 host.
#
# Peak RSS is ru_maxrss from wait4() of the runtime process: the high-water
# resident set of that process or of any single descendant it reaped
# itself (runc's `runc init`, the container's init before and after exec),
# whichever is larger, never a sum.  It is what `/usr/bin/time -f %M`
# prints, the measure behind "crun: 3.3 MiB".  The container payload here
# is static busybox `true` (the exec row shows that floor, about 1.3 MiB),
# so above it the figure is the runtime's own memory.  The largest value
# over all starts is reported.
#
# "cpu ms" is user+system CPU time per start of the runtime and everything
# it reaped (wait4 rusage), less sensitive than wall-clock to other load on
# the machine; kernel work deferred to worker threads (network namespace
# teardown, RCU) is in neither.  The load average is printed: on a busy
# 2-CPU machine wall-clock figures inflate 2-3x, compare ratios.
#
# Rows:
#   airlock          airlock run, cgroupfs manager (the default)
#   airlock-nocg     airlock --cgroup-manager=disabled run (same bundle)
#   airlock-v1only   airlock run with the cgroup2 mount hidden, as crun runs
#                    (not run by default: airlock rejects a cgroup2 mount
#                    that mountinfo lists but a later mount covers)
#   crun             crun run (cgroup2 mount hidden, see above)
#   crun-nocg        crun --cgroup-manager=disabled run
#   runc             runc run
#   bwrap            bwrap --unshare-{pid,net,uts,ipc,cgroup} --ro-bind ROOTFS / /bin/true
#   unshare          unshare -pmuinC --fork --root ROOTFS /bin/true
#   exec             ROOTFS/bin/busybox true: the cost of spawning the payload
# Cgroup setup+teardown per container = median over samples of the paired
# difference airlock - airlock-nocg (and crun - crun-nocg).
#
# Sandbox section.  Three rows, each a throw-away run of /bin/true:
#   sandbox  airlock --root R sandbox run --result FILE -- /bin/true: the
#            default profile (user namespace, every namespace, cgroup,
#            built-in seccomp, the host's /usr /etc /bin /sbin /lib* read-only
#            under an overlay writable layer, fresh /tmp /dev /proc, the
#            result record written), one result file per start; each is
#            checked (status OK) and the run's state, box and cgroups must
#            be gone after every sample
#   crun     crun run of the busybox bundle, as the crun row above
#   bwrap    bwrap --unshare-all --die-with-parent --ro-bind /usr /usr
#            --symlink usr/bin /bin --symlink usr/lib /lib --symlink
#            usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp /bin/true
#            (Debian 12 is merged-/usr: /bin, /lib, /lib64 are links into it)
# They are paired: a sample runs BENCH_SANDBOX_STARTS starts of each row back
# to back, in the order sandbox crun bwrap, then bwrap crun sandbox in the
# next sample, and so on.  Reported: median ms per start of each row, the
# ratios of the medians, and the median of the per-sample ratios (each
# sample's rows ran within seconds of each other, so it drifts less).
#
# Supervisor memory: the peak resident set of the airlock process itself
# (the supervisor: it runs the sandbox, pumps its output and writes the
# result), not of the sandbox's processes.  bench-exec -m reads VmHWM of
# /proc/PID/status, polled every millisecond and, exactly, at the exit stop
# (PTRACE_O_TRACEEXIT); wait4's ru_maxrss would include the largest process
# the supervisor reaped.  Cases: `sandbox run -- sleep 1`, and a 1 GB output
# flood `sandbox run -- head -c 1000000000 /dev/zero > /dev/null` with the
# default --output-limit (1M passed, the rest read and counted) and with
# --output-limit=0 (all passed on).  BENCH_RSS_RUNS runs each; the largest
# VmHWM is reported, with how much of the resident set at exit was file
# pages (the binary and shared libraries' text) and how much anonymous.
#
# Rollback section.  tests/bench/bench-rollback.c (built here against the
# build's libairlock.a) times one rollback after 10, 1000 and 10000 of a
# 10000-file base's files changed: al_snap_rollback() of an overlay store
# (in the temp dir, on /tmp's disk) and of a btrfs store (a loop-mounted
# btrfs image whose backing file is on a tmpfs), against `rm -rf upper &&
# mkdir upper` (in-process) and the btrfs subvolume delete + snapshot pair,
# as raw ioctls and as two `btrfs` commands.  Medians; targets: overlay
# <= 10 ms at every count, btrfs <= 1.2x the ioctl pair.  See the top of
# bench-rollback.c.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
AIRLOCK=${AIRLOCK:-airlock}
SAMPLES=${BENCH_SAMPLES:-7}
STARTS=${BENCH_STARTS:-20}
ALL_ROWS="airlock airlock-nocg airlock-v1only crun crun-nocg runc bwrap unshare exec"
ROWS=${BENCH_RUNTIMES:-airlock airlock-nocg crun crun-nocg runc bwrap unshare exec}
SECTIONS=${BENCH_SECTIONS:-startup sandbox rollback}
RB_SAMPLES=${BENCH_ROLLBACK_SAMPLES:-15}
RB_FILES=${BENCH_ROLLBACK_FILES:-10000}
RB_COUNTS=${BENCH_ROLLBACK_COUNTS:-10 1000 10000}
SB_SAMPLES=${BENCH_SANDBOX_SAMPLES:-$SAMPLES}
SB_STARTS=${BENCH_SANDBOX_STARTS:-$STARTS}
RSS_RUNS=${BENCH_RSS_RUNS:-3}
CC=${CC:-cc}

die () { echo "run-bench.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
AIRLOCK=$(command -v "$AIRLOCK") || die "no airlock binary (set AIRLOCK)"
command -v unshare >/dev/null || die "unshare(1) is missing"
has_section () { [[ " $SECTIONS " == *" $1 "* ]]; }
for sec in $SECTIONS; do
  case "$sec" in startup|sandbox|rollback) ;; *) die "unknown section $sec (sections: startup sandbox rollback)" ;; esac
done
has_section startup || ROWS=

tmp=$(mktemp -d /tmp/al-bench-XXXXXX)
tag=$(basename "$tmp" | sed 's/^al-bench-//' | tr 'A-Z' 'a-z')
cg_leaves () {
  # Our own leaf cgroups, if any are left, in every hierarchy.
  local d
  for d in /sys/fs/cgroup/*/airlock/bench-"$tag"-*; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}
cleanup () {
  set +e
  local r id d
  for r in "$tmp"/root-*; do
    [ -d "$r" ] || continue
    for id in "$r"/bench-"$tag"-*; do
      [ -e "$id" ] || continue
      id=$(basename "$id")
      case "$r" in
        *root-airlock*) timeout 10 "$AIRLOCK" --root "$r" delete -f "$id" ;;
        *root-crun*) timeout 10 crun --root "$r" delete -f "$id" ;;
        *root-runc*) timeout 10 runc --root "$r" delete -f "$id" ;;
      esac
    done >/dev/null 2>&1
  done
  # Sandbox runs the benchmark started: state entries are named sb-*.
  for id in "$tmp"/root-sandbox/sb-*; do
    [ -e "$id" ] && timeout 10 "$AIRLOCK" --root "$tmp/root-sandbox" delete -f "$(basename "$id")"
  done >/dev/null 2>&1
  # Only empty leaves we named ourselves (or whose id a result record of
  # ours gave); rmdir fails on a busy cgroup.
  for d in $(cg_leaves); do rmdir "$d" 2>/dev/null; done
  if [ -f "$tmp/sb-ids" ]; then
    for id in $(sort -u "$tmp/sb-ids"); do
      for d in /sys/fs/cgroup/*/airlock/"$id"; do [ -d "$d" ] && rmdir "$d"; done
    done 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ helper + bundles
"$CC" -O2 -o "$tmp/bench-exec" "$here/bench-exec.c" || die "cannot build bench-exec"
bench_exec=$tmp/bench-exec

AIRLOCK="$AIRLOCK" sh "$srcdir/tests/fixtures/make-bundle.sh" "$tmp/bundle" /bin/true >/dev/null
rootfs=$tmp/bundle/rootfs
# crun 1.8.1 only loads ociVersion 1.0.x; the config uses nothing newer.
sed -i -e 's/"ociVersion": "[^"]*"/"ociVersion": "1.0.2"/' \
       -e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" "$tmp/bundle/config.json"
grep -q "\"path\": \"$rootfs\"" "$tmp/bundle/config.json" || die "cannot set root.path"
for ns in pid network ipc uts mount; do
  grep -q "\"type\": \"$ns\"" "$tmp/bundle/config.json" || die "spec lacks the $ns namespace"
done

is_oci () { case "$1" in airlock*|crun*|runc) return 0 ;; esac; return 1; }
# make_bundles ROW COUNT: a config.json per start, each its own cgroupsPath.
make_bundles () {
  local row=$1 i
  for ((i = 0; i < $2; i++)); do
    mkdir -p "$tmp/b/$row/$i"
    sed "s|^  \"linux\": {|  \"linux\": {\n    \"cgroupsPath\": \"/airlock/bench-$tag-$row-$i\",|" \
      "$tmp/bundle/config.json" > "$tmp/b/$row/$i/config.json"
  done
  grep -q '"cgroupsPath"' "$tmp/b/$row/0/config.json" || die "cannot set cgroupsPath"
  mkdir -p "$tmp/root-$row"
}
for row in $ROWS; do
  is_oci "$row" && make_bundles "$row" "$STARTS"
done

hide_unified=
if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
   grep -q . /sys/fs/cgroup/unified/cgroup.controllers; then
  hide_unified=1
fi

# row_cmd ROW: the per-start command line (with %i for the start number).
row_cmd () {
  local row=$1 b="$tmp/b/$1/%i" id="bench-$tag-$1-%i" r="$tmp/root-$1"
  case "$row" in
    airlock|airlock-v1only) echo "$AIRLOCK --root $r run --bundle $b $id" ;;
    airlock-nocg) echo "$AIRLOCK --root $r --cgroup-manager=disabled run --bundle $b $id" ;;
    crun|crun-sb) echo "crun --root $r run --bundle $b $id" ;;
    crun-nocg) echo "crun --root $r --cgroup-manager=disabled run --bundle $b $id" ;;
    runc) echo "runc --root $r run --bundle $b $id" ;;
    bwrap) echo "bwrap --unshare-pid --unshare-net --unshare-uts --unshare-ipc --unshare-cgroup --ro-bind $rootfs / /bin/true" ;;
    unshare) echo "unshare -pmuinC --fork --root $rootfs /bin/true" ;;
    exec) echo "$rootfs/bin/busybox true" ;;
    # The sandbox section's rows (see the top).
    sandbox) echo "$AIRLOCK --root $tmp/root-sandbox sandbox run --result $tmp/sbres/%i.json -- /bin/true" ;;
    bwrap-sb) echo "bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp /bin/true" ;;
    *) return 1 ;;
  esac
}
row_tool () {
  case "$1" in
    airlock*|sandbox) echo "$AIRLOCK" ;; crun*) echo crun ;; runc) echo runc ;;
    bwrap*) echo bwrap ;; unshare) echo unshare ;; exec) echo "$rootfs/bin/busybox" ;;
  esac
}
row_hides () { case "$1" in crun*|airlock-v1only) [ -n "$hide_unified" ] ;; *) return 1 ;; esac; }

active=
for row in $ROWS; do
  row_cmd "$row" >/dev/null || die "unknown row $row (rows: $ALL_ROWS)"
  if command -v "$(row_tool "$row")" >/dev/null; then
    active="$active $row"
  else
    echo "run-bench.sh: skipping $row: $(row_tool "$row") is not installed" >&2
  fi
done

# sb_check RESULT STATUS: a sandbox run's result record says STATUS and its
# cgroups are gone.  The record is removed (a stale one cannot pass later).
sb_check () {
  local f=$1 id d
  if ! grep -q "^  \"status\": \"$2\"" "$f" 2>/dev/null; then
    echo "run-bench.sh: sandbox: $f: not status $2: $(tr -d '\n' < "$f" 2>/dev/null)" >&2
    return 1
  fi
  id=$(sed -n 's/^  "id": "\(sb-[0-9a-f]*\)".*/\1/p' "$f")
  [ -n "$id" ] || { echo "run-bench.sh: sandbox: $f: no id" >&2; return 1; }
  echo "$id" >> "$tmp/sb-ids"
  for d in /sys/fs/cgroup/*/airlock/"$id"; do
    if [ -d "$d" ]; then
      echo "run-bench.sh: sandbox $id left its cgroup $d behind" >&2
      return 1
    fi
  done
  rm -f "$f"
}
# sb_check_root: no sandbox state entry is left, and ~sandbox holds only
# the mount point every run shares.
sb_check_root () {
  if compgen -G "$tmp/root-sandbox/sb-*" >/dev/null ||
     [ -n "$(ls -A "$tmp/root-sandbox/~sandbox" 2>/dev/null | grep -vx mnt)" ]; then
    echo "run-bench.sh: sandbox left state behind in $tmp/root-sandbox:" \
         "$(cd "$tmp/root-sandbox" && echo sb-* ./~sandbox/*)" >&2
    return 1
  fi
}

# run_sample ROW COUNT: prints "MS RSS_KIB CPU_MS"; fails if a start fails or a
# cgroup or state directory is left behind.
run_sample () {
  local row=$1 count=$2 out hide=
  row_hides "$row" && hide='mount -t tmpfs -o size=4m,mode=755 bench-hide /sys/fs/cgroup/unified || exit 1;'
  # shellcheck disable=SC2046
  out=$(timeout 300 unshare -m --propagation private sh -c "$hide exec \"\$@\"" sh \
          "$bench_exec" -n "$count" -- $(row_cmd "$row")) ||
    { echo "run-bench.sh: $row failed" >&2; return 1; }
  if [ -n "$(cg_leaves)" ]; then
    echo "run-bench.sh: $row left cgroups behind: $(cg_leaves | tr '\n' ' ')" >&2
    return 1
  fi
  if compgen -G "$tmp/root-$row/bench-$tag-*" >/dev/null; then
    echo "run-bench.sh: $row left state behind in $tmp/root-$row" >&2
    return 1
  fi
  if [ "$row" = sandbox ]; then
    local i
    for ((i = 0; i < count; i++)); do
      sb_check "$tmp/sbres/$i.json" OK || return 1
    done
    sb_check_root || return 1
  fi
  local ms rss cpu
  ms=$(sed -n 's/^ms_per_iter=\([0-9.]*\).*/\1/p' <<<"$out")
  rss=$(sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p' <<<"$out")
  cpu=$(sed -n 's/.*cpu_ms_per_iter=\([0-9.]*\).*/\1/p' <<<"$out")
  echo "$ms $rss $cpu"
}

# ------------------------------------------------------------ report helpers
declare -A MS RSS CPU
median () { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minv () { tr ' ' '\n' | grep . | sort -g | head -1; }
maxv () { tr ' ' '\n' | grep . | sort -g | tail -1; }
# paired A B [CPU]: median of per-sample differences A - B (wall or CPU ms)
paired () {
  local a=${MS[$1]} b=${MS[$2]}
  [ "${3:-}" = cpu ] && a=${CPU[$1]} b=${CPU[$2]}
  paste -d' ' <(tr ' ' '\n' <<<"$a" | grep .) <(tr ' ' '\n' <<<"$b" | grep .) |
    awk '{ printf "%.3f\n", $1 - $2 }' | tr '\n' ' ' | median
}
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
has () { [ -n "${MS[$1]:-}" ]; }

missed=0
# target NAME OK: records a target in json_targets; a false one is missed.
target () {
  json_targets="$json_targets${json_targets:+,}\"$1\":$2"
  [ "$2" = true ] || missed=1
}

# ------------------------------------------------------------------- samples
if [ -n "$active" ]; then
  echo "airlock startup benchmark: $SAMPLES samples x $STARTS starts per row;" \
       "bundle $tmp/bundle; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  read -r -a rows <<<"$active"
  for row in "${rows[@]}"; do
    run_sample "$row" $((STARTS < 3 ? STARTS : 3)) >/dev/null || exit 1
  done
  for ((s = 0; s < SAMPLES; s++)); do
    n=${#rows[@]}
    for ((k = 0; k < n; k++)); do
      row=${rows[$(((k + s) % n))]}
      read -r ms rss cpu < <(run_sample "$row" "$STARTS") || exit 1
      [ -n "${ms:-}" ] || exit 1
      MS[$row]="${MS[$row]:-} $ms"
      RSS[$row]="${RSS[$row]:-} $rss"
      CPU[$row]="${CPU[$row]:-} $cpu"
    done
    echo "  sample $((s + 1))/$SAMPLES done" >&2
  done

  # ----------------------------------------------------------------- report
  declare -A MED
  printf '\n%-16s %10s %8s %8s %9s %10s %8s\n' "runtime" "ms/start" "min" "max" "cpu ms" "peakRSS" "vs crun"
  printf '%-16s %10s %8s %8s %9s %10s %8s\n' "" "(median)" "" "" "(median)" "(KiB)" "(median)"
  for row in "${rows[@]}"; do
    MED[$row]=$(median <<<"${MS[$row]}")
    vs=-
    has crun && vs="$(ratio "${MED[$row]}" "$(median <<<"${MS[crun]}")")x"
    printf '%-16s %10.2f %8.2f %8.2f %9.2f %10d %8s\n' "$row" "${MED[$row]}" \
      "$(minv <<<"${MS[$row]}")" "$(maxv <<<"${MS[$row]}")" "$(median <<<"${CPU[$row]}")" \
      "$(maxv <<<"${RSS[$row]}")" "$vs"
  done

  echo
  json_rows=
  for row in "${rows[@]}"; do
    json_rows="$json_rows${json_rows:+,}\"$row\":{\"median_ms\":${MED[$row]},\"min_ms\":$(minv <<<"${MS[$row]}"),\"max_ms\":$(maxv <<<"${MS[$row]}"),\"cpu_ms\":$(median <<<"${CPU[$row]}"),\"peak_rss_kib\":$(maxv <<<"${RSS[$row]}"),\"samples_ms\":[$(tr ' ' '\n' <<<"${MS[$row]}" | grep . | paste -sd,)]}"
  done
  json_ratios='' json_cg='' json_targets=''
  if has airlock && has crun; then
    r=$(ratio "${MED[airlock]}" "${MED[crun]}")
    echo "airlock/crun   = $r   (target <= 0.5)"
    json_ratios="$json_ratios${json_ratios:+,}\"airlock/crun\":$r"
    target "airlock/crun<=0.5" "$(awk -v r="$r" 'BEGIN { print (r <= 0.5) ? "true" : "false" }')"
  fi
  if has airlock && has runc; then
    r=$(ratio "${MED[airlock]}" "${MED[runc]}")
    echo "airlock/runc   = $r"
    json_ratios="$json_ratios${json_ratios:+,}\"airlock/runc\":$r"
  fi
  if has airlock-v1only && has crun; then
    r=$(ratio "${MED[airlock-v1only]}" "${MED[crun]}")
    echo "airlock-v1only/crun = $r   (same cgroup view as crun)"
    json_ratios="$json_ratios${json_ratios:+,}\"airlock-v1only/crun\":$r"
  fi
  if has airlock; then
    rss=$(maxv <<<"${RSS[airlock]}")
    echo "airlock peak RSS = $rss KiB   (target <= 2048)"
    target "airlock_rss<=2MiB" "$( [ "$rss" -le 2048 ] && echo true || echo false)"
  fi
  if has airlock && has airlock-nocg; then
    d=$(paired airlock airlock-nocg)
    c=$(paired airlock airlock-nocg cpu)
    echo "airlock cgroup setup+teardown = $d ms per container, $c ms CPU   (target <= 1.5)"
    json_cg="$json_cg${json_cg:+,}\"airlock\":$d,\"airlock_cpu\":$c"
    # Judged on the larger of the wall and CPU differences, so noise that
    # makes the wall difference small or negative cannot pass it alone.
    target "airlock_cgroup<=1.5ms" "$(awk -v d="$d" -v c="$c" 'BEGIN { m = (d > c) ? d : c; print (m <= 1.5) ? "true" : "false" }')"
  fi
  if has crun && has crun-nocg; then
    d=$(paired crun crun-nocg)
    c=$(paired crun crun-nocg cpu)
    echo "crun    cgroup setup+teardown = $d ms per container, $c ms CPU"
    json_cg="$json_cg${json_cg:+,}\"crun\":$d,\"crun_cpu\":$c"
  fi
  if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
    echo "WARNING: load average $(cut -d' ' -f1 /proc/loadavg) exceeds $(nproc) CPUs: wall-clock figures are inflated and noisy; prefer the cpu ms column and ratios"
  fi
  echo "BENCH_JSON {\"bench\":\"startup\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"samples\":$SAMPLES,\"starts_per_sample\":$STARTS,\"cpus\":$(nproc),\"rows\":{$json_rows},\"ratios\":{$json_ratios},\"cgroup_ms_per_container\":{$json_cg},\"targets\":{$json_targets}}"
fi

# ------------------------------------------------------------------- sandbox
# pratio A B: median of the per-sample ratios A / B of wall ms.
pratio () {
  paste -d' ' <(tr ' ' '\n' <<<"${MS[$1]}" | grep .) <(tr ' ' '\n' <<<"${MS[$2]}" | grep .) |
    awk '{ printf "%.4f\n", $1 / $2 }' | tr '\n' ' ' | median | awk '{ printf "%.2f", $1 }'
}
# rss_case LABEL STATUS [OPTION...] -- PROGRAM...: BENCH_RSS_RUNS sandbox
# runs under bench-exec -m; prints "HWM ANON FILE" of the run with the
# largest VmHWM.  The run's record must say STATUS; a flood must have
# passed its 10^9 bytes to the supervisor.
rss_case () {
  local label=$1 status=$2 run out best=0 anon=0 file=0 h
  shift 2
  for ((run = 0; run < RSS_RUNS; run++)); do
    out=$(timeout 300 unshare -m --propagation private "$bench_exec" -m -o /dev/null -- \
            "$AIRLOCK" --root "$tmp/root-sandbox" sandbox run --result "$tmp/sbres/rss.json" "$@") ||
      { echo "run-bench.sh: supervisor memory, $label: failed: $out" >&2; return 1; }
    case "$label" in
      *flood*) grep -q '^  "stdout_bytes": 1000000000,' "$tmp/sbres/rss.json" ||
                 { echo "run-bench.sh: $label: not 10^9 bytes read: $(tr -d '\n' < "$tmp/sbres/rss.json")" >&2; return 1; } ;;
    esac
    sb_check "$tmp/sbres/rss.json" "$status" || return 1
    sb_check_root || return 1
    h=$(sed -n 's/^hwm_kib=\([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$h" ] || { echo "run-bench.sh: $label: no VmHWM in '$out'" >&2; return 1; }
    if [ "$h" -gt "$best" ]; then
      best=$h
      anon=$(sed -n 's/.*exit_anon_kib=\([0-9]*\).*/\1/p' <<<"$out")
      file=$(sed -n 's/.*exit_file_kib=\([0-9]*\).*/\1/p' <<<"$out")
    fi
  done
  echo "$best $anon $file"
}

if has_section sandbox; then
  sb_rows=
  for row in sandbox crun-sb bwrap-sb; do
    if command -v "$(row_tool "$row")" >/dev/null; then
      sb_rows="$sb_rows $row"
    else
      echo "run-bench.sh: skipping $row: $(row_tool "$row") is not installed" >&2
    fi
  done
  read -r -a rows <<<"$sb_rows"
  [[ " $sb_rows " == *" crun-sb "* ]] && make_bundles crun-sb "$SB_STARTS"
  mkdir -p "$tmp/root-sandbox" "$tmp/sbres"
  sb_load0=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "airlock sandbox benchmark: $SB_SAMPLES paired samples x $SB_STARTS starts per row;" \
       "$(nproc) CPUs; load $sb_load0" >&2
  for row in "${rows[@]}"; do
    run_sample "$row" $((SB_STARTS < 3 ? SB_STARTS : 3)) >/dev/null || exit 1
  done
  for ((s = 0; s < SB_SAMPLES; s++)); do
    # Order sandbox crun bwrap, then bwrap crun sandbox, and so on.
    order=("${rows[@]}")
    if ((s % 2)); then
      order=()
      for ((k = ${#rows[@]} - 1; k >= 0; k--)); do order+=("${rows[$k]}"); done
    fi
    for row in "${order[@]}"; do
      read -r ms rss cpu < <(run_sample "$row" "$SB_STARTS") || exit 1
      [ -n "${ms:-}" ] || exit 1
      MS[$row]="${MS[$row]:-} $ms"
      RSS[$row]="${RSS[$row]:-} $rss"
      CPU[$row]="${CPU[$row]:-} $cpu"
    done
    echo "  sample $((s + 1))/$SB_SAMPLES done (${order[*]})" >&2
  done

  json_rows='' json_ratios='' json_targets='' json_rss=''
  declare -A SBNAME=([sandbox]="airlock sandbox" [crun-sb]="crun" [bwrap-sb]="bwrap")
  printf '\n%-16s %10s %8s %8s %9s %10s %8s %8s\n' "sandbox run" "ms/start" "min" "max" "cpu ms" "peakRSS" "vs crun" "vs bwrap"
  printf '%-16s %10s %8s %8s %9s %10s %8s %8s\n' "of /bin/true" "(median)" "" "" "(median)" "(tree,KiB)" "(median)" "(median)"
  for row in "${rows[@]}"; do
    med=$(median <<<"${MS[$row]}")
    vc=- vb=-
    has crun-sb && vc="$(ratio "$med" "$(median <<<"${MS[crun-sb]}")")x"
    has bwrap-sb && vb="$(ratio "$med" "$(median <<<"${MS[bwrap-sb]}")")x"
    printf '%-16s %10.2f %8.2f %8.2f %9.2f %10d %8s %8s\n' "${SBNAME[$row]}" "$med" \
      "$(minv <<<"${MS[$row]}")" "$(maxv <<<"${MS[$row]}")" "$(median <<<"${CPU[$row]}")" \
      "$(maxv <<<"${RSS[$row]}")" "$vc" "$vb"
    json_rows="$json_rows${json_rows:+,}\"${SBNAME[$row]// /_}\":{\"median_ms\":$med,\"min_ms\":$(minv <<<"${MS[$row]}"),\"max_ms\":$(maxv <<<"${MS[$row]}"),\"cpu_ms\":$(median <<<"${CPU[$row]}"),\"peak_rss_tree_kib\":$(maxv <<<"${RSS[$row]}"),\"samples_ms\":[$(tr ' ' '\n' <<<"${MS[$row]}" | grep . | paste -sd,)]}"
  done
  echo
  if has sandbox && has crun-sb; then
    r=$(ratio "$(median <<<"${MS[sandbox]}")" "$(median <<<"${MS[crun-sb]}")")
    pr=$(pratio sandbox crun-sb)
    echo "sandbox/crun   = $r   (median of per-sample ratios $pr; target <= 0.6)"
    json_ratios="$json_ratios${json_ratios:+,}\"sandbox/crun\":$r,\"sandbox/crun_paired\":$pr"
    target "sandbox/crun<=0.6" "$(awk -v r="$r" 'BEGIN { print (r <= 0.6) ? "true" : "false" }')"
  fi
  if has sandbox && has bwrap-sb; then
    r=$(ratio "$(median <<<"${MS[sandbox]}")" "$(median <<<"${MS[bwrap-sb]}")")
    pr=$(pratio sandbox bwrap-sb)
    echo "sandbox/bwrap  = $r   (median of per-sample ratios $pr)"
    json_ratios="$json_ratios${json_ratios:+,}\"sandbox/bwrap\":$r,\"sandbox/bwrap_paired\":$pr"
  fi
  echo "(peakRSS (tree) is wait4's ru_maxrss: the runtime or any one process it reaped)"

  # Supervisor memory: the airlock process's own peak, see the top.
  printf '\n%-46s %10s %8s %8s\n' "supervisor (the airlock process) memory," "VmHWM" "anon" "file"
  printf '%-46s %10s %8s %8s\n' "sandbox run [limit 0 = --output-limit=0] ..." "(KiB)" "(KiB)" "(KiB)"
  rss_max=0
  # NAME|STATUS|OPTIONS AND PROGRAM (the table shows them as `sandbox run ...`)
  for c in "true|OK|-- /bin/true" \
           "sleep|OK|-- sleep 1" \
           "flood|OL|-- head -c 1000000000 /dev/zero" \
           "flood_nolimit|OK|--output-limit=0 -- head -c 1000000000 /dev/zero"; do
    IFS='|' read -r label status args <<<"$c"
    # shellcheck disable=SC2086
    read -r hwm anon file < <(rss_case "$label" "$status" $args) || exit 1
    [ -n "${hwm:-}" ] || exit 1
    args=${args/1000000000/1e9}
    printf '%-46s %10d %8d %8d\n' "${args/#--output-limit=0/limit 0}" "$hwm" "$anon" "$file"
    json_rss="$json_rss${json_rss:+,}\"$label\":{\"vmhwm_kib\":$hwm,\"exit_anon_kib\":$anon,\"exit_file_kib\":$file}"
    [ "$hwm" -gt "$rss_max" ] && rss_max=$hwm
  done
  echo
  echo "(VmHWM: the largest of $RSS_RUNS runs; anon/file: its resident set at exit, anonymous"
  echo " memory and file pages: the binary's and shared libraries' text)"
  echo "supervisor peak RSS = $rss_max KiB   (target <= 2048)"
  target "sandbox_supervisor_rss<=2MiB" "$( [ "$rss_max" -le 2048 ] && echo true || echo false)"
  sb_load1=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "load average: $sb_load0 at start, $sb_load1 at end"
  if awk -v l="${sb_load1%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
    echo "WARNING: load average ${sb_load1%% *} exceeds $(nproc) CPUs: wall-clock figures are inflated and noisy; prefer the cpu ms column and ratios"
  fi
  echo "BENCH_JSON {\"bench\":\"sandbox\",\"load\":\"$sb_load1\",\"load_start\":\"$sb_load0\",\"samples\":$SB_SAMPLES,\"starts_per_sample\":$SB_STARTS,\"cpus\":$(nproc),\"rows\":{$json_rows},\"ratios\":{$json_ratios},\"supervisor_rss\":{$json_rss},\"targets\":{$json_targets}}"
fi

# ------------------------------------------------------------------ rollback
if has_section rollback; then
  json_targets=''
  command -v mkfs.btrfs >/dev/null || die "the rollback section needs mkfs.btrfs (btrfs-progs)"
  builddir=${AL_BUILDDIR:-$(dirname "$AIRLOCK")}
  [ -f "$builddir/libairlock.a" ] || die "no $builddir/libairlock.a (set AL_BUILDDIR)"
  # shellcheck disable=SC2046
  "$CC" -O2 -std=gnu11 -I"$builddir" -iquote "$srcdir/runtime" -iquote "$srcdir/isolation" \
    -iquote "$srcdir/snapshot" -iquote "$srcdir/tests/unit" -o "$tmp/bench-rollback" \
    "$here/bench-rollback.c" "$srcdir/tests/unit/btrfs_testlib.c" "$builddir/libairlock.a" \
    $(pkg-config --libs libbtrfsutil jansson libseccomp libcap) || die "cannot build bench-rollback"
  mkdir "$tmp/rollback"
  echo
  timeout 3600 "$tmp/bench-rollback" -s "$RB_SAMPLES" -f "$RB_FILES" -c "$RB_COUNTS" \
    "$tmp/rollback" | tee "$tmp/rollback.out" || die "bench-rollback failed"
  target "rollback_overlay<=10ms" "$(grep -q '^target overlay.*: met' "$tmp/rollback.out" && echo true || echo false)"
  target "rollback_btrfs<=1.2x_ioctl" "$(grep -q '^target btrfs.*: met' "$tmp/rollback.out" && echo true || echo false)"

  # The whole command, as a user waits for it: `airlock sandbox rollback`
  # of a named sandbox (overlay on $tmp) after N files were written in it;
  # the deletion of what it dropped happens after it returns.
  echo
  echo "airlock sandbox rollback, the whole command (overlay store on $(stat -f -c %T "$tmp"); median of 5)"
  cli="$tmp/cli-root"
  "$AIRLOCK" --root "$cli" sandbox create rbbench >/dev/null || die "sandbox create failed"
  "$AIRLOCK" --root "$cli" sandbox snapshot rbbench s0 >/dev/null || die "sandbox snapshot failed"
  for n in 10 $RB_FILES; do
    times=''
    for _ in 1 2 3 4 5; do
      "$AIRLOCK" --root "$cli" sandbox exec rbbench -- /bin/sh -c \
        "mkdir -p /many && cd /many && i=0; while [ \$i -lt $n ]; do : > f\$i; i=\$((i+1)); done" \
        || die "sandbox exec failed"
      sync
      t0=$(date +%s%N)
      "$AIRLOCK" --root "$cli" sandbox rollback rbbench s0 || die "sandbox rollback failed"
      t1=$(date +%s%N)
      times="$times $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')"
      # Let the background deletion finish before the next sample.
      for _ in $(seq 600); do ls "$cli/~named/rbbench/store" | grep -q '^trash-' || break; sleep 0.05; done
    done
    printf '  %6d files changed: %8.2f ms\n' "$n" "$(echo "$times" | median)"
  done
  "$AIRLOCK" --root "$cli" sandbox destroy rbbench || die "sandbox destroy failed"
fi

if [ "${BENCH_STRICT:-0}" = 1 ] && [ "$missed" = 1 ]; then
  exit 2
fi
exit 0
