import Foundation
import KilnCore
import KilnTestSupport
import Testing

/// The `kiln` binary's contract: one envelope on stdout with --json, exit 0 / 1 / 64.
@Suite struct ProcessCommandTests {
    struct Run {
        let status: Int32
        let stdout: Data
        let stderr: String

        var envelope: [String: Any]? { try? JSONSerialization.jsonObject(with: stdout) as? [String: Any] }
        var error: [String: Any]? { envelope?["error"] as? [String: Any] }
        var items: [[String: Any]] { (envelope?["data"] as? [String: Any])?["items"] as? [[String: Any]] ?? [] }
    }

    static let binary = Fixtures.root + "/.build/debug/kiln"

    func kiln(_ arguments: [String], stdin: Data? = nil) async throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build first: swift build")
        let run = try await Tool.run(Self.binary, arguments, input: stdin)
        return Run(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    @Test func successPrintsOneEnvelopeAndExits0() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let run = try await kiln(["process", "--json", "--out", out, Fixtures.sample("photo.jpg")])
        #expect(run.status == 0)
        #expect(run.envelope?["success"] as? Bool == true)
        let item = try #require(run.items.first)
        #expect(item["mime"] as? String == "image/jpeg")
        let renditions = try #require(item["renditions"] as? [[String: Any]])
        #expect(renditions.map { $0["name"] as? String } == ["display", "thumb"])
        for rendition in renditions {
            #expect(FileManager.default.fileExists(atPath: rendition["path"] as? String ?? ""))
            #expect((rendition["sha256"] as? String)?.count == 64)
        }
        #expect(((run.envelope?["meta"] as? [String: Any])?["request_id"] as? String)?.hasPrefix("req_") == true)
    }

