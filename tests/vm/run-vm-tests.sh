#!/bin/bash
# run-vm-tests.sh — airlock's tests on a pure cgroup-v2 host, in a qemu guest.
#
#   tests/vm/run-vm-tests.sh BUILDDIR [SRCDIR]
#
# The development and CI hosts are v1-hybrid, so the v2 backend is tested in
# a guest: qemu-system-x86_64 (TCG; no KVM needed) boots Debian's own kernel
# (the newest /boot/vmlinuz-*, package linux-image-amd64) with an initramfs
# built here in a temp dir: busybox-static with applet links, the built
# airlock and test binaries with their shared libraries (ldd, including the
# dynamic loader), the sources' tests/fixtures, the overlay and btrfs kernel
# modules with their dependencies (modules.dep order) and an init script.
# The init copies itself to a tmpfs and switch_roots there (pivot_root, which
# containers need, does not work on the initramfs rootfs), mounts cgroup2 at
# /sys/fs/cgroup as systemd does, moves itself into /init.scope, enables
# every controller in the root's cgroup.subtree_control, runs each test
# binary with TAP output and prints
#
#   VM-TESTS: N passed, M failed, S skipped
#
# before it powers off.  This script prints the serial console and exits
# non-zero unless that line shows 0 failed and more than 0 passed.
#
# Tests run: every tests/integration/test_* binary in BUILDDIR and
# tests/unit/test_cgroup (its host-neutral suites; the others describe the
# v1-hybrid development host: see VM_UNIT_FILTER).
#
# Environment:
#   VM_TIMEOUT      seconds before qemu is killed (default 1200)
#   VM_KERNEL       kernel image (default: newest /boot/vmlinuz-*)
#   VM_TESTS        space-separated test binaries relative to BUILDDIR
#                   (default: as above)
#   VM_TEST_JOBS    Criterion --jobs in the guest (default 2)
#   VM_UNIT_FILTER  Criterion options for tests/unit/test_cgroup
#                   (default: the v2 suite, the layout parsers and the real-host layout check;
#                   empty: every suite)
#   VM_TEST_ARGS    extra arguments for every integration test binary
#                   (e.g. --filter=ns/join_by_path)
#   VM_KEEP         1: keep the temp dir (initramfs, console log)
#   VM_SHELL        1: interactive guest shell instead of the tests
#                   (debugging; -nographic, Ctrl-a x quits)
set -euo pipefail
# One compound command: bash parses all of it before running, so editing
# this file while a run is going cannot change that run.
{

builddir=${1:?usage: run-vm-tests.sh BUILDDIR [SRCDIR]}
builddir=$(cd "$builddir" && pwd)
srcdir=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
timeout_s=${VM_TIMEOUT:-1200}
jobs=${VM_TEST_JOBS:-2}

die () { echo "run-vm-tests: $*" >&2; exit 2; }

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
  die "/bin/busybox must be busybox-static (apt-get install busybox-static)"

kernel=${VM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)}
[ -n "$kernel" ] && [ -r "$kernel" ] || die "no kernel in /boot (apt-get install linux-image-amd64)"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing for kernel $kver"

[ -x "$builddir/airlock" ] && [ -x "$builddir/airlock-net" ] || die "$builddir/airlock not built"
if [ -n "${VM_TESTS:-}" ]; then
  tests=$VM_TESTS
else
  tests=
  for t in "$builddir"/tests/integration/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in *.o|*.log|*.trs) continue ;; esac
    tests="$tests ${t#"$builddir"/}"
  done
  [ -x "$builddir/tests/unit/test_cgroup" ] && tests="tests/unit/test_cgroup $tests"
fi
[ -n "${tests// }" ] || die "no test binaries in $builddir (make check_PROGRAMS first)"
for t in $tests; do
  [ -x "$builddir/$t" ] || die "$builddir/$t not built"
done

work=$(mktemp -d /tmp/al-vm-XXXXXX)
qemu_pid=
cleanup () {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ "${VM_KEEP:-0}" = 1 ]; then
    echo "run-vm-tests: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,new,lib,lib64} \
         "$root/airlock/tests" "$root/airlock/src/tests" "$root/lib/modules/$kver"

