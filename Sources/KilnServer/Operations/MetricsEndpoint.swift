import Hummingbird
import KilnCore
import Logging
import NIOCore
import ServiceLifecycle

/// `GET /metrics` alone on a port of its own, for a front end without the API
/// (`kiln watch --metrics-port`). A service: runs until the group shuts down.
public struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let metrics: ServerMetrics
    let logger: Logger

    /// Updates gauges (read from a queue, say) before each scrape.
    let refresh: @Sendable () async -> Void

    public init(host: String = "127.0.0.1", port: Int, metrics: ServerMetrics, logger: Logger = Logger(label: "kiln"),
                refresh: @escaping @Sendable () async -> Void = {}) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        self.refresh = refresh
    }

    public func run() async throws {
        let router = Router()
        let (metrics, refresh) = (metrics, refresh)
        router.get("/metrics") { _, _ in
            await refresh()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "kiln"),
                              logger: logger)
        do {
            try await app.run()
        } catch where !Task.isCancelled {
            throw KilnError.internalError("cannot serve metrics on \(host):\(port) (\(error)): choose another --metrics-port")
        }
    }
}
