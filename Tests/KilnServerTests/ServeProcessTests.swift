import AsyncHTTPClient
import Foundation
import KilnCore
import KilnDatabase
import KilnTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `kiln serve` process (the debug binary) on a free loopback port, its output read as
/// it comes; signals are sent to it as an operator (or a crash) would.
final class ServeProcess: LoopbackHTTP, @unchecked Sendable {
    static let binary = Fixtures.root + "/.build/debug/kiln"
    let process = Process()
    let port: Int
    let writeKey: String
    var client: HTTPClient { .loopback }
    private let output = Output()

    final class Output: Sendable {
        private let text = Mutex("")
        func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        func withLock<T>(_ body: (inout String) -> T) -> T { text.withLock { body(&$0) } }
    }

    /// Starts `kiln ARGUMENTS` (with `environment` over this process's), its stdout and stderr
    /// read into `output` as they come.
    static func spawn(_ process: Process, _ arguments: [String], environment: [String: String], into output: Output) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Thread.detachNewThread {
            while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty { output.append(data) }
        }
    }

    /// Starts the server on `data`; `key` is reused on a restart (a first key is printed once).
    init(data: String, key: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        try Self.spawn(process, ["serve", "--data", data, "--port", "0", "--first-key"] + arguments,
                       environment: environment, into: output)
        var found: (port: Int, key: String?)?
        let deadline = Date().addingTimeInterval(60)
        while found == nil, Date() < deadline, process.isRunning {
            found = output.withLock { text in
                text.firstMatch(of: /Kiln is serving http:\/\/127\.0\.0\.1:(\d+)\//).flatMap { Int($0.1) }.map {
                    ($0, text.firstMatch(of: /kiln_[a-z0-9]+_[a-z0-9]+/).map { String($0.0) })
                }
            }
            if found == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let found, let key = key ?? found.key else {
            process.terminate()
            throw Tool.Failure(description: "kiln serve did not start: \(output.withLock { $0 })")
        }
        port = found.port
        writeKey = key
    }

    var log: String { output.withLock { $0 } }

    /// A test that failed half-way leaves no server behind.
    deinit { if process.isRunning { process.terminate() } }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The exit status once the process has ended (bounded).
    func waitForExit(seconds: Double = 60) async throws -> Int32 { try await Loopback.exit(of: process, seconds: seconds) }

    /// Uploads `path` and sends `signal` as soon as its job is seen running. All of it on a
    /// thread of its own with blocking requests: the test process's cooperative pool (two
    /// threads, shared with every suite running in parallel) can stall for seconds, longer
    /// than the job runs. Returns the job's id.
    func uploadAndSignalWhenRunning(_ path: String, query: String, _ number: Int32) async throws -> String {
        let (port, key, pid) = (port, writeKey, process.processIdentifier)
        let body = TestServer.multipart(files: [("file", "clip.mp4", try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))])
        return try await Tool.detached {
            func exchange(_ head: String, _ body: [UInt8] = []) throws -> String {
                let connection = try RawConnection(port: port, seconds: 60)
                connection.send(Array((head + "Host: x\r\nAuthorization: Bearer \(key)\r\nConnection: close\r\n\r\n").utf8) + body)
                return connection.receive()
            }
            let accepted = try exchange("POST /v1/media\(query) HTTP/1.1\r\nContent-Length: \(body.count)\r\n"
                + "Content-Type: multipart/form-data; boundary=\(TestServer.boundary)\r\n", body)
            guard accepted.hasPrefix("HTTP/1.1 202"), let job = accepted.firstMatch(of: /job_[0-9a-f]{32}/).map({ String($0.0) }) else {
                throw Tool.Failure(description: "the upload was not queued: \(accepted.prefix(600))")
            }
            let deadline = Date().addingTimeInterval(120)
            var status = "queued"
            while status == "queued", Date() < deadline {
                let answer = try exchange("GET /v1/jobs/\(job) HTTP/1.1\r\n")
                status = answer.firstMatch(of: /"status":"([a-z]+)"/).map { String($0.1) } ?? answer
            }
            guard status == "running" else { throw Tool.Failure(description: "job \(job) was not seen running: \(status)") }
            kill(pid, number)
            return job
        }
    }

    /// Polls the job until `done` says so, or it ends without (bounded).
    func poll(_ job: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(120)
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = try await request(.GET, "/v1/jobs/\(job)", key: writeKey).data
            if done(last) { return last }
            if ["succeeded", "failed", "cancelled"].contains(last["status"] as? String ?? "") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Tool.Failure(description: "job \(job) did not reach the state asked for: \(last)\n\(log.suffix(3_000))")
    }
}