    @Test func singleFailureIsTheTopLevelErrorAndExits1() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let run = try await kiln(["process", "--json", "--out", out, Fixtures.sample("bad/bomb.png")])
        #expect(run.status == 1)
        #expect(run.envelope?["success"] as? Bool == false)
        #expect(run.error?["code"] as? String == "MEDIA_003")
        #expect(run.error?["category"] as? String == "MEDIA")
        #expect(run.error?["retryable"] as? Bool == false)
        #expect(Fixtures.files(under: out).isEmpty)
    }

    @Test func severalFilesReportEachItemAndFailIfAnyFails() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let run = try await kiln(["process", "--json", "--out", out, Fixtures.sample("small.jpg"), Fixtures.sample("bad/text.txt")])
        #expect(run.status == 1)
        #expect(run.envelope?["success"] as? Bool == false)
        #expect(run.items.count == 2)
        #expect(run.items[0]["renditions"] != nil)
        #expect((run.items[1]["error"] as? [String: Any])?["code"] as? String == "FILE_003")
    }

    @Test func carouselOfElevenIsMEDIA_002() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let files = Array(repeating: Fixtures.sample("small.jpg"), count: 11)
        let run = try await kiln(["process", "--json", "--type", "carousel", "--out", out] + files)
        #expect(run.status == 1)
        #expect(run.error?["code"] as? String == "MEDIA_002")
    }

    @Test func standardInputIsStreamedThrough() async throws {
        let out = Fixtures.scratchDirectory()
        let data = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out); Fixtures.cleanUp(data) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.webp")))
        let run = try await kiln(["process", "--json", "--out", out, "--data", data, "-"], stdin: bytes)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.items.first?["mime"] as? String == "image/webp")
        #expect(Fixtures.files(under: data).isEmpty, "the spooled upload is removed")
    }

    @Test func badUsageExits64() async throws {
        #expect(try await kiln(["process", "--fit", "sideways", Fixtures.sample("photo.jpg")]).status == 64)
        #expect(try await kiln(["process"]).status == 64)
    }

    @Test func probeShowsWhatThePipelineSees() async throws {
        let run = try await kiln(["probe", "--json", Fixtures.sample("orient-6.jpg")])
        #expect(run.status == 0)
        let source = try #require(run.items.first?["source"] as? [String: Any])
        #expect(source["mime"] as? String == "image/jpeg")
        #expect(source["orientation"] as? Int == 6)
        #expect(source["width"] as? Int == 200 && source["display_width"] as? Int == 300)
        #expect(source["color_space"] as? String == "srgb")
        #expect(source["bit_depth"] as? Int == 8)
        #expect(source["has_alpha"] as? Bool == false)
        let missing = try await kiln(["probe", "--json", "/nonexistent.jpg"])
        #expect(missing.status == 1 && missing.error?["code"] as? String == "FILE_002")
    }

    /// `kiln check`: any file against a preset's rules, a table or one envelope, exit 0 only when
    /// every rule passes. Kiln's own output passes what its input broke.
    @Test func checkHoldsAnyFileToThePresetsRules() async throws {
        let out = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(out) }
        let input = Fixtures.sample("video/h264-aac-moov-end.mp4")
        let before = try await kiln(["check", "--preset", "instagram-reel", input])
        let table = String(decoding: before.stdout, as: UTF8.self)
        #expect(before.status == 1, "\(table)")
        #expect(table.contains("against instagram-reel@") && table.contains("rule") && table.contains("verdict"))
        #expect(table.split(separator: "\n").contains { $0.contains("moov_first") && $0.contains("FAIL") }, "\(table)")

        let processed = try await kiln(["process", "--json", "--preset", "instagram-reel", "--out", out, input])
        #expect(processed.status == 0)
        let data = try #require(processed.items.first)
        #expect((data["rules"] as? String)?.hasPrefix("instagram-reel@") == true, "the manifest names the rules")
        let renditions = try #require(data["renditions"] as? [[String: Any]])
        let video = try #require(renditions.first { $0["name"] as? String == "video" }?["path"] as? String)
        let after = try await kiln(["check", "--json", "--preset", "instagram-reel", video])
        #expect(after.status == 0 && after.envelope?["success"] as? Bool == true)
        let report = try #require(after.items.first)
        #expect(report["passed"] as? Bool == true && report["preset"] as? String == "instagram-reel")
        let verdicts = try #require(report["verdicts"] as? [[String: Any]])
        #expect(Set(verdicts.compactMap { $0["rule"] as? String }).isSuperset(of: ["moov_first", "edit_lists", "closed_gop",
                                                                                 "video_bit_rate", "audio_profile"]))

        // An image: the camera's EXIF and GPS break Bluesky's rules as the photo is; not once published.
        let photo = try await kiln(["check", "--json", "--preset", "bluesky", Fixtures.sample("photo.jpg")])
        #expect(photo.status == 1 && photo.envelope?["success"] as? Bool == false)
        let failed = (photo.items.first?["verdicts"] as? [[String: Any]] ?? []).filter { $0["passed"] as? Bool == false }
        #expect(failed.map { $0["rule"] as? String } == ["metadata"], "\(failed)")
        #expect(try await kiln(["check", "--preset", "bluesky", "/nonexistent.jpg"]).status == 1)
    }

    @Test func presetsPrintsThePlatformsPage() async throws {
        let markdown = try await kiln(["presets", "--markdown"])
        #expect(markdown.status == 0)
        #expect(String(decoding: markdown.stdout, as: UTF8.self)
            == (try String(contentsOfFile: Fixtures.root + "/docs/platforms.md", encoding: .utf8)))
        let json = try await kiln(["presets", "--json"])
        let presets = try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]]
        #expect(presets?.count == 13 && presets?.contains { $0["name"] as? String == "bluesky" } == true)
    }

    /// `kiln presets` lists each preset's origin and the day its rules were read; a `--presets`
    /// file replaces a built-in by name, and `--json` prints what such a file reads back.
    @Test func presetsListsOriginsAndAFileReplacesABuiltIn() async throws {
        let plain = String(decoding: try await kiln(["presets"]).stdout, as: UTF8.self)
        #expect(plain.contains("bluesky  [built-in, rules read 20"), "\(plain)")
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let printed = try await kiln(["presets", "--json"])
        var presets = try #require(try JSONSerialization.jsonObject(with: printed.stdout) as? [[String: Any]])
        let index = try #require(presets.firstIndex { $0["name"] as? String == "tiktok" })
        var video = try #require(presets[index]["video"] as? [String: Any])
        video["max_duration"] = 300
        presets[index]["video"] = video
        let file = directory + "/presets.json"
        try JSONSerialization.data(withJSONObject: presets).write(to: URL(fileURLWithPath: file))
        let listed = String(decoding: try await kiln(["presets", "--presets", file]).stdout, as: UTF8.self)
        #expect(listed.contains("tiktok  [\(file), rules read"), "\(listed)")
        let again = try await JSONSerialization.jsonObject(with: try kiln(["presets", "--json", "--presets", file]).stdout) as? [[String: Any]]
        let tiktok = try #require(again?.first { $0["name"] as? String == "tiktok" })
        #expect((tiktok["video"] as? [String: Any])?["max_duration"] as? Double == 300 && tiktok["origin"] as? String == file)
    }

    /// `--limits` on the CLI: a creator's maximum checked by `kiln check`, and a wider one refused.
    @Test func limitsNarrowATargetOnTheCommandLine() async throws {
        let long = Fixtures.sample("video/long-95s.mp4")
        let told = try await kiln(["check", "--json", "--preset", "tiktok,x", "--limits", #"{"tiktok": {"max_duration_seconds": 60}}"#, long])
        let targets = ((told.envelope?["data"] as? [String: Any])?["items"] as? [[String: Any]])?.first?["targets"] as? [[String: Any]]
        #expect(targets?.first?["status"] as? String == "rejected", "\(String(describing: told.envelope))")
        #expect((targets?.first?["limits"] as? [String: Any])?["max_duration_seconds"] as? Double == 60)
        let wider = try await kiln(["process", "--json", "--preset", "tiktok", "--limits", #"{"tiktok": {"max_duration_seconds": 900}}"#, long])
        #expect(wider.status == 1 && wider.error?["code"] as? String == "API_001", "\(wider.stderr)")
    }

    @Test func codesPrintsTheCatalog() async throws {
        let json = try await kiln(["codes", "--json"])
        let array = try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]]
        #expect(array?.count == ErrorCode.allCases.count)
        #expect(array?.contains { $0["code"] as? String == "PROCESSING_005" } == true)
        let markdown = try await kiln(["codes", "--markdown"])
        #expect(String(decoding: markdown.stdout, as: UTF8.self)
            == (try String(contentsOfFile: Fixtures.root + "/docs/error-codes.md", encoding: .utf8)))
    }
}

