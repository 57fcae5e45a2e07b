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
        let limit = (named ?? Array(presets.presets.values)).largestRequest(carousel: carousel)
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > limit {
            throw AnsweredError(error: KilnError.requestTooLarge(size: length, limit: limit), closeConnection: true)
        }
        try beforeBody { () throws(KilnError) in try pipeline.scheduler.checkCapacity() }

        // A retried POST with the same Idempotency-Key gets the first answer, once its body is
        // seen to be the same request; a first request still in flight is waited for (409).
        let replay = try await Replay(request: request, context: context, records: server.idempotency)
        let previous = try await replay.begin(hasBody: request.hasBody)
        do {
            if request.headers[.expect]?.lowercased() == "100-continue" {
                // Hummingbird never sends it; without it curl waits a second before every body over 1 MiB.
                try await context.channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            if let previous {
                let sent = try await Self.sentDigest(request, boundary: boundary, form: form, presets: presets, limit: limit)
                try replay.answer(previous, sent: sent)
            }
            return try await receiveAndProcess(request, context, carousel: carousel, form: form, boundary: boundary, replay: replay)
        } catch {
            // Only this request's own in-flight marker goes (a kept answer stays).
            await replay.abandon()
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
        return Replay.digest(form, files: files)
    }

    private func receiveAndProcess(_ request: Request, _ context: KilnRequestContext, carousel: Bool, form: UploadForm,
                                   boundary: String, replay: Replay) async throws -> Response {
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
                let cap = targets.largestRequest(carousel: carousel)
                if uploads.isEmpty {
                    if let length = request.headers[.contentLength].flatMap(Int64.init), length > cap {
                        throw KilnError.requestTooLarge(size: length, limit: cap)
                    }
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
        try await replay.record(status: outcome.status.code, body: outcome.body,
                                sent: Replay.digest(form, files: uploads.map(\.sha256)))
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

    // MARK: Media

    func media(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let store = try requireStore()
        switch try await ownedEntry(context) {
        case .item(let item):
            return Reply.success(present(item), requestID: context.requestID)
        case .carousel(let record):
            var items: [MediaItem] = []
            for itemID in record.items { if let item = try await store.item(itemID) { items.append(present(item)) } }
            return Reply.success(CarouselResult(carousel: record, items: items), requestID: context.requestID)
        }
    }

    /// Removes the caller's tenant's media: an item, or a carousel with the items nothing else
    /// of the tenant holds.
    func deleteMedia(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let entry = try await ownedEntry(context)
        let id = entry.id
        let store = try requireStore()
        let unheld = try await server.records.release(id: id, tenant: context.key?.tenant)
        guard try await store.delete(id) else { throw KilnError.notFoundResource("media \(id)") }
        for item in unheld { _ = try await store.delete(item) }
        try await Webhooks(server: server).mediaDeleted(id, keyID: context.key?.id)
        return Reply.success(["id": JSONValue.string(id), "deleted": .bool(true)], requestID: context.requestID)
    }

    /// The stored media the route's id names, when it is the caller's tenant's; API_002 for
    /// another tenant's exactly as for one that does not exist. The stored manifest says whose
    /// it is; one made before tenants, the media records.
    func ownedEntry(_ context: KilnRequestContext) async throws(KilnError) -> StoredEntry {
        let id = try mediaID(context)
        guard let entry = try await requireStore().entry(id) else { throw KilnError.notFoundResource("media \(id)") }
        let stated: String? = switch entry {
        case .item(let item): item.options.tenant
        case .carousel(let record): record.tenant
        }
        let owner = if let stated { stated } else { try await server.records.tenant(of: id) }
        guard let owner, owner == context.key?.tenant else { throw KilnError.notFoundResource("media \(id)") }
        return entry
    }

    /// The bytes of one rendition: ETag (its SHA-256), 304 for a matching If-None-Match,
    /// 206 for a Range, or a redirect to a presigned URL when the store is a bucket.
    func rendition(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let name = context.parameters.get("rendition") ?? ""
        guard case .item(let item) = try await ownedEntry(context) else {
            throw KilnError.notFoundResource("rendition \"\(name)\": a carousel has none of its own; ask its items")
        }
        let id = item.id
        guard let rendition = item.renditions.first(where: { $0.name == name }) else {
            throw KilnError.notFoundResource("rendition \"\(name)\" of media \(id); it has \(item.renditions.map(\.name).joined(separator: ", "))")
        }
        return try await send(rendition, of: id, request, cache: .privateImmutable)
    }

    /// Who may keep a rendition's answer, and how long.
    enum Caching {
        /// Asked for with a key: the caller's cache only, never a shared one; the bytes never change.
        case privateImmutable
        /// A keyless URL's: any cache, no longer than the URL lives.
        case shared(seconds: Int)

        var header: String {
            switch self {
            case .privateImmutable: "private, max-age=31536000, immutable"
            case .shared(let seconds): "public, max-age=\(seconds)"
            }
        }

        /// A redirect to a URL that works `lifetime` seconds is kept no longer than that.
        func redirect(lifetime: Int) -> String {
            switch self {
            case .privateImmutable: "private, max-age=\(lifetime)"
            case .shared(let seconds): "public, max-age=\(min(seconds, lifetime))"
            }
        }
    }

    /// A rendition's bytes: ETag (its SHA-256), 304 for a matching If-None-Match, 206 for a
    /// Range, no body for HEAD, or a redirect to the bucket's URL (cached no longer than the URL
    /// works).
    func send(_ rendition: Rendition, of id: String, _ request: Request, cache: Caching) async throws -> Response {
        let store = try requireStore()
        let etag = "\"\(rendition.sha256)\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: cache.header, .acceptRanges: "bytes"]
        if let match = request.headers[.ifNoneMatch],
           match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        if let url = store.url(forItem: id, file: rendition.file) {
            headers[.location] = url
            // The redirect is kept no longer than the URL it names works (5 minutes short of a
            // presigned URL's hour); a public domain's for a day.
            headers[.cacheControl] = cache.redirect(lifetime: store.urlLifetime.map { max(0, Int($0.components.seconds) - 300) } ?? 86_400)
            return Response(status: .found, headers: headers)
        }
        let range: ClosedRange<Int64>?
        do {
            range = try StoredFile.clip(Self.range(request.headers[.range], size: rendition.bytes), size: rendition.bytes)
        } catch {
            throw AnsweredError(error: error, headers: [.contentRange: "bytes */\(rendition.bytes)"])
        }
        let file = try await store.open(id, file: rendition.file, range: range)
        headers[.contentType] = file.contentType
        if let range = file.range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)" }
        let status: HTTPResponse.Status = file.range == nil ? .ok : .partialContent
        if request.method == .head {
            headers[.contentLength] = String(file.length)
            return Response(status: status, headers: headers)
        }
        let metrics = server.metrics
        let body = ResponseBody(contentLength: Int(file.length)) { writer in
            for try await chunk in file.body {
                try await writer.write(ByteBuffer(bytes: chunk))
                metrics.bytesOut(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// An item as clients see it: each rendition's address is its route here (or the bucket's
    /// URL); the server's own paths are not shown.
    @Sendable func present(_ item: MediaItem) -> MediaItem {
        var item = pipeline.store.map { $0.resolve(item) } ?? item
        if item.location?.hasPrefix("/") == true { item.location = nil }
        for index in item.renditions.indices {
            item.renditions[index].path = nil
            if item.renditions[index].url == nil {
                item.renditions[index].url = "/v1/media/\(item.id)/\(item.renditions[index].name)"
            }
        }
        item.original?.path = nil
        // Each rendition's keyless URL, for the longest life the server gives.
        if let tenant = item.options.tenant, let port = server.listeningPort {
            let signer = server.fetchURLs(port: port)
            let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + JobControl.seconds(signer.maxLifetime)).rounded(.down))
            for index in item.renditions.indices {
                let link = fetchLink(item.id, item.renditions[index], tenant: tenant, expires: expires, signer: signer)
                item.renditions[index].fetchURL = link.url
                item.renditions[index].fetchExpiresAt = link.expiresAt?.formatted(.iso8601)
            }
        }
        return item
    }

    /// `bytes=A-B`, `bytes=A-` or `bytes=-N` as an inclusive range; nil for none, several, or
    /// one that is not of these forms (RFC 9110 lets a server ignore it: the whole file is sent).
    static func range(_ header: String?, size: Int64) -> ClosedRange<Int64>? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let bounds = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2 else { return nil }
        if bounds[0].isEmpty {
            guard let suffix = Int64(bounds[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...max(0, size - 1)
        }
        guard let start = Int64(bounds[0]), start >= 0 else { return nil }
        if bounds[1].isEmpty { return start...max(start, size - 1) }
        guard let end = Int64(bounds[1]), end >= start else { return nil }
        return start...end
    }

    func mediaID(_ context: KilnRequestContext) throws(KilnError) -> String {
        let id = context.parameters.get("id") ?? ""
        guard StoreKey.isID(id) else { throw KilnError.notFoundResource("media \(id)") }
        return id
    }

    func requireStore() throws(KilnError) -> any MediaStore {
        guard let store = pipeline.store else { throw KilnError.storageNotConfigured("the server has no store") }
        return store
    }

    // MARK: Jobs

    func job(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        var record = try await ownedJob(context)
        let id = record.id
        let wait = request.uri.queryParameters.get("wait")
        guard wait == nil || wait == "true" || wait == "false" else {
            throw KilnError.invalidRequest("wait must be true or false", fields: ["wait": "true|false"])
        }
        if wait == "true" {
            let deadline = ContinuousClock.now + server.settings.waitLimit
            while !record.status.isFinished, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                record = try await server.queue.job(id) ?? record
            }
        }
        return Reply.success(JobView(record, present: present), requestID: context.requestID)
    }

    func cancelJob(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let id = try await ownedJob(context).id
        let reason = "the job was cancelled through the API"
        guard let record = try await server.queue.cancel(id, reason: JobRunner.encode(KilnError.cancelled(reason))) else {
            throw KilnError.notFoundResource("job \(id)")
        }
        server.runner.cancel(id, reason: reason)
        return Reply.success(JobView(record, present: present), requestID: context.requestID)
    }

    /// The route's job when the caller's tenant queued it; API_002 otherwise, as for no job.
    private func ownedJob(_ context: KilnRequestContext) async throws(KilnError) -> JobRecord {
        let id = context.parameters.get("id") ?? ""
        guard let record = try await server.queue.job(id), let owner = JobPayload.owner(of: record), owner == context.key?.tenant
        else { throw KilnError.notFoundResource("job \(id)") }
        return record
    }

    // MARK: Webhooks

    /// The delivery log of the caller's tenant's endpoints, newest first (`?limit=`, 1-500, default 100).
    func webhookDeliveries(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let limit = request.uri.queryParameters.get("limit").map { Int($0) } ?? 100
        guard let limit, (1...500).contains(limit) else {
            throw KilnError.invalidRequest("limit must be 1-500", fields: ["limit": "1-500"])
        }
        let deliveries = try await server.state.outbox.log(tenant: context.key?.tenant ?? "", limit: limit)
        return Reply.success(["deliveries": deliveries.map(DeliveryView.init)], requestID: context.requestID)
    }

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
        let stats = pipeline.scheduler.stats
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

/// A stored first answer, sent again.
struct Replayed: Error {
    let status: Int
    let body: Data
}

/// `Idempotency-Key` on a POST: the first answer per key is kept and replayed to a retry that
/// sends the same request (route, query, form fields, files); another request with the key is
/// refused (422, API_009), and a retry while the first is in flight waits (409, API_007).
struct Replay {
    let records: any IdempotencyStore
    let keyID: String?
    let idempotencyKey: String?
    /// The route and query, known before the body.
    let route: String

    init(request: Request, context: KilnRequestContext, records: any IdempotencyStore) async throws {
        self.records = records
        keyID = context.key?.id
        route = "\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")"
        let key = request.headers[.idempotencyKey]
        if let key, key.isEmpty || key.count > 255 {
            throw AnsweredError(error: KilnError.invalidRequest("Idempotency-Key must be 1 to 255 characters",
                                                                fields: ["Idempotency-Key": "1 to 255 characters"]),
                                closeConnection: true)
        }
        idempotencyKey = key
    }

    /// What a request's body amounts to: its options and its files' SHA-256s, in order.
    static func digest(_ form: UploadForm, files: [String]) -> String {
        let options = form.options
        let targets = form.targets.map { ["targets=" + $0.joined(separator: ",")] } ?? []
        let trim = options.fitDuration == .trim ? ["fit_duration=trim"] : []
        let limits = AccountLimits.canonical(options.limits).map { ["limits=" + $0] } ?? []
        return FileDigest.sha256(joining: ["preset=\(options.preset)", "type=\(options.type.rawValue)", "fit=\(options.fit.rawValue)"]
            + trim + limits + targets + files)
    }

    /// Before the body: nil to go ahead (the key is marked in flight), or the first answer when
    /// the route and query are the same (its body is then compared by `answer`).
    func begin(hasBody: Bool) async throws -> IdempotencyRecords.Answer? {
        guard let keyID, let idempotencyKey else { return nil }
        guard let answer = try await records.begin(keyID: keyID, idempotencyKey: idempotencyKey, requestHash: route) else {
            return nil
        }
        if answer.inFlight { throw AnsweredError(error: KilnError.idempotencyInFlight(), closeConnection: hasBody) }
        guard answer.requestHash.split(separator: " #", maxSplits: 1).first.map(String.init) == route else {
            throw AnsweredError(error: KilnError.idempotencyReused("another route or query"), closeConnection: hasBody)
        }
        return answer
    }

    /// The first answer again (`Replayed`) when the body sent the same; API_009 otherwise.
    func answer(_ previous: IdempotencyRecords.Answer, sent: String) throws -> Never {
        guard previous.requestHash == route + " #" + sent else {
            throw AnsweredError(error: KilnError.idempotencyReused("other form fields or files"))
        }
        throw AnsweredError(error: Replayed(status: previous.status, body: previous.body))
    }

    func record(status: Int, body: Data, sent: String) async throws {
        guard let keyID, let idempotencyKey else { return }
        try await records.record(keyID: keyID, idempotencyKey: idempotencyKey,
                                 .init(requestHash: route + " #" + sent, status: status, body: body))
    }

    /// The request failed: a retry runs anew. Not cut short by the request's own cancellation
    /// (a marker left behind would hold every retry off for half an hour).
    func abandon() async {
        guard let keyID, let idempotencyKey else { return }
        let records = records
        await Task.detached { try? await records.abandon(keyID: keyID, idempotencyKey: idempotencyKey) }.value
    }
}
