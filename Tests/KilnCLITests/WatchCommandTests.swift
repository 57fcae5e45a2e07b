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
        /// Where its stderr (swift-log's lines) goes.
        let logPath = Fixtures.scratchDirectory("kiln-watch-log") + "/stderr"

        init(_ inbox: String, out: String, settle: String = "0.2", metricsPort: Int? = nil, extra: [String] = []) throws {
            process.executableURL = URL(fileURLWithPath: BatchCommandTests.binary)
            process.arguments = ["watch", inbox, "--out", out, "--settle", settle, "--jobs", "2"]
                + (metricsPort.map { ["--metrics-port", String($0)] } ?? []) + extra
            let pipe = Pipe()
            process.standardOutput = pipe
            FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: logPath)
            try process.run()
            Thread.detachNewThread { [self] in
                while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
                    let count = data.filter { $0 == UInt8(ascii: "\n") }.count
                    self.lines.withLock { $0 += count }
                }
            }
        }

        var count: Int { lines.withLock { $0 } }
        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        deinit { Fixtures.cleanUp((logPath as NSString).deletingLastPathComponent) }

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
            return try await exit()
        }

        func exit() async throws -> Int32 { try await Loopback.exit(of: process, seconds: 90) }
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
        // A clean stop after the kills leaves nothing at all, not even its own session's lock.
        for directory in [out + "/.staging", inbox + "/.kiln/processing"] {
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty, "\(directory)")
        }
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

    /// A symbolic link dropped in the inbox names a file elsewhere (here a photo outside it):
    /// it is set aside with FILE_002, and nothing of its target is read or published.
    @Test func aSymbolicLinkIsNotFollowedOutOfTheInbox() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-link")
        let out = Fixtures.scratchDirectory("kiln-watch-link")
        let outside = Fixtures.scratchDirectory("kiln-outside")
        for directory in [inbox, outside] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out); Fixtures.cleanUp(outside) }
        try FileManager.default.copyItem(atPath: Fixtures.sample("photo.jpg"), toPath: outside + "/private.jpg")
        let watcher = try Watcher(inbox, out: out)
        try FileManager.default.createSymbolicLink(atPath: inbox + "/link.jpg", withDestinationPath: outside + "/private.jpg")
        try await Watcher.until { Self.names(inbox + "/failed").count == 2 }
        let envelope = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: inbox + "/failed/link.jpg.error.json"))) as? [String: Any]
        let error = envelope?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "FILE_002" && (error?["message"] as? String ?? "").contains("symbolic link"), "\(String(describing: envelope))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).filter { $0.count == 64 }.isEmpty, "nothing published")
        #expect(FileManager.default.fileExists(atPath: outside + "/private.jpg"), "the target is untouched")
        #expect(try await watcher.stop(SIGTERM) == 0)
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
        let port = try Loopback.freePort()
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

    /// An inbox under a scratch folder, the renditions' folder beside it, and the slow preset.
    struct SlowSetup {
        let root = Fixtures.scratchDirectory("kiln-watch-slow-video")
        var inbox: String { root + "/inbox" }
        var out: String { root + "/out" }
        var processing: String { inbox + "/.kiln/processing" }
        let presets: String

        init() throws {
            try FileManager.default.createDirectory(atPath: root + "/inbox", withIntermediateDirectories: true)
            presets = try SlowTranscode.presets(in: root)
            try FileManager.default.copyItem(atPath: try SlowTranscode.video.get(), toPath: root + "/inbox/clip.mp4")
        }

        /// A watcher with the slow preset, or the default one.
        func watcher(slow: Bool = true) throws -> Watcher {
            try Watcher(inbox, out: out, settle: "0.1", extra: slow ? ["--presets", presets, "--preset", "slow"] : [])
        }

        /// Waits until the video is claimed (in a watcher's work session).
        func claimed() async throws {
            let processing = processing
            try await Watcher.until(60) { Fixtures.files(under: processing).contains { $0.hasSuffix("/clip.mp4") } }
        }
    }

    @Test func aFileThatKeepsKillingTheWatcherIsSetAsideOnItsFourthTake() async throws {
        let setup = try SlowSetup()
        defer { Fixtures.cleanUp(setup.root) }
        for round in 1...3 {
            let watcher = try setup.watcher()
            do {
                // Killed once the take is counted (in the journal), mid-transcode: frozen first
                // (SIGSTOP) and the file checked to be still claimed, so the kill cannot land after
                // the take ended.
                try await Watcher.until(60) { watcher.log.contains("taking clip.mp4 (attempt \(round))") }
                kill(watcher.process.processIdentifier, SIGSTOP)
                guard Fixtures.files(under: setup.processing).contains(where: { $0.hasSuffix("/clip.mp4") }) else {
                    throw Tool.Failure(description: "clip.mp4 is no longer claimed when the watcher is frozen")
                }
            } catch {
                Issue.record("round \(round): \(error); under the inbox \(Fixtures.files(under: setup.inbox)); \(watcher.log)")
                throw error
            }
            #expect(try await watcher.stop(SIGKILL) == SIGKILL)
        }
        // The default preset: the photo dropped below is stored, not refused by the video-only preset.
        let last = try setup.watcher(slow: false)
        let failed = setup.inbox + "/failed"
        do {
            try await Watcher.until(60) { Self.names(failed).count == 2 }
        } catch {
            Issue.record("under the inbox \(Fixtures.files(under: setup.inbox)); \(last.log)")
            throw error
        }
        #expect(Self.names(failed) == ["clip.mp4", "clip.mp4.error.json"])
        let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: failed + "/clip.mp4.error.json")))
        let error = try #require((envelope as? [String: Any])?["error"] as? [String: Any])
        #expect(error["code"] as? String == "API_005")
        #expect((error["message"] as? String)?.contains("taken 3 times without ending") == true, "\(error)")
        #expect(last.log.contains("setting clip.mp4 aside"), "\(last.log)")
        // The watcher goes on: a photo dropped now is done, and its store sweeps what the killed
        // transcodes left in staging.
        try Self.drop(1, from: 0, into: setup.inbox)
        do {
            try await Watcher.until(60) { Self.names(setup.inbox + "/processed") == ["photo-0.jpg"] }
        } catch {
            Issue.record("inbox \(Self.names(setup.inbox)), processed \(Self.names(setup.inbox + "/processed")); \(last.log)")
            throw error
        }
        #expect(try await last.stop(SIGTERM) == 0)
        #expect(Fixtures.files(under: setup.processing).isEmpty)
        #expect(Fixtures.files(under: setup.out + "/.staging").isEmpty)
    }

    @Test func aSecondSignalPutsTheFileInFlightBackInTheInbox() async throws {
        let setup = try SlowSetup()
        defer { Fixtures.cleanUp(setup.root) }
        let watcher = try setup.watcher()
        try await setup.claimed()
        kill(watcher.process.processIdentifier, SIGTERM)
        try await Watcher.until { watcher.log.contains("stopping: no new files are taken; 1 in flight finish") }
        #expect(watcher.process.isRunning, "the first signal drains: the transcode goes on")
        #expect(try await watcher.stop(SIGTERM) == 0)
        #expect(Self.names(setup.inbox) == ["clip.mp4", "failed", "processed"])
        #expect(Self.names(setup.inbox + "/processed").isEmpty && Self.names(setup.inbox + "/failed").isEmpty)
        #expect(Fixtures.files(under: setup.processing).isEmpty)
        #expect(Fixtures.files(under: setup.out + "/.staging").isEmpty)
        #expect(watcher.count == 0, "a file put back has no line: it has not ended")
    }

    @Test func aDeadNeighboursFilesAreTakenBackWithoutARestart() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-neighbour")
        let out = Fixtures.scratchDirectory("kiln-watch-neighbour")
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        let watcher = try Watcher(inbox, out: out, settle: "0.1", extra: ["--poll", "0.3"])
        let processing = inbox + "/.kiln/processing"
        try await Watcher.until { !Self.names(processing).isEmpty }
        // A neighbour that claimed a file and died: its session, with an unheld lock and the file,
        // made beside the inbox and moved in whole (the watcher sweeps an empty dead session at
        // once, and a file dropped into it after would find it gone).
        let made = Fixtures.scratchDirectory("kiln-dead-session")
        defer { Fixtures.cleanUp(made) }
        FileManager.default.createFile(atPath: made + "/.lock", contents: nil)
        try Self.drop(1, from: 7, into: made)
        let dead = processing + "/" + UUID().uuidString.lowercased()
        guard rename(made, dead) == 0 else { throw Tool.Failure(description: "cannot move the session in: \(String(cString: strerror(errno)))") }
        try await Watcher.until { Self.names(inbox + "/processed") == ["photo-7.jpg"] }
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(watcher.log.contains("took back 1 file(s) claimed by a watcher that died"), "\(watcher.log)")
        #expect(try await watcher.stop(SIGTERM) == 0)
    }

    @Test func aMetricsPortThatCannotBeServedStopsTheWatch() async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-port")
        let out = Fixtures.scratchDirectory("kiln-watch-port")
        defer { Fixtures.cleanUp(inbox); Fixtures.cleanUp(out) }
        // A port held (listening) by this test.
        let (holder, port) = try Loopback.listening()
        defer { close(holder) }
        let watcher = try Watcher(inbox, out: out, metricsPort: port)
        #expect(try await watcher.exit() == 1)
        #expect(watcher.log.contains("choose another --metrics-port"), "\(watcher.log)")
    }

    /// Whether this kernel lets an unprivileged user namespace set its own inotify limits
    /// (/proc/sys/user/max_inotify_*, per namespace since Linux 5.11).
    static let namespacedLimits: Bool = {
        (try? Tool.run("unshare", ["-U", "-r", "sh", "-c", "echo 1 > /proc/sys/user/max_inotify_watches"]))?.status == 0
    }()

    /// The inotify limits hit, each in a user namespace whose limit is 0 (no sysctl of the
    /// machine is changed): a clear FILE_006 naming the sysctl to raise, exit 1.
    @Test(.enabled(if: namespacedLimits, "user namespaces are not available to set inotify limits"),
          arguments: [("max_inotify_watches", "fs.inotify.max_user_watches"), ("max_inotify_instances", "fs.inotify.max_user_instances")])
    func theInotifyLimitsNameTheirSysctl(limit: String, sysctl: String) async throws {
        let inbox = Fixtures.scratchDirectory("kiln-inbox-limit")
        defer { Fixtures.cleanUp(inbox) }
        let output = try await Tool.detached {
            try Tool.run("unshare", ["-U", "-r", "sh", "-c", "echo 0 > /proc/sys/user/\(limit) && exec \"$0\" \"$@\"",
                                     BatchCommandTests.binary, "watch", inbox, "--out", inbox + "/out"])
        }
        let stdout = String(decoding: output.stdout, as: UTF8.self)
        #expect(output.status == 1)
        #expect(stdout.contains("FILE_006") && stdout.contains("raise \(sysctl) (sysctl), or use --poll"), "\(stdout)\n\(output.stderr)")
    }
}
