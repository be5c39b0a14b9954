#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and .swift-format (140 columns,
# 4-space indents; formatting only, no rewriting rules). --check lists what is not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Shared Services Tests Package.swift)
if [[ "${1:-}" == "--check" ]]; then
    exec swift format lint --recursive --strict --parallel "${paths[@]}"
fi
exec swift format format --in-place --recursive --parallel "${paths[@]}"
