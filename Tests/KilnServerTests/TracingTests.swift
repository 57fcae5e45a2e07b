import Foundation
import KilnCore
import KilnTestSupport
import Testing

/// OpenTelemetry end to end: `kiln serve` and `kiln worker` processes export their spans by
/// OTLP/HTTP to a receiver of the test's (opentelemetry-proto decodes them, not swift-otel), and
/// one trace follows a video from its upload through the queue to the worker and to the webhook.
@Suite(.serialized) struct TracingTests {
    struct Span: Equatable {
        let service: String
        let name: String
        let trace: String
        let id: String
        let parent: String
    }

    /// The OTLP receiver (Tests/Support/otlp_receiver.py) and the spans it was sent.
    final class Receiver: Sendable {
        let harness: Harness
        let log: String
        var endpoint: String { "http://127.0.0.1:\(harness.info["port"] as? Int ?? 0)" }

        init() throws {
            log = Fixtures.scratchDirectory("kiln-otlp") + ".jsonl"
            harness = try Harness(script: "otlp_receiver.py", arguments: [log], timeout: 30, hint: "opentelemetry-proto")
        }

        deinit {
            harness.stop()
            try? FileManager.default.removeItem(atPath: log)
        }

        var spans: [Span] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let span = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return Span(service: span["service"] as? String ?? "", name: span["name"] as? String ?? "",
                            trace: span["trace_id"] as? String ?? "", id: span["span_id"] as? String ?? "",
                            parent: span["parent_span_id"] as? String ?? "")
            }
        }

        /// The spans once `found` picks what the test waits for (bounded: exports are batched).
        func wait<T>(seconds: Double = 60, for found: ([Span]) -> T?) async throws -> T {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                if let value = found(spans) { return value }
                guard Date() < deadline else { throw Tool.Failure(description: "the receiver got only \(spans)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test func oneTraceFollowsAVideoFromItsUploadToTheWorkerAndTheWebhook() async throws {
        let receiver = try Receiver()
        let hooks = try WebhookTests.Receiver(secrets: ["traced"])
        let moto = try MotoS3()
        defer { moto.stop() }
        let queue = try await PostgresCluster.started().database() + "?sslmode=disable"
        let root = Fixtures.scratchDirectory("kiln-trace")
        defer { Fixtures.cleanUp(root) }
        // Exported in batches every 100 ms: the spans arrive soon after they end.
        let environment = moto.environment.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                                                    "OTEL_BSP_SCHEDULE_DELAY": "100"]) { $1 }
        let server = try await ServeProcess(data: root + "/api", arguments: [
            "--storage", "r2", "--queue", queue, "--webhook", hooks.url, "--webhook-secret", "traced",
        ], environment: environment)
        let worker = try WorkerProcess(queue: queue, data: root + "/worker", arguments: ["--storage", "r2"],
                                       environment: environment)
        try await worker.ready()

        let answer = try await server.upload(Fixtures.sample("video/h264-aac-faststart.mp4"))
        #expect(answer.status == 202, "\(answer.json)")
        let job = try #require((answer.data["job"] as? [String: Any])?["id"] as? String)
        _ = try await hooks.delivered("job.succeeded")

        // The upload's span (a root: the client sent no traceparent), then in its trace the
        // worker's job with the pipeline's steps under it, and the webhook's delivery.
        let upload = try await receiver.wait { spans in
            spans.first { $0.service == "kiln-serve" && $0.name == "/v1/media" && $0.parent.isEmpty }
        }
        let trace = try await receiver.wait { spans -> [Span]? in
            let mine = spans.filter { $0.trace == upload.trace }
            guard mine.contains(where: { $0.service == "kiln-worker" && $0.name.hasPrefix("job ") }),
                  mine.contains(where: { $0.service == "kiln-serve" && $0.name == "webhook job.succeeded" }),
                  mine.contains(where: { $0.service == "kiln-worker" && $0.name == "store" })
            else { return nil }
            return mine
        }
        let jobSpan = try #require(trace.first { $0.name.hasPrefix("job ") })
        #expect(jobSpan.parent == upload.id, "the job's span is a child of the upload's: \(trace)")
        for step in ["sniff", "admit", "probe", "validate", "hash", "identify", "process", "check", "store"] {
            #expect(trace.contains { $0.service == "kiln-worker" && $0.name == step }, "no \(step) span: \(trace.map(\.name))")
        }
        #expect(trace.contains { $0.service == "kiln-serve" && $0.name == "receive" && $0.parent == upload.id })
        // The worker's log lines name the trace.
        #expect(worker.log.contains(upload.trace), "\(worker.log.suffix(2_000))")
        _ = job
    }
}
