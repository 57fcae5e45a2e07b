import Foundation
import KilnCore
import KilnQueue
import KilnTestSupport
import Testing

/// `/metrics` on a port of its own (watch and worker): the registry's text after the refresh,
/// 404 for anything else, a port in use refused with what to do, and a stop that ends it.
@Suite struct MetricsEndpointTests {
    @Test func servesTheMetricsAfterEachRefreshAndStopsWhenCancelled() async throws {
        let metrics = KilnMetrics()
        metrics.fileEnded(outcome: "processed", code: nil, duration: .milliseconds(5))
        let port = try Loopback.freePort()
        let refreshed = Counter()
        let endpoint = MetricsEndpoint(port: port, metrics: metrics) { refreshed.add() }
        let serving = Task { try await endpoint.run() }
        let text = try await Self.get("/metrics", port: port)
        #expect(text.hasPrefix("HTTP/1.1 200"))
        #expect(text.contains("kiln_files_total{outcome=\"processed\"} 1"), "\(text)")
        #expect(refreshed.value >= 1)
        #expect(try await Self.get("/other", port: port).hasPrefix("HTTP/1.1 404"))
        serving.cancel()
        try await serving.value
    }

    @Test func aPortInUseIsRefusedWithWhatToDo() async throws {
        let port = try Loopback.freePort()
        let first = Task { try await MetricsEndpoint(port: port, metrics: KilnMetrics()).run() }
        defer { first.cancel() }
        _ = try await Self.get("/metrics", port: port)
        do {
            try await MetricsEndpoint(port: port, metrics: KilnMetrics()).run()
            Issue.record("a second endpoint on the same port ran")
        } catch let error as KilnError {
            #expect(error.message.contains("choose another --metrics-port"))
        }
    }

    /// One request over a new connection, retried until the endpoint listens (bounded).
    static func get(_ path: String, port: Int) async throws -> String {
        try await Tool.detached { () throws -> String in
            let deadline = Date().addingTimeInterval(30)
            while true {
                do {
                    let connection = try RawConnection(port: port, seconds: 60)
                    connection.send(Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
                    return connection.receive()
                } catch where Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
