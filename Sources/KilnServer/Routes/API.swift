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

/// The route handlers. Each takes what it needs from the server; failures are thrown as
/// `KilnError` (or `AnsweredError` when the connection must close) and become envelopes in
/// `FrontMiddleware`.
struct API: Sendable {
    let server: KilnServer
    var pipeline: Pipeline { server.pipeline }

    // MARK: Uploads

    func uploadMedia(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await upload(request, context, carousel: false)
    }

    func uploadCarousel(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await upload(request, context, carousel: true)
    }

    /// Refusals that come before the body is read close the connection (no draining).
    func beforeBody<T>(_ work: () throws(KilnError) -> T) throws -> T {
        do { return try work() } catch { throw AnsweredError(error: error, closeConnection: true) }
    }

    private func upload(_ request: Request, _ context: KilnRequestContext, carousel: Bool) async throws -> Response {
        let presets = pipeline.presets
        var form = try beforeBody { () throws(KilnError) in
            try UploadForm(query: request.uri.queryParameters, base: server.settings.engine.ingestOptions, presets: presets)
        }
        // What the caller makes is its tenant's: part of each item's id.
        form.options.tenant = context.key?.tenant
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
        let idempotency = try await Idempotency(request: request, context: context, records: server.idempotency)
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
        return Idempotency.digest(form, files: files)
    }

