#!/usr/bin/env bash
# Installs the Debian packages CoMCL-Swift builds against, if any is missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
packages=(pkg-config libzmq3-dev libprotobuf-c-dev libopenblas-dev libdnnl-dev libpng-dev libturbojpeg0-dev libcairo2-dev libgdcm-dev fonts-dejavu-core)
# The stale-generated-code test runs protoc-c; the PngSuite fetch uses apt-get download + dpkg-deb;
# the Python detector example needs protoc (Python classes) and a venv (scripts/python-examples.sh);
# the hosts-apart test captures traffic between network namespaces with tcpdump (iproute2: ip netns).
[ "${1:-}" = "--test" ] && packages+=(protobuf-c-compiler protobuf-compiler python3-venv tcpdump iproute2)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found: install Swift 6 (https://swift.org/install) and put it on PATH" >&2; exit 1; }
