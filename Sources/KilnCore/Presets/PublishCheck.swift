/// A preset's platform rules held against measured facts: pure, so the plan (over the input),
/// the output check (over what was written) and `kiln check` (over any file) give the same
/// verdicts.
public enum PublishCheck {
    /// Every rule of `rules` that applies to a video, with its verdict.
    public static func video(_ facts: VideoFacts, _ measured: VideoMeasurement, rules: VideoRules,
                             subject: String = "video") -> [RuleVerdict] {
        let out = rules.output
        var verdicts = Verdicts(subject: subject, recommended: Set(rules.recommended))
        let mp4Family = facts.container.split(separator: ",").contains { $0 == "mp4" || $0 == "mov" }
        verdicts.add(.container, mp4Family ? "MP4" : facts.container, "MP4 or MOV", mp4Family)
        verdicts.add(.moovFirst, yesNo(measured.moovFirst), "moov before mdat", measured.moovFirst == true)
        verdicts.add(.editLists, yesNo(measured.editLists), "none", measured.editLists == false)
        verdicts.add(.duration, "\(ByteCount.decimal(facts.duration, places: 2)) s",
            "\(ByteCount.decimal(rules.minDuration, places: 2))-\(ByteCount.decimal(rules.maxDuration, places: 2)) s",
            facts.duration >= rules.minDuration - 0.1 && facts.duration <= rules.maxDuration + 0.1)
        if out.maxBytes != nil || out.minBytes != nil {
            let limit = [out.minBytes.map { ">= \(ByteCount.metric($0))" }, out.maxBytes.map { "<= \(ByteCount.metric($0))" }]
                .compactMap(\.self).joined(separator: ", ")
            verdicts.add(.fileBytes, ByteCount.metric(facts.sizeBytes), limit,
                facts.sizeBytes <= (out.maxBytes ?? .max) && facts.sizeBytes >= (out.minBytes ?? 0))
        }
        if let video = facts.video { videoStream(video, measured, rules: rules, into: &verdicts) }
        if let audio = facts.audio { audioStream(audio, measured, output: out, into: &verdicts) }
        return verdicts.list
    }

    private static func videoStream(_ video: VideoStreamFacts, _ measured: VideoMeasurement, rules: VideoRules,
                                    into verdicts: inout Verdicts) {
        let out = rules.output
        verdicts.add(.videoCodec, video.codec.uppercased(), "H264", video.codec == "h264")
        let profile = video.profile ?? "unknown"
        verdicts.add(.profile, profile, out.profiles.joined(separator: ", "), out.profiles.contains(profile))
        if let level = video.level, level > 0 {
            verdicts.add(.level, ByteCount.decimal(Double(level) / 10), "<= \(ByteCount.decimal(Double(out.maxLevel) / 10))",
                level <= out.maxLevel)
        } else {
            verdicts.add(.level, "unknown", "<= \(ByteCount.decimal(Double(out.maxLevel) / 10))", false)
        }
        let fourTwoZero = video.pixelFormat == "yuv420p" || video.pixelFormat == "yuvj420p"
        verdicts.add(.pixelFormat, video.pixelFormat, "yuv420p (8-bit 4:2:0)", fourTwoZero)
        verdicts.add(.scan, video.interlaced ? "interlaced" : "progressive", "progressive", !video.interlaced)
        if out.squarePixels {
            verdicts.add(.sampleAspect, video.sampleAspect ?? "1:1", "1:1", video.sampleAspect == nil)
        }
        let rate = "\(ByteCount.decimal(video.frameRate, places: 2)) fps\(video.variableFrameRate ? " (variable)" : "")"
        let rateLimit = "\(ByteCount.decimal(rules.minFrameRate, places: 2))-\(ByteCount.decimal(rules.maxFrameRate, places: 2)) fps"
            + (rules.constantFrameRate ? ", constant" : "")
        verdicts.add(.frameRate, rate, rateLimit, video.frameRate >= rules.minFrameRate - 0.01
            && video.frameRate <= rules.maxFrameRate + 0.01 && !(rules.constantFrameRate && video.variableFrameRate))
        if out.closedGOP {
            let idr = measured.idrKeyframes
            verdicts.add(.closedGOP, idr.map { "\($0) of \(measured.keyframes) key frames IDR" } ?? "unknown",
                "every key frame IDR", idr != nil && idr == measured.keyframes && measured.keyframes > 0)
        }
        // One frame's slack: the last GOP may close a frame later than the interval.
        let frame = video.frameRate > 0 ? 1 / video.frameRate : 0
        verdicts.add(.keyframeInterval, "\(ByteCount.decimal(measured.maxKeyframeInterval, places: 2)) s",
            "<= \(ByteCount.decimal(out.maxKeyframeInterval, places: 2)) s",
            measured.maxKeyframeInterval <= out.maxKeyframeInterval + frame + 0.01)
        if let cap = out.maxBitRate {
            verdicts.add(.videoBitRate, ByteCount.bitRate(measured.videoBitRate), ByteCount.bitRate(cap), measured.videoBitRate <= cap)
            verdicts.add(.videoPeakBitRate, ByteCount.bitRate(measured.peakBitRate), ByteCount.bitRate(cap), measured.peakBitRate <= cap)
        }
        let (width, height) = (video.displayWidth, video.displayHeight)
        verdicts.add(.videoBox, "\(width)x\(height)", "within \(out.maxWidth)x\(out.maxHeight)",
            width <= out.maxWidth && height <= out.maxHeight)
        if let aspect = rules.aspect {
            let ratio = Double(width) / Double(max(1, height))
            verdicts.add(.aspect, "\(ByteCount.decimal(ratio, places: 3)):1", aspect.description, aspect.contains(ratio))
        }
    }

