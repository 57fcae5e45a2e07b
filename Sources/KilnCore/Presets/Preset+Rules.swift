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
                                  animation.maxFrames.map { "<= \($0) frames" }].compactMap(\.self)
                    add(.animation, "image input", "kept a GIF" + (limits.isEmpty ? "" : ": " + limits.joined(separator: ", ")))
                }
            }
        }
        if let spec = renditions.first, image != nil {
            add(.imageFormat, spec.name, spec.format.rawValue.uppercased())
            add(.imageBox, spec.name, "within \(spec.maxWidth)x\(spec.maxHeight)")
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
            add(.minFrameRate, "video input", ">= \(ByteCount.decimal(video.minFrameRate, places: 2)) fps")
            if let aspect = video.aspect { add(.aspect, "video", aspect.description) }
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

    /// The first source that covers `rule`.
    public func source(for rule: PublishRule) -> RuleSource? {
        sources?.first { $0.rules.contains(rule) }
    }

    /// `docs/platforms.md`: every built-in preset's rules with their sources and the day read.
    public static func platformsMarkdown(_ presets: [Preset] = builtIn) -> String {
        var text = """
            # Platform rules

            <!-- Generated by `kiln presets --markdown` from Sources/KilnCore/Presets/Preset+BuiltIn.swift. Do not edit. -->

            Every built-in preset's rules, each number with the page it comes from and the day it was read.
            Byte limits are in the platform's unit (8 MB is 8,000,000 bytes). Where sources disagree, the
            published output takes the strictest value (one that passes every reading) and inputs the
            platform's own; the note beside the source says which. A row marked *Kiln* is Kiln's own
            default where the platform states no number. Every rendition is read back and held to these
            rules before it is published (`PROCESSING_006` otherwise); `kiln check FILE --preset P` runs
            the same check on any file.

            """
        for preset in presets {
            text += "\n## \(preset.name)\n\n\(preset.summary).\n\n| rule | applies to | limit | source |\n|---|---|---|---|\n"
            let platform = preset.platformLimits
            for row in preset.ruleLimits {
                let cited = preset.source(for: row.rule).flatMap { source in
                    (preset.sources ?? []).firstIndex(of: source).map { "[\($0 + 1)] (\(source.read))" }
                }
                let origin = cited ?? (platform.contains(row) ? "**unsourced**" : "*Kiln*")
                text += "| \(row.rule.title) | \(row.subject) | \(row.limit.replacingOccurrences(of: "|", with: "/")) | \(origin) |\n"
            }
            if let sources = preset.sources, !sources.isEmpty {
                text += "\n"
                for (index, source) in sources.enumerated() {
                    text += "\(index + 1). <\(source.url)>, read \(source.read)\(source.note.map { ": \($0)" } ?? "").\n"
                }
            }
        }
        return text
    }
}
