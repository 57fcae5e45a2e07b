import HTTPTypes
import Hummingbird
import KilnCore

/// Cross-origin access for browser clients (a publishing tool's page on its own origin): the
/// origins the operator allows (`--cors-origin`, `*` for any; keys are Bearer tokens, never
/// cookies, so no credentials are involved). A preflight is answered before any key is asked
/// for, for every route (tus included); every answer to an allowed origin names it and exposes
/// the headers a client needs to read. With no origins set, nothing changes.
struct CORSPolicy: Sendable {
    let origins: Set<String>

    /// What a browser may send: the key, the tus headers, idempotency and request ids.
    static let allowedHeaders = [
        "Authorization", "Content-Type", "Idempotency-Key", "Tus-Resumable", "Upload-Length", "Upload-Offset",
        "Upload-Metadata", "Upload-Checksum", "Upload-Defer-Length", "Upload-Concat", "X-HTTP-Method-Override",
        "X-Request-Id",
    ].joined(separator: ", ")
    /// What a script may read of an answer beyond the safelisted headers.
    static let exposedHeaders = [
        "Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata", "Upload-Defer-Length",
        "Kiln-Location", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm",
        "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "x-request-id",
        "Idempotent-Replayed",
    ].joined(separator: ", ")
    static let methods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
    /// Seconds a browser may keep a preflight's answer.
    static let maxAge = "600"

    init?(origins: [String]) {
        guard !origins.isEmpty else { return nil }
        self.origins = Set(origins.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    func allows(_ origin: String) -> Bool { origins.contains("*") || origins.contains(origin) }

    /// The answer to a preflight (OPTIONS naming the method it asks for), or nil for any other request.
    func preflight(_ request: Request, requestID: String) -> Response? {
        guard request.method == .options, let origin = request.headers[.origin],
              request.headers[.accessControlRequestMethod] != nil else { return nil }
        guard allows(origin) else {
            return Reply.failure(KilnError.originNotAllowed(origin), requestID: requestID)
        }
        var response = Response(status: .noContent)
        response.headers[.accessControlAllowMethods] = Self.methods
        response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
        response.headers[.accessControlMaxAge] = Self.maxAge
        decorate(&response, origin: origin)
        return response
    }

    /// Names an allowed origin on the answer and exposes the headers a client reads. Every answer
    /// varies by Origin (an allowed one's or not): a shared cache must not hand a copy made for one
    /// origin, or for none, to a browser on another.
    func decorate(_ response: inout Response, origin: String?) {
        if !response.headers[values: .vary].contains(where: { $0.lowercased() == "origin" }) {
            response.headers.append(HTTPField(name: .vary, value: "Origin"))
        }
        guard let origin, allows(origin) else { return }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
    }
}

extension HTTPField.Name {
    static let origin = HTTPField.Name("Origin")!
    static let accessControlRequestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let accessControlAllowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let accessControlExposeHeaders = HTTPField.Name("Access-Control-Expose-Headers")!
    static let accessControlMaxAge = HTTPField.Name("Access-Control-Max-Age")!
}
