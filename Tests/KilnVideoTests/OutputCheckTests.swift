import Foundation
import KilnCore
@testable import KilnImaging
import KilnTestSupport
import KilnVideo
import Testing

/// The output check's own tests: a file that meets every rule passes, and one file per rule,
/// made with the ffmpeg CLI to break that rule, fails with that rule named. The check reads each
/// file back itself (libav demuxer, packets, MP4 boxes); nothing the encoder said is trusted.
@Suite(.serialized) struct OutputCheckTests {
    /// Rules the good file meets: 320x568 (9:16) at 30 fps, 3.5 s, H.264 High with closed GOPs of
    /// 1 s, AAC-LC stereo 48 kHz at 96 kbps, moov first, no edit lists.
    static let rules = VideoRules(
        minDuration: 3, maxDuration: 10, minFrameRate: 23, maxFrameRate: 60, aspect: AspectRange(min: 0.5, max: 0.6),
        constantFrameRate: true,
        output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920, sampleRate: 48_000, maxAudioBitRate: 128_000,
                                maxBitRate: 5_000_000, maxKeyframeInterval: 2, profiles: ["High"], maxLevel: 42,
                                maxBytes: 10_000_000))

    struct Case: Sendable, CustomTestStringConvertible {
        let rule: PublishRule
        /// Replaces arguments of the good file's command (by option name), or adds them.
        let changes: [String: String]
        var rules: VideoRules = OutputCheckTests.rules
        var file = "clip.mp4"
        var testDescription: String { rule.rawValue }
    }

    static let base: KeyValuePairs<String, String> = [
        "-vf": "null", "-c:v": "libx264", "-preset": "veryfast", "-profile:v": "high", "-pix_fmt": "yuv420p",
        "-g": "30", "-c:a": "aac", "-b:a": "96k", "-ar": "48000", "-ac": "2", "-movflags": "+faststart",
        "-use_editlist": "0",
    ]

    static func rules(_ change: (inout VideoRules) -> Void) -> VideoRules {
        var rules = Self.rules
        change(&rules)
        return rules
    }

    static let cases: [Case] = [
        Case(rule: .container, changes: ["-movflags": "", "-use_editlist": ""], file: "clip.mkv"),
        Case(rule: .moovFirst, changes: ["-movflags": ""]),
        Case(rule: .editLists, changes: ["-use_editlist": "1"]),
        Case(rule: .videoCodec, changes: ["-c:v": "mpeg4", "-preset": "", "-profile:v": ""]),
        Case(rule: .profile, changes: ["-profile:v": "baseline"]),
        Case(rule: .level, changes: [:], rules: rules { $0.output.maxLevel = 12 }),
        Case(rule: .pixelFormat, changes: ["-pix_fmt": "yuv444p", "-profile:v": "high444"]),
        Case(rule: .scan, changes: ["-flags": "+ildct+ilme", "-top": "1"]),
        Case(rule: .sampleAspect, changes: ["-vf": "setsar=4/3"], rules: rules { $0.aspect = nil }),
        Case(rule: .frameRate, changes: ["-r": "60.02"]),
        Case(rule: .closedGOP, changes: ["-x264-params": "open-gop=1"]),
        Case(rule: .keyframeInterval, changes: ["-g": "300", "-sc_threshold": "0"]),
        Case(rule: .videoBitRate, changes: ["-vf": "noise=alls=100:allf=t", "-b:v": "8M", "-maxrate": "8M", "-bufsize": "4M"]),
        Case(rule: .videoPeakBitRate, changes: ["-vf": "noise=alls=100:allf=t", "-b:v": "8M", "-maxrate": "8M", "-bufsize": "4M"]),
        Case(rule: .audioCodec, changes: ["-c:a": "libmp3lame"]),
        Case(rule: .sampleRate, changes: ["-ar": "96000"]),
        Case(rule: .channels, changes: ["-ac": "6", "-b:a": "256k"], rules: rules { $0.output.maxAudioBitRate = nil }),
        Case(rule: .audioBitRate, changes: ["-b:a": "320k"]),
        Case(rule: .videoBox, changes: [:], rules: rules { $0.output.maxWidth = 160 }),
        Case(rule: .fileBytes, changes: [:], rules: rules { $0.output.maxBytes = 10_000 }),
        Case(rule: .duration, changes: [:], rules: rules { $0.maxDuration = 2 }),
        Case(rule: .aspect, changes: [:], rules: rules { $0.aspect = AspectRange(min: 16.0 / 9.0, max: 16.0 / 9.0) }),
    ]

    static func make(_ changes: [String: String], file: String) throws -> String {
        let directory = Fixtures.scratchDirectory("kiln-output-check")
        var arguments = ["-hide_banner", "-loglevel", "error", "-y",
                         "-f", "lavfi", "-i", "testsrc2=size=320x568:rate=30:duration=3.5",
                         "-f", "lavfi", "-i", "anoisesrc=color=pink:sample_rate=48000:duration=3.5"]
        for (option, value) in base where changes[option] == nil { arguments += [option, value] }
        for (option, value) in changes.sorted(by: { $0.key < $1.key }) where !value.isEmpty { arguments += [option, value] }
        try Tool.check("ffmpeg", arguments + ["-shortest", directory + "/" + file])
        return directory + "/" + file
    }

    static func verdicts(_ path: String, rules: VideoRules) throws -> [RuleVerdict] {
        let mime = path.hasSuffix(".mkv") ? "video/x-matroska" : "video/mp4"
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).map(Int64.init) ?? 0
        let read = try VideoInspector.inspect(path: path, format: try #require(MediaFormat.forMIME(mime)), sizeBytes: size)
        return PublishCheck.video(read.facts, read.measured, rules: rules)
    }

    @Test func aFileMeetingEveryRulePasses() async throws {
        let path = try await Tool.detached { try Self.make([:], file: "good.mp4") }
        defer { Fixtures.cleanUp((path as NSString).deletingLastPathComponent) }
        let verdicts = try Self.verdicts(path, rules: Self.rules)
        #expect(verdicts.filter { !$0.passed }.isEmpty, "\(verdicts.filter { !$0.passed })")
        // Every video rule the check knows was held (audio profile and the input-only ones aside).
        let held = Set(verdicts.map(\.rule))
        for rule in PublishRule.allCases where [.file, .video, .audio].contains(rule.scope) {
            #expect(held.contains(rule), "\(rule.rawValue) was not checked")
        }
    }

    @Test(arguments: cases)
    func aFileBreakingOneRuleIsCaughtWithThatRuleNamed(_ test: Case) async throws {
        let path = try await Tool.detached { try Self.make(test.changes, file: test.file) }
        defer { Fixtures.cleanUp((path as NSString).deletingLastPathComponent) }
        let failed = try Self.verdicts(path, rules: test.rules).filter { !$0.passed }
        #expect(failed.contains { $0.rule == test.rule }, "\(test.rule.rawValue) not caught: \(failed)")
        let error = try #require(failed.first { $0.rule == test.rule }).describe(preset: "test")
        #expect(error.hasPrefix(test.rule.title), "\(error)")
    }

    /// Images: the header read back by libvips, each rule broken by one file.
    @Test func imageRulesAreEachCaught() async throws {
        let photo = Fixtures.sample("photo.jpg")
        let facts = try ImageProber.facts(path: photo, format: try #require(MediaFormat.forMIME("image/jpeg")), sizeBytes: 300_000)
        let spec = RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 8_000_000)
        func failed(_ facts: ImageFacts, _ spec: RenditionSpec, aspect: AspectRange? = nil) -> Set<PublishRule> {
            Set(PublishCheck.image(facts, spec: spec, aspect: aspect, subject: "display").filter { !$0.passed }.map(\.rule))
        }
        // photo.jpg carries EXIF, GPS and XMP: published as it is, it breaks the metadata rule only.
        #expect(failed(facts, spec) == [.metadata])
        var small = spec
        small.maxBytes = 1000
        #expect(failed(facts, small).contains(.imageBytes))
        small = spec
        (small.maxWidth, small.maxHeight) = (100, 100)
        #expect(failed(facts, small).contains(.imageBox))
        small = spec
        small.maxPixels = 1000
        #expect(failed(facts, small).contains(.imagePixels))
        #expect(failed(facts, spec, aspect: AspectRange(min: 0.5, max: 0.6)).contains(.aspect))
        var png = spec
        png.format = .png
        #expect(failed(facts, png).contains(.imageFormat))
        let cmyk = try ImageProber.facts(path: Fixtures.sample("cmyk.jpg"), format: try #require(MediaFormat.forMIME("image/jpeg")),
                                         sizeBytes: 1000)
        #expect(failed(cmyk, spec).contains(.colorSpace))
        // A kept animated GIF: its frames counted from the file, held to the animation's limit.
        let gif = Fixtures.scratchDirectory("kiln-check-gif") + ".gif"
        defer { try? FileManager.default.removeItem(atPath: gif) }
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2", gif])
        let frames = try ImageProber.facts(path: gif, format: try #require(MediaFormat.forMIME("image/gif")), sizeBytes: 1000)
        var kept = spec
        kept.format = .gif
        func animated(_ limit: Int) -> [RuleVerdict] {
            PublishCheck.image(frames, spec: kept, aspect: nil, subject: "display",
                               animation: AnimationRules(output: .gif, maxFrames: limit)).filter { $0.rule == .animation }
        }
        #expect(animated(10).map(\.passed) == [false] && animated(10).first?.measured == "20 frames")
        #expect(animated(20).map(\.passed) == [true])
    }
}
