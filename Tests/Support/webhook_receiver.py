"""A webhook receiver on a free loopback port, for WebhookTests.

    webhook_receiver.py LOG FAIL_FIRST SECRET[,SECRET...] [redirect|hang]

Answers the first FAIL_FIRST posts with 503 (an outage), then 204. Every post is appended to
LOG as one JSON line: the answer given, the Kiln-Event, Kiln-Event-Id and Kiln-Delivery
headers, the number of v1 signatures, whether each secret verifies the Kiln-Signature (HMAC-
SHA256 over "<t>.<body>", computed here with Python's hmac, independent of Kiln's code, with
a 5-minute tolerance), the path, and the body. With "redirect", every post to /hooks is
answered 302 to /elsewhere with a body that must not end up in Kiln's log. Prints {"port": N}
once listening; stops when its standard input closes. With "hang", every post is logged and
then never answered (a dead endpoint that holds the connection).
"""
import hashlib
import hmac
import json
import sys
import threading
import time

from loopback_server import QuietHandler, serve_until_input_closes

log_path, fail_first, secrets = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
redirect = len(sys.argv) > 4 and sys.argv[4] == "redirect"
hang = len(sys.argv) > 4 and sys.argv[4] == "hang"
lock = threading.Lock()
count = [0]


def verifies(header, body, secret):
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    macs = [v for k, v in parts if k == "v1"]
    if len(stamps) != 1 or abs(time.time() - int(stamps[0])) > 300:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, m) for m in macs)


class Handler(QuietHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count[0] += 1
            status = 503 if count[0] <= fail_first else 204
            if redirect and self.path == "/hooks":
                status = 302
            signature = self.headers.get("Kiln-Signature", "")
            record = {
                "n": count[0], "answered": status, "path": self.path,
                "event": self.headers.get("Kiln-Event"), "event_id": self.headers.get("Kiln-Event-Id"),
                "delivery": self.headers.get("Kiln-Delivery"), "host": self.headers.get("Host"),
                "signatures": signature.count("v1="),
                "verified": [verifies(signature, body, s) for s in secrets],
                "body": json.loads(body or b"null"),
            }
            with open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")
        if hang:
            time.sleep(3600)
        self.send_response(status)
        if status == 302:
            answer = b"internal admin page: do not log me"
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        self.send_header("Content-Length", "0")
        self.end_headers()


serve_until_input_closes(Handler)
