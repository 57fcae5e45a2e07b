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


def measure(argv, expect_status=0):
    """Wall seconds and peak RSS (MB) of one run."""
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


def median_of(argv, expect_status=0):
    measure(argv, expect_status)  # warm-up: page cache, library loading
    runs = [measure(argv, expect_status) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def rendition_table(image, scratch):
    out = os.path.join(scratch, "out")
    commands = {
        "kiln": [KILN, "process", "--presets", PRESETS, "--preset", "bench", "--out", out, "--json", image],
        "vipsthumbnail": ["vipsthumbnail", image, "--size", "2048x2048",
                          "-o", os.path.join(scratch, "vt.jpg[Q=85,strip]")],
        "imagemagick": ["convert-im6.q16", image, "-auto-orient", "-resize", "2048x2048", "-strip",
                        "-quality", "85", os.path.join(scratch, "im.jpg")],
    }
    results = {name: median_of(argv) for name, argv in commands.items()}
    floor_wall, floor_rss = results["vipsthumbnail"]
    print(f"\n{os.path.basename(image)} -> one 2048 px JPEG rendition (median of {RUNS})")
    print(f"  {'tool':<14}{'wall ms':>9}{'peak RSS MB':>13}{'wall ratio':>12}{'RSS ratio':>11}")
    for name, (wall, rss) in results.items():
        print(f"  {name:<14}{wall * 1000:>9.1f}{rss:>13.1f}{wall / floor_wall:>11.2f}x{rss / floor_rss:>10.2f}x")
    kiln_wall, kiln_rss = results["kiln"]
    ok = kiln_wall <= 1.10 * floor_wall and kiln_rss <= 1.10 * floor_rss
    print(f"  target kiln <= 1.10x vipsthumbnail: {'met' if ok else 'NOT met'}")
    return ok


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
    with tempfile.TemporaryDirectory() as scratch:
        results = [rendition_table(os.path.join(INPUTS, name), scratch) for name in ("12mp.jpg", "24mp.jpg")]
        startup_table()
        results.append(rejection_table(scratch))
    print("\nall targets met" if all(results) else "\nsome targets not met")


if __name__ == "__main__":
    main()
