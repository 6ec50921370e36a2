#!/bin/sh
# install-deps.sh — install what airlock needs to build and test on Debian 12.
#
#   contrib/install-deps.sh           build + test dependencies
#   contrib/install-deps.sh --build   only what building needs
#
# Runs apt-get only for packages that are missing, so it is cheap to repeat.
set -eu

build="autoconf automake make gcc pkg-config libc6-dev
  libseccomp-dev libcap-dev libmnl-dev libbtrfsutil-dev libjansson-dev libcriterion-dev"
test="busybox-static clang libclang-rt-14-dev valgrind"
# tests/clients: podman (with conmon and a network stack, though the tests
# run without networking) and containerd with ctr and the runc v2 shim.
test="$test podman conmon netavark containerd"
# make check-vm (tests/vm): a pure cgroup-v2 guest booting Debian's kernel.
test="$test qemu-system-x86 linux-image-amd64 cpio"
# tests/integration/test_sandbox*: Debian's python3 is a program run inside
# sandboxes (the host's system directories are their default root);
# util-linux gives them unshare, setsid and script.
test="$test python3 util-linux"
# snapshots: tests and benchmarks make loop-backed btrfs images (mkfs.btrfs,
# and the `btrfs subvolume` CLI the rollback benchmark compares against).
test="$test btrfs-progs"
# make bench: the runtimes airlock is measured against.
test="$test crun runc bubblewrap"

pkgs=$build
[ "${1:-}" = "--build" ] || pkgs="$pkgs $test"

missing=
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: need root to install:$missing" >&2
  exit 1
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once if apt cannot
# find a package.
apt-get install -y -q --no-install-recommends $missing || {
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
}
