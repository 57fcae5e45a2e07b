import Foundation
import KilnCore
import KilnTestSupport
import Testing

/// The platform rules as data: every number a built-in preset changes from Kiln's defaults is
/// sourced, `docs/platforms.md` is what the data renders, and the check's verdicts are pure.
@Suite struct PlatformRulesTests {
    static let platforms = ["instagram-feed", "instagram-reel", "instagram-story", "facebook", "threads", "x", "linkedin",
                            "tiktok", "youtube-shorts", "pinterest", "bluesky"]

    @Test func everyBuiltInPresetOfSPEC5Exists() {
        #expect(Set(Preset.builtIn.map(\.name)) == Set(["default"] + Self.platforms))
    }

    @Test func everyNumberAPlatformSetsHasASourceAndADate() throws {
        for name in Self.platforms {
            let preset = try PresetCatalog().preset(named: name)
            let sources = try #require(preset.sources, "\(name) has sources")
            for source in sources {
                #expect(source.url.hasPrefix("https://") && !source.rules.isEmpty, "\(name): \(source.url)")
                #expect(source.read.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil, "\(name): read \(source.read)")
            }
            #expect(!preset.platformLimits.isEmpty)
            for row in preset.platformLimits {
                #expect(preset.source(for: row.rule) != nil, "\(name): \(row.rule.rawValue) \(row.limit) has no source")
            }
        }
        #expect(try PresetCatalog().preset(named: "default").platformLimits.isEmpty, "default is Kiln's own")
    }

    @Test func byteLimitsAreInThePlatformsDecimalUnits() throws {
        let catalog = PresetCatalog()
        #expect(try catalog.preset(named: "bluesky").renditions.first?.maxBytes == 1_000_000)
        #expect(try catalog.preset(named: "instagram-feed").renditions.first?.maxBytes == 8_000_000)
        #expect(try catalog.preset(named: "x").renditions.first?.maxBytes == 5_000_000)
        #expect(try catalog.preset(named: "instagram-reel").video?.output.maxBitRate == 25_000_000)
        #expect(try catalog.preset(named: "instagram-reel").video?.output.maxAudioBitRate == 128_000)
        #expect(try catalog.preset(named: "facebook").video?.output.maxKeyframeInterval == 5)
        #expect(try catalog.preset(named: "x").video?.output.maxWidth == 1280)
    }

    @Test func committedPlatformsPageMatchesThePresets() throws {
        let path = Fixtures.root + "/docs/platforms.md"
        let generated = Preset.platformsMarkdown()
        if ProcessInfo.processInfo.environment["KILN_RECORD"] == "1" {
            try generated.write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == generated,
                "docs/platforms.md is stale: run `kiln presets --markdown > docs/platforms.md`")
        #expect(!generated.contains("**unsourced**"))
    }

    /// HE-AAC cannot be made here (FFmpeg's encoder writes AAC-LC only): the check is held to it
    /// at the level of the probed profile.
    @Test func heAACBreaksTheAudioProfileRule() throws {
        let rules = try #require(try PresetCatalog().preset(named: "x").video)
        let facts = VideoFacts(
            container: "mov,mp4,m4a,3gp,3g2,mj2", mime: "video/mp4", sizeBytes: 1000, duration: 5, bitRate: nil,
            video: VideoStreamFacts(codec: "h264", profile: "High", pixelFormat: "yuv420p", bitDepth: 8, width: 1280,
                                    height: 720, rotation: 0, frameRate: 30, variableFrameRate: false, frameCount: 150,
                                    colorTransfer: nil, colorPrimaries: nil, hdr: nil, interlaced: false, decodable: true,
                                    level: 31),
            audio: AudioStreamFacts(codec: "aac", profile: "HE-AAC", channels: 2, channelLayout: "stereo", sampleRate: 48000))
        let measured = VideoMeasurement(videoBitRate: 2_000_000, peakBitRate: 2_500_000, keyframes: 3, idrKeyframes: 3,
                                        maxKeyframeInterval: 2, audioBitRate: 64_000, moovFirst: true, editLists: false)
        let failed = PublishCheck.video(facts, measured, rules: rules).filter { !$0.passed }
        #expect(failed.map(\.rule) == [.audioProfile], "\(failed)")
        #expect(failed.first?.measured == "HE-AAC" && failed.first?.limit == "LC")
    }
}
