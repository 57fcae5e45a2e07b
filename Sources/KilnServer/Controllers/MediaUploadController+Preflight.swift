import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnPipeline
import NIOCore
import NIOHTTPTypes

/// `POST /v1/preflight`: what each target would make of a file, from its first bytes, before it
/// is uploaded. The body is a multipart form (fields, then a `file` part) or the file itself;
/// `size` (a field or the query; a plain body's Content-Length otherwise) lets the answer come
/// from the headers alone. Nothing is stored; the rest of the body is not read.
extension MediaUploadController {
    /// The answer: one preview per target, and how much of the file was read to tell it.
    struct PreflightAnswer: Encodable, Sendable {
        let targets: [TargetPreview]
        let bytesRead: Int64
        let size: Int64?

        enum CodingKeys: String, CodingKey {
            case targets, size
            case bytesRead = "bytes_read"
        }
    }

    func preflight(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        var form = try beforeBody { () throws(KilnError) in
            try UploadForm(query: request.uri.queryParameters, base: base,
                           presets: pipeline.presets, preflight: true)
        }
        let multipart = request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true
        let length = request.headers[.contentLength].flatMap(Int64.init)
        // One file (with a multipart body's framing) for these targets.
        let most = try beforeBody { () throws(KilnError) in
            let most = IntakeLimits(try pipeline.resolve(targets: form.names, limits: form.options.limits)).request(carousel: false)
            try IntakeLimits.check(length, within: most)
            return most
        }
        if request.headers[.expect]?.lowercased() == "100-continue" {
            try await context.channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
        }
        let answer: (previews: [TargetPreview], bytesRead: Int64, ended: Bool)
        do {
            if multipart {
                let boundary = try UploadForm.boundary(request.headers[.contentType])
                let reader = MultipartReader(boundary: boundary, body: request.body.makeAsyncIterator())
                reader.limit = most
                var filename: String??
                while filename == nil, let part = try await reader.nextPart() {
                    if part.name == "file" {
                        filename = .some(part.filename)
                    } else if let value = try await reader.text(limit: 256) {
                        try form.set(part.name, value, presets: pipeline.presets)
                    }
                }
                guard let filename else {
                    throw KilnError.uploadFailed("the request has no `file` part; send the file (or its first bytes) as a part named file")
                }
                answer = try await pipeline.preflight(stream: reader.content(), name: form.name ?? filename ?? "upload",
                                                      size: form.size, targets: form.names, options: form.options)
                // The file was read to its end: the closing boundary is all that is left.
                if answer.ended { while try await reader.nextPart() != nil { try await reader.skip() } }
            } else {
                let body = request.body.map { Array($0.readableBytesView) }
                answer = try await pipeline.preflight(stream: body, name: form.name ?? "upload", size: form.size ?? length,
                                                      targets: form.names, options: form.options)
            }
        } catch {
            throw AnsweredError(error: error, closeConnection: true)
        }
        let data = PreflightAnswer(targets: answer.previews.map { $0.shown(requestID: context.requestID) },
                                   bytesRead: answer.bytesRead, size: form.size ?? (multipart ? nil : length))
        let response = Reply.success(data, requestID: context.requestID)
        guard answer.ended else {
            // The rest of the body is not wanted: answered now, and the connection closes after it.
            let bytes = try Reply.encoder.encode(Envelope.success(data, meta: Meta(requestId: context.requestID)))
            return FrontMiddleware.closing(response, body: ByteBuffer(bytes: bytes), channel: context.channel)
        }
        return response
    }
}
