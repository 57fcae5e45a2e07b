"""A small OTLP/HTTP trace receiver on a free loopback port, for TracingTests.

    otlp_receiver.py LOG

Takes POST /v1/traces (protobuf ExportTraceServiceRequest, decoded with opentelemetry-proto,
independent of swift-otel) and appends one JSON line per span to LOG: service, name, kind,
trace_id, span_id and parent_span_id (hex). Answers an empty ExportTraceServiceResponse.
Prints {"port": N} once listening; stops when its standard input closes.
"""
import json
import sys
import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from loopback_server import QuietHandler, serve_until_input_closes

log_path = sys.argv[1]
lock = threading.Lock()


class Handler(QuietHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces" or "protobuf" not in self.headers.get("Content-Type", ""):
            self.send_response(404)
            self.end_headers()
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        lines = []
        for resource in request.resource_spans:
            service = next((a.value.string_value for a in resource.resource.attributes if a.key == "service.name"), "")
            for scope in resource.scope_spans:
                for span in scope.spans:
                    lines.append(json.dumps({"service": service, "name": span.name, "kind": span.kind,
                                             "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                             "parent_span_id": span.parent_span_id.hex()}))
        with lock, open(log_path, "a") as log:
            for line in lines:
                log.write(line + "\n")
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


serve_until_input_closes(Handler)
