"""A real tus client (tuspy, PyPI) against Kiln's /v1/uploads, for ResumableProcessTests.

    tus_upload.py BASE KEY FILE CHUNK [--stop-at N] [--url URL] [--corrupt-first]

Uploads FILE in CHUNK-byte chunks with sha1 Upload-Checksum headers, stopping at byte N
(--stop-at) or resuming an upload made before (--url). --corrupt-first sends the first
chunk with a wrong checksum: the server refuses it (460), and tuspy asks the offset and sends
it again. Prints one JSON line: the upload's URL, its offset, the statuses seen, and the
headers of the last answer.
"""
import argparse
import base64
import hashlib
import json

from tusclient import client
from tusclient import request as tus_request

parser = argparse.ArgumentParser()
parser.add_argument("base")
parser.add_argument("key")
parser.add_argument("file")
parser.add_argument("chunk", type=int)
parser.add_argument("--stop-at", type=int)
parser.add_argument("--url")
parser.add_argument("--corrupt-first", action="store_true")
args = parser.parse_args()

statuses = []
original_add_checksum = tus_request.TusRequest.add_checksum
original_perform = tus_request.TusRequest.perform
corrupt = [args.corrupt_first]


def add_checksum(self, chunk):
    original_add_checksum(self, chunk)
    if corrupt[0]:
        corrupt[0] = False
        self._request_headers["upload-checksum"] = "sha1 " + base64.b64encode(hashlib.sha1(chunk + b"x").digest()).decode()


def perform(self):
    original_perform(self)
    statuses.append(self.status_code)


tus_request.TusRequest.add_checksum = add_checksum
tus_request.TusRequest.perform = perform

tus = client.TusClient(args.base + "/v1/uploads", headers={"Authorization": "Bearer " + args.key})
uploader = tus.uploader(args.file, url=args.url, chunk_size=args.chunk, upload_checksum=True, retries=2, retry_delay=0,
                        metadata={"filename": args.file.rsplit("/", 1)[-1], "preset": "default"})
uploader.upload(stop_at=args.stop_at)
last = getattr(uploader, "request", None)
print(json.dumps({
    "url": uploader.url,
    "offset": uploader.offset,
    "statuses": statuses,
    "headers": {k.lower(): v for k, v in (last.response_headers.items() if last else [])},
}))
