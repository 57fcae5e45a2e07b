#!/usr/bin/env python3
"""A crop that follows the subject (issue 29): what it costs against the centre crop.

A 60 s 1080p30 clip (a textured room, a person walking to and fro, a cut every 20 s) made
into an instagram-reel (9:16) with `--fit crop`: `--focus auto` (each decoded frame looked at
small, faces once a second, frames held half a second, the window moved per frame) against
`--focus center` (a fixed crop), and the ffmpeg CLI's centre crop at the same x264 settings for
scale. Target: reframed <= 1.25x the centre crop. The two runs differ only by the looking (the
analysis): its share of the whole is their difference.

Needs the release build (`make bench` makes it).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (measure, median_of, and the paths)

KILN, INPUTS = bench.KILN, bench.INPUTS
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def make_clip(path):
    """Three 20 s shots of a noisy room, each with a person walking to and fro across it, at a
    phone's bitrate (16 Mbps: decoding cost follows the bitrate, and noise unbounded runs to 45)."""
    shots = []
    for index, (room, speed) in enumerate([("0x283848", 3.0), ("0x605040", 2.0), ("0x304030", 4.0)]):
        shots.append(
            f"color=c={room}:s=1920x1080:r=30:d=20,noise=alls=12:allf=t,"
            f"drawbox=x=1300:y=500:w=260:h=420:color=0x606060:t=fill,drawbox=x=500:y=120:w=420:h=260:color=0x8090a0:t=fill[room{index}];"
            f"color=c=0x2050c0:s=140x520:r=30:d=20,drawbox=x=20:y=0:w=100:h=120:color=0xe0a080:t=fill[person{index}];"
            f"[room{index}][person{index}]overlay=x='890+800*sin(t/{speed})':y=400:shortest=1[shot{index}]")
    graph = ";".join(shots) + ";[shot0][shot1][shot2]concat=n=3:v=1[out]"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-filter_complex", graph, "-map", "[out]",
                    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "16M", "-maxrate", "20M", "-bufsize", "20M",
                    "-pix_fmt", "yuv420p", path], check=True)


def main():
    os.makedirs(INPUTS, exist_ok=True)
    clip = os.path.join(INPUTS, "walk-1080p-60s-16mbps.mp4")
    if not os.path.exists(clip):
        make_clip(clip)
    presets = subprocess.run([KILN, "presets", "--json"], check=True, capture_output=True, text=True).stdout
    import json
    reel = next(p for p in json.loads(presets) if p["name"] == "instagram-reel")
    output = reel["video"]["output"]
    kiln = [KILN, "process", "--preset", "instagram-reel", "--fit", "crop", "--out", "{fresh}", "--json", clip]
    following, following_rss = bench.median_of(kiln + ["--focus", "auto"], runs=RUNS)
    centre, centre_rss = bench.median_of(kiln + ["--focus", "center"], runs=RUNS)
    scratch = bench.FRESH
    cli = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", clip, "-vf",
           "crop=608:1080,scale=608:1080,setsar=1,format=yuv420p", "-c:v", "libx264", "-preset", output["preset"],
           "-crf", str(output["crf"]), "-profile:v", "high", "-an", os.path.join(scratch, "centre.mp4")]
    ffmpeg_wall, _ = bench.median_of(cli, runs=RUNS)
    print(f"\n60 s 1080p30 (3 shots) -> instagram-reel 9:16, --fit crop (median of {RUNS})")
    print(f"  {'run':<36}{'wall s':>8}{'peak RSS MB':>13}")
    print(f"  {'kiln --focus auto (follows)':<36}{following:>8.2f}{following_rss:>13.1f}")
    print(f"  {'kiln --focus center':<36}{centre:>8.2f}{centre_rss:>13.1f}")
    print(f"  {'ffmpeg CLI centre crop (video only)':<36}{ffmpeg_wall:>8.2f}")
    ratio = following / centre
    print(f"  reframed / centre crop: {ratio:.2f}x (target <= 1.25x)")
    print(f"  the analysis (looking, faces, holding): {following - centre:.2f} s, "
          f"{100 * (following - centre) / following:.0f}% of the reframed run")
    return ratio <= 1.25


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
