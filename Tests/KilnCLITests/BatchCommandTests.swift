import Foundation
import KilnTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kiln batch` as a process: a run over many files killed with SIGKILL at several moments and
/// run again, until every input has ended exactly once.
@Suite(.serialized) struct BatchCommandTests {
    static let binary = Fixtures.root + "/.build/debug/kiln"

    /// `count` distinct JPEGs (a comment segment each) in nested folders, plus bad inputs and
    /// files a batch must skip.
    static func source(_ count: Int) throws -> (directory: String, good: Int, bad: Int) {
        let directory = Fixtures.scratchDirectory("kiln-batch-src")
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        for index in 0..<count {
            let folder = directory + "/album-\(index % 3)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let comment = Array("copy \(index)".utf8)
            let bytes = jpeg.prefix(2) + [0xFF, 0xFE, 0, UInt8(comment.count + 2)] + comment + jpeg.dropFirst(2)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/photo-\(index).jpg"))
        }
        for bad in ["corrupt.jpg", "text.txt", "doc.pdf"] {
            try FileManager.default.copyItem(atPath: Fixtures.sample("bad/" + bad), toPath: directory + "/" + bad)
        }
        // Never taken: hidden, partial downloads, temp files.
        for skipped in [".hidden.jpg", "half.jpg.part", "half.jpg.crdownload", "~$draft.jpg"] {
            try Data(jpeg).write(to: URL(fileURLWithPath: directory + "/" + skipped))
        }
        return (directory, count, 3)
    }

    /// Runs the batch; with `killAfter`, sends `signal` once that many lines were printed.
    /// Returns the exit status (nil when killed by SIGKILL) and the lines.
    static func run(_ arguments: [String], killAfter: Int? = nil, signal: Int32 = SIGKILL) async throws
        -> (status: Int32?, lines: [[String: Any]])
    {
        let (status, lines) = try await Tool.detached { () throws -> (Int32?, [Data]) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["batch"] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var lines: [Data] = []
            var pending = Data()
            var killed = false
            while case let data = out.fileHandleForReading.availableData, !data.isEmpty {
                pending += data
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[pending.index(after: newline)...])
                    lines.append(Data(line))
                    if let killAfter, !killed, lines.count >= killAfter {
                        kill(process.processIdentifier, signal)
                        killed = true
                    }
                }
            }
            process.waitUntilExit()
            return (killed && signal == SIGKILL ? nil : process.terminationStatus, lines)
        }
        return (status, lines.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] })
    }

    /// Every file under the item folders of `out`, with its inode and modification time.
    static func renditions(_ out: String) -> [String: String] {
        var files: [String: String] = [:]
        for path in Fixtures.files(under: out) where path.first?.isHexDigit == true {
            var info = stat()
            guard stat(out + "/" + path, &info) == 0 else { continue }
            files[path] = "\(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        return files
    }

    @Test func killedAtSeveralMomentsEveryInputEndsExactlyOnce() async throws {
        let (source, good, bad) = try Self.source(40)
        let out = Fixtures.scratchDirectory("kiln-batch-out")
        defer { Fixtures.cleanUp(source); Fixtures.cleanUp(out) }
        let arguments = [source, "--out", out, "--json", "--jobs", "2"]

        var seen: [String: String] = [:]
        for moment in [2, 9, 17] {
            let (status, lines) = try await Self.run(arguments, killAfter: moment)
            #expect(status == nil, "killed after \(moment) lines (\(lines.count) printed)")
            let stored = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.count == 64 }.count
            #expect(stored < good, "killed while inputs were left (\(stored) of \(good) stored)")
            // A rendition once written is never written again.
            let now = Self.renditions(out)
            for (path, identity) in seen { #expect(now[path] == identity, "\(path) was rewritten") }
            seen = now
        }
        let (status, lines) = try await Self.run(arguments)
        #expect(status == 0)
        for (path, identity) in seen { #expect(Self.renditions(out)[path] == identity, "\(path) was rewritten") }

        // The last run skipped what the killed ones finished and did the rest.
        let outcomes = lines.compactMap { ($0["data"] as? [String: Any])?["outcome"] as? String }
        #expect(outcomes.count == good + bad, "one line per input, none for skipped names: \(outcomes.count)")
        #expect(outcomes.contains("skipped"))
        // Every good input is one item; no item twice, none missing.
        let items = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.count == 64 }
        #expect(items.count == good)
        #expect(items.allSatisfy { FileManager.default.fileExists(atPath: out + "/\($0)/manifest.json") })
        // Nothing half-done is left: no staging, no temp files.
        #expect(Fixtures.files(under: out + "/.staging").isEmpty)
        #expect(Fixtures.files(under: out + "/.kiln/tmp").isEmpty)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        let summary = try #require(report?["data"] as? [String: Any])
        #expect(summary["total"] as? Int == good + bad)
        #expect((summary["codes"] as? [String: Int])?.values.reduce(0, +) == bad)

        // A run after the end does nothing; a changed input is redone.
        let again = try await Self.run(arguments)
        #expect(again.status == 0)
        #expect(again.lines.allSatisfy { ($0["data"] as? [String: Any])?["outcome"] as? String == "skipped" })
        // Its report still accounts for the whole batch: every input once, with the outcome and
        // code of the run that decided it.
        let whole = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
            as? [String: Any])?["data"] as? [String: Any])
        let batch = try #require(whole["batch"] as? [String: Any])
        #expect((batch["outcomes"] as? [String: Int]) == ["processed": good, "rejected": bad], "\(batch)")
        #expect((batch["codes"] as? [String: Int])?.values.reduce(0, +) == bad && batch["earlier"] as? Int == good + bad)
        let decided = try #require(whole["inputs"] as? [[String: Any]])
        #expect(decided.count == good + bad && decided.allSatisfy { $0["run"] as? String == "earlier" })
        #expect(decided.filter { $0["outcome"] as? String == "rejected" }.allSatisfy { ($0["code"] as? String)?.hasPrefix("FILE_") == true || ($0["code"] as? String)?.hasPrefix("MEDIA_") == true })
        #expect(decided.filter { $0["outcome"] as? String == "processed" }.allSatisfy { ($0["media_id"] as? String)?.count == 64 })
        let skippedLine = try #require(again.lines.first { (($0["data"] as? [String: Any])?["decided"] as? [String: Any])?["outcome"] as? String == "rejected" })
        #expect(((skippedLine["data"] as? [String: Any])?["decided"] as? [String: Any])?["code"] is String, "a skipped line says how it was decided")
        try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("orient-3.jpg")))
            .write(to: URL(fileURLWithPath: source + "/album-0/photo-0.jpg"))
        let changed = try await Self.run(arguments)
        let redone = changed.lines.filter { ($0["data"] as? [String: Any])?["outcome"] as? String != "skipped" }
        #expect(redone.count == 1 && (redone.first?["data"] as? [String: Any])?["input"] as? String == "album-0/photo-0.jpg")
    }

    @Test func sigintFinishesWhatIsInFlightReportsAndExits130() async throws {
        let (source, good, bad) = try Self.source(40)
        let out = Fixtures.scratchDirectory("kiln-batch-int")
        defer { Fixtures.cleanUp(source); Fixtures.cleanUp(out) }
        let arguments = [source, "--out", out, "--json", "--jobs", "2"]
        let (status, lines) = try await Self.run(arguments, killAfter: 5, signal: SIGINT)
        #expect(status == 130)
        // What was in flight ended (a line each); the rest was left for the next run.
        #expect(lines.count < good + bad)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        #expect((report?["data"] as? [String: Any])?["interrupted"] as? Bool == true)
        #expect(Fixtures.files(under: out + "/.staging").isEmpty)
        let rest = try await Self.run(arguments)
        #expect(rest.status == 0)
        let skipped = rest.lines.filter { ($0["data"] as? [String: Any])?["outcome"] as? String == "skipped" }
        #expect(skipped.count == lines.count, "everything the interrupted run reported is skipped now")
    }

    @Test func badInputsEndWithTheirCodesAndNeverStopTheRun() async throws {
        let out = Fixtures.scratchDirectory("kiln-batch-bad")
        defer { Fixtures.cleanUp(out) }
        let (status, lines) = try await Self.run([Fixtures.sample("bad"), "--out", out, "--json"])
        #expect(status == 0, "rejections are the inputs' fault, not Kiln's")
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.sample("bad")).filter { !$0.hasPrefix(".") }
        #expect(lines.count == files.count)
        var codes: [String: String] = [:]
        for line in lines {
            let input = (line["data"] as? [String: Any])?["input"] as? String ?? ""
            codes[input] = (line["error"] as? [String: Any])?["code"] as? String ?? "none"
        }
        #expect(codes["empty.jpg"] == "FILE_001" && codes["text.txt"] == "FILE_003" && codes["image.svg"] == "FILE_003")
        #expect(codes["corrupt.jpg"] == "FILE_005" && codes["truncated.png"] == "FILE_005" && codes["bomb.png"] == "MEDIA_003")
        #expect(codes["slow-81mp.png"] == "none", "a big but valid image is processed")
    }

    @Test func dryRunChecksAndWritesNothing() async throws {
        let (source, good, bad) = try Self.source(3)
        let out = Fixtures.scratchDirectory("kiln-batch-dry")
        defer { Fixtures.cleanUp(source); Fixtures.cleanUp(out) }
        let (status, lines) = try await Self.run([source, "--out", out, "--json", "--dry-run"])
        #expect(status == 0)
        let outcomes = lines.compactMap { ($0["data"] as? [String: Any])?["outcome"] as? String }
        #expect(outcomes.filter { $0 == "checked" }.count == good && outcomes.filter { $0 == "rejected" }.count == bad)
        #expect(Fixtures.files(under: out).filter { !$0.hasPrefix(".") }.isEmpty, "no renditions, no report")
    }
}
