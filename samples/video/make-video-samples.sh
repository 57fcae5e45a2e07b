#!/usr/bin/env bash
# Regenerates the small clips in samples/video/ with the ffmpeg CLI (a reference tool here;
# Kiln itself links FFmpeg's libraries). Committed; tests use them as they are.
set -euo pipefail
cd "$(dirname "$0")"
FF="ffmpeg -hide_banner -loglevel error -y"
SRC="-f lavfi -i testsrc2=size=320x240:rate=30:duration=3"
TONE="-f lavfi -i sine=frequency=440:sample_rate=44100:duration=3"

# H.264 8-bit yuv420p + AAC, moov atom at the end (no +faststart): needs only a remux.
$FF $SRC $TONE -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 30 -c:a aac -b:a 64k -shortest h264-aac-moov-end.mp4
# The same with moov first: already publishable.
$FF -i h264-aac-moov-end.mp4 -c copy -movflags +faststart h264-aac-faststart.mp4
# HEVC 10-bit, stored 320x240 with a display matrix rotating it 90 degrees (a phone's portrait).
# (The CLI drops the rotate tag when encoding, so it is added by a second, copying pass.)
$FF $SRC $TONE -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -x265-params log-level=error \
    -tag:v hvc1 -c:a aac -b:a 64k -shortest hevc10.tmp.mp4
$FF -i hevc10.tmp.mp4 -c copy -metadata:s:v:0 rotate=90 hevc10-rotated.mp4
rm hevc10.tmp.mp4
# VP9 + Opus in WebM.
$FF $SRC -f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 -c:v libvpx-vp9 -deadline realtime \
    -cpu-used 8 -b:v 300k -c:a libopus -b:a 48k -shortest vp9-opus.webm
# HLG HDR: HEVC 10-bit, BT.2020 primaries, ARIB STD-B67 transfer.
$FF $SRC -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -x265-params log-level=error \
    -color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc -tag:v hvc1 hlg-hdr.mp4
# Video without audio.
$FF $SRC -c:v libx264 -preset veryfast -pix_fmt yuv420p no-audio.mp4
# Variable frame rate: 30 fps for 1.5 s, then 15 fps (timestamps kept as they are).
$FF -f lavfi -i testsrc2=size=320x240:rate=30:duration=3 -vf "setpts='(N+if(gte(N,45),N-45,0))/30/TB'" \
    -fps_mode passthrough -c:v libx264 -preset veryfast -pix_fmt yuv420p vfr.mp4
# 95 s, tiny (64x64 at 24 fps, flat colour): over Instagram Reels' 90 s.
$FF -f lavfi -i color=c=navy:size=64x64:rate=24:duration=95 -c:v libx264 -preset veryfast -pix_fmt yuv420p \
    long-95s.mp4
# Audio only in WebM: a video container (it sniffs as video/webm) with no video stream.
$FF -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 -c:a libopus -b:a 32k audio-only.webm
# Audio only (AAC in M4A).
$FF $TONE -c:a aac -b:a 64k audio.m4a
# Truncated: the faststart file cut at 60% (moov present, media data cut short).
head -c "$(( $(stat -c %s h264-aac-faststart.mp4) * 6 / 10 ))" h264-aac-faststart.mp4 > truncated.mp4
# Moov at the end and cut before it: nothing to index.
head -c "$(( $(stat -c %s h264-aac-moov-end.mp4) / 2 ))" h264-aac-moov-end.mp4 > truncated-no-moov.mp4
ls -l
