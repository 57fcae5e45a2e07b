import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnQueue
import KilnDatabase
import KilnPipeline
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// The catalog (presets, formats) and operations (health, readiness, metrics, OpenAPI, the page).
struct OperationsController: Controller {
    let pipeline: Pipeline
    let formats: FormatSupport
    let metrics: KilnMetrics
    let queue: any JobQueue
    /// What `/ready` asks: every database the server needs, and the store.
    let readiness: Readiness

    var routes: [Route] {
        [
            Route(.get, "/v1/presets", .read, presets),
            Route(.get, "/v1/formats", .read, formatList),
            Route(.get, "/health", nil, health),
            Route(.get, "/ready", nil, ready),
            Route(.get, "/metrics", nil, metricsText),
            Route(.get, "/openapi.yaml", nil, openAPI),
            Route(.get, "/", nil, page),
        ]
    }

    // MARK: Catalog

    func presets(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(["presets": pipeline.presets.listing], requestID: context.requestID)
    }

    func formatList(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(formats, requestID: context.requestID)
    }

    // MARK: Operations

    func health(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        Reply.success(["status": "ok"], requestID: context.requestID)
    }

    /// Ready when the database (and a shared queue) answers and the store is usable (FILE_006,
    /// 503, otherwise); the answer is reused for a while (`Readiness.cache`).
    func ready(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        if let failure = await readiness.check() { throw failure }
        return Reply.success(["status": "ready"], requestID: context.requestID)
    }

    func metricsText(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let stats = pipeline.places.stats
        metrics.gauges(running: stats.running, waiting: stats.waiting, queue: try? await queue.stats())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
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
