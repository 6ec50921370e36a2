#!/bin/sh
# setup.sh — install dependencies, build airlock and install it.
#
#   sh contrib/setup.sh [PREFIX]      (default prefix /usr/local)
#
# Also installs busybox-static (the root filesystem of the OCI examples and
# the test fixture).  Builds out of
# tree in build/, then `make install` puts airlock in PREFIX/sbin and its
# man page in PREFIX/share/man/man8.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
prefix=${1:-/usr/local}

sh contrib/install-deps.sh --build
# busybox-static: the OCI examples and tests/fixtures/make-bundle.sh.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends busybox-static
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || ./autogen.sh
mkdir -p build
cd build
"$src/configure" --prefix="$prefix" >/dev/null
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
make install >/dev/null
echo "setup.sh: installed $prefix/sbin/airlock"
