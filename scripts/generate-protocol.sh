#!/usr/bin/env bash
# Regenerates the protobuf-c code for Shared/Protocol/comcl.proto into Shared/CProtocol.
# Usage: scripts/generate-protocol.sh [OUTDIR]   (OUTDIR defaults to the committed location;
# the staleness test passes a temporary directory and compares).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/Shared/CProtocol}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v protoc-c >/dev/null || { echo "protoc-c missing: apt-get install protobuf-c-compiler" >&2; exit 1; }
# Run from Shared/Protocol so the generated code names the file without a machine path.
(cd "$root/Shared/Protocol" && protoc-c --c_out="$tmp" comcl.proto)
mkdir -p "$out/include"
mv "$tmp/comcl.pb-c.h" "$out/include/comcl.pb-c.h"
# The .c includes its header by the generated name; SwiftPM finds it under include/.
mv "$tmp/comcl.pb-c.c" "$out/comcl.pb-c.c"
