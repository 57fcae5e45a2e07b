#!/usr/bin/env python3
"""Side-by-side timings: kiln vs vipsthumbnail (the libvips floor) vs ImageMagick.

Each command runs RUNS times after one warm-up; we report the median wall time and the median
peak RSS (from wait4's rusage), then the ratios against vipsthumbnail. Targets (SPEC §10):
kiln <= 1.10x vipsthumbnail in both; rejections < 100 ms and < 64 MB.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KILN = os.environ.get("KILN_BIN", os.path.join(ROOT, ".build/release/kiln"))
INPUTS = os.path.join(ROOT, "benchmarks/.inputs")
PRESETS = os.path.join(ROOT, "benchmarks/presets.json")
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
FRESH = tempfile.gettempdir()  # where "{fresh}" output directories go (main sets its scratch)


def measure(argv, expect_status=0):
    """Wall seconds and peak RSS (MB) of one run. An argument "{fresh}" becomes a new empty
    directory: kiln returns an item it already stored without processing it again."""
    argv = [tempfile.mkdtemp(dir=FRESH) if arg == "{fresh}" else arg for arg in argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != expect_status:
        err = proc.stderr.read().decode() if proc.stderr else ""
        sys.exit(f"{argv[0]} exited {code}, expected {expect_status}: {err}")
    proc.stderr.close()
    return wall, usage.ru_maxrss / 1024.0


def median_of(argv, expect_status=0, runs=None):
    measure(argv, expect_status)  # warm-up: page cache, library loading
    runs = [measure(argv, expect_status) for _ in range(runs or RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def rendition_table(image, scratch):
    out = os.path.join(scratch, "out")
    commands = {
        "kiln": [KILN, "process", "--presets", PRESETS, "--preset", "bench", "--out", "{fresh}", "--json", image],
        "vipsthumbnail": ["vipsthumbnail", image, "--size", "2048x2048",
                          "-o", os.path.join(scratch, "vt.jpg[Q=85,strip]")],
        "imagemagick": ["convert-im6.q16", image, "-auto-orient", "-resize", "2048x2048", "-strip",
                        "-quality", "85", os.path.join(scratch, "im.jpg")],
    }
    results = {name: median_of(argv) for name, argv in commands.items()}
    # The same file again into the same store: found by its id, not processed (not a target).
    results["kiln, stored"] = median_of([KILN, "process", "--presets", PRESETS, "--preset", "bench", "--out", out,
                                         "--json", image])
    floor_wall, floor_rss = results["vipsthumbnail"]
    print(f"\n{os.path.basename(image)} -> one 2048 px JPEG rendition (median of {RUNS})")
    print(f"  {'tool':<14}{'wall ms':>9}{'peak RSS MB':>13}{'wall ratio':>12}{'RSS ratio':>11}")
    for name, (wall, rss) in results.items():
        print(f"  {name:<14}{wall * 1000:>9.1f}{rss:>13.1f}{wall / floor_wall:>11.2f}x{rss / floor_rss:>10.2f}x")
    kiln_wall, kiln_rss = results["kiln"]
    ok = kiln_wall <= 1.10 * floor_wall and kiln_rss <= 1.10 * floor_rss
    print(f"  target kiln <= 1.10x vipsthumbnail: {'met' if ok else 'NOT met'}")
    return ok


def video_table(scratch):
    """Kiln's transcode against the ffmpeg CLI with the same encoder settings, and remux vs transcode."""
    hevc = os.path.join(INPUTS, "hevc-1080p.mp4")
    h264 = os.path.join(INPUTS, "h264-1080p.mp4")
    runs = max(3, RUNS // 3)

    def kiln(path):
        return [KILN, "process", "--presets", PRESETS, "--preset", "bench-video", "--out", "{fresh}", "--json", path]

    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", hevc,
              "-vf", "scale=1920:1080:flags=bicubic,setsar=1,format=yuv420p",
              "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-g", "60",
              "-c:a", "copy", "-movflags", "+faststart", "-use_editlist", "0", os.path.join(scratch, "ff.mp4")]
    transcode = median_of(kiln(hevc), runs=runs)
    reference = median_of(ffmpeg, runs=runs)
    remux = median_of(kiln(h264), runs=runs)
    print(f"\nvideo: 10 s 1080p30 HEVC 10-bit -> H.264 veryfast crf 23 (median of {runs})")
    print(f"  {'kiln transcode':<18}{transcode[0] * 1000:>9.0f} ms{transcode[1]:>8.1f} MB"
          f"  {transcode[0] / reference[0]:.2f}x ffmpeg (target <= 1.05x)")
    print(f"  {'ffmpeg CLI':<18}{reference[0] * 1000:>9.0f} ms{reference[1]:>8.1f} MB")
    print(f"  {'kiln remux':<18}{remux[0] * 1000:>9.0f} ms{remux[1]:>8.1f} MB"
          f"  transcode/remux = {transcode[0] / remux[0]:.1f}x (target >= 20x)")
    print("  (kiln's times include its poster, thumb, ThumbHash, checksums and the output check)")
    capped = capped_table(scratch, runs)
    return transcode[0] <= 1.05 * reference[0] and transcode[0] / remux[0] >= 20 and capped


