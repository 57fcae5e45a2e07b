import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnQueue
import KilnDatabase
import Logging
import NIOCore

/// An error that also carries headers for its response (rate-limit headers), or asks that the
/// connection be closed after it (a refusal before the body was read: no draining it).
struct AnsweredError: Error {
    let error: any Error
    var headers: HTTPFields = [:]
    var closeConnection = false
}

/// Outermost: gives the request its id, turns every failure into the envelope (unknown route
/// API_002, wrong method API_003, anything unexpected API_005 with nothing internal shown),
/// logs one line and counts it.
struct FrontMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let routes: RouteCatalog
    let metrics: KilnMetrics
    /// Cross-origin access for browsers; nil when no origin is allowed.
    let cors: CORSPolicy?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let id = Self.acceptedID(request.headers[.requestID]) ?? RequestID.make()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        var response: Response
        var code: String?
        do {
            if let preflight = cors?.preflight(request, requestID: id) {
                // Answered before any key is asked for: a browser sends none with it.
                response = preflight
            } else {
                response = try await next(request, context)
            }
        } catch {
            var answered = error as? AnsweredError ?? AnsweredError(error: error)
            let failure: KilnError
            switch answered.error {
            case let error as KilnError:
                failure = error
            case let error as HTTPError where error.status == .notFound:
                failure = routes.unmatched(method: request.method, path: request.uri.path)
            case let error as HTTPError where error.status == .contentTooLarge:
                failure = KilnError.invalidRequest("the request body is too large for this route")
                answered.closeConnection = true
            default:
                context.logger.error("unexpected failure", metadata: ["error": "\(answered.error)"])
                failure = KilnError.internalError("the server failed unexpectedly; retry, and report request \(id) if it persists")
            }
            code = failure.code.rawValue
            if failure.isKilnsOwnFault || failure.mayShowInternals {
                // The detail the client is not shown stays here, under the request id.
                context.logger.error("\(failure.code.rawValue) \(failure.message)", metadata: ["details": "\(failure.details)"])
            }
            response = Reply.failure(failure, requestID: id)
            if case .array(let allowed)? = failure.details["allowed"] {
                response.headers[.allow] = allowed.compactMap { if case .string(let method) = $0 { method } else { nil } }
                    .joined(separator: ", ")
            }
            response.headers.append(contentsOf: answered.headers)
            if answered.closeConnection {
                response = Self.closing(response, body: Reply.envelopeBytes(failure, requestID: id), channel: context.channel)
            }
        }
        response.headers[.requestID] = id
        cors?.decorate(&response, origin: request.headers[.origin])
        let elapsed = ContinuousClock.now - start
        metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                        status: response.status.code, duration: elapsed, errorCode: code)
        context.logger.info("\(request.method.rawValue) \(request.uri.path) \(response.status.code)",
                            metadata: ["ms": "\(Int(JobControl.seconds(elapsed) * 1000))", "code": "\(code ?? "-")"])
        return response
    }

    /// Ids a client may choose: 1-128 letters, digits, `.`, `_`, `-`.
    static func acceptedID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.count <= 128,
              value.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { return nil }
        return value
    }

    /// The response, then the end of the connection: the unread body is not drained (a client
    /// that sends before reading would otherwise upload it all). Output is shut first so the
    /// answer arrives ahead of the close; the rest goes a moment later.
    static func closing(_ response: Response, body: ByteBuffer, channel: any Channel) -> Response {
        var response = response
        response.headers[.connection] = "close"
        response.body = ResponseBody(contentLength: body.readableBytes) { writer in
            try await writer.write(body)
            try await writer.finish(nil)
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
        return response
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("x-request-id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("X-RateLimit-Reset")!
}

/// Routes under /v1: a live Bearer key with the scope its routes need (reads, writes, or
/// managing keys), then the key's rate limit. Every answer to an authenticated request carries
/// the `X-RateLimit-*` headers.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let keys: any KeyStore
    let limiter: RateLimiter
    let needed: Scope

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization] else {
            throw AnsweredError(error: KilnError.unauthenticated("the request has no Authorization header"),
                                closeConnection: request.hasBody)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AnsweredError(error: KilnError.unauthenticated("the Authorization header is not `Bearer <key>`"),
                                closeConnection: request.hasBody)
        }
        guard let key = try await keys.authenticate(String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            throw AnsweredError(error: KilnError.unauthenticated("the key is unknown or revoked"), closeConnection: request.hasBody)
        }
        let decision = try await limiter.take(key.id)
        var headers = HTTPFields()
        headers[.rateLimitLimit] = String(decision.limit)
        headers[.rateLimitRemaining] = String(decision.remaining)
        headers[.rateLimitReset] = String(decision.reset)
        guard key.scope.allows(needed) else {
            throw AnsweredError(error: KilnError.forbidden(scope: needed.rawValue, has: key.scope.rawValue),
                                headers: headers, closeConnection: request.hasBody)
        }
        guard decision.allowed else {
            throw AnsweredError(error: KilnError.rateLimited(limit: decision.limit, windowSeconds: limiter.window,
                                                             retryAfter: decision.reset),
                                headers: headers, closeConnection: request.hasBody)
        }
        var context = context
        context.key = key
        context.logger[metadataKey: "key"] = .string(key.id)
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: headers)
            // An answer made for one key is for its caller's cache only.
            if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "private" }
            return response
        } catch var answered as AnsweredError {
            answered.headers.append(contentsOf: headers)
            throw answered
        } catch {
            throw AnsweredError(error: error, headers: headers)
        }
    }
}

extension Request {
    /// Whether a body follows the head (then an early refusal closes the connection).
    var hasBody: Bool {
        if let length = headers[.contentLength] { return length != "0" }
        return headers[.transferEncoding] != nil
    }
}
