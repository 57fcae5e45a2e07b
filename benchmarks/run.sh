#!/usr/bin/env bash
# Benchmarks Kiln against the reference tools (SPEC §10). Not a test: it prints numbers.
# Needs a release build (`make bench` does it) and libvips-tools, imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=benchmarks/.inputs
mkdir -p "$inputs"
# A 12 MP photo-like JPEG (4000x3000) and a 24 MP one, made once.
[ -f "$inputs/12mp.jpg" ] || convert-im6.q16 -seed 11 -size 4000x3000 plasma:tomato-steelblue -blur 0x2 -quality 90 "$inputs/12mp.jpg"
[ -f "$inputs/24mp.jpg" ] || convert-im6.q16 -seed 12 -size 6000x4000 plasma:gold-darkgreen -blur 0x2 -quality 90 "$inputs/24mp.jpg"
exec python3 benchmarks/bench.py "$@"