def capped_table(scratch, runs):
    """A 40 Mbps reel under instagram-reel (25 Mbps cap): Kiln's VBV-capped transcode against the
    ffmpeg CLI with the same settings (maxrate 80% of the cap, half a second of buffer, 2 s closed GOPs)."""
    reel = os.path.join(INPUTS, "h264-40mbps-reel.mp4")
    kiln = [KILN, "process", "--preset", "instagram-reel", "--out", "{fresh}", "--json", reel]
    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", reel,
              "-vf", "scale=1080:1920:flags=bicubic,setsar=1,format=yuv420p",
              "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-g", "60",
              "-maxrate", "20000000", "-bufsize", "10000000", "-x264-params", "open-gop=0",
              "-c:a", "copy", "-movflags", "+faststart", "-use_editlist", "0", os.path.join(scratch, "capped.mp4")]
    ours = median_of(kiln, runs=runs)
    reference = median_of(ffmpeg, runs=runs)
    print(f"\nbitrate-capped transcode: 10 s 1080x1920 H.264 at 40 Mbps -> instagram-reel's 25 Mbps (median of {runs})")
    print(f"  {'kiln':<18}{ours[0] * 1000:>9.0f} ms{ours[1]:>8.1f} MB  {ours[0] / reference[0]:.2f}x ffmpeg (target <= 1.05x)")
    print(f"  {'ffmpeg CLI':<18}{reference[0] * 1000:>9.0f} ms{reference[1]:>8.1f} MB")
    return ours[0] <= 1.05 * reference[0]


