"""What the test receivers share: an HTTP server on a free loopback port that prints
{"port": N} once listening and stops when its standard input closes (the test's harness)."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test's output free of access logs."""

    def log_message(self, *args):
        pass


def serve_until_input_closes(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()
    server.shutdown()
