import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase

/// One resource's routes (media upload, media, fetch, jobs, uploads, keys, operations): a small
/// type holding only what its handlers use. `KilnServer.routes()` is the one list of them all,
/// which `openapi.yaml` is held to.
protocol Controller: Sendable {
    var routes: [Route] { get }
}

typealias Handler = @Sendable (Request, KilnRequestContext) async throws -> Response

/// One route: behind a key with at least `scope` (`/v1`), or open (nil).
struct Route {
    let method: HTTPRequest.Method
    let path: String
    let scope: Scope?
    let handler: Handler

    init(_ method: HTTPRequest.Method, _ path: String, _ scope: Scope?, _ handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.scope = scope
        self.handler = handler
    }
}

/// Runs a refusal that comes before the body is read: the connection closes after the answer
/// when a body follows (no draining it).
func beforeBody<T>(closing: Bool = true, _ work: () throws(KilnError) -> T) throws -> T {
    do { return try work() } catch { throw AnsweredError(error: error, closeConnection: closing) }
}
