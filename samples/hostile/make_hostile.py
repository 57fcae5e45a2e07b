#!/usr/bin/env python3
"""Writes the hostile corpus into samples/hostile/corpus/ (committed; regenerate with this).

Every file here must end in a clean result or a FILE_/MEDIA_ code, in bounded time and
memory, never a crash: Tests/KilnPipelineTests/HostileCorpusTests.swift runs them all through
`kiln process`. Files are small: bombs are headers that claim huge sizes.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.dirname(HERE)
OUT = os.path.join(HERE, "corpus")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, idat=b"", depth=8, color=2):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg_header(width, height):
    soi = b"\xff\xd8"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return soi + app0 + sof0 + b"\xff\xd9"


def gif_frames(count, width=1, height=1):
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 1/100 s
             + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00")
    return header + frame * count + b"\x3b"


def webp_vp8l(width, height):
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    riff = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))

    # Bombs: headers claiming far more pixels than the 100 MP limit.
    write("png-65535x65535.png", png(65535, 65535, zlib.compress(b"\x00" * 64)))
    write("jpeg-65535x65535.jpg", jpeg_header(65535, 65535))
    write("gif-65535x65535.gif", gif_frames(1, 65535, 65535))
    write("webp-16383x16383.webp", webp_vp8l(16383, 16383))
    write("gif-5000-frames.gif", gif_frames(5000))
    write("png-zero-size.png", png(0, 0))

    # Polyglots: a JPEG whose comment holds HTML, and a GIF followed by a ZIP (GIFAR).
    with open(os.path.join(SAMPLES, "small.jpg"), "rb") as f:
        jpeg = f.read()
    html = b"<html><script>alert('kiln-polyglot')</script></html>"
    write("polyglot-jpeg-html.jpg", jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(html) + 2) + html + jpeg[2:])
    zip_tail = (b"PK\x03\x04" + b"\x00" * 26 + b"META-INF/MANIFEST.MF" + b"PK\x05\x06" + b"\x00" * 18)
    write("polyglot-gif-jar.gif", gif_frames(1, 4, 4) + zip_tail)

    # MP4s with hostile boxes.
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    write("mp4-moov-size-huge.mp4", ftyp + struct.pack(">I", 0xFFFFFFF0) + b"moov" + b"\x00" * 64)
    write("mp4-moov-size-tiny.mp4", ftyp + struct.pack(">I", 4) + b"moov" + b"\x00" * 64)
    write("mp4-moov-self-nested.mp4", ftyp + box(b"moov", box(b"moov", box(b"moov", box(b"trak", b"\x00" * 16)))))
    stsz = box(b"stsz", b"\x00\x00\x00\x00" + struct.pack(">II", 0, 0xFFFFFFFF))
    stbl = box(b"stbl", stsz + box(b"stco", b"\x00\x00\x00\x00" + struct.pack(">I", 0xFFFFFFFF)))
    minf = box(b"minf", stbl)
    mdia = box(b"mdia", box(b"hdlr", b"\x00" * 8 + b"vide" + b"\x00" * 13) + minf)
    write("mp4-absurd-sample-count.mp4", ftyp + box(b"moov", box(b"trak", mdia)) + box(b"mdat", b"\x00" * 32))
    with open(os.path.join(SAMPLES, "video", "h264-aac-faststart.mp4"), "rb") as f:
        mp4 = bytearray(f.read())
    wrong = bytearray(mp4)
    at = wrong.find(b"stsz")
    if at > 0:
        wrong[at + 12:at + 16] = struct.pack(">I", 0x7FFFFFFF)  # every sample claims 2 GB
    write("mp4-wrong-sample-sizes.mp4", bytes(wrong))

    # Every tenth of a few real files.
    sources = ["photo.jpg", "photo.webp", "photo.heic", "photo.avif", "photo.jxl", "grey.png", "photo.gif",
               "photo.tiff", "video/h264-aac-faststart.mp4", "video/vp9-opus.webm"]
    for source in sources:
        with open(os.path.join(SAMPLES, source), "rb") as f:
            data = f.read()
        stem, ext = os.path.splitext(os.path.basename(source))
        for tenth in range(1, 10):
            write(f"cut-{stem}{ext.replace('.', '-')}-{tenth}0pct{ext}", data[:len(data) * tenth // 10])

    # Tiny files.
    write("zero-bytes.jpg", b"")
    write("one-byte.jpg", b"\xff")
    write("jpeg-soi-only.jpg", b"\xff\xd8")
    print(f"{len(os.listdir(OUT))} files in {OUT}")


if __name__ == "__main__":
    main()
