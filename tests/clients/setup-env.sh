#!/bin/sh
# setup-env.sh — an isolated podman and containerd environment for the
# client tests, with the busybox fixture image imported offline.
#
#   tests/clients/setup-env.sh DIR podman|containerd|oci
#
# Everything lives under DIR; nothing in /etc is read for storage or
# engine settings, and nothing in /etc is written.
#
#   podman      DIR/containers.conf, DIR/storage.conf, DIR/registries.conf
#               (point CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
#               CONTAINERS_REGISTRIES_CONF at them), DIR/containers-contrib.conf
#               (contrib/podman/containers.conf with $AIRLOCK and DIR's
#               paths filled in), storage under
#               DIR/storage, run state under DIR/run, and the image
#               localhost/airlock-busybox:latest imported from the fixture
#               rootfs with `podman import`.
#   oci         DIR/busybox-oci.tar: an OCI image archive (oci-layout,
#               index.json, sha256 blobs) of the same rootfs, built by hand,
#               whose index names it docker.io/library/airlock-busybox:latest.
#   containerd  the oci archive plus DIR/containerd.toml: root, state and
#               the gRPC socket under DIR, the CRI plugin disabled.  The
#               test starts `containerd --config DIR/containerd.toml` itself.
#
# $AIRLOCK names the airlock binary (used by make-bundle.sh for `spec`);
# $AL_SRCDIR the source tree.
set -eu

dir=${1:?usage: setup-env.sh DIR podman|containerd|oci}
what=${2:?usage: setup-env.sh DIR podman|containerd|oci}
src=${AL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The fixture rootfs, once per DIR.
if [ ! -x "$dir/bundle/rootfs/bin/busybox" ]; then
  sh "$src/tests/fixtures/make-bundle.sh" "$dir/bundle" >/dev/null
fi

rootfs_tar () {
  # A reproducible tar of the rootfs: sorted, numeric root owner.
  tar -C "$dir/bundle/rootfs" --sort=name --numeric-owner --owner=0 --group=0 \
      --mtime=@0 -cf "$1" .
}

setup_podman () {
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/networks" "$dir/volumes"
  cat > "$dir/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$dir/storage"
runroot = "$dir/run/storage"
CONF
  cat > "$dir/registries.conf" <<CONF
unqualified-search-registries = []
short-name-mode = "disabled"
CONF
  cat > "$dir/containers.conf" <<CONF
[containers]
# No network: nothing on the host (bridges, iptables) is touched.
netns = "none"
# These machines lack CAP_SYS_RESOURCE for raising hard limits.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# conmon stays in the caller's cgroup; only containers get one.
cgroups = "no-conmon"
log_driver = "k8s-file"

[engine]
# No systemd here.
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/run/libpod"
static_dir = "$dir/storage/libpod"
volume_path = "$dir/volumes"
lock_type = "file"
network_config_dir = "$dir/networks"
runtime = "airlock"
runtime_supports_json = ["crun", "runc", "airlock"]
runtime_supports_nocgroup = ["crun", "airlock"]

[engine.runtimes]
airlock = ["${AIRLOCK:-/usr/local/sbin/airlock}"]

[network]
network_config_dir = "$dir/networks"
CONF
  # contrib/podman/containers.conf as shipped, with $AIRLOCK for the
  # installed path and this directory's storage/run settings added.
  AIRLOCK_PATH=${AIRLOCK:-/usr/local/sbin/airlock} DIR=$dir awk '
    { gsub("/usr/local/sbin/airlock", ENVIRON["AIRLOCK_PATH"]); print }
    /^\[containers\]$/ { print "netns = \"none\""; print "cgroups = \"no-conmon\"" }
    /^\[engine\]$/ {
      d = ENVIRON["DIR"]
      print "events_logfile_path = \"" d "/events.log\""
      print "tmp_dir = \"" d "/run/libpod\""
      print "static_dir = \"" d "/storage/libpod\""
      print "volume_path = \"" d "/volumes\""
      print "lock_type = \"file\""
      print "network_config_dir = \"" d "/networks\""
    }
  ' "$src/contrib/podman/containers.conf" > "$dir/containers-contrib.conf"
  if ! CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" \
       CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" \
       podman image exists localhost/airlock-busybox:latest 2>/dev/null; then
    rootfs_tar "$dir/rootfs.tar"
    CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" \
      podman import --quiet --change 'CMD ["/bin/sh"]' "$dir/rootfs.tar" \
        localhost/airlock-busybox:latest >/dev/null
    rm -f "$dir/rootfs.tar"
  fi
}

sha256 () { sha256sum "$1" | cut -d' ' -f1; }

# blob FILE: move FILE into the blob store, print "sha256:HEX SIZE".
blob () {
  h=$(sha256 "$1")
  s=$(stat -c %s "$1")
  mv "$1" "$oci/blobs/sha256/$h"
  echo "sha256:$h $s"
}

setup_oci () {
  [ -f "$dir/busybox-oci.tar" ] && return 0
  oci="$dir/oci"
  rm -rf "$oci"
  mkdir -p "$oci/blobs/sha256"
  rootfs_tar "$oci/layer.tar"
  diff_id=sha256:$(sha256 "$oci/layer.tar")
  gzip -n -9 "$oci/layer.tar"
  set -- $(blob "$oci/layer.tar.gz")
  layer_digest=$1 layer_size=$2
  printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["'"$diff_id"'"]},"history":[{"created_by":"airlock tests/clients/setup-env.sh"}]}' > "$oci/config.json"
  set -- $(blob "$oci/config.json")
  config_digest=$1 config_size=$2
  printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'"$config_digest"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"'"$layer_digest"'","size":'"$layer_size"'}]}' > "$oci/manifest.json"
  set -- $(blob "$oci/manifest.json")
  manifest_digest=$1 manifest_size=$2
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
  printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'"$manifest_digest"'","size":'"$manifest_size"',"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/airlock-busybox:latest","org.opencontainers.image.ref.name":"latest"}}]}' > "$oci/index.json"
  tar -C "$oci" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 \
      -cf "$dir/busybox-oci.tar.new" oci-layout index.json blobs
  mv "$dir/busybox-oci.tar.new" "$dir/busybox-oci.tar"
  rm -rf "$oci"
}

setup_containerd () {
  setup_oci
  mkdir -p "$dir/containerd/root" "$dir/containerd/state"
  cat > "$dir/containerd.toml" <<CONF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$dir/containerd/containerd.sock"

[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""
CONF
}

case $what in
  podman) setup_podman ;;
  oci) setup_oci ;;
  containerd) setup_containerd ;;
  *) echo "setup-env.sh: unknown environment \`$what' (podman, containerd, oci)" >&2; exit 2 ;;
esac
