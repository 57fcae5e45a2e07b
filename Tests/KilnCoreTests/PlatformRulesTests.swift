import Foundation
import KilnCore
import KilnTestSupport
import Testing

/// The platform rules as data: every number a built-in preset changes from Kiln's defaults is
/// sourced, `docs/platforms.md` is what the data renders, and the check's verdicts are pure.
@Suite struct PlatformRulesTests {
    static let platforms = ["instagram-feed", "instagram-reel", "instagram-story", "facebook", "facebook-reel", "threads", "x",
                            "linkedin", "tiktok", "youtube-shorts", "pinterest", "bluesky"]

    @Test func everyBuiltInPresetOfSPEC5Exists() {
        #expect(Set(Preset.builtIn.map(\.name)) == Set(["default"] + Self.platforms))
    }

    /// Every row a platform sets cites a source with a date and a kind; a secondary source says in
    /// its note why the platform's own page was not used.
    @Test func everyNumberAPlatformSetsHasASourceADateAndAKind() throws {
        for name in Self.platforms {
            let preset = try PresetCatalog().preset(named: name)
            let sources = try #require(preset.sources, "\(name) has sources")
            for source in sources {
                #expect(source.url.hasPrefix("https://") && !source.rules.isEmpty, "\(name): \(source.url)")
                #expect(source.read.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil, "\(name): read \(source.read)")
                if source.kind == .secondary { #expect(source.note?.isEmpty == false, "\(name): \(source.url) says why") }
            }
            #expect(!preset.platformLimits.isEmpty)
            for row in preset.platformLimits {
                let source = preset.source(for: row)
                #expect(source != nil, "\(name): \(row.rule.rawValue) \(row.limit) has no source")
            }
            #expect(preset.rulesRead == sources.map(\.read).max())
        }
        #expect(try PresetCatalog().preset(named: "default").platformLimits.isEmpty, "default is Kiln's own")
    }

    /// A rule a page covers is cited only where the number is the platform's: Kiln's own input
    /// limits stay Kiln's (LinkedIn's page covers its video input, not the 50 MiB image input).
    @Test func kilnsOwnDefaultsAreMarkedKiln() throws {
        let linkedin = try PresetCatalog().preset(named: "linkedin")
        let rows = linkedin.ruleLimits.filter { $0.rule == .inputBytes }
        #expect(rows.count == 2)
        #expect(linkedin.source(for: try #require(rows.first { $0.subject == "image input" })) == nil)
        #expect(linkedin.source(for: try #require(rows.first { $0.subject == "video input" })) != nil)
        #expect(Preset.platformsMarkdown().contains("| input file size | image input | <= 52.43 MB | required | *Kiln* |"))
    }

    /// YouTube's upload encoding settings are advice: marked recommended on the page and in the data.
    @Test func recommendationsAreMarkedSo() throws {
        let shorts = try #require(try PresetCatalog().preset(named: "youtube-shorts").video)
        for rule: PublishRule in [.keyframeInterval, .profile, .videoBox, .sampleRate, .channels, .closedGOP] {
            #expect(!shorts.requires(rule), "\(rule)")
        }
        #expect(shorts.requires(.duration) && shorts.requires(.aspect))
        let page = Preset.platformsMarkdown()
        #expect(page.contains("| key-frame interval | video | <= 0.5 s | recommended |"))
        // A reel's one recommendation is its native frame, made only with an explicit fit.
        #expect(try PresetCatalog().preset(named: "instagram-reel").video?.recommended == [.nativeFrame])
        #expect(page.contains("| native frame | video | 0.563:1 (what fit=crop, pad or blur makes) | recommended |"))
    }

    /// The data files are the form `--presets` reads: printed and read back, every preset is the same.
    @Test func builtInPresetsRoundTripThroughTheirJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let printed = try encoder.encode(PresetCatalog().listing)
        var catalog = PresetCatalog()
        try catalog.add(json: printed, source: "printed.json")
        for preset in Preset.builtIn {
            #expect(try catalog.preset(named: preset.name) == preset, "\(preset.name)")
            #expect(catalog.origin(of: preset.name) == "printed.json")
        }
        #expect(PresetCatalog().origin(of: "bluesky") == PresetCatalog.builtInOrigin)
    }

    /// An operator replaces a built-in preset by name with a file: a rule changed without a build.
    @Test func aFileReplacesABuiltInPresetByName() throws {
        var bluesky = try PresetCatalog().preset(named: "bluesky")
        bluesky.renditions[0].maxBytes = 1_500_000
        let path = Fixtures.scratchDirectory() + "/presets.json"
        defer { Fixtures.cleanUp((path as NSString).deletingLastPathComponent) }
        try JSONEncoder().encode([bluesky]).write(to: URL(fileURLWithPath: path))
        let catalog = try PresetCatalog(userFile: path)
        #expect(try catalog.preset(named: "bluesky").renditions.first?.maxBytes == 1_500_000)
        #expect(catalog.origin(of: "bluesky") == path && catalog.origin(of: "x") == PresetCatalog.builtInOrigin)
        let listed = try JSONSerialization.jsonObject(with: JSONEncoder().encode(catalog.listing)) as? [[String: Any]]
        let entry = try #require(listed?.first { $0["name"] as? String == "bluesky" })
        #expect(entry["origin"] as? String == path && entry["rules_read"] as? String == bluesky.rulesRead)
    }

    @Test func byteLimitsAreInThePlatformsDecimalUnits() throws {
        let catalog = PresetCatalog()
        #expect(try catalog.preset(named: "bluesky").renditions.first?.maxBytes == 2_000_000)
        #expect(try catalog.preset(named: "bluesky").video?.output.maxBytes == 300_000_000)
        #expect(try catalog.preset(named: "threads").carousel?.maxItems == 20)
        #expect(try catalog.preset(named: "threads").video?.output.maxBytes == 1_000_000_000)
        #expect(try catalog.preset(named: "pinterest").video?.output.maxBytes == 2_000_000_000)
        #expect(try catalog.preset(named: "linkedin").video?.output.minBytes == 75_000)
        #expect(try catalog.preset(named: "x").image?.animation?.maxTotalPixels == 300_000_000)
        #expect(try catalog.preset(named: "x").video?.minWidth == 32)
        // Feed videos are reels since Instagram retired its VIDEO type.
        #expect(try catalog.preset(named: "instagram-feed").video?.maxDuration == 900)
        #expect(try catalog.preset(named: "instagram-feed").video?.output.maxBytes == 300_000_000)
        #expect(try catalog.preset(named: "instagram-feed").renditions.first?.maxBytes == 8_000_000)
        #expect(try catalog.preset(named: "x").renditions.first?.maxBytes == 5_000_000)
        #expect(try catalog.preset(named: "instagram-reel").video?.output.maxBitRate == 25_000_000)
        #expect(try catalog.preset(named: "instagram-reel").video?.output.maxAudioBitRate == 128_000)
        #expect(try catalog.preset(named: "facebook-reel").video?.output.maxKeyframeInterval == 5)
        #expect(try catalog.preset(named: "facebook").video?.aspect == nil, "the reel rules are facebook-reel's alone")
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
