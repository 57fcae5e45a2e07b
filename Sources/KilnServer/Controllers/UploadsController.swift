import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import NIOCore

/// Resumable uploads: tus 1.0 at `/v1/uploads` (core, creation, creation-with-upload,
/// creation-defer-length, checksum with sha1 and sha256, expiration, termination). A chunk is
/// written at the upload's recorded offset, synced, and only then counted; a chunk whose
/// `Upload-Checksum` does not match is cut off again (460, FILE_008). The last byte sends the
/// file to the ingest service as `POST /v1/media` does (`UploadCompletion`), and the upload keeps that answer:
/// `Kiln-Location` (on the last PATCH and on HEAD) and `GET /v1/uploads/{id}` point at the media
/// or the job.
struct UploadsController: Controller {
    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,creation-defer-length,checksum,expiration,termination"
    static let checksums = "sha1,sha256"

    let pipeline: Pipeline
    let area: UploadArea
    /// The last step of a complete upload (also the sweeper's).
    let completion: UploadCompletion
    let metrics: KilnMetrics
    /// The tenants' quotas, the smallest chunk, the defaults of the upload options.
    let settings: ServerSettings

    var routes: [Route] {
        [
            Route(.options, "/v1/uploads", nil, options),
            Route(.post, "/v1/uploads", .write, create),
            Route(.head, "/v1/uploads/{id}", .read, head),
            Route(.patch, "/v1/uploads/{id}", .write, patch),
            Route(.delete, "/v1/uploads/{id}", .write, delete),
            Route(.get, "/v1/uploads/{id}", .read, status),
            Route(.post, "/v1/uploads/{id}", .write, overridden),
        ]
    }

    // MARK: Routes

    /// `OPTIONS /v1/uploads`: what this server speaks (no key needed, as tus clients discover first).
    func options(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let largest = IntakeLimits(Array(pipeline.presets.presets.values)).anyFile
        return Response(status: .noContent, headers: [
            .tusResumable: Self.version, .tusVersion: Self.version, .tusExtension: Self.extensions,
            .tusMaxSize: String(largest), .tusChecksumAlgorithm: Self.checksums,
        ])
    }

    /// `POST /v1/uploads`: a new upload, with its length or `Upload-Defer-Length: 1`, its options
    /// in `Upload-Metadata`; a body (creation-with-upload) is its first chunk.
    func create(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await tus(request) {
            if request.hasBody {
                try chunkType(request)
            }
            let metadata = try refusing(request) { () throws(KilnError) in try Self.metadata(request.headers[.uploadMetadata]) }
            let form = try refusing(request) { () throws(KilnError) in try self.form(metadata) }
            let targets = try refusing(request) { () throws(KilnError) in try pipeline.resolve(targets: form.names, limits: form.options.limits) }
            let length = try refusing(request) { () throws(KilnError) -> Int64? in
                let deferred = request.headers[.uploadDeferLength]
                switch (request.headers[.uploadLength], deferred) {
                case (let value?, nil):
                    return try Self.count(value, header: "Upload-Length")
                case (nil, "1"):
                    return nil
                default:
                    throw KilnError.invalidRequest("send either Upload-Length or Upload-Defer-Length: 1",
                                                   fields: ["Upload-Length": "the size in bytes", "Upload-Defer-Length": "1"])
                }
            }
            try refusing(request) { () throws(KilnError) in try IntakeLimits.check(length, within: IntakeLimits(targets).anyFile) }
            let now = Date()
            let record = UploadRecord(id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                                      keyID: context.key?.id, tenant: context.key?.tenant, length: length, metadata: metadata,
                                      createdAt: now, expiresAt: area.expiresAt(from: now, created: now))
            // The room first, then its row: a crash in between leaves bytes the next start removes.
            try await area.bytes.create(record.id)
            do {
                guard try await area.records.create(record, maxOpen: settings.tenantOpenUploads, maxBytes: settings.tenantUploadBytes)
                else {
                    let (open, bytes) = try await area.records.open(tenant: record.tenant)
                    throw AnsweredError(error: KilnError.openUploadsFull(open: open, maxOpen: settings.tenantOpenUploads, bytes: bytes,
                                                                         maxBytes: settings.tenantUploadBytes),
                                        closeConnection: request.hasBody)
                }
            } catch {
                await area.bytes.remove(record.id)
                throw error
            }
            var response: Response
            if request.hasBody {
                // creation-with-upload: the body is the first chunk; a refusal still says where the upload is.
                do {
                    response = try await area.holding(record.id, offset: 0) {
                        try await append(request, to: record, at: 0, context: context)
                    }
                } catch {
                    var answered = error as? AnsweredError ?? AnsweredError(error: error)
                    answered.headers[.location] = "/v1/uploads/\(record.id)"
                    throw answered
                }
                response.status = .created
            } else {
                response = Response(status: .created, headers: [.uploadOffset: "0", .uploadExpires: Self.httpDate(record.expiresAt)])
            }
            response.headers[.location] = "/v1/uploads/\(record.id)"
            return response
        }
    }

