#!/usr/bin/env bash
# Builds the video module against a newer FFmpeg's headers (Debian 13: FFmpeg 7.1, where
# av_stream_get_side_data is gone) as well as the installed ones (Debian 12: 5.1). The headers
# come from Debian's own -dev packages, downloaded (not installed) into a temp directory.
# Not part of `make test` (a separate build of the video module, about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE=${SUITE:-trixie}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb http://deb.debian.org/debian $SUITE main" > "$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1)
apt-get "${apt_opts[@]}" update -qq
(cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq libavcodec-dev libavformat-dev libavutil-dev \
    libavfilter-dev libswscale-dev libswresample-dev)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
include="$work/root/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
version() { grep -h "define LIBAVCODEC_VERSION_$1 " "$include/libavcodec/version"*.h | awk '{print $3}'; }
echo "== libavcodec $(version MAJOR).$(version MINOR).$(version MICRO) headers from $SUITE"
clang -fsyntax-only -Wall -Werror -I "$include" -I Sources/CFFmpeg/include Sources/CFFmpeg/loader.c
swift build --target KilnVideo --scratch-path "$work/build" -Xcc -I"$include"
echo "== the installed FFmpeg"
swift build --target KilnVideo
echo "ffmpeg versions: both build"