def upload_table(scratch):
    """Peak RSS of `kiln storage put` streaming a 1 GiB file to moto's S3 server (multipart)."""
    try:
        harness = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Support/moto_s3.py")],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    except OSError as error:
        print(f"\nupload: moto not available ({error})")
        return True
    import json
    info = json.loads(harness.stdout.readline())
    env = dict(os.environ, KILN_R2_ENDPOINT=info["endpoint"], KILN_R2_BUCKET=info["bucket"],
               KILN_R2_ACCESS_KEY_ID=info["access_key_id"], KILN_R2_SECRET_ACCESS_KEY=info["secret_access_key"])
    big = os.path.join(scratch, "1gib.bin")
    with open(big, "wb") as f:
        f.truncate(1 << 30)
    try:
        start = time.perf_counter()
        proc = subprocess.Popen([KILN, "storage", "put", big, "bench/1gib.bin"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        small = median_of([KILN, "codes", "--json"], runs=3)
    finally:
        harness.stdin.close()
        harness.wait()
    rss = usage.ru_maxrss / 1024.0
    print(f"\nupload: 1 GiB to moto's S3 server in 16 MiB parts, 4 at once: {wall:.1f} s, peak RSS {rss:.1f} MB"
          f" (a run that uploads nothing: {small[1]:.1f} MB); target: under ~100 MB above that")
    return os.waitstatus_to_exitcode(status) == 0 and rss - small[1] < 100


def batch_table(scratch):
    """`kiln batch` over a folder of 12 MP JPEGs (distinct copies) beside vipsthumbnail run in
    parallel over the same files for the same two renditions (2048 px q85, 320 px q80).
    Target >= 1.1x vipsthumbnail's throughput: one decode feeds both, no process per file."""
    count = int(os.environ.get("BENCH_BATCH", "24"))
    source = tempfile.mkdtemp(dir=scratch)
    with open(os.path.join(INPUTS, "12mp.jpg"), "rb") as f:
        data = f.read()
    for index in range(count):
        comment = f"batch copy {index}".encode()
        with open(os.path.join(source, f"{index:03}.jpg"), "wb") as f:
            f.write(data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:])
    cores = os.cpu_count() or 1
    kiln, vips = [], []
    for _ in range(3):
        out = tempfile.mkdtemp(dir=scratch)
        start = time.perf_counter()
        subprocess.run([KILN, "batch", source, "--out", out, "--json"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        kiln.append(time.perf_counter() - start)
        shutil.rmtree(out)
        out = tempfile.mkdtemp(dir=scratch)
        script = (f'vipsthumbnail "$0" --size 2048x2048 -o "{out}/%s.display.jpg[Q=85,strip]" && '
                  f'vipsthumbnail "$0" --size 320x320 -o "{out}/%s.thumb.jpg[Q=80,strip]"')
        start = time.perf_counter()
        subprocess.run(f'ls {source}/*.jpg | xargs -P {cores} -n 1 sh -c \'{script}\'', shell=True, check=True)
        vips.append(time.perf_counter() - start)
        shutil.rmtree(out)
    shutil.rmtree(source)
    kiln_rate, vips_rate = count / statistics.median(kiln), count / statistics.median(vips)
    ratio = kiln_rate / vips_rate
    print(f"\nbatch: {count} 12 MP JPEGs -> 2048 px + 320 px, {cores} at once (median of 3)")
    print(f"  {'kiln batch':<18}{kiln_rate:>7.2f} files/s")
    print(f"  {'vipsthumbnail x2':<18}{vips_rate:>7.2f} files/s  kiln at {ratio:.2f}x (target >= 1.1x)")
    return ratio >= 1.1


def startup_table():
    """The fixed cost of a run: start, libvips init, one header read. Explains the RSS gap."""
    small = os.path.join(ROOT, "samples/small.jpg")
    kiln = median_of([KILN, "probe", "--json", small])
    vips = median_of(["vipsheader", small])
    print(f"\nfixed cost: start-up + vips_init + one header read (median of {RUNS})")
    print(f"  {'kiln probe':<14}{kiln[0] * 1000:>9.1f} ms{kiln[1]:>8.1f} MB")
    print(f"  {'vipsheader':<14}{vips[0] * 1000:>9.1f} ms{vips[1]:>8.1f} MB")
    print(f"  difference    {(kiln[0] - vips[0]) * 1000:>9.1f} ms{kiln[1] - vips[1]:>8.1f} MB  (Swift runtime + Foundation)")


def rejection_table(scratch):
    huge = os.path.join(scratch, "huge.jpg")
    shutil.copyfile(os.path.join(ROOT, "samples/photo.jpg"), huge)
    os.truncate(huge, 60 << 20)
    cases = {
        "pixel bomb (625 MP PNG)": os.path.join(ROOT, "samples/bad/bomb.png"),
        "oversize file (60 MB)": huge,
    }
    print(f"\nrejections (median of {RUNS}); target < 100 ms and < 64 MB")
    ok = True
    for label, path in cases.items():
        wall, rss = median_of([KILN, "process", "--out", os.path.join(scratch, "rej"), "--json", path], 1)
        met = wall < 0.100 and rss < 64
        ok = ok and met
        print(f"  {label:<26}{wall * 1000:>8.1f} ms{rss:>8.1f} MB  {'met' if met else 'NOT met'}")
    return ok


def main():
    if not os.path.exists(KILN):
        sys.exit("build first: swift build -c release")
    global FRESH
    with tempfile.TemporaryDirectory() as scratch:
        FRESH = scratch
        results = [rendition_table(os.path.join(INPUTS, name), scratch) for name in ("12mp.jpg", "24mp.jpg")]
        results.append(video_table(scratch))
        results.append(batch_table(scratch))
        results.append(upload_table(scratch))
        startup_table()
        results.append(rejection_table(scratch))
    print("\nall targets met" if all(results) else "\nsome targets not met")


if __name__ == "__main__":
    main()
