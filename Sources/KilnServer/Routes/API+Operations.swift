import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// The catalog (presets, formats) and operations (health, readiness, metrics, OpenAPI, the page).
extension API {
    // MARK: Catalog

    func presets(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(["presets": pipeline.presets.listing], requestID: context.requestID)
    }

    func formatList(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(server.formats, requestID: context.requestID)
    }

    // MARK: Operations

    func health(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(["status": "ok"], requestID: context.requestID)
    }

    /// Ready when the database (and a shared queue) answers and the store is usable (FILE_006,
    /// 503, otherwise); the answer is reused for `readyCache`.
    func ready(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let now = ContinuousClock.now
        let cached = server.readiness.withLock { last in last.flatMap { now - $0.at < server.settings.readyCache ? $0 : nil } }
        let failure: KilnError?
        if let cached {
            failure = cached.failure
        } else {
            do throws(KilnError) {
                try await checkReady()
                failure = nil
            } catch {
                failure = error
            }
            server.readiness.withLock { $0 = (now, failure) }
        }
        if let failure { throw failure }
        return Reply.success(["status": "ready"], requestID: context.requestID)
    }

    private func checkReady() async throws(KilnError) {
        guard await server.database.ping() else { throw KilnError.storageUnavailable("the database does not answer") }
        // The shared database (state, queue) must answer too, or no request could be served.
        if let shared = server.shared { try await shared.checkAvailable() }
        if let queue = server.queue as? PostgresJobQueue, queue.database !== server.shared { try await queue.checkAvailable() }
        try await requireStore().checkAvailable()
    }

    func metricsText(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let stats = pipeline.places.stats
        server.metrics.gauges(running: stats.running, waiting: stats.waiting, queue: try? await server.queue.stats())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: server.metrics.render())))
    }

    /// The API's description (`openapi.yaml`, embedded at build time).
    func openAPI(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
    }

    func page(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: UploadPage.html)))
    }
}
