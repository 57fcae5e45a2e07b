import Foundation

/// A preset's rules as rows (rule, what it applies to, limit) and `docs/platforms.md`, made from
/// the preset data so the page cannot drift from what Kiln enforces.
extension Preset {
    /// One rule's limit as the page shows it.
    public struct RuleLimit: Sendable, Equatable {
        public let rule: PublishRule
        /// "image input", "video input", "video", "display", "carousel".
        public let subject: String
        public let limit: String
    }

    /// Every limit the preset sets, inputs first.
    public var ruleLimits: [RuleLimit] {
        var rows: [RuleLimit] = []
        func add(_ rule: PublishRule, _ subject: String, _ limit: String) {
            rows.append(RuleLimit(rule: rule, subject: subject, limit: limit))
        }
        if let image {
            add(.inputBytes, "image input", "<= \(ByteCount.metric(image.maxBytes))")
            add(.inputPixels, "image input", "<= \(image.maxPixels) px")
            add(.minSize, "image input", ">= \(image.minWidth)x\(image.minHeight)")
            if let aspect = image.aspect { add(.aspect, "image", aspect.description) }
            if let animation = image.animation {
                switch animation.output {
                case .video: add(.animation, "image input", "published as an MP4 (the video rules apply)")
                case .gif:
                    let limits = [animation.maxBytes.map { "<= \(ByteCount.metric($0))" },
                                  animation.maxWidth.map { "within \($0)x\(animation.maxHeight ?? $0)" },
                                  animation.maxFrames.map { "<= \($0) frames" },
                                  animation.maxTotalPixels.map { "width x height x frames <= \($0) (scaled down to fit)" }]
                        .compactMap(\.self)
                    add(.animation, "image input", "kept a GIF" + (limits.isEmpty ? "" : ": " + limits.joined(separator: ", ")))
                }
            }
        }
        if let spec = renditions.first, image != nil {
            add(.imageFormat, spec.name, spec.format.rawValue.uppercased())
            add(.imageBox, spec.name, "within \(spec.maxWidth)x\(spec.maxHeight)")
            if let minWidth = spec.minWidth { add(.minSize, spec.name, ">= \(minWidth) wide (a narrower picture is enlarged)") }
            if let bytes = spec.maxBytes { add(.imageBytes, spec.name, "<= \(ByteCount.metric(bytes)) (\(bytes) bytes)") }
            if let pixels = spec.maxPixels { add(.imagePixels, spec.name, "<= \(pixels) px") }
            add(.colorSpace, spec.name, "sRGB")
            add(.metadata, spec.name, "none (EXIF, GPS, XMP, IPTC, ICC stripped)")
        }
        if let video {
            let out = video.output
            add(.inputBytes, "video input", "<= \(ByteCount.metric(video.maxBytes))")
            add(.duration, "video", "\(ByteCount.decimal(video.minDuration, places: 2))-\(ByteCount.decimal(video.maxDuration, places: 2)) s")
            add(.minSize, "video input", ">= \(video.minWidth)x\(video.minHeight), long edge <= \(video.maxLongEdge), short edge <= \(video.maxShortEdge)")
            add(.minFrameRate, "video", ">= \(ByteCount.decimal(video.minFrameRate, places: 2)) fps (a slower video has frames repeated)")
            if let aspect = video.aspect { add(.aspect, "video", aspect.description) }
            if let native = video.nativeAspect {
                add(.nativeFrame, "video", "\(AspectRange(min: native, max: native).description) (what fit=crop, pad or blur makes)")
            }
            add(.container, "video", "MP4")
            add(.moovFirst, "video", "yes")
            add(.editLists, "video", "none")
            add(.videoCodec, "video", "H.264")
            add(.profile, "video", out.profiles.joined(separator: ", "))
            add(.level, "video", "<= \(ByteCount.decimal(Double(out.maxLevel) / 10))")
            add(.pixelFormat, "video", "yuv420p (8-bit 4:2:0)")
            add(.scan, "video", "progressive")
            if out.squarePixels { add(.sampleAspect, "video", "1:1") }
            add(.frameRate, "video", "<= \(ByteCount.decimal(video.maxFrameRate, places: 2)) fps" + (video.constantFrameRate ? ", constant" : ""))
            if out.closedGOP { add(.closedGOP, "video", "every key frame IDR") }
            add(.keyframeInterval, "video", "<= \(ByteCount.decimal(out.maxKeyframeInterval, places: 2)) s")
            if let cap = out.maxBitRate {
                add(.videoBitRate, "video", "<= \(ByteCount.bitRate(cap))")
                add(.videoPeakBitRate, "video", "<= \(ByteCount.bitRate(cap))")
            }
            add(.videoBox, "video", "within \(out.maxWidth)x\(out.maxHeight)")
            add(.audioCodec, "audio", "AAC")
            add(.audioProfile, "audio", "LC")
            add(.sampleRate, "audio", out.sampleRate.map { "\($0) Hz" } ?? "<= \(out.maxSampleRate) Hz")
            add(.channels, "audio", out.channels.map { "\($0)" } ?? "1-\(out.maxChannels)")
            if let cap = out.maxAudioBitRate { add(.audioBitRate, "audio", "<= \(ByteCount.bitRate(cap))") }
            if let bytes = out.maxBytes { add(.fileBytes, "video", "<= \(ByteCount.metric(bytes)) (\(bytes) bytes)") }
            if let bytes = out.minBytes { add(.fileBytes, "video", ">= \(ByteCount.metric(bytes)) (\(bytes) bytes)") }
        }
        if let carousel {
            add(.carousel, "carousel", "\(carousel.minItems)-\(carousel.maxItems) \(carousel.kinds.map(\.rawValue).joined(separator: " or ")) items")
        }
        return rows
    }

