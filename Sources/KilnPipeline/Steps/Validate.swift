import KilnCore
import KilnImaging
import KilnVideo

/// The cheap checks, in cost order, before any pixel is decoded. For one input made for several
/// targets, `probe` runs once and `admit` and `validate` once per target.
extension Step {
    /// admit: the target takes the sniffed kind, at this size (from stat).
    static let admit = Step(name: "admit") { context, _ in
        let kind = try context.required(context.format, "format").kind
        let limit = try IntakeLimits([context.preset]).file(kind)
        try IntakeLimits.check(file: context.sizeBytes, within: limit, kind: kind)
    }

    /// probe: the header facts (dimensions, pixel count, duration, streams), read once.
    static let probe = Step(name: "probe") { context, _ in
        guard context.facts == nil else { return }
        let format = try context.required(context.format, "format")
        switch format.kind {
        case .image:
            context.facts = .image(try ImageProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes))
        case .video:
            context.facts = .video(try VideoProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes,
                                                         control: context.control))
        }
    }

    /// validate: the target's rules over the header facts, and the memory the work would need.
    static let validate = Step(name: "validate") { context, _ in
        let needed: Int64
        let size: (width: Int, height: Int)
        switch try context.required(context.facts, "facts") {
        case .image(let facts):
            let rules = try context.required(context.preset.image, "image rules")
            try ImageRulesCheck.check(facts, rules: rules, fit: context.options.fit)
            var estimate = MemoryEstimate.image(facts, renditions: context.preset.renditions(for: facts))
            if let animation = context.preset.keptAnimation(facts) {
                if let most = animation.maxFrames, facts.pages > most { throw KilnError.frameCount(facts.pages, max: most) }
                // A kept GIF is held whole while its bytes are fitted: every frame at the GIF's size.
                let (width, height) = (animation.maxWidth ?? facts.width, animation.maxHeight ?? facts.height)
                estimate += Int64(facts.pages) * Int64(min(facts.width, width)) * Int64(min(facts.height, height)) * 4
            }
            needed = estimate
            size = (facts.width, facts.height)
        case .video(let facts):
            let rules = try context.required(context.preset.video, "video rules")
            try VideoRulesCheck.check(facts, rules: rules, fit: context.options.fit, fitDuration: context.options.fitDuration)
            needed = MemoryEstimate.video(facts, output: rules.output,
                                          following: context.options.fit == .crop && context.options.focus == .auto)
            size = (facts.video?.width ?? 0, facts.video?.height ?? 0)
        }
        if let budget = context.options.memoryBudget, needed > budget {
            throw KilnError.overMemoryBudget(needed: needed, budget: budget, width: size.width, height: size.height)
        }
        context.memoryEstimate = needed
    }
}

/// The preset's image rules over header facts; pure, so the rules are tested without files.
enum ImageRulesCheck {
    static func check(_ facts: ImageFacts, rules: ImageRules, fit: Fit) throws {
        // Pixel bombs first: width x height per frame, before anything else looks at pixels.
        if facts.width * facts.height > rules.maxPixels {
            throw KilnError.tooManyPixels(width: facts.width, height: facts.height, limit: rules.maxPixels)
        }
        if facts.pages > rules.maxFrames { throw KilnError.frameCount(facts.pages, max: rules.maxFrames) }
        let (width, height) = (facts.displayWidth, facts.displayHeight)
        if width < rules.minWidth || height < rules.minHeight {
            throw KilnError.tooSmall(width: width, height: height, minWidth: rules.minWidth, minHeight: rules.minHeight)
        }
        if let aspect = rules.aspect, fit == .reject, !aspect.contains(Double(width) / Double(height)) {
            throw KilnError.aspect(width: width, height: height, allowed: aspect)
        }
    }
}

/// The preset's video rules over header facts: what re-encoding cannot fix is an error here.
enum VideoRulesCheck {
    static func check(_ facts: VideoFacts, rules: VideoRules, fit: Fit, fitDuration: DurationFit = .reject) throws {
        guard let video = facts.video else { throw KilnError.noVideoStream(mime: facts.mime) }
        // Nothing to decode: the key is elsewhere, or there are no pictures (an init segment alone).
        guard video.encrypted != true else { throw KilnError.encryptedVideo() }
        guard video.pixelFormat != "unknown" else { throw KilnError.noPictures(codec: video.codec) }
        guard video.decodable else { throw KilnError.unsupportedCodec(video.codec) }
        // Too long and asked to trim: cut at the maximum while processing. An animated GIF too
        // short is looped up to the minimum (VideoPlan.loops), as it would loop where it is shown.
        let loops = facts.container == MediaFormat.animatedGIF.decoder && facts.duration > 0
        if (facts.duration < rules.minDuration && !loops) || (facts.duration > rules.maxDuration && fitDuration == .reject) {
            throw KilnError.duration(facts.duration, min: rules.minDuration, max: rules.maxDuration)
        }
        let (width, height) = (video.displayWidth, video.displayHeight)
        if width < rules.minWidth || height < rules.minHeight || max(width, height) > rules.maxLongEdge
            || min(width, height) > rules.maxShortEdge {
            throw KilnError.videoSize(width: width, height: height, rules: rules)
        }
        // A frame rate below the platform's slowest is raised by repeating frames (VideoPlan), as a
        // GIF's is: not refused. A stream with no rate at all has nothing to repeat.
        if video.frameRate <= 0 {
            throw KilnError.frameRate(video.frameRate, min: rules.minFrameRate, max: rules.maxFrameRate)
        }
        if video.frameCount > rules.maxFrames { throw KilnError.frameCount(video.frameCount, max: rules.maxFrames) }
        if let aspect = rules.aspect, fit == .reject, !aspect.contains(Double(width) / Double(height)) {
            throw KilnError.aspect(width: width, height: height, allowed: aspect)
        }
    }
}
