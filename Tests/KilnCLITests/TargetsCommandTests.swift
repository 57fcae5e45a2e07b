import Foundation
import KilnTestSupport
import Testing

/// `--preset a,b,c` on `kiln process` and `kiln batch`: each input answers one outcome per target.
@Suite struct TargetsCommandTests {
    static func outcomes(_ object: Any?) -> [[String: Any]] { (object as? [String: Any])?["targets"] as? [[String: Any]] ?? [] }

    @Test func processAnswersOneOutcomePerTarget() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let cli = ProcessCommandTests()
        let run = try await cli.kiln(["process", "--json", "--out", out, "--data", out + "/.kiln",
                                "--preset", "instagram-feed,x,linkedin,bluesky",
                                Fixtures.sample("photo.jpg"), Fixtures.sample("panorama.jpg")])
        #expect(run.status == 1, "Instagram refuses the panorama: \(run.stderr)")
        #expect(run.envelope?["success"] as? Bool == false)
        let (photo, panorama) = (Self.outcomes(run.items.first), Self.outcomes(run.items.last))
        #expect(photo.map { $0["target"] as? String } == ["instagram-feed", "x", "linkedin", "bluesky"])
        #expect(photo.allSatisfy { $0["status"] as? String == "changed" })
        #expect(panorama.map { $0["status"] as? String } == ["rejected", "accepted", "accepted", "accepted"])
        #expect((panorama.first?["error"] as? [String: Any])?["code"] as? String == "MEDIA_004")
        for outcome in photo {
            let renditions = try #require((outcome["item"] as? [String: Any])?["renditions"] as? [[String: Any]])
            #expect(renditions.allSatisfy { FileManager.default.fileExists(atPath: $0["path"] as? String ?? "") })
        }
        // A carousel for several targets: `data.targets`, the refused item named.
        let carousel = try await cli.kiln(["process", "--json", "--type", "carousel", "--out", out, "--data", out + "/.kiln",
                                     "--preset", "x,instagram-feed",
                                     Fixtures.sample("photo.jpg"), Fixtures.sample("panorama.jpg")])
        let targets = Self.outcomes(carousel.envelope?["data"])
        #expect(targets.map { $0["status"] as? String } == ["changed", "rejected"], "\(carousel.envelope ?? [:])")
        #expect((targets.last?["failed_item"] as? [String: Any])?["name"] as? String == Fixtures.sample("panorama.jpg"))
        // An unknown target is bad usage of the preset, before any work.
        let unknown = try await cli.kiln(["process", "--json", "--out", out, "--preset", "x,nope", Fixtures.sample("photo.jpg")])
        #expect(unknown.status == 1 && (unknown.error?["code"] as? String) == "API_001")
    }

    /// A source folder with a photo, a panorama (wider than Instagram takes) and a corrupt JPEG,
    /// and an output folder.
    static func folders(_ name: String) throws -> (source: String, out: String) {
        let source = Fixtures.scratchDirectory(name + "-src")
        for sample in ["photo.jpg", "panorama.jpg", "bad/corrupt.jpg"] {
            try FileManager.default.copyItem(atPath: Fixtures.sample(sample), toPath: source + "/" + (sample as NSString).lastPathComponent)
        }
        return (source, Fixtures.scratchDirectory(name))
    }

    @Test func batchJournalsEachTargetsOutcome() async throws {
        let (source, out) = try Self.folders("kiln-batch-targets")
        defer { Fixtures.cleanUp(source); Fixtures.cleanUp(out) }
        let arguments = [source, "--out", out, "--json", "--preset", "instagram-feed,x"]
        let (status, lines) = try await BatchCommandTests.run(arguments)
        #expect(status == 0, "refusals are the inputs' fault")
        var byInput: [String: [String: Any]] = [:]
        for line in lines { if let data = line["data"] as? [String: Any], let input = data["input"] as? String { byInput[input] = line } }
        #expect(Self.outcomes(byInput["photo.jpg"]?["data"]).map { $0["status"] as? String } == ["changed", "changed"])
        #expect(Self.outcomes(byInput["panorama.jpg"]?["data"]).map { $0["status"] as? String } == ["rejected", "accepted"])
        #expect((byInput["panorama.jpg"]?["data"] as? [String: Any])?["outcome"] as? String == "processed")
        #expect((byInput["corrupt.jpg"]?["error"] as? [String: Any])?["code"] as? String == "FILE_005")
        // report.json keeps each target's outcome; a second run skips every input with them.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        let inputs = try #require(((report?["data"] as? [String: Any]) ?? report)?["inputs"] as? [[String: Any]])
        let panorama = try #require(inputs.first { $0["input"] as? String == "panorama.jpg" })
        let briefs = try #require(panorama["targets"] as? [[String: Any]])
        #expect(briefs.map { $0["code"] as? String } == [Optional("MEDIA_004"), nil])
        #expect((briefs.last?["media_id"] as? String)?.count == 64)
        let (_, again) = try await BatchCommandTests.run(arguments)
        #expect(again.allSatisfy { ($0["data"] as? [String: Any])?["outcome"] as? String == "skipped" })
        let skipped = try #require(again.first { ($0["data"] as? [String: Any])?["input"] as? String == "panorama.jpg" })
        let decided = try #require((skipped["data"] as? [String: Any])?["decided"] as? [String: Any])
        #expect((decided["targets"] as? [[String: Any]])?.count == 2)
    }

    @Test func aDryRunChecksEveryTarget() async throws {
        let (source, out) = try Self.folders("kiln-batch-dry-targets")
        defer { Fixtures.cleanUp(source); Fixtures.cleanUp(out) }
        // Instagram is the second target: a dry run that held only the first would pass the panorama.
        let (status, lines) = try await BatchCommandTests.run([source, "--out", out, "--json", "--dry-run", "--preset", "x,instagram-feed"])
        #expect(status == 0)
        var byInput: [String: [String: Any]] = [:]
        for line in lines { if let data = line["data"] as? [String: Any], let input = data["input"] as? String { byInput[input] = line } }
        func preflight(_ input: String) -> [[String: Any]] {
            (byInput[input]?["data"] as? [String: Any])?["preflight"] as? [[String: Any]] ?? []
        }
        #expect(preflight("photo.jpg").map { $0["status"] as? String } == ["changed", "changed"])
        #expect(preflight("panorama.jpg").map { $0["status"] as? String } == ["accepted", "rejected"])
        #expect(((preflight("panorama.jpg").last?["error"] as? [String: Any])?["code"] as? String) == "MEDIA_004")
        #expect((byInput["panorama.jpg"]?["data"] as? [String: Any])?["outcome"] as? String == "checked")
        #expect((byInput["corrupt.jpg"]?["data"] as? [String: Any])?["outcome"] as? String == "rejected")
        #expect(Fixtures.files(under: out).isEmpty, "a dry run writes nothing")
    }
}

/// `kiln check FILE --preset a,b,c`: the preflight on the command line.
@Suite struct PreflightCommandTests {
    @Test func checkWithSeveralPresetsTellsEachTarget() async throws {
        let cli = ProcessCommandTests()
        let run = try await cli.kiln(["check", "--json", "--preset", "x,instagram-feed,bluesky", Fixtures.sample("panorama.jpg")])
        #expect(run.status == 1, "Instagram would refuse it")
        let item = try #require(run.items.first)
        let targets = try #require(item["targets"] as? [[String: Any]])
        #expect(targets.map { $0["status"] as? String } == ["accepted", "rejected", "accepted"])
        #expect((targets[1]["error"] as? [String: Any])?["code"] as? String == "MEDIA_004")
        let crop = try await cli.kiln(["check", "--preset", "instagram-feed,x", "--fit", "crop", Fixtures.sample("panorama.jpg")])
        #expect(crop.status == 0)
        let text = String(decoding: crop.stdout, as: UTF8.self)
        #expect(text.contains("instagram-feed") && text.contains("changed") && text.contains("cropped"), "\(text)")
    }
}
