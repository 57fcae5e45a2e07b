import Hummingbird
import KilnDatabase
import NIOCore

/// What one request carries between the middleware and its route.
public struct KilnRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection, to answer `Expect: 100-continue` and to close it after an early refusal.
    public let channel: any Channel
    /// `x-request-id` as sent (when well formed) or made here; in every envelope and log line.
    public var requestID: String
    /// The key that authenticated the request (routes under /v1).
    public var key: APIKey?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        requestID = ""
        key = nil
    }
}