    private func receiveAndProcess(_ request: Request, _ context: KilnRequestContext, carousel: Bool, form: UploadForm,
                                   boundary: String, idempotency: Idempotency) async throws -> Response {
        var form = form
        let presets = pipeline.presets

        // One control for the whole request: its deadline runs from here to the last byte stored.
        let stages = StageClock(metrics: server.metrics, start: .received)
        let control = JobControl(timeout: form.options.timeout) { stages.reached($0.stage) }
        var uploads: [ReceivedUpload] = []
        let receiveStart = ContinuousClock.now
        do {
            let reader = MultipartReader(boundary: boundary, body: request.body.makeAsyncIterator())
            defer { server.metrics.bytesIn(reader.bytesRead) }
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
        server.metrics.stage("receive", ContinuousClock.now - receiveStart)
        let outcome = try await process(uploads, carousel: carousel, options: form.options, targets: form.targets,
                                        keyID: context.key?.id, control: control, requestID: context.requestID)
        try await idempotency.record(status: outcome.status.code, body: outcome.body,
                                     sent: Idempotency.digest(form, files: uploads.map(\.sha256)))
        var response = Reply.raw(outcome.body, status: outcome.status)
        if let job = outcome.jobID { response.headers[.location] = "/v1/jobs/\(job)" }
        return response
    }

    /// `work`'s result or its error, as a value (Swift 6.3 crashes compiling a `catch where` on
    /// this typed-throws call inside `upload`).
    static func outcome<T>(_ work: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await work()) } catch { return .failure(error) }
    }

    /// What the pipeline answered to received uploads: the status and envelope, and the job or
    /// media it made.
    struct Outcome {
        let status: HTTPResponse.Status
        let body: Data
        var jobID: String?
        var mediaID: String?

        /// Where what it made can be read.
        var location: String? { jobID.map { "/v1/jobs/\($0)" } ?? mediaID.map { "/v1/media/\($0)" } }
    }

    /// Received uploads through the pipeline, the one way for `POST /v1/media`, `/v1/carousels`
    /// and completed resumable uploads: videos become a job (202), images are processed now.
    /// With `targets` the answer holds one outcome per target (`TargetsAnswer`); without, the
    /// one preset's item or carousel, or its error.
    func process(_ uploads: [ReceivedUpload], carousel: Bool, options: IngestOptions, targets: [String]?,
                 keyID: String?, control: JobControl, requestID: String) async throws -> Outcome
    {
        if uploads.contains(where: { $0.kind == .video }) {
            // Videos take long: keep the files, queue a job, answer 202 at once.
            let job = try await enqueue(uploads, carousel: carousel, options: options, targets: targets, keyID: keyID,
                                        requestID: requestID)
            return Outcome(status: .accepted, body: try Self.envelope(["job": JobView(job, present: present)], requestID: requestID),
                           jobID: job.id)
        }
        let inputs = uploads.map(IngestInput.init(upload:))
        var shared = options
        if carousel { shared.type = .carousel }
        let request = carousel ? IngestRequest(carousel: inputs, targets: targets, options: shared, control: control)
            : IngestRequest(inputs[0], targets: targets, options: shared, control: control)
        let result = try await pipeline.ingest(request)
        try await server.records.add(result.outcomes, tenant: options.tenant, keyID: keyID)
        if targets != nil {
            let answer = TargetsAnswer(result.outcomes.map { $0.presented(present).shown(requestID: requestID) })
            return Outcome(status: answer.status, body: try answer.body(requestID: requestID))
        }
        if carousel {
            let (record, items) = try result.carousel()
            return Outcome(status: .created, body: try Self.envelope(CarouselResult(carousel: record, items: items.map(present)),
                                                                     requestID: requestID), mediaID: record.id)
        }
        let item = try result.item()
        return Outcome(status: item.reused ? .ok : .created, body: try Self.envelope(present(item), requestID: requestID),
                       mediaID: item.id)
    }

    private func enqueue(_ uploads: [ReceivedUpload], carousel: Bool, options: IngestOptions, targets: [String]?,
                         keyID: String?, requestID: String)
        async throws(KilnError) -> JobRecord
    {
        let job = NewJob(kind: carousel ? "carousel" : "media", payload: Data())
        let directory = JobRunner.directory(for: job.id, data: server.settings.engine.dataDirectory)
        let handOff = server.queueIsShared ? try requireStore().handOff : nil
        var inputs: [JobPayload.Input] = []
        defer { if handOff != nil { try? FileManager.default.removeItem(atPath: directory) } }
        do throws(KilnError) {
            for (index, upload) in uploads.enumerated() {
                let path = directory + "/\(index)"
                try upload.keep(at: path)
                if let handOff {
                    // A worker on another machine reads it from the store.
                    let key = StoreKey.incomingPrefix + job.id + "/\(index)"
                    inputs.append(.init(path: nil, key: key, name: upload.name))
                    try await handOff.put(file: path, key: key, contentType: upload.mime)
                } else {
                    inputs.append(.init(path: path, key: nil, name: upload.name))
                }
            }
            let payload = JobPayload(inputs: inputs, carousel: carousel, preset: options.preset, type: options.type,
                                     fit: options.fit, fitDuration: options.fitDuration == .trim ? .trim : nil,
                                     limits: options.limits.isEmpty ? nil : options.limits,
                                     keyID: keyID, tenant: options.tenant, requestID: requestID, targets: targets,
                                     trace: TraceCarrier.current())
            let priority = JobPolicy.priority(bytes: uploads.reduce(0) { $0 + $1.size })
            let record = try await server.queue.enqueue(NewJob(id: job.id, kind: job.kind, payload: JobRunner.encode(payload),
                                                               priority: priority,
                                                               dedupeKey: dedupeKey(uploads, options, targets: targets)))
            if record.id != job.id {
                // The same media and options are already queued or running: that job answers, this copy goes.
                try? FileManager.default.removeItem(atPath: directory)
                for key in inputs.compactMap(\.key) { try? await handOff?.delete(key: key) }
            }
            server.runner.wake()
            return record
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            for key in inputs.compactMap(\.key) { try? await handOff?.delete(key: key) }
            throw error
        }
    }

    /// What makes two uploads one job while it is unfinished: the media ids they will have (the
    /// same bytes under the same options). Nil when the preset is unknown (the job fails on its own).
    private func dedupeKey(_ uploads: [ReceivedUpload], _ options: IngestOptions, targets: [String]?) -> String? {
        var ids: [String] = []
        guard let presets = try? pipeline.resolve(targets: targets ?? [options.preset], limits: options.limits) else { return nil }
        for preset in presets {
            let processing = MediaIdentity.options(options, preset: preset)
            ids += uploads.map { MediaIdentity.id(sourceSHA256: $0.sha256, options: processing) }
        }
        // A request with targets answers differently from one with the same single preset.
        return (targets == nil ? "" : "targets:") + ids.joined(separator: "+")
    }

    static func envelope<Payload: Encodable & Sendable>(_ data: Payload, requestID: String) throws -> Data {
        try Reply.encoder.encode(Envelope.success(data, meta: Meta(requestId: requestID)))
    }
}
