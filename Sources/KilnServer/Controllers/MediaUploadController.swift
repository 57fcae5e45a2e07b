import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// Uploads in one request: `POST /v1/media` (one file), `/v1/carousels` (several), and the
/// preflight. The body is streamed through the receiver, its files handed to the ingest service;
/// failures are thrown as `KilnError` (or `AnsweredError` when the connection must close) and
/// become envelopes in `FrontMiddleware`.
struct MediaUploadController: Controller {
    let ingest: IngestService
    var pipeline: Pipeline { ingest.pipeline }
    let answers: IngestAnswers
    let idempotency: any IdempotencyStore
    let metrics: KilnMetrics
    /// The server's defaults for what a client does not choose.
    let base: IngestOptions

    var routes: [Route] {
        [
            Route(.post, "/v1/media", .write, uploadMedia),
            Route(.post, "/v1/carousels", .write, uploadCarousel),
            Route(.post, "/v1/preflight", .write, preflight),
        ]
    }

    func uploadMedia(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await upload(request, context, carousel: false)
    }

    func uploadCarousel(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await upload(request, context, carousel: true)
    }

    private func upload(_ request: Request, _ context: KilnRequestContext, carousel: Bool) async throws -> Response {
        let presets = pipeline.presets
        var form = try beforeBody { () throws(KilnError) in
            try UploadForm(query: request.uri.queryParameters, base: base, presets: presets)
        }
        // What the caller makes is its tenant's: part of each item's id.
        form.tenant = context.key?.tenant
        let boundary = try beforeBody { () throws(KilnError) in try UploadForm.boundary(request.headers[.contentType]) }
        // A preset named in the query holds the request to its own cap at once; one named in a
        // form field can only be known once read, so until then the largest any preset takes.
        let query = request.uri.queryParameters
        let named = query["preset"] != nil || query["targets"] != nil ? form.names.compactMap { presets.presets[$0] } : nil
        let limit = IntakeLimits(named ?? Array(presets.presets.values)).request(carousel: carousel)
        try beforeBody { () throws(KilnError) in try IntakeLimits.check(request.headers[.contentLength].flatMap(Int64.init), within: limit) }
        try beforeBody { () throws(KilnError) in try pipeline.places.checkCapacity() }

        // A retried POST with the same Idempotency-Key gets the first answer, once its body is
        // seen to be the same request; a first request still in flight is waited for (409).
        let idempotency = try await Idempotency(request: request, context: context, records: idempotency)
        let previous = try await idempotency.begin(hasBody: request.hasBody)
        do {
            if request.headers[.expect]?.lowercased() == "100-continue" {
                // Hummingbird never sends it; without it curl waits a second before every body over 1 MiB.
                try await context.channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            if let previous {
                let sent = try await Self.sentDigest(request, boundary: boundary, form: form, presets: presets, limit: limit)
                return try idempotency.replay(previous, sent: sent)
            }
            return try await receiveAndProcess(request, context, carousel: carousel, form: form, boundary: boundary,
                                               idempotency: idempotency)
        } catch {
            // Only this request's own in-flight marker goes (a kept answer stays).
            await idempotency.abandon()
            throw error
        }
    }

    /// What a request sent, as an Idempotency-Key's first request is recorded: its form fields
    /// and the SHA-256 of each file, read from the body without keeping any of it.
    private static func sentDigest(_ request: Request, boundary: String, form: UploadForm, presets: PresetCatalog,
                                   limit: Int64) async throws -> String {
        var form = form
        var files: [String] = []
        let reader = MultipartReader(boundary: boundary, body: request.body.makeAsyncIterator())
        reader.limit = limit
        do {
            while let part = try await reader.nextPart() {
                if part.name == "file" {
                    var hasher = SHA256()
                    for try await chunk in reader.content() { hasher.update(data: chunk) }
                    files.append(hasher.finalize().map { String(format: "%02x", $0) }.joined())
                } else if let value = try await reader.text(limit: 256) {
                    try? form.set(part.name, value, presets: presets)
                }
            }
        } catch {
            throw AnsweredError(error: error, closeConnection: true)
        }
        return Idempotency.digest(form.upload, files: files)
    }

    private func receiveAndProcess(_ request: Request, _ context: KilnRequestContext, carousel: Bool, form: UploadForm,
                                   boundary: String, idempotency: Idempotency) async throws -> Response {
        var form = form
        let presets = pipeline.presets

        // One control for the whole request: its deadline runs from here to the last byte stored.
        let stages = StageClock(metrics: metrics, start: .received)
        let control = JobControl(timeout: form.options.timeout) { stages.reached($0.stage) }
        var uploads: [ReceivedUpload] = []
        let receiveStart = ContinuousClock.now
        do {
            let reader = MultipartReader(boundary: boundary, body: request.body.makeAsyncIterator())
            defer { metrics.bytesIn(reader.bytesRead) }
            while let part = try await reader.nextPart() {
                guard part.name == "file" else {
                    // A file under another name (`image`, `upload`...) is told where it goes, not read as a field.
                    let misnamed = KilnError.uploadFailed("the part named \"\(part.name)\" looks like a file; send the file in "
                        + "a part named `file` (with preset, type and fit as fields before it)")
                    guard part.filename == nil else { throw misnamed }
                    guard uploads.isEmpty else {
                        throw KilnError.invalidRequest("field \"\(part.name)\" comes after the file part",
                                                       fields: [part.name: "send it before the file part, or in the query string"])
                    }
                    guard let value = try await reader.text(limit: 256) else { throw misnamed }
                    try form.set(part.name, value, presets: presets)
                    continue
                }
                if !carousel, !uploads.isEmpty {
                    throw KilnError.invalidRequest("one file per request here; send several to /v1/carousels",
                                                   fields: ["file": "exactly one"])
                }
                let targets = try pipeline.resolve(targets: form.names, limits: form.options.limits)
                // The chosen presets' cap, from the first file on: a declared length at once, a
                // chunked body as it is read.
                let cap = IntakeLimits(targets).request(carousel: carousel)
                if uploads.isEmpty {
                    try IntakeLimits.check(request.headers[.contentLength].flatMap(Int64.init), within: cap)
                    reader.limit = cap
                }
                var options = form.options
                // The target taking the most items speaks for a carousel's count and kinds.
                let widest = targets.max { ($0.carousel?.maxItems ?? 0) < ($1.carousel?.maxItems ?? 0) } ?? targets[0]
                if carousel {
                    // Count and kinds against the presets before the part is written anywhere.
                    guard let rules = widest.carousel else {
                        throw KilnError.carouselCount(uploads.count + 1, range: nil, preset: widest.name)
                    }
                    guard uploads.count < rules.maxItems else {
                        throw KilnError.carouselCount(uploads.count + 1, range: rules.range, preset: widest.name)
                    }
                    let kinds = Set(targets.flatMap { $0.carousel?.kinds ?? [] })
                    options.type = kinds == [.image] ? .image : kinds == [.video] ? .video : .auto
                }
                let received = await Self.outcome {
                    try await pipeline.receive(stream: reader.content(), name: part.filename ?? "upload", options: options,
                                               targets: form.names, control: control)
                }
                if carousel, case .failure(let error as KilnError) = received, error.code == .media001 {
                    // The first bytes are of a kind the carousel does not hold: refused before any is kept.
                    throw KilnError.carouselKind(options.type == .image ? .video : .image, preset: widest.name)
                }
                uploads.append(try received.get())
            }
        } catch {
            throw AnsweredError(error: error, closeConnection: true)
        }
        guard !uploads.isEmpty else {
            throw KilnError.uploadFailed("the request has no `file` part; send the file as a multipart field named file")
        }
        metrics.stage("receive", ContinuousClock.now - receiveStart)
        let outcome = try await process(IngestSubmission(inputs: uploads.map(IngestInput.init(upload:)), carousel: carousel, options: form.upload,
                                                         tenant: form.tenant, keyID: context.key?.id,
                                                         requestID: context.requestID, control: control),
                                        requestID: context.requestID)
        try await idempotency.record(status: outcome.status.code, body: outcome.body,
                                     sent: Idempotency.digest(form.upload, files: uploads.map(\.sha256)))
        var response = Reply.raw(outcome.body, status: outcome.status)
        if let job = outcome.jobID { response.headers[.location] = "/v1/jobs/\(job)" }
        return response
    }

    /// `work`'s result or its error, as a value (Swift 6.3 crashes compiling a `catch where` on
    /// this typed-throws call inside `upload`).
    static func outcome<T>(_ work: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await work()) } catch { return .failure(error) }
    }

    /// Received uploads through the ingest service, the one way for `POST /v1/media` and
    /// `/v1/carousels` (completed resumable uploads: `UploadCompletion`), and its answer as HTTP.
    func process(_ submission: IngestSubmission, requestID: String) async throws -> IngestAnswers.Outcome {
        try answers.outcome(try await ingest.submit(submission), requestID: requestID)
    }

}
