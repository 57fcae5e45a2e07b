import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import NIOCore

/// Responses in the one envelope (SPEC §4).
enum Reply {
    static let jsonType = "application/json; charset=utf-8"

    static func success<Payload: Encodable & Sendable>(_ data: Payload, status: HTTPResponse.Status = .ok,
                                                        requestID: String) -> Response
    {
        json(Envelope.success(data, meta: Meta(requestId: requestID)), status: status)
    }

    static func failure(_ error: KilnError, requestID: String) -> Response {
        var response = Response(status: .init(code: error.entry.httpStatus), headers: [.contentType: jsonType],
                                body: ResponseBody(byteBuffer: envelopeBytes(error, requestID: requestID)))
        if error.entry.retryable { response.headers[.retryAfter] = String(retryAfter(error)) }
        return response
    }

    /// Seconds a client should wait before retrying: the error's own estimate, else a default per code.
    static func retryAfter(_ error: KilnError) -> Int {
        if case .int(let seconds)? = error.details["retry_after_seconds"] { return max(1, seconds) }
        switch error.code {
        case .processing003: return 30
        case .file006: return 5
        default: return 1
        }
    }

    /// The error's envelope, without the server's internals (`KilnError.shown`: the log keeps them).
    static func envelopeBytes(_ error: KilnError, requestID: String) -> ByteBuffer {
        let envelope = Envelope<JSONValue>.failure(error.shown(requestID: requestID), meta: Meta(requestId: requestID))
        return ByteBuffer(bytes: (try? encoder.encode(envelope)) ?? Data(#"{"success":false}"#.utf8))
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status) -> Response {
        let body = (try? encoder.encode(value)) ?? Data(#"{"success":false}"#.utf8)
        return Response(status: status, headers: [.contentType: jsonType],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func raw(_ body: Data, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: jsonType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
