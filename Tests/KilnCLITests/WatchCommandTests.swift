import Foundation
import KilnTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kiln watch` as a process: killed with SIGKILL at several moments while files arrive, and
/// restarted, until every file has ended exactly once; a file written slowly is not taken
/// half-written.
@Suite(.serialized) struct WatchCommandTests {
    /// A watcher process whose JSON lines are counted as they come.
    final class Watcher: @unchecked Sendable {
        let process = Process()
        private let lines = Mutex(0)

        init(_ inbox: String, out: String, settle: String = "0.2", metricsPort: Int? = nil, extra: [String] = []) throws {
            process.executableURL = URL(fileURLWithPath: BatchCommandTests.binary)
            process.arguments = ["watch", inbox, "--out", out, "--settle", settle, "--jobs", "2"]
                + (metricsPort.map { ["--metrics-port", String($0)] } ?? []) + extra
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.detachNewThread { [self] in
                while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
                    let count = data.filter { $0 == UInt8(ascii: "\n") }.count
                    self.lines.withLock { $0 += count }
                }
            }
        }

        var count: Int { lines.withLock { $0 } }

        /// Waits (bounded) on a thread of its own until `condition` holds.
        static func until(_ seconds: Double = 90, _ condition: @escaping @Sendable () -> Bool) async throws {
            try await Tool.detached {
                let deadline = Date().addingTimeInterval(seconds)
                while !condition() {
                    guard Date() < deadline else { throw Tool.Failure(description: "timed out") }
                    Thread.sleep(forTimeInterval: 0.02)
                }
            }
        }

        func stop(_ signal: Int32) async throws -> Int32 {
            kill(process.processIdentifier, signal)
            let process = process
            try await Self.until { !process.isRunning }
            return process.terminationStatus
        }
    }

    /// Distinct JPEGs (a comment segment each) dropped into `inbox` by write-then-rename, as
    /// uploaders do (`name.part`, then the name).
    static func drop(_ count: Int, from first: Int, into inbox: String) throws {
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        for index in first..<(first + count) {
            let comment = Array("watch copy \(index)".utf8)
            let bytes = jpeg.prefix(2) + [0xFF, 0xFE, 0, UInt8(comment.count + 2)] + comment + jpeg.dropFirst(2)
            let path = inbox + "/photo-\(index).jpg"
            try Data(bytes).write(to: URL(fileURLWithPath: path + ".part"))
            guard rename(path + ".part", path) == 0 else { throw Tool.Failure(description: "rename failed") }
        }
    }

    /// A loopback port free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw Tool.Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func killedAtSeveralMomentsEveryFileEndsExactlyOnce() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox")
        let out = Fixtures.scratchDirectory("kiln-watch-out")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        // Dropped while no watcher runs.
        try Self.drop(20, from: 0, into: inbox)
        try FileManager.default.copyItem(atPath: Fixtures.sample("bad/corrupt.jpg"), toPath: inbox + "/corrupt.jpg")
        try FileManager.default.copyItem(atPath: Fixtures.sample("bad/text.txt"), toPath: inbox + "/notes.txt")
        var seen: [String: String] = [:]
        for (round, moment) in [2, 7, 12].enumerated() {
            let watcher = try Watcher(inbox, out: out)
            do {
                // At the moment, or when nothing is left to take (a busy machine can let the
                // watcher run ahead of this test's reading).
                try await Watcher.until { watcher.count >= moment || Self.names(inbox) == ["failed", "processed"] }
            } catch {
                Issue.record("round \(round): \(watcher.count) lines; inbox \(Self.names(inbox)), processing \(Fixtures.files(under: inbox + "/.kiln/processing"))")
                throw error
            }
            #expect(try await watcher.stop(SIGKILL) == SIGKILL)
            // Dropped between lives, while the next one is busy.
            try Self.drop(10, from: 20 + round * 10, into: inbox)
            let now = BatchCommandTests.renditions(out)
            for (path, identity) in seen { #expect(now[path] == identity, "\(path) was rewritten") }
            seen = now
        }
        let good = 50
        let last = try Watcher(inbox, out: out)
        let processed = inbox + "/processed", failed = inbox + "/failed"
        let originals: @Sendable () -> [String] = { Self.names(processed) + Self.names(failed).filter { !$0.hasSuffix(".error.json") } }
        do {
            try await Watcher.until { originals().count == good + 2 }
        } catch {
            Issue.record("""
                not all ended: processed \(Self.names(processed)), failed \(Self.names(failed)), inbox \(Self.names(inbox)), \
                in processing \(Fixtures.files(under: inbox + "/.kiln/processing"))
                """)
            throw error
        }
        #expect(try await last.stop(SIGTERM) == 0)

        // Each file once, under its own name (a second copy would be "name (2).jpg"). A good file
        // that was in flight at every kill may be set aside as a crash suspect (API_005, after
        // its 4th take): it ended too, once, with its envelope.
        #expect(originals().sorted() == ((0..<good).map { "photo-\($0).jpg" } + ["corrupt.jpg", "notes.txt"]).sorted())
        func code(_ name: String) throws -> String? {
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: failed + "/\(name).error.json")))
            return ((envelope as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
        }
        #expect(try code("corrupt.jpg") == "FILE_005" && code("notes.txt") == "FILE_003")
        let setAside = Self.names(failed).filter { $0.hasPrefix("photo-") && !$0.hasSuffix(".error.json") }
        for name in setAside { #expect(try code(name) == "API_005") }
        #expect(setAside.count <= 1, "\(setAside)")
        // Nothing left in the inbox or in limbo; one item per file; no rendition rewritten.
        #expect(Self.names(inbox) == ["failed", "processed"])
        #expect(Fixtures.files(under: inbox + "/.kiln/processing").isEmpty)
        let items = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.count == 64 }.count
        #expect(items >= Self.names(processed).count && items <= good)
        for (path, identity) in seen { #expect(BatchCommandTests.renditions(out)[path] == identity, "\(path) was rewritten") }
        #expect(Fixtures.files(under: out + "/.staging").isEmpty)
    }

    @Test func twoWatchersOnOneInboxNeverBothTakeAFile() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-two")
        let out = Fixtures.scratchDirectory("kiln-watch-two")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        let first = try Watcher(inbox, out: out, settle: "0.1")
        let second = try Watcher(inbox, out: out, settle: "0.1")
        try Self.drop(30, from: 0, into: inbox)
        let processed = inbox + "/processed"
        try await Watcher.until { Self.names(processed).count >= 30 }
        #expect(try await first.stop(SIGTERM) == 0)
        #expect(try await second.stop(SIGTERM) == 0)
        // Each file once: a file taken by both would be here twice ("name (2).jpg") or failed.
        #expect(Self.names(processed) == (0..<30).map { "photo-\($0).jpg" }.sorted())
        #expect(first.count + second.count == 30, "one line per file, from one watcher or the other")
        #expect(Self.names(inbox + "/failed").isEmpty)
    }

    @Test func kilnsOwnFailuresAreRetriedThenSetAside() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-retry")
        let out = Fixtures.scratchDirectory("kiln-watch-retry")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        // A deadline nothing can meet: PROCESSING_003 every time, which is Kiln's fault, not the file's.
        let watcher = try Watcher(inbox, out: out, extra: ["--timeout", "0.001"])
        try Self.drop(1, from: 0, into: inbox)
        let started = ContinuousClock.now
        try await Watcher.until { Self.names(inbox + "/failed").count == 2 }
        // Tried three times, 2 s then 4 s apart, before it was set aside.
        #expect(ContinuousClock.now - started >= .seconds(6))
        let envelope = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: inbox + "/failed/photo-0.jpg.error.json"))) as? [String: Any]
        #expect((envelope?["error"] as? [String: Any])?["code"] as? String == "PROCESSING_003")
        #expect(Self.names(inbox + "/processed").isEmpty)
        #expect(try await watcher.stop(SIGTERM) == 0)
    }

    @Test func aFileWrittenInPiecesIsTakenOnlyWhenWhole() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-slow")
        let out = Fixtures.scratchDirectory("kiln-watch-slow")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        let port = try Self.freePort()
        let watcher = try Watcher(inbox, out: out, settle: "1", metricsPort: port)
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("panorama.jpg")))
        // Three pieces, 0.5 s apart (a slow network copy), straight under the final name.
        try await Tool.detached {
            let handle = try #require(FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: inbox + "/slow.jpg", contents: nil); return inbox + "/slow.jpg" }()))
            let third = jpeg.count / 3
            for piece in [jpeg.prefix(third), jpeg.dropFirst(third).prefix(third), jpeg.dropFirst(2 * third)] {
                handle.write(Data(piece))
                Thread.sleep(forTimeInterval: 0.5)
            }
            try handle.close()
        }
        try await Watcher.until { Self.names(inbox + "/processed") == ["slow.jpg"] || !Self.names(inbox + "/failed").isEmpty }
        #expect(Self.names(inbox + "/failed").isEmpty, "taken half-written")
        // Prometheus at --metrics-port counts it.
        let metrics = try await Tool.detached { () throws -> String in
            let connection = try RawConnection(port: port)
            connection.send(Array("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            return connection.receive()
        }
        #expect(metrics.contains("kiln_files_total{outcome=\"processed\"} 1"), "\(metrics.suffix(1_000))")
        #expect(try await watcher.stop(SIGTERM) == 0)
    }
}