    /// The rows whose limit the platform sets: those that differ from Kiln's own defaults (the
    /// `default` preset's limits, and any rule it does not have). Each needs a source.
    public var platformLimits: [RuleLimit] {
        let neutral = Preset(name: "kiln", summary: "", image: ImageRules(), video: VideoRules(),
                             carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: [.image, .video]),
                             renditions: [RenditionSpec(name: renditions.first?.name ?? "display", maxWidth: 2048, maxHeight: 2048)])
            .ruleLimits
        return ruleLimits.filter { row in !neutral.contains(row) }
    }

    /// The source a row of this preset cites: the first that covers its rule. Kiln's own input
    /// limits (a row on an input that keeps Kiln's default) cite none, whatever covers the rule.
    public func source(for row: RuleLimit) -> RuleSource? {
        if row.subject.hasSuffix(" input"), !platformLimits.contains(row) { return nil }
        return sources?.first { $0.rules.contains(row.rule) }
    }

    /// Whether the platform refuses what breaks the row's rule (false for a recommendation).
    public func requires(_ row: RuleLimit) -> Bool {
        let streams: Set<String> = ["video", "audio"]
        return !(streams.contains(row.subject) && video?.requires(row.rule) == false)
    }

    /// The day this preset's rules were last read at their sources (nil for a preset with none).
    public var rulesRead: String? { sources?.map(\.read).max() }

    /// What Kiln does with an input that breaks a rule: fixed by processing (and warned), or refused.
    static let remedies: [(PublishRule, String)] = [
        (.inputBytes, "refused (FILE_004), before anything is read"),
        (.inputPixels, "refused (MEDIA_003), before decoding"),
        (.minSize, "images: enlarged to the platform's narrowest width; videos below the smallest size: refused (MEDIA_003)"),
        (.aspect, "refused (MEDIA_004) under fit=reject; cropped, padded or fitted over a blurred fill with fit=crop, pad or blur"),
        (.nativeFrame, "made with fit=crop, pad or blur (a video in another shape the platform takes is kept as it is without one)"),
        (.duration, "too short: refused (MEDIA_005), but an animated GIF is looped up to it; too long: refused, or cut with fit_duration=trim"),
        (.minFrameRate, "fixed: frames repeated up to the platform's slowest rate"),
        (.carousel, "refused (MEDIA_002)"),
        (.animation, "a GIF over the frame count: refused (MEDIA_006); over the pixel budget or the box: scaled down"),
        (.videoCodec, "fixed: re-encoded (and so every stream rule of H.264: profile, level, pixel format, scan, GOP, key frames, bitrate, box, frame rate)"),
        (.audioCodec, "fixed: re-encoded to AAC-LC (sample rate, channels, bitrate)"),
        (.fileBytes, "over the limit: re-encoded within it; under a minimum: refused at the output check (PROCESSING_006)"),
        (.imageBytes, "fixed: quality lowered, then the picture shrunk"),
        (.imageBox, "fixed: shrunk into the box"),
        (.colorSpace, "fixed: converted to sRGB"),
        (.metadata, "fixed: stripped"),
    ]

    /// `docs/platforms.md`: every built-in preset's rules with their sources and the day read.
    public static func platformsMarkdown(_ presets: [Preset] = builtIn) -> String {
        var text = """
            # Platform rules

            <!-- Generated by `kiln presets --markdown` from Sources/KilnCore/Presets/Platforms/*.json. Do not edit. -->

            Every built-in preset's rules, each number with the page it comes from, whose page it is and the
            day it was read. A source is `platform` (the platform's own developer or help page; the AT
            Protocol lexicons for Bluesky) or `secondary` (a restatement, used only where the platform's own
            page could not be read here; its note says so). A row marked *Kiln* is Kiln's own default where
            the platform states no number. Byte limits are in the platform's unit (8 MB is 8,000,000 bytes).
            Where sources disagree, the published output takes the strictest value and the note says so.

            Each rule is **required** (the platform refuses a file that breaks it) or **recommended** (the
            platform's advice: followed when Kiln encodes anyway, never a reason to re-encode, shrink or
            refuse). Every rendition is read back and held to the required rules before it is published
            (`PROCESSING_006` otherwise); `kiln check FILE --preset P` runs the same check on any file.

            The rules live in one data file per platform (`Sources/KilnCore/Presets/Platforms/`), embedded in
            the binary; `kiln presets --json` prints them in the form `--presets FILE` (or `KILN_PRESETS`)
            reads back, and such a file replaces a built-in preset of the same name without a new build.

            ## What Kiln does with an input that breaks a rule

            | rule | Kiln's answer |
            |---|---|

            """
        for (rule, remedy) in remedies { text += "| \(rule.title) | \(remedy) |\n" }
        for preset in presets {
            text += "\n## \(preset.name)\n\n\(preset.summary).\(preset.rulesRead.map { " Rules last read \($0)." } ?? "")\n\n"
            text += "| rule | applies to | limit | kind | source |\n|---|---|---|---|---|\n"
            let platform = preset.platformLimits
            for row in preset.ruleLimits {
                let cited = preset.source(for: row).flatMap { source in
                    (preset.sources ?? []).firstIndex(of: source).map { "[\($0 + 1)] \(source.kind.rawValue), \(source.read)" }
                }
                let origin = cited ?? (platform.contains(row) ? "**unsourced**" : "*Kiln*")
                let kind = preset.requires(row) ? "required" : "recommended"
                text += "| \(row.rule.title) | \(row.subject) | \(row.limit.replacingOccurrences(of: "|", with: "/")) | \(kind) | \(origin) |\n"
            }
            if let sources = preset.sources, !sources.isEmpty {
                text += "\n"
                for (index, source) in sources.enumerated() {
                    text += "\(index + 1). <\(source.url)> (\(source.kind.rawValue)), read \(source.read)\(source.note.map { ": \($0)" } ?? "").\n"
                }
            }
        }
        return text
    }
}