    /// `HEAD /v1/uploads/{id}`: the offset to resume from, and where the result is once there is one.
    func head(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await tus(request) {
            let record = try await find(context)
            var headers: HTTPFields = [.uploadOffset: String(record.offset), .cacheControl: "no-store",
                                       .uploadExpires: Self.httpDate(record.expiresAt)]
            if let length = record.length { headers[.uploadLength] = String(length) } else { headers[.uploadDeferLength] = "1" }
            if !record.metadata.isEmpty { headers[.uploadMetadata] = Self.encode(record.metadata) }
            if let location = record.result?.location { headers[.kilnLocation] = location }
            return Response(status: .ok, headers: headers)
        }
    }

    /// `PATCH /v1/uploads/{id}`: the next chunk, at the upload's offset.
    func patch(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await tus(request) {
            try chunkType(request)
            let offset = try refusing(request) { () throws(KilnError) in
                try Self.count(request.headers[.uploadOffset] ?? "", header: "Upload-Offset")
            }
            let record = try await find(context)
            do {
                return try await area.holding(record.id, offset: record.offset) {
                    // Read again under the hold: the request before may have moved it.
                    try await append(request, to: try await find(context), at: offset, context: context)
                }
            } catch let error as KilnError where error.code == .api007 {
                throw AnsweredError(error: error, closeConnection: request.hasBody)
            }
        }
    }

    /// `DELETE /v1/uploads/{id}` (termination): its bytes and row go; media made from it stay.
    func delete(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        try await tus(request) {
            let record = try await find(context)
            try await area.holding(record.id, offset: record.offset) { try await area.remove(record.id) }
            return Response(status: .noContent)
        }
    }

    /// `POST /v1/uploads/{id}` with `X-HTTP-Method-Override: PATCH|DELETE|HEAD` (tus core, for
    /// clients behind proxies that only pass GET and POST).
    func overridden(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        switch request.headers[.methodOverride]?.uppercased() {
        case "PATCH": return try await patch(request, context)
        case "DELETE": return try await delete(request, context)
        case "HEAD": return try await head(request, context)
        case let other:
            throw AnsweredError(error: KilnError.invalidRequest("POST here needs X-HTTP-Method-Override: PATCH, DELETE or HEAD"
                                                                + (other.map { " (not \($0))" } ?? ""),
                                                                fields: ["X-HTTP-Method-Override": "PATCH|DELETE|HEAD"]),
                                closeConnection: request.hasBody)
        }
    }

    /// `GET /v1/uploads/{id}`: the upload's state in the envelope (not part of tus: for clients
    /// that want to know what became of it without parsing headers).
    func status(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let record = try await find(context)
        return Reply.success(UploadView(record), requestID: context.requestID)
    }

    // MARK: Chunks

