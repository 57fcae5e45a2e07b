#!/usr/bin/env python3
"""One upload, several targets (issue 21): what making every network's renditions from one read
costs against doing it once per network.

(a) A 12 MP JPEG for instagram-feed, x, linkedin and bluesky: one `kiln process --preset a,b,c,d`
    (one decode) against four `vipsthumbnail` runs making the same display renditions (target
    <= 0.5x), eight runs making every rendition, and four separate kiln runs; then over HTTP,
    one upload with `targets` against four uploads.
(b) A 10 s 1080p clip for instagram-reel, tiktok and youtube-shorts (--fit pad): one kiln run
    against three separate kiln runs and three ffmpeg CLI transcodes at the same settings.
(c) Preflight latency: `POST /v1/preflight` with the file's first bytes and its size, and
    `kiln check --preset a,b,c` (a process start included), for the image and the video
    (target < 100 ms for the 12 MP image).

Needs the release build and benchmarks/.inputs (benchmarks/run.sh makes both).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (measure, median_of, and the paths)
import serve_bench  # noqa: E402  (Server, distinct_jpeg)

KILN, INPUTS = bench.KILN, bench.INPUTS
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
IMAGE_TARGETS = ["instagram-feed", "x", "linkedin", "bluesky"]
# The display box of each image target (`kiln presets --json`), and every target's 320 px thumb.
DISPLAY = {"instagram-feed": "1080x1350", "x": "2048x2048", "linkedin": "2048x2048", "bluesky": "2000x2000"}
VIDEO_TARGETS = ["instagram-reel", "tiktok", "youtube-shorts"]


def sequence(commands):
    """Wall seconds of running `commands` one after another (fresh output directories each)."""
    start = time.perf_counter()
    for argv in commands:
        bench.measure(argv)
    return time.perf_counter() - start


def median_sequence(commands, runs):
    sequence(commands)  # warm-up
    return statistics.median(sequence(commands) for _ in range(runs))


def image_table(scratch):
    image = os.path.join(INPUTS, "12mp.jpg")
    one = [KILN, "process", "--preset", ",".join(IMAGE_TARGETS), "--out", "{fresh}", "--json", image]
    separate = [[KILN, "process", "--preset", name, "--out", "{fresh}", "--json", image] for name in IMAGE_TARGETS]
    displays = [["vipsthumbnail", image, "--size", DISPLAY[name], "-o", os.path.join(scratch, f"vt-{name}.jpg[Q=85,strip]")]
                for name in IMAGE_TARGETS]
    thumbs = [["vipsthumbnail", image, "--size", "320x320", "-o", os.path.join(scratch, f"vt-{name}-thumb.jpg[Q=80,strip]")]
              for name in IMAGE_TARGETS]
    ours = bench.median_of(one, runs=RUNS)[0]
    four_vips = median_sequence(displays, RUNS)
    eight_vips = median_sequence(displays + thumbs, RUNS)
    four_kiln = median_sequence(separate, RUNS)
    print(f"\n(a) 12 MP JPEG -> {', '.join(IMAGE_TARGETS)} (median of {RUNS})")
    print(f"  {'kiln, one run, 4 targets':<34}{ours * 1000:>8.0f} ms")
    print(f"  {'vipsthumbnail x4 (the displays)':<34}{four_vips * 1000:>8.0f} ms   kiln {ours / four_vips:.2f}x (target <= 0.5x)")
    print(f"  {'vipsthumbnail x8 (and the thumbs)':<34}{eight_vips * 1000:>8.0f} ms   kiln {ours / eight_vips:.2f}x")
    print(f"  {'kiln x4, one target each':<34}{four_kiln * 1000:>8.0f} ms   kiln {ours / four_kiln:.2f}x")
    print("  (kiln makes 8 renditions, holds each to its byte limit, reads each back and checks it,")
    print("   hashes input and outputs and writes ThumbHashes; vipsthumbnail only resizes and encodes)")
    http_table(scratch, image)
    return ours <= 0.5 * four_vips


def http_table(scratch, image):
    """One upload with targets against four uploads, each of bytes not seen before."""
    server = serve_bench.Server(scratch)
    try:
        copies = serve_bench.distinct_jpeg(image, tempfile.mkdtemp(dir=scratch), 2 * (RUNS + 1))

        def post(path, query):
            # The multipart body, written by curl as a client would.
            code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                   f"Authorization: Bearer {server.key}", "-F", f"file=@{path}",
                                   server.url + "/v1/media" + query], capture_output=True, text=True).stdout
            if code not in ("200", "201"):
                sys.exit(f"upload answered {code}")

        def one(path):
            start = time.perf_counter()
            post(path, "?targets=" + ",".join(IMAGE_TARGETS))
            return time.perf_counter() - start

        def four(path):
            start = time.perf_counter()
            for name in IMAGE_TARGETS:
                post(path, "?preset=" + name)
            return time.perf_counter() - start

        together = statistics.median(one(path) for path in copies[:RUNS + 1][1:])
        apart = statistics.median(four(path) for path in copies[RUNS + 1:][1:])
        print(f"  over HTTP: one upload with targets {together * 1000:.0f} ms, four uploads {apart * 1000:.0f} ms"
              f" ({together / apart:.2f}x)")
    finally:
        server.stop()


def video_table(scratch):
    clip = os.path.join(INPUTS, "h264-1080p.mp4")
    runs = max(3, RUNS // 3)
    one = [KILN, "process", "--preset", ",".join(VIDEO_TARGETS), "--fit", "pad", "--out", "{fresh}", "--json", clip]
    separate = [[KILN, "process", "--preset", name, "--fit", "pad", "--out", "{fresh}", "--json", clip] for name in VIDEO_TARGETS]
    # What each target's transcode is: 1080 wide inside 1080x1920 (youtube-shorts padded to 9:16,
    # with half-second GOPs), veryfast crf 23, closed GOPs, AAC copied.
    boxes = {"instagram-reel": ("scale=1080:-2", "300"), "tiktok": ("scale=1080:-2", "300"),
             "youtube-shorts": ("scale=1080:-2,pad=1080:1920:(ow-iw)/2:(oh-ih)/2", "15")}
    ffmpeg = [["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", clip, "-vf", f"{vf},setsar=1,format=yuv420p",
               "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-g", gop,
               "-x264-params", "open-gop=0", "-c:a", "copy", "-movflags", "+faststart", "-use_editlist", "0",
               os.path.join(scratch, f"ff-{name}.mp4")] for name, (vf, gop) in boxes.items()]
    ours = bench.median_of(one, runs=runs)[0]
    apart = median_sequence(separate, runs)
    reference = median_sequence(ffmpeg, runs)
    print(f"\n(b) 10 s 1080p30 H.264 -> {', '.join(VIDEO_TARGETS)}, --fit pad (median of {runs})")
    print(f"  {'kiln, one run, 3 targets':<30}{ours * 1000:>8.0f} ms")
    print(f"  {'kiln x3, one target each':<30}{apart * 1000:>8.0f} ms   one run {ours / apart:.2f}x")
    print(f"  {'ffmpeg CLI x3 transcodes':<30}{reference * 1000:>8.0f} ms   one run {ours / reference:.2f}x")
    print("  (the input is probed and measured once; the three plans differ in GOP and box, so each")
    print("   target is encoded on its own)")
    # TikTok's and Pinterest's plans for this clip are the same: one encode, linked to both.
    alike = ["tiktok", "pinterest"]
    shared = [KILN, "process", "--preset", ",".join(alike), "--fit", "pad", "--out", "{fresh}", "--json", clip]
    both = median_sequence([[KILN, "process", "--preset", name, "--fit", "pad", "--out", "{fresh}", "--json", clip]
                            for name in alike], runs)
    ours_shared = bench.median_of(shared, runs=runs)[0]
    print(f"  {'kiln, one run, ' + ' + '.join(alike):<30}{ours_shared * 1000:>8.0f} ms")
    print(f"  {'kiln x2, one target each':<30}{both * 1000:>8.0f} ms   one run {ours_shared / both:.2f}x (one shared encode)")


def preflight_table(scratch):
    image = os.path.join(INPUTS, "12mp.jpg")
    clip = os.path.join(INPUTS, "h264-1080p.mp4")
    server = serve_bench.Server(scratch)
    try:
        def ask(path, targets, whole):
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                head = f.read() if whole else f.read(256 << 10)
            request = urllib.request.Request(f"{server.url}/v1/preflight?targets={targets}&fit=pad&size={size}", data=head,
                                             method="POST", headers={"Authorization": f"Bearer {server.key}",
                                                                     "Content-Type": "application/octet-stream"})
            start = time.perf_counter()
            with urllib.request.urlopen(request) as answer:
                answer.read()
            return time.perf_counter() - start

        print(f"\n(c) preflight latency (median of {RUNS * 2})")
        results = []
        # The image sends its first 256 KiB; the video, whose moov is at its end, is sent whole.
        for label, path, targets, whole in (("12 MP JPEG", image, ",".join(IMAGE_TARGETS), False),
                                            ("10 s 1080p video", clip, ",".join(VIDEO_TARGETS), True)):
            ask(path, targets, whole)
            http = statistics.median(ask(path, targets, whole) for _ in range(RUNS * 2))
            cli = bench.median_of([KILN, "check", "--json", "--fit", "pad", "--preset", targets, path], runs=RUNS)[0]
            print(f"  {label:<18} POST /v1/preflight {http * 1000:>6.1f} ms   kiln check {cli * 1000:>6.1f} ms (with the process start)")
            results.append(http)
        ok = results[0] < 0.1
        print(f"  target < 100 ms for the 12 MP image: {'met' if ok else 'NOT met'}")
        return ok
    finally:
        server.stop()


def main():
    if not os.path.exists(KILN):
        sys.exit("build first: swift build -c release")
    with tempfile.TemporaryDirectory() as scratch:
        bench.FRESH = scratch
        results = [image_table(scratch)]
        video_table(scratch)
        results.append(preflight_table(scratch))
    print("\ntargets: all met" if all(results) else "\ntargets: some not met")


if __name__ == "__main__":
    main()
