#!/usr/bin/env bash
# Regenerates the small media files in samples/ (they are committed; tests use them as they are).
# Needs: libvips-tools (vips), imagemagick (convert-im6.q16), libimage-exiftool-perl (exiftool).
set -euo pipefail
cd "$(dirname "$0")"
IM=convert-im6.q16
rm -rf tmp && mkdir tmp

# A 1200x800 photo-like picture (fixed seed), with camera EXIF and GPS like a phone's.
$IM -seed 7 -size 1200x800 plasma:orange-navy -blur 0x1 -quality 85 photo.jpg
exiftool -q -overwrite_original -Make=KilnPhone -Model=Test -GPSLatitude=48.8584 -GPSLatitudeRef=N \
  -GPSLongitude=2.2945 -GPSLongitudeRef=E -XMP:Creator=someone photo.jpg

# Orientation 1-8: the stored pixels are the upright quadrant picture (red top-left, green
# top-right, blue bottom-left, white bottom-right; 300x200) transformed the way a camera would.
$IM -size 150x100 xc:red xc:lime +append tmp/top.png
$IM -size 150x100 xc:blue xc:white +append tmp/bottom.png
$IM tmp/top.png tmp/bottom.png -append tmp/upright.png
transforms=("" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate 270" "-transverse" "-rotate 90")
for n in 1 2 3 4 5 6 7 8; do
  # shellcheck disable=SC2086
  $IM tmp/upright.png ${transforms[$((n-1))]} -quality 95 "orient-$n.jpg"
  exiftool -q -overwrite_original -n -Orientation=$n "orient-$n.jpg"
done

# Colour spaces and depths.
$IM -size 240x160 xc:red -colorspace CMYK -quality 95 cmyk.jpg                  # CMYK, no profile
$IM -size 256x256 gradient:white-black -depth 8 -colorspace Gray grey.png        # 8-bit greyscale
$IM -size 256x256 gradient:red-blue \( -size 256x256 gradient:white-none \) \
    -compose CopyOpacity -composite -depth 16 PNG64:rgba16.png                   # 16-bit RGBA

# Other input formats, from the photo.
vips copy photo.jpg photo.webp[Q=80]
vips copy photo.jpg photo.avif[Q=50,compression=av1,effort=0]
vips copy photo.jpg photo.heic[Q=50,compression=hevc]
vips copy photo.jpg photo.jxl[Q=80]
vips copy photo.jpg photo.tiff[compression=jpeg]
$IM photo.jpg -resize 50% -colors 64 photo.gif

# Geometry cases.
$IM -seed 3 -size 1500x500 plasma:green-blue -quality 85 panorama.jpg           # 3:1
$IM -size 200x200 xc:teal -quality 90 small.jpg                                  # under 320 wide

# Bad inputs, in bad/ (payload.jpg stays here: it must process cleanly).
mkdir -p bad
: > bad/empty.jpg
head -c "$(( $(stat -c %s photo.jpg) * 6 / 10 ))" photo.jpg > bad/truncated.jpg
$IM -seed 5 -size 400x300 plasma: photo-small.png
head -c "$(( $(stat -c %s photo-small.png) / 2 ))" photo-small.png > bad/truncated.png
rm photo-small.png
# A JPEG header, then noise: sniffs as JPEG, cannot decode.
{ head -c 600 photo.jpg; head -c 20000 /dev/urandom; } > bad/corrupt.jpg
# A valid JPEG with a script appended after its end marker (a polyglot trick).
{ cat small.jpg; printf '<script>alert("kiln-payload")</script>\n'; } > payload.jpg
# 25000x25000 1-bit PNG: 625 megapixels that compress to ~80 KB (a decompression bomb).
vips black tmp/bomb.v 25000 25000
vips pngsave tmp/bomb.v bad/bomb.png --bitdepth 1 --compression 9
# 9000x9000 1-bit PNG: 81 MP, under the limit, slow to decode: for per-job timeouts.
vips black tmp/slow.v 9000 9000
vips pngsave tmp/slow.v bad/slow-81mp.png --bitdepth 1 --compression 9
printf 'just some text, not an image\n' > bad/text.txt
printf '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n' > bad/image.svg
# A minimal one-page PDF, written by hand (ImageMagick's policy forbids writing PDF).
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 50 50]>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' > bad/doc.pdf

rm -rf tmp
ls -l . bad