    /// Writes the request's body at `offset` of `record` and counts it; the last byte processes the upload.
    private func append(_ request: Request, to record: UploadRecord, at offset: Int64, context: KilnRequestContext)
        async throws -> Response
    {
        if record.isComplete || record.result != nil {
            // A retried last chunk that was received: nothing more to take.
            guard offset == record.offset, !request.hasBody else {
                throw AnsweredError(error: KilnError.uploadConflict("the upload is complete at \(record.offset) bytes", offset: record.offset),
                                    closeConnection: request.hasBody)
            }
            return try await ending(record, requestID: context.requestID)
        }
        guard offset == record.offset else {
            throw AnsweredError(error: KilnError.uploadConflict("the chunk starts at \(offset), the upload is at \(record.offset)",
                                                                offset: record.offset), closeConnection: request.hasBody)
        }
        let form = try form(record.metadata)
        let options = form.options
        let most = IntakeLimits(try pipeline.resolve(targets: form.names, limits: form.options.limits)).anyFile
        // A deferred length counts at its offset among the tenant's open bytes: it grows only into what is left.
        let usage = record.length == nil ? try await area.records.open(tenant: record.tenant) : nil
        let room = usage.map { max(0, settings.tenantUploadBytes - $0.bytes) }
        let length = try refusing(request) { () throws(KilnError) -> Int64? in
            guard let value = request.headers[.uploadLength] else { return record.length }
            let declared = try Self.count(value, header: "Upload-Length")
            if let usage, let room, declared - offset > room {
                throw KilnError.openUploadsFull(open: usage.count, maxOpen: settings.tenantOpenUploads,
                                                bytes: usage.bytes + declared - offset, maxBytes: settings.tenantUploadBytes)
            }
            if let length = record.length, length != declared {
                throw KilnError.invalidRequest("Upload-Length \(declared) differs from the \(length) declared before",
                                               fields: ["Upload-Length": "\(length)"])
            }
            guard declared >= offset else {
                throw KilnError.invalidRequest("Upload-Length \(declared) is less than the \(offset) bytes received",
                                               fields: ["Upload-Length": "at least \(offset)"])
            }
            try IntakeLimits.check(declared, within: most)
            return declared
        }
        // A deferred length never lets an upload grow past what its preset takes; once its first
        // bytes say what it is, past what the preset takes of that kind (and a format Kiln
        // refuses is refused then, not after the last byte).
        var limit = length ?? min(most, offset + (room ?? most))
        var head = offset > 0 ? try await area.bytes.head(record.id, count: Pipeline.headBytes) : []
        var admitted = false
        func admit() throws(KilnError) {
            guard !admitted, head.count >= Pipeline.headBytes else { return }
            admitted = true
            let (kind, kindLimit) = try pipeline.admit(head: head, options: options, targets: form.names)
            if let length { try IntakeLimits.check(file: length, within: kindLimit, kind: kind) }
            limit = min(limit, kindLimit)
        }
        try refusing(request, admit)
        var digest = try refusing(request) { () throws(KilnError) in try ChunkDigest(request.headers[.uploadChecksum]) }
        let announced = request.headers[.contentLength].flatMap(Int64.init)
        try beforeBody { () throws(KilnError) in try IntakeLimits.check(announced.map { offset + $0 }, within: limit) }
        // Each chunk an object in the bucket: none but the last smaller than the minimum.
        let minimum = area.bytes is ObjectUploadBytes ? settings.uploadMinChunk : 0
        func small(_ size: Int64) -> Bool { size < minimum && offset + size != length }
        if let size = announced, small(size) {
            throw AnsweredError(error: KilnError.chunkTooSmall(size, minimum: minimum), closeConnection: request.hasBody)
        }
        if record.length == nil {
            // The tenant's room for what this chunk may add, checked and reserved in one write:
            // two chunks of two uploads at once cannot both take the same room.
            let chunk = max(0, (length ?? min(limit, offset + (announced ?? (limit - offset)))) - offset)
            guard try await area.records.reserve(record.id, tenant: record.tenant, bytes: chunk,
                                                 maxBytes: settings.tenantUploadBytes, at: Date()) else {
                let usage = try await area.records.open(tenant: record.tenant)
                throw AnsweredError(error: KilnError.openUploadsFull(open: usage.count, maxOpen: settings.tenantOpenUploads,
                                                                     bytes: usage.bytes + chunk, maxBytes: settings.tenantUploadBytes),
                                    closeConnection: request.hasBody)
            }
            limit = min(limit, offset + chunk)
        }

        let writer = try await area.bytes.chunk(record.id, at: offset)
        var written: Int64 = 0
        defer { metrics.bytesIn(Int(written)) }
        var pending: [UInt8] = []
        pending.reserveCapacity(BlockFile.blockSize)
        do {
            for try await buffer in request.body {
                do {
                    try IntakeLimits.check(offset + written + Int64(pending.count + buffer.readableBytes), within: limit)
                } catch {
                    await writer.discard()
                    throw AnsweredError(error: error, closeConnection: true)
                }
                buffer.withUnsafeReadableBytes { bytes in
                    digest?.update(bytes)
                    pending.append(contentsOf: bytes)
                    if head.count < Pipeline.headBytes { head += bytes.prefix(Pipeline.headBytes - head.count) }
                }
                if !admitted {
                    try admit()
                    try IntakeLimits.check(offset + written + Int64(pending.count), within: limit)
                }
                if pending.count >= BlockFile.blockSize {
                    try await writer.write(pending)
                    written += Int64(pending.count)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        } catch let answered as AnsweredError {
            throw answered
        } catch let failure as KilnError {
            // Refused by what its head is, or the disk refused a write (FILE_006): nothing of the chunk counts.
            await writer.discard()
            throw AnsweredError(error: failure, closeConnection: true)
        } catch {
            // Cut off: without a checksum what arrived counts (tus), once it is on disk; with one
            // it cannot be trusted.
            if digest == nil, (try? await writer.write(pending)) != nil, (try? await writer.commit()) != nil {
                written += Int64(pending.count)
                _ = try? await area.records.advance(record.id, from: offset, to: offset + written, length: nil,
                                                    expiresAt: area.expiresAt(created: record.createdAt))
            } else {
                await writer.discard()
            }
            throw AnsweredError(error: KilnError.uploadFailed("the chunk was cut off (\(error)); ask the offset with HEAD and resume"),
                                closeConnection: true)
        }
        try await writer.write(pending)
        written += Int64(pending.count)
        if small(written) {
            await writer.discard()
            throw KilnError.chunkTooSmall(written, minimum: minimum)
        }
        if let digest, !digest.matches {
            await writer.discard()
            throw KilnError.checksumMismatch(algorithm: digest.algorithm, offset: offset)
        }
        try await writer.commit()
        let expiresAt = area.expiresAt(created: record.createdAt)
        guard try await area.records.advance(record.id, from: offset, to: offset + written, length: length, expiresAt: expiresAt) else {
            await writer.discard()
            throw KilnError.notFoundResource("upload \(record.id)")
        }
        var moved = record
        moved.offset = offset + written
        moved.length = length
        moved.expiresAt = expiresAt
        if moved.isComplete { return try await ending(moved, requestID: context.requestID) }
        return Response(status: .noContent, headers: [.uploadOffset: String(moved.offset), .uploadExpires: Self.httpDate(expiresAt)])
    }

    /// The answer to the chunk that completed `record`: 204 when the pipeline took it (with
    /// `Kiln-Location`), else the pipeline's error envelope; both carry the final offset.
    private func ending(_ record: UploadRecord, requestID: String) async throws -> Response {
        let result = try await completion.process(record, requestID: requestID)
        var response: Response
        if result.status < 300 {
            response = Response(status: .noContent)
        } else {
            response = Reply.raw(result.body, status: .init(code: result.status))
        }
        response.headers[.uploadOffset] = String(record.offset)
        if let location = result.location { response.headers[.kilnLocation] = location }
        return response
    }

    // MARK: Helpers

    /// The caller's tenant's upload, live; API_002 for an unknown, expired or another tenant's.
    private func find(_ context: KilnRequestContext) async throws(KilnError) -> UploadRecord {
        let id = context.parameters.get("id") ?? ""
        guard let record = try await area.records.get(id), record.tenant == context.key?.tenant, record.expiresAt > Date() else {
            throw KilnError.notFoundResource("upload \(id)")
        }
        return record
    }

    private func form(_ metadata: [String: String]) throws(KilnError) -> UploadForm {
        try UploadForm(metadata: metadata, base: settings.engine.ingestOptions, presets: pipeline.presets)
    }

    /// Every tus answer carries `Tus-Resumable`; every request but OPTIONS must send it.
    private func tus(_ request: Request, _ work: () async throws -> Response) async throws -> Response {
        do {
            guard request.headers[.tusResumable] == Self.version else {
                throw AnsweredError(error: KilnError.tusVersion(request.headers[.tusResumable]),
                                    headers: [.tusVersion: Self.version], closeConnection: request.hasBody)
            }
            var response = try await work()
            response.headers[.tusResumable] = Self.version
            return response
        } catch var answered as AnsweredError {
            answered.headers[.tusResumable] = Self.version
            throw answered
        } catch {
            throw AnsweredError(error: error, headers: [.tusResumable: Self.version])
        }
    }

    /// A chunk is `application/offset+octet-stream`; API_001 otherwise.
    private func chunkType(_ request: Request) throws {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/offset+octet-stream") == true else {
            throw AnsweredError(error: KilnError.invalidRequest("a chunk's Content-Type must be application/offset+octet-stream",
                                                                fields: ["Content-Type": "application/offset+octet-stream"]),
                                closeConnection: request.hasBody)
        }
    }

    /// Refusals read from the headers close the connection when a body follows (no draining it).
    private func refusing<T>(_ request: Request, _ work: () throws(KilnError) -> T) throws -> T {
        do { return try work() } catch { throw AnsweredError(error: error, closeConnection: request.hasBody) }
    }
}
