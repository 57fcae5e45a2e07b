#!/usr/bin/env bash
# Benchmarks Kiln against the reference tools (SPEC §10). Not a test: it prints numbers.
# Needs a release build (`make bench` does it), libvips-tools, imagemagick, and thumbor (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=benchmarks/.inputs
mkdir -p "$inputs"
# A 12 MP photo-like JPEG (4000x3000) and a 24 MP one, made once.
[ -f "$inputs/12mp.jpg" ] || convert-im6.q16 -seed 11 -size 4000x3000 plasma:tomato-steelblue -blur 0x2 -quality 90 "$inputs/12mp.jpg"
[ -f "$inputs/24mp.jpg" ] || convert-im6.q16 -seed 12 -size 6000x4000 plasma:gold-darkgreen -blur 0x2 -quality 90 "$inputs/24mp.jpg"
# Video: 10 s of 1080p30 HEVC 10-bit + AAC (needs a transcode), and the same picture as H.264
# 8-bit with moov at the end (needs only a remux).
FF="ffmpeg -hide_banner -loglevel error -y"
SRC="-f lavfi -i testsrc2=size=1920x1080:rate=30:duration=10 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=10"
[ -f "$inputs/hevc-1080p.mp4" ] || $FF $SRC -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le \
    -x265-params log-level=error -tag:v hvc1 -c:a aac -shortest "$inputs/hevc-1080p.mp4"
[ -f "$inputs/h264-1080p.mp4" ] || $FF $SRC -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest \
    "$inputs/h264-1080p.mp4"
# A reel as a phone writes it at 40 Mbps: Meta caps reels at 25 Mbps, so Kiln re-encodes it
# under VBV (the capped transcode is compared with the ffmpeg CLI at the same settings).
[ -f "$inputs/h264-40mbps-reel.mp4" ] || $FF -f lavfi -i testsrc2=size=1080x1920:rate=30:duration=10 \
    -f lavfi -i sine=frequency=440:sample_rate=48000:duration=10 -vf noise=alls=30:allf=t -c:v libx264 -preset veryfast \
    -b:v 40M -maxrate 40M -bufsize 20M -pix_fmt yuv420p -c:a aac -b:a 96k -shortest "$inputs/h264-40mbps-reel.mp4"
python3 benchmarks/bench.py "$@"
# One upload for several targets against one run per target; preflight latency.
python3 benchmarks/targets_bench.py
# A crop that follows the subject against the centre crop (60 s 1080p, three shots).
python3 benchmarks/framing_bench.py
# The output check's share of the work it checks: a 12 MP image and a 10 s 1080p transcode.
.build/release/kiln-check-bench instagram-feed "$inputs/12mp.jpg" instagram-reel "$inputs/hevc-1080p.mp4"
# kiln serve: a 1 GiB upload, upload throughput beside vipsthumbnail and thumbor, RSS growth.
python3 benchmarks/serve_bench.py
# Interchangeable API nodes: PostgreSQL-backed auth and rate limit, two nodes against one, tus
# chunks to the bucket against to disk (starts its own PostgreSQL and moto).
python3 benchmarks/scale_bench.py
# The PostgreSQL queue's overhead per job and no-op throughput, on a throwaway cluster that
# stops when its harness's input closes.
coproc PG { python3 Tests/Support/postgres_cluster.py; }
read -r line <&"${PG[0]}"
url=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["url"])' "$line")
echo
.build/release/kiln-queue-bench "$url?sslmode=disable" "$inputs/12mp.jpg"
eval "exec ${PG[1]}>&-"
wait
