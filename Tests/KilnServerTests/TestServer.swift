import AsyncHTTPClient
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnServer
import KilnTestSupport
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `KilnServer` on a free loopback port in a scratch directory, with a write key and a read
/// key of one tenant ("test"), a write key of another ("rival"), an admin key, and an HTTP
/// client. `stop()` cancels the server and removes the directory.
final class TestServer: LoopbackHTTP, Sendable {
    let server: KilnServer
    let port: Int
    let directory: String
    let writeKey: String
    let readKey: String
    /// Another tenant's write key: it must never reach the test tenant's anything.
    let rivalKey: String
    let adminKey: String
    var client: HTTPClient { .loopback }
    private let task: Task<Void, any Error>

    static func start(_ adjust: (inout ServerSettings) -> Void = { _ in }) async throws -> TestServer {
        let directory = Fixtures.scratchDirectory("kiln-serve")
        var engine = KilnConfiguration()
        engine.dataDirectory = directory
        engine.jobs = 2
        var settings = ServerSettings(engine: engine)
        settings.port = 0
        settings.lease = .seconds(3)
        adjust(&settings)
        let server = try await KilnServer(settings: settings)
        return try await TestServer(server: server, directory: directory)
    }

    private init(server: KilnServer, directory: String) async throws {
        self.server = server
        self.directory = directory
        // Running first: a shared database is migrated by the run, before the port is known. A run
        // that ends before it listens (a database that does not answer) is that error, not a hang.
        let ended = Mutex<String?>(nil)
        task = Task {
            do { try await server.run() } catch {
                ended.withLock { $0 = "\(error)" }
                throw error
            }
            ended.withLock { $0 = "it returned" }
        }
        let deadline = ContinuousClock.now + .seconds(180)
        while server.listeningPort == nil {
            if let why = ended.withLock({ $0 }) { throw Tool.Failure(description: "the server stopped before it listened: \(why)") }
            if ContinuousClock.now > deadline { throw Tool.Failure(description: "the server did not listen within 180 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        port = server.listeningPort ?? 0
        let keys = server.state.keys
        writeKey = try await keys.create(name: "write", scope: .write, tenant: "test").secret
        readKey = try await keys.create(name: "read", scope: .read, tenant: "test").secret
        rivalKey = try await keys.create(name: "rival", scope: .write, tenant: "rival").secret
        adminKey = try await keys.create(name: "admin", scope: .admin, tenant: "operator").secret
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        Fixtures.cleanUp(directory)
    }

    /// The job once it has ended, polled with `?wait=true` (each poll bounded by the server).
    func finishedJob(_ id: String) async throws -> Reply {
        var polled = try await request(.GET, "/v1/jobs/\(id)?wait=true", key: readKey)
        while ["queued", "running"].contains(polled.data["status"] as? String ?? "") {
            polled = try await request(.GET, "/v1/jobs/\(id)?wait=true", key: readKey)
        }
        return polled
    }

    static let boundary = "kilnTestBoundary7MA4YWxk"

    /// A multipart/form-data body: fields first, in order, then files.
    static func multipart(fields: [(String, String)] = [], files: [(field: String, name: String, bytes: [UInt8])],
                          closed: Bool = true) -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        if closed { body += Array("--\(boundary)--\r\n".utf8) }
        return body
    }

}

/// An answer read whole.
struct Reply {
    let status: Int
    let headers: HTTPHeaders
    let body: Data
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var code: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
}

extension HTTPClient {
    /// One client for every test, never shut down: redirects are answers to check, not follow.
    static let loopback = HTTPClient(eventLoopGroupProvider: .singleton,
                                     configuration: .init(redirectConfiguration: .disallow))
}

/// Requests to a server on a loopback port: through AsyncHTTPClient, or on a plain socket.
protocol LoopbackHTTP: Sendable {
    var port: Int { get }
    var client: HTTPClient { get }
    var writeKey: String { get }
}

extension LoopbackHTTP {
    func request(_ method: HTTPMethod, _ path: String, key: String? = nil, headers: [(String, String)] = [],
                 body: [UInt8]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    func upload(_ path: String, key: String? = nil, fields: [(String, String)] = [], field: String = "file",
                query: String = "", headers: [(String, String)] = [], route: String = "/v1/media") async throws -> Reply {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let body = TestServer.multipart(fields: fields, files: [(field, (path as NSString).lastPathComponent, bytes)])
        return try await request(.POST, route + query, key: key ?? writeKey,
                                 headers: [("Content-Type", "multipart/form-data; boundary=\(TestServer.boundary)")] + headers,
                                 body: body)
    }

    /// Sends `head` (and `body`, if any) on a plain socket and reads what the server answers
    /// within `seconds`, for what a client library hides: 100 Continue, and refusals before the body.
    func raw(_ head: String, body: [UInt8] = [], seconds: Int = 5) throws -> String {
        let connection = try RawConnection(port: port, seconds: seconds)
        connection.send(Array(head.utf8) + body)
        return connection.receive()
    }
}
