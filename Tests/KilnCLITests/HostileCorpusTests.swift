import Foundation
import KilnTestSupport
import Testing

/// Every file of samples/hostile/corpus ends in a clean result or a FILE_/MEDIA_ code, within
/// a time and memory bound, never a crash. Each runs in its own `kiln` process (so a crash is
/// seen as a crash, not the end of the test run), measured by GNU time.
@Suite struct HostileCorpusTests {
    static let corpus = Fixtures.root + "/samples/hostile/corpus"
    /// Generous bounds for a debug build; the real budgets are in benchmarks/.
    static let secondsLimit = 60.0
    static let kilobytesLimit = 600_000

    struct Outcome: Sendable {
        let file: String
        let status: Int32
        let reason: Process.TerminationReason
        let code: String?
        let success: Bool
        let peakKilobytes: Int
        let timedOut: Bool
    }

    static func run(_ path: String, out: String) throws -> Outcome {
        let rss = out + "/rss-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", "-o", rss, ProcessCommandTests.binary, "process", "--json", "--out", out,
                             "--timeout", "30", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + secondsLimit, execute: watchdog)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let timedOut = watchdog.isCancelled == false && process.terminationReason == .uncaughtSignal
        watchdog.cancel()
        let envelope = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let peak = Int((try? String(contentsOfFile: rss, encoding: .utf8))?
            .split(separator: "\n").last.map(String.init) ?? "") ?? 0
        return Outcome(file: (path as NSString).lastPathComponent, status: process.terminationStatus,
                       reason: process.terminationReason,
                       code: (envelope?["error"] as? [String: Any])?["code"] as? String,
                       success: envelope?["success"] as? Bool == true, peakKilobytes: peak, timedOut: timedOut)
    }

    @Test func everyHostileFileEndsCleanly() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "GNU time (Debian package time)")
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).sorted()
        #expect(files.count >= 100)
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            var results: [Outcome] = []
            var pending = files[...]
            for _ in 0..<4 {
                if let file = pending.popFirst() { group.addTask { try await Tool.detached { try Self.run(Self.corpus + "/" + file, out: out) } } }
            }
            while let outcome = try await group.next() {
                results.append(outcome)
                if let file = pending.popFirst() { group.addTask { try await Tool.detached { try Self.run(Self.corpus + "/" + file, out: out) } } }
            }
            return results
        }
        for outcome in outcomes {
            #expect(outcome.reason == .exit && (outcome.status == 0 || outcome.status == 1),
                    "\(outcome.file) ended by signal or odd status \(outcome.status)")
            #expect(!outcome.timedOut, "\(outcome.file) ran past \(Self.secondsLimit) s")
            let clean = outcome.success || outcome.code.map { $0.hasPrefix("FILE_") || $0.hasPrefix("MEDIA_") } == true
            #expect(clean, "\(outcome.file): \(outcome.code ?? "no envelope")")
            #expect(outcome.peakKilobytes < Self.kilobytesLimit, "\(outcome.file) peaked at \(outcome.peakKilobytes) KB")
        }
        let worst = outcomes.max { $0.peakKilobytes < $1.peakKilobytes }
        print("hostile corpus: \(outcomes.count) files, worst peak RSS \(worst?.peakKilobytes ?? 0) KB (\(worst?.file ?? ""))")
    }

    @Test func oddNamesArePathsLikeAnyOther() throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
        for name in ["new\nline.jpg", "фото 📷.jpg", "-dash.jpg", "quote\"d.jpg"] {
            try FileManager.default.copyItem(atPath: Fixtures.sample("small.jpg"), toPath: directory + "/" + name)
            let path = directory + "/sub/../" + name
            let outcome = try Self.run(path, out: directory + "/out")
            #expect(outcome.success, "\(name.debugDescription): \(outcome.code ?? "no envelope")")
        }
    }
}
