#!/usr/bin/env bash
# The image localhost/comcl:latest for the container checks (scripts/containers.sh, scripts/kube.sh):
# a release build here, staged in place of the Containerfile's build stage (that stage compiles in
# Swift's official image, which needs a registry; this machine has none), on a Debian base made
# with debootstrap from the apt mirror. Installs podman and what it needs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
base=localhost/comcl-base:bookworm
# passwd: useradd, for the image's unprivileged user (debian:bookworm-slim has it).
runtime_packages=passwd,libzmq5,libprotobuf-c1,libopenblas0-pthread,libdnnl2,libgomp1,libpng16-16,libturbojpeg0,libcairo2,libgdcm3.0,fonts-dejavu-core

need=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then apt-get install -y "${need[@]}"; fi
# These sandboxes refuse setrlimit and have hybrid cgroups: runc, cgroupfs, no default ulimits.
if [[ ! -e /etc/containers/containers.conf ]]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' > /etc/containers/containers.conf
fi

echo "== release build"
scripts/install-deps.sh
swift build -c release
stage=.build/container
rm -rf "$stage" && mkdir -p "$stage/out/bin" "$stage/out/lib"
for exe in comcl comcl-coordinator comcl-detector-cropper comcl-augmenter comcl-embedding-worker comcl-evaluator comcl-dicom-decoder; do
  cp ".build/release/$exe" "$stage/out/bin/"
  # The Swift runtime libraries it links (the C ones come from Debian packages in the image).
  ldd ".build/release/$exe" | awk '$3 ~ /\/swift\// {print $3}' | xargs -r -I{} cp -u {} "$stage/out/lib/"
done

# A base image from before a runtime package was added lacks it: build it again.
if podman image exists "$base" && ! podman run --rm "$base" sh -c 'test -e /usr/lib/x86_64-linux-gnu/libgdcmMSFF.so.3.0 && command -v useradd' >/dev/null; then podman rmi "$base" >/dev/null; fi
if ! podman image exists "$base"; then
  echo "== base image $base (debootstrap from the apt mirror; no registry here)"
  rootfs=$(mktemp -d)
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  debootstrap --variant=minbase --include="$runtime_packages" bookworm "$rootfs" "$mirror" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$base"
  rm -rf "$rootfs"
fi
echo "== image localhost/comcl:latest"
podman build -q --build-context staged="$stage" --build-arg BINARIES=staged --build-arg BASE="$base" \
  -t localhost/comcl:latest -f Containerfile .