# ---------------------------------------------------------------- busybox
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# ------------------------------------------------- binaries and libraries
declare -A copied=()
copy_file () { # host path -> same path in the guest (symlinks kept + resolved)
  local f=$1
  [ -n "${copied[$f]:-}" ] && return 0
  copied[$f]=1
  mkdir -p "$root$(dirname "$f")"
  if [ -L "$f" ]; then
    local target
    target=$(readlink "$f")
    rm -f "$root$f"
    ln -s "$target" "$root$f"
    case $target in /*) copy_file "$target" ;; *) copy_file "$(dirname "$f")/$target" ;; esac
  else
    rm -f "$root$f"
    cp "$f" "$root$f"
  fi
}
copy_libs () { # the shared libraries of an ELF file, and the loader
  local lib
  for lib in $(LC_ALL=C ldd "$1" 2>/dev/null | awk '
      /=> \// { print $3; next }
      /^[ \t]*\/[^ ]+ \(0x/ { print $1 }'); do
    copy_file "$lib"
  done
}
install_bin () { # host file -> guest path, with its libraries
  mkdir -p "$root$(dirname "$2")"
  # never write through an existing link (e.g. an applet link to
  # /bin/busybox, which would be the host's file)
  rm -f "$root$2"
  cp "$1" "$root$2"
  copy_libs "$1"
}

install_bin "$builddir/airlock" /airlock/airlock
# sandbox run --network loopback|private runs it from beside airlock.
install_bin "$builddir/airlock-net" /airlock/airlock-net
for t in $tests; do
  install_bin "$builddir/$t" "/airlock/tests/$t"
done
# util-linux unshare (the tests call /usr/bin/unshare with long options)
for tool in /usr/bin/unshare /usr/bin/nsenter; do
  [ -x "$tool" ] && install_bin "$tool" "$tool"
done
cp -a "$srcdir/tests/fixtures" "$root/airlock/src/tests/"

# ldd: make-bundle.sh asks it whether busybox is static.  The guest has the
# dynamic loader but not glibc's ldd script.
loader=$(cd "$root" && ls lib64/ld-linux-x86-64.so.2 2>/dev/null || true)
[ -n "$loader" ] || die "the dynamic loader was not picked up by ldd"
rm -f "$root/usr/bin/ldd" "$root/usr/bin/gcc" "$root/usr/bin/cc"
cat > "$root/usr/bin/ldd" <<'EOF'
#!/bin/sh
# ldd for the test guest: the loader lists dynamic executables.
st=0
for f in "$@"; do
  if /lib64/ld-linux-x86-64.so.2 --verify "$f" >/dev/null 2>&1; then
    /lib64/ld-linux-x86-64.so.2 --list "$f" || st=1
  else
    echo "	not a dynamic executable"
    st=1
  fi
done
exit $st
EOF
chmod 755 "$root/usr/bin/ldd"

# No compiler in the guest: C fixtures (tests/fixtures/*.c) are compiled
# here with the flags the tests use, and /usr/bin/gcc (and cc) in the guest
# is a shim that serves `gcc -static ... -o OUT tests/fixtures/NAME.c` from
# those builds and refuses anything else.
mkdir -p "$root/usr/lib/al-vm"
for c in "$srcdir"/tests/fixtures/*.c; do
  [ -f "$c" ] || continue
  n=$(basename "$c" .c)
  ${CC:-gcc} -static -O1 -o "$root/usr/lib/al-vm/$n" "$c" ||
    die "cannot build fixture $c (static libc: libc6-dev)"
done
cat > "$root/usr/bin/gcc" <<'EOF'
#!/bin/sh
# gcc shim for the test guest: serves fixtures compiled on the host.
out= in= static=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    -static) static=1 ;;
    -O*|-g|-Wall|-Wextra) ;;
    *.c) in=$1 ;;
    *) echo "gcc (vm shim): unsupported argument $1" >&2; exit 1 ;;
  esac
  shift
done
name=$(basename "${in:-none}" .c)
pre=/usr/lib/al-vm/$name
if [ -z "$static" ] || [ -z "$out" ] || [ ! -f "$pre" ]; then
  echo "gcc (vm shim): only -static builds of tests/fixtures/*.c are available (asked: $in)" >&2
  exit 1
fi
exec cp "$pre" "$out"
EOF
chmod 755 "$root/usr/bin/gcc"
ln -s gcc "$root/usr/bin/cc"

# --------------------------------------------------------- kernel modules
# overlay and btrfs with their dependencies, in load order (modules.dep
# lists a module's dependencies deepest last).
modorder=
add_module () {
  local rel line deps d
  rel=$(awk -v m="$1" -F: '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n);
                               if (n == m) { print $1; exit } }' "$moddir/modules.dep")
  if [ -z "$rel" ]; then
    grep -qw "$1" "$moddir/modules.builtin" 2>/dev/null || echo "run-vm-tests: module $1 not found" >&2
    return 0
  fi
  line=$(grep "^$rel:" "$moddir/modules.dep")
  deps=$(echo "${line#*:}" | tr ' ' '\n' | sed '/^$/d' | tac)
  for d in $deps "$rel"; do
    case " $modorder " in *" $d "*) continue ;; esac
    modorder="$modorder $d"
  done
}
# crc32c: a soft dependency of libcrc32c and btrfs (modules.softdep), which
# modules.dep does not list; the generic one works on any emulated CPU.
add_module crc32c_generic
add_module overlay
add_module btrfs
# veth: sandbox run --network private.
add_module veth
: > "$root/lib/modules/$kver/load-order"
for m in $modorder; do
  base=$(basename "$m")
  case $base in
    *.ko.xz) xz -dc "$moddir/$m" > "$root/lib/modules/$kver/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$m" > "$root/lib/modules/$kver/${base%.zst}"; base=${base%.zst} ;;
    *.ko.gz) gzip -dc "$moddir/$m" > "$root/lib/modules/$kver/${base%.gz}"; base=${base%.gz} ;;
    *) cp "$moddir/$m" "$root/lib/modules/$kver/$base" ;;
  esac
  echo "$base" >> "$root/lib/modules/$kver/load-order"
done

# ------------------------------------------------------------------- /etc
cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
echo airlock-vm > "$root/etc/hostname"
echo "$tests" > "$root/airlock/tests.list"
echo "$jobs" > "$root/airlock/jobs"
echo "${VM_TEST_ARGS:-}" > "$root/airlock/test-args"
echo "${VM_UNIT_FILTER---filter=@(v2/*|layout/parses_*|layout/refuses_*|layout/real_host_*)}" > "$root/airlock/unit-filter"
[ "${VM_SHELL:-0}" = 1 ] && touch "$root/airlock/shell"

# ------------------------------------------------------------------- init
cat > "$root/init" <<'EOF'
#!/bin/sh
# Stage 1: copy the initramfs to a tmpfs and switch_root into it, so
# containers can pivot_root (the initramfs rootfs cannot be pivoted).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /new
for d in /*; do
  case $d in /proc|/new|/sys|/dev) mkdir -p "/new$d" ;; *) cp -a "$d" /new/ ;; esac
done
umount /proc
exec switch_root /new /sbin/vm-init
EOF
chmod 755 "$root/init"

cat > "$root/sbin/vm-init" <<'EOF'
#!/bin/sh
# Stage 2: a pure cgroup-v2 host, then the tests, then power off.
set -f
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
t0=$(cut -d' ' -f1 /proc/uptime)
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue /root
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
hostname airlock-vm
ip link set lo up 2>/dev/null

kver=$(uname -r)
modfail=0
while read -r m; do
  insmod "/lib/modules/$kver/$m" || { echo "VM: insmod $m failed"; modfail=$((modfail + 1)); }
done < "/lib/modules/$kver/load-order"

# cgroup2 at /sys/fs/cgroup with systemd's options; init moves into a leaf
# (/init.scope) so the root's children obey "no internal processes", and
# every controller is enabled in the root's subtree_control.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup 2>/dev/null ||
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/init.scope
echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "VM: cannot enable $c"
done
echo "VM: kernel $kver, $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
echo "VM: cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "VM: subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "VM: /proc/self/cgroup: $(cat /proc/self/cgroup)"
grep -c cgroup /proc/mounts | sed 's/^/VM: cgroup mounts: /'
echo "VM: modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
echo "VM: boot took ${t0}s to init, $(cut -d' ' -f1 /proc/uptime)s to tests"

if [ -e /airlock/shell ]; then
  setsid cttyhack sh
  poweroff -f
fi

export AIRLOCK=/airlock/airlock AL_SRCDIR=/airlock/src AL_BUILDDIR=/airlock/tests AL_VM_TIER=1
jobs=$(cat /airlock/jobs)
passed=0 failed=$modfail skipped=0
for t in $(cat /airlock/tests.list); do
  case $t in
    # test_cgroup's other suites assert the v1-hybrid development host
    # (v1 memory hierarchy, hugetlb on the unified side): only the
    # host-neutral ones run here.
    tests/unit/test_cgroup) filter=$(cat /airlock/unit-filter) ;;
    *) filter=$(cat /airlock/test-args) ;;
  esac
  echo "VM: ==== $t"
  s=$(cut -d' ' -f1 /proc/uptime)
  cd /tmp
  /airlock/tests/$t --tap=/tmp/tap.out --jobs="$jobs" $filter > /tmp/test.out 2>&1
  rc=$?
  cat /tmp/test.out /tmp/tap.out
  p=$(grep '^ok ' /tmp/tap.out | grep -vc '# SKIP')
  k=$(grep '^ok ' /tmp/tap.out | grep -c '# SKIP')
  f=$(grep -c '^not ok ' /tmp/tap.out)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    echo "VM: $t exited $rc without a failing test case: counted as one failure"
    f=1
  fi
  e=$(cut -d' ' -f1 /proc/uptime)
  echo "VM: $t: $p passed, $f failed, $k skipped (exit $rc, ${s}s..${e}s)"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
  rm -f /tmp/tap.out /tmp/test.out
done
# airlock leaves its parent (/sys/fs/cgroup/airlock), like crun; nothing
# may be left below it or anywhere else.
leftover=$(find /sys/fs/cgroup -mindepth 1 -type d ! -path /sys/fs/cgroup/init.scope \
             ! -path /sys/fs/cgroup/airlock | head -5)
if [ -n "$leftover" ]; then
  echo "VM: cgroups left behind: $leftover"
  failed=$((failed + 1))
fi
echo "VM: tests finished at $(cut -d' ' -f1 /proc/uptime)s"
echo "VM-TESTS: $passed passed, $failed failed, $skipped skipped"
sync
poweroff -f
EOF
chmod 755 "$root/sbin/vm-init"

# -------------------------------------------------------------- initramfs
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
  gzip -1 > "$work/initramfs.gz"
echo "run-vm-tests: kernel $kver, initramfs $(du -h "$work/initramfs.gz" | cut -f1), tests:$tests"

# ------------------------------------------------------------------- boot
log=$work/console.log
start=$(date +%s)
if [ "${VM_SHELL:-0}" = 1 ]; then
  exec qemu-system-x86_64 -m 1G -smp 2 -nographic -no-reboot -kernel "$kernel" \
    -initrd "$work/initramfs.gz" -append "console=ttyS0 panic=-1 quiet"
fi
qemu-system-x86_64 -m 1G -smp 2 -nographic -no-reboot -kernel "$kernel" \
  -initrd "$work/initramfs.gz" -append "console=ttyS0 panic=-1 quiet" \
  </dev/null >"$log" 2>&1 &
qemu_pid=$!
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ $(($(date +%s) - start)) -ge "$timeout_s" ]; then
    timed_out=1
    kill "$qemu_pid" 2>/dev/null || true
    break
  fi
  sleep 1
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
elapsed=$(($(date +%s) - start))

tr -d '\r' < "$log"
echo "run-vm-tests: qemu ran ${elapsed}s"
if [ "$timed_out" = 1 ]; then
  echo "run-vm-tests: FAIL: timed out after ${timeout_s}s (VM_TIMEOUT)" >&2
  exit 1
fi
line=$(tr -d '\r' < "$log" | grep -a '^VM-TESTS: ' | tail -n1 || true)
if [ -z "$line" ]; then
  echo "run-vm-tests: FAIL: the guest printed no VM-TESTS line" >&2
  exit 1
fi
p=$(echo "$line" | sed -n 's/^VM-TESTS: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
f=$(echo "$line" | sed -n 's/^VM-TESTS: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
echo "$line"
if [ "${f:-1}" = 0 ] && [ "${p:-0}" -gt 0 ]; then
  exit 0
fi
exit 1
}
