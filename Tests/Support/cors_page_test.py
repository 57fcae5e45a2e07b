"""A page on another origin uploads through tus to Kiln in headless Chromium.

usage: cors_page_test.py PAGE_PORT API_BASE OTHER_API_BASE API_KEY FILE

Serves an empty page at http://localhost:PAGE_PORT/ (another origin than the API's
127.0.0.1), then runs a tus upload from it with fetch: creation (reading Location), two PATCH
chunks (reading Upload-Offset), HEAD, and the media the last chunk points to (Kiln-Location),
with the key in Authorization, so every request needs a CORS preflight. OTHER_API_BASE is a
server that does not allow the page's origin: the same first request must fail there.
Prints one JSON object with what the page could read.
"""
import base64
import http.server
import json
import sys
import threading

import chromium

page_port, api, other, key, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
with open(path, "rb") as f:
    data = f.read()


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>publishing tool</title><p>another origin</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


page = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), Page)
threading.Thread(target=page.serve_forever, daemon=True).start()

SCRIPT = """
const [api, other, key, b64, name, done] = arguments;
const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
const tus = {"Tus-Resumable": "1.0.0", "Authorization": "Bearer " + key};
const out = {origin: location.origin};
(async () => {
  try {
    const meta = "filename " + btoa(name) + ",preset " + btoa("default");
    let r = await fetch(api + "/v1/uploads", {method: "POST", headers: {...tus, "Upload-Length": String(bytes.length),
                                                                         "Upload-Metadata": meta}});
    out.create = r.status;
    out.location = r.headers.get("Location");
    out.request_id = r.headers.get("x-request-id");
    out.rate_limit = r.headers.get("X-RateLimit-Limit");
    const url = new URL(out.location, api).href;
    const half = Math.floor(bytes.length / 2);
    out.offsets = [];
    for (const [from, to] of [[0, half], [half, bytes.length]]) {
      r = await fetch(url, {method: "PATCH", headers: {...tus, "Upload-Offset": String(from),
                                                       "Content-Type": "application/offset+octet-stream"},
                            body: bytes.slice(from, to)});
      out.offsets.push(Number(r.headers.get("Upload-Offset")));
      out.patch = r.status;
      out.kiln_location = r.headers.get("Kiln-Location");
    }
    r = await fetch(url, {method: "HEAD", headers: tus});
    out.head_offset = Number(r.headers.get("Upload-Offset"));
    r = await fetch(new URL(out.kiln_location, api).href, {headers: {"Authorization": "Bearer " + key}});
    const media = await r.json();
    out.media = r.status;
    out.source_sha256 = media.data && media.data.source_sha256;
  } catch (e) {
    out.error = String(e);
  }
  try {
    const r = await fetch(other + "/v1/uploads", {method: "POST", headers: {...tus, "Upload-Length": "10"}});
    out.other = r.status;
  } catch (e) {
    out.other_error = String(e);
  }
  done(out);
})();
"""

driver = chromium.headless()
try:
    driver.set_script_timeout(60)
    driver.get(f"http://localhost:{page_port}/")
    result = driver.execute_async_script(SCRIPT, api, other, key, base64.b64encode(data).decode(), path.rsplit("/", 1)[-1])
    print(json.dumps(result))
finally:
    driver.quit()
    page.shutdown()
