import KilnCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// `GET /metrics` alone on a port of its own, for a front end without the API (`kiln watch
/// --metrics-port`, `kiln worker --metrics-port`). Plain SwiftNIO HTTP/1: these front ends do
/// not need a web framework for one route. A service: runs until the group shuts down (or its
/// task is cancelled).
public struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let metrics: KilnMetrics
    let logger: Logger

    /// Updates gauges (read from a queue, say) before each scrape.
    let refresh: @Sendable () async -> Void

    public init(host: String = "127.0.0.1", port: Int, metrics: KilnMetrics, logger: Logger = Logger(label: "kiln"),
                refresh: @escaping @Sendable () async -> Void = {}) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        self.refresh = refresh
    }

    public func run() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw KilnError.internalError("cannot serve metrics on \(host):\(port) (\(error)): choose another --metrics-port")
        }
        let listener = server.channel
        do {
            try await cancelWhenGracefulShutdown {
                try await withTaskCancellationHandler {
                    try await withThrowingDiscardingTaskGroup { connections in
                        try await server.executeThenClose { accepted in
                            for try await connection in accepted {
                                connections.addTask { await answer(connection) }
                            }
                        }
                    }
                } onCancel: {
                    listener.close(promise: nil)
                }
            }
        } catch where Task.isCancelled || Task.isShuttingDownGracefully {
            // Stopping: the listener was closed under the accept loop, which is how it ends.
        }
    }

    /// Answers each request on one connection until the client closes it.
    private func answer(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head): request = head
                case .body: continue
                case .end:
                    guard let head = request else { continue }
                    request = nil
                    let found = head.method == .GET && head.uri.split(separator: "?").first == "/metrics"
                    if found { await refresh() }
                    let body = found ? metrics.render() : Array("not found\n".utf8)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
                    headers.add(name: "Content-Length", value: String(body.count))
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: found ? .ok : .notFound,
                                                                    headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    if !head.isKeepAlive { return }
                }
            }
        }
    }
}