/// `kiln serve` as a process: killed with SIGKILL mid-transcode and restarted, and drained by
/// SIGTERM, with `SlowTranscode`'s video and preset (a transcode of seconds).
@Suite(.serialized) struct ServeProcessTests {
    /// Uploads the video with the slow preset (a job that runs for seconds) and sends `signal`
    /// to the server as soon as the job runs.
    static func transcode(on server: ServeProcess, signal: Int32) async throws -> String {
        try await server.uploadAndSignalWhenRunning(try SlowTranscode.video.get(), query: "?preset=slow", signal)
    }

    @Test func killedMidTranscodeTheJobCompletesAfterRestart() async throws {
        let data = Fixtures.scratchDirectory("kiln-kill")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(data) }
        let presets = try SlowTranscode.presets(in: data)
        let first = try await ServeProcess(data: data, arguments: ["--presets", presets])
        let job = try await Self.transcode(on: first, signal: SIGKILL)
        #expect(try await first.waitForExit() == SIGKILL || first.process.terminationReason == .uncaughtSignal)
        #expect(FileManager.default.fileExists(atPath: data + "/jobs/\(job)/0"), "the received video outlives the crash")

        let second = try await ServeProcess(data: data, key: first.writeKey, arguments: ["--presets", presets])
        let ended = try await second.poll(job) { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(ended["status"] as? String == "succeeded", "\(ended)\n\(second.log.suffix(3_000))")
        #expect(ended["attempts"] as? Int == 2)
        let media = try #require(ended["media"] as? [String: Any])
        let video = try #require((media["renditions"] as? [[String: Any]])?.first { $0["name"] as? String == "video" })
        #expect(video["width"] as? Int == 960)
        let url = try #require(video["url"] as? String)
        let bytes = try await second.request(.GET, url, key: second.writeKey)
        #expect(bytes.status == 200 && bytes.body.count == video["bytes"] as? Int)
        // Nothing of the killed attempt is left: no job files, staging or temp files.
        #expect(Fixtures.files(under: data + "/jobs").isEmpty)
        #expect(Fixtures.files(under: data + "/media/.staging").isEmpty)
        #expect(Fixtures.files(under: data + "/tmp").isEmpty)
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
    }

    /// `--first-key` mints a key only on a server that never had one: revoking every key does
    /// not open a way back in at the next start.
    @Test func firstKeyIsMintedOnlyWhenNoKeyWasEverMade() async throws {
        let data = Fixtures.scratchDirectory("kiln-first-key")
        defer { Fixtures.cleanUp(data) }
        let first = try await ServeProcess(data: data)
        #expect(try await first.request(.GET, "/v1/presets", key: first.writeKey).status == 200)
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        let keys = SQLiteKeyStore(try KilnDatabase(directory: data))
        let id = try #require(first.writeKey.split(separator: "_").dropFirst().first.map(String.init))
        #expect(try await keys.revoke(id))

        let second = try await ServeProcess(data: data, key: first.writeKey)
        #expect(!second.log.contains("kiln_"), "no new key was printed: \(second.log)")
        #expect(try await keys.list().count == 1)
        #expect(try await second.request(.GET, "/v1/presets", key: first.writeKey).code == "AUTH_001")
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)
    }

    @Test func sigtermFinishesInFlightRequestsAndJobsThenExits0() async throws {
        let data = Fixtures.scratchDirectory("kiln-drain")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(data) }
        let server = try await ServeProcess(data: data, arguments: ["--presets", try SlowTranscode.presets(in: data)])
        // An upload under way (its 100 Continue says the server has taken it) when SIGTERM
        // arrives, sent while a transcode runs; the upload's body follows the signal.
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let body = TestServer.multipart(files: [("file", "photo.jpg", jpeg)])
        let connection = try RawConnection(port: server.port, seconds: 60)
        connection.send(Array(("POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.writeKey)\r\n"
            + "Content-Type: multipart/form-data; boundary=\(TestServer.boundary)\r\nContent-Length: \(body.count)\r\n"
            + "Expect: 100-continue\r\nConnection: close\r\n\r\n").utf8))
        let interim = try await Tool.detached { connection.receive() }
        #expect(interim.hasPrefix("HTTP/1.1 100"), "\(interim)")
        let job = try await Self.transcode(on: server, signal: SIGTERM)
        connection.send(body)
        let answer = try await Tool.detached { connection.receive() }
        #expect(answer.hasPrefix("HTTP/1.1 201"), "\(answer.prefix(400))\n\(server.log.suffix(2_000))")

        #expect(try await server.waitForExit() == 0, "\(server.log.suffix(2_000))")
        // The running transcode was finished before the exit, not left for the next start.
        let record = try await SQLiteJobQueue(try KilnDatabase(directory: data)).job(job)
        #expect(record?.status == .succeeded && record?.attempts == 1)
        #expect(Fixtures.files(under: data + "/jobs").isEmpty)
    }
}
