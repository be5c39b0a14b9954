#!/usr/bin/env bash
# Fetches PngSuite (35 images with .sng pixel dumps) and broken PNGs from Debian's
# golang-1.19-src package into .cache/pngsuite (idempotent; the .deb is not kept).
# Usage: scripts/fetch-pngsuite.sh   -> prints the testdata directory
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/pngsuite"
if [ ! -f "$dest/pngsuite/basn0g01.sng" ]; then
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download golang-1.19-src >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$work" && apt-get download golang-1.19-src >/dev/null)
    }
    dpkg-deb -x "$work"/golang-1.19-src_*.deb "$work/x"
    rm -rf "$dest" && mkdir -p "$dest"
    cp -r "$work/x/usr/share/go-1.19/src/image/png/testdata/." "$dest/"
fi
echo "$dest"
