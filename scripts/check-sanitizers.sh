#!/usr/bin/env bash
# Memory-safety and leak checks (not part of every CI run: each build takes minutes):
#  1. the whole test suite under AddressSanitizer;
#  2. the concurrent tests under ThreadSanitizer (Swift 6.3's Synchronization.Mutex is not visible
#     to TSan on Linux: a ten-line program that counts to 400,000 under a Mutex from four threads,
#     exactly, is reported as a race. Reports whose accesses are all inside `withLock` are that;
#     the scheduler's are. Read each report rather than trusting the count.);
#  3. every sample processed with VIPS_LEAK=1 (libvips reports objects still alive at exit);
#  4. every sample processed by an ASan build with LeakSanitizer on (FFmpeg, libmagic, libvips
#     allocations), with suppressions for one-time global caches in Tests/Support/lsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
samples=(samples/*.jpg samples/*.png samples/*.webp samples/*.avif samples/*.heic samples/*.jxl samples/*.gif
         samples/*.tiff samples/bad/* samples/video/*.mp4 samples/video/*.webm samples/video/*.m4a)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== 1. AddressSanitizer: the test suite"
swift build --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --scratch-path .build-asan || status=1

echo "== 2. ThreadSanitizer: the concurrent tests"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
swift test --skip-build --sanitize=thread --scratch-path .build-tsan \
    --filter 'oncurrent|ancel|ErrorIsolation|ContentSniffer|ExecutionTests|CarouselUnit' || status=1

echo "== 3. VIPS_LEAK=1 over every sample"
swift build
for f in "${samples[@]}"; do
    VIPS_LEAK=1 .build/debug/kiln process --json --out "$out/vips" "$f" > /dev/null 2> "$out/leak.txt" || true
    if grep -qiE "leak|objects alive|bytes in" "$out/leak.txt"; then
        echo "libvips leak processing $f:"; cat "$out/leak.txt"; status=1
    fi
done

echo "== 4. LeakSanitizer over every sample"
swift build --sanitize=address --scratch-path .build-asan --product kiln
for f in "${samples[@]}"; do
    if ! ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/Tests/Support/lsan.supp:print_suppressions=0" \
        SWIFT_BACKTRACE=enable=no .build-asan/debug/kiln process --json --out "$out/lsan" "$f" > /dev/null 2> "$out/lsan.txt"; then
        if grep -q "LeakSanitizer" "$out/lsan.txt"; then echo "leak processing $f:"; head -40 "$out/lsan.txt"; status=1; fi
    fi
done

[ $status -eq 0 ] && echo "sanitizers: all clean" || echo "sanitizers: problems above"
exit $status