    private static func audioStream(_ audio: AudioStreamFacts, _ measured: VideoMeasurement, output out: VideoOutputSpec,
                                    into verdicts: inout Verdicts) {
        verdicts.add(.audioCodec, audio.codec.uppercased(), "AAC", audio.codec == "aac")
        verdicts.add(.audioProfile, audio.profile ?? "unknown", "LC", audio.profile == "LC")
        let rateLimit = out.sampleRate.map { "\($0) Hz" } ?? "<= \(out.maxSampleRate) Hz"
        verdicts.add(.sampleRate, "\(audio.sampleRate) Hz", rateLimit,
            out.sampleRate.map { audio.sampleRate == $0 } ?? (audio.sampleRate <= out.maxSampleRate))
        let channelLimit = out.channels.map { "\($0)" } ?? "1-\(out.maxChannels)"
        verdicts.add(.channels, "\(audio.channels)", channelLimit,
            out.channels.map { audio.channels == $0 } ?? (1...out.maxChannels).contains(audio.channels))
        if let cap = out.maxAudioBitRate {
            let rate = measured.audioBitRate ?? 0
            verdicts.add(.audioBitRate, ByteCount.bitRate(rate), ByteCount.bitRate(cap), rate <= cap)
        }
    }

    /// Every rule that applies to an image rendition made from `spec`, with its verdict; a kept
    /// animated GIF is held to `animation`'s frame count too.
    public static func image(_ facts: ImageFacts, spec: RenditionSpec, aspect: AspectRange?,
                             subject: String, animation: AnimationRules? = nil) -> [RuleVerdict] {
        var verdicts = Verdicts(subject: subject)
        verdicts.add(.imageFormat, facts.format.uppercased(), spec.format.rawValue.uppercased(), facts.format == spec.format.rawValue)
        if spec.format == .gif, let limit = animation?.maxFrames {
            verdicts.add(.animation, "\(facts.pages) frames", "<= \(limit) frames", facts.pages <= limit)
        }
        if spec.format == .gif, let budget = animation?.maxTotalPixels {
            let total = facts.width * facts.height * facts.pages
            verdicts.add(.animation, "\(facts.width)x\(facts.height)x\(facts.pages) = \(total) px", "<= \(budget) px", total <= budget)
        }
        if let limit = spec.maxBytes {
            verdicts.add(.imageBytes, ByteCount.metric(facts.sizeBytes), ByteCount.metric(limit), facts.sizeBytes <= limit)
        }
        verdicts.add(.imageBox, "\(facts.displayWidth)x\(facts.displayHeight)", "within \(spec.maxWidth)x\(spec.maxHeight)",
            facts.displayWidth <= spec.maxWidth && facts.displayHeight <= spec.maxHeight)
        if let minWidth = spec.minWidth {
            // As wide as the platform's narrowest, or as wide as the box lets a picture this tall be.
            let ratio = Double(facts.displayWidth) / Double(max(1, facts.displayHeight))
            let reachable = min(minWidth, Int(Double(spec.maxHeight) * ratio))
            verdicts.add(.minSize, "\(facts.displayWidth) wide", ">= \(minWidth) wide", facts.displayWidth >= reachable)
        }
        if let limit = spec.maxPixels {
            let pixels = facts.width * facts.height
            verdicts.add(.imagePixels, "\(pixels)", "<= \(limit)", pixels <= limit)
        }
        if let aspect {
            let ratio = Double(facts.displayWidth) / Double(max(1, facts.displayHeight))
            verdicts.add(.aspect, "\(ByteCount.decimal(ratio, places: 3)):1", aspect.description, aspect.contains(ratio))
        }
        let srgb = facts.colorSpace == "srgb" || facts.colorSpace == "b-w"
        verdicts.add(.colorSpace, facts.colorSpace, "sRGB", srgb && !facts.hasICCProfile)
        let blocks = facts.metadata + (facts.orientation != 1 ? ["orientation \(facts.orientation)"] : [])
        verdicts.add(.metadata, blocks.isEmpty ? "none" : blocks.joined(separator: ", "), "none", blocks.isEmpty)
        return verdicts.list
    }

    /// The verdicts of one file, as they are found.
    private struct Verdicts {
        let subject: String
        var recommended: Set<PublishRule> = []
        var list: [RuleVerdict] = []

        mutating func add(_ rule: PublishRule, _ value: String, _ limit: String, _ passed: Bool) {
            list.append(RuleVerdict(rule, subject: subject, measured: value, limit: limit, passed: passed,
                                    required: !recommended.contains(rule)))
        }
    }

    private static func yesNo(_ value: Bool?) -> String {
        value.map { $0 ? "yes" : "no" } ?? "unknown"
    }
}