/// `kiln process --storage r2` against moto: the envelope says where each rendition went.
@Suite struct ProcessToR2Tests {
    func environment(_ moto: MotoS3, secret: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.merging(moto.environment) { $1 }
        environment["KILN_STORAGE"] = "r2"
        if let secret { environment["KILN_R2_SECRET_ACCESS_KEY"] = secret }
        return environment
    }

    func kiln(_ arguments: [String], environment: [String: String]) async throws -> (Int32, [String: Any]?) {
        let run = try await Tool.run(ProcessCommandTests.binary, arguments, environment: environment)
        return (run.status, try? JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    }

    @Test func renditionsGoToTheBucket() async throws {
        let moto = try await MotoS3.started()
        let data = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(data) }
        let (status, envelope) = try await kiln(["process", "--json", "--data", data, Fixtures.sample("photo.webp")],
                                          environment: environment(moto))
        #expect(status == 0)
        let items = (envelope?["data"] as? [String: Any])?["items"] as? [[String: Any]]
        let renditions = try #require(items?.first?["renditions"] as? [[String: Any]])
        #expect(renditions.count == 2)
        for rendition in renditions {
            #expect((rendition["path"] as? String)?.hasPrefix("s3://\(moto.bucket)/") == true)
            #expect((rendition["url"] as? String)?.contains("X-Amz-Signature") == true)
        }
    }

    @Test func wrongSecretIsFILE_007BeforeAnyWork() async throws {
        let moto = try await MotoS3.started()
        let (status, envelope) = try await kiln(["process", "--json", Fixtures.sample("photo.jpg")],
                                          environment: environment(moto, secret: "wrong"))
        #expect(status == 1)
        #expect((envelope?["error"] as? [String: Any])?["code"] as? String == "FILE_007")
    }
}

extension ProcessToR2Tests {
    @Test func storageCheckAndPut() async throws {
        let moto = try await MotoS3.started()
        let check = try await Tool.run(ProcessCommandTests.binary, ["storage", "check"], environment: environment(moto))
        #expect(check.status == 0)
        let put = try await Tool.run(ProcessCommandTests.binary, ["storage", "put", Fixtures.sample("small.jpg"), "cli/small.jpg"],
                                     environment: environment(moto, secret: "wrong"))
        #expect(put.status == 1, "a wrong secret fails the upload")
    }
}
