import KilnCore
import KilnImaging
import KilnVideo

/// validate: the cheap checks, in cost order, before any pixel is decoded: size (from stat),
/// then the header (dimensions, pixel count, duration, streams), then the preset's rules.
extension Step {
    static let validateImage = Step(name: "validate") { context, _ in
        let format = try context.required(context.format, "format")
        guard format.kind == .image else { return }
        let limit = try Sniffing.sizeLimit(for: .image, preset: context.preset)
        guard context.sizeBytes <= limit else {
            throw KilnError.tooLarge(size: context.sizeBytes, limit: limit, kind: .image)
        }
        let rules = try context.required(context.preset.image, "image rules")
        let facts = try ImageProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes)
        try ImageRulesCheck.check(facts, rules: rules, fit: context.options.fit)
        let needed = MemoryEstimate.image(facts, renditions: context.preset.renditions)
        if let budget = context.options.memoryBudget, needed > budget {
            throw KilnError.overMemoryBudget(needed: needed, budget: budget, width: facts.width, height: facts.height)
        }
        context.memoryEstimate = needed
        context.facts = .image(facts)
    }

    static let validateVideo = Step(name: "validate") { context, _ in
        let format = try context.required(context.format, "format")
        guard format.kind == .video else { return }
        let limit = try Sniffing.sizeLimit(for: .video, preset: context.preset)
        guard context.sizeBytes <= limit else {
            throw KilnError.tooLarge(size: context.sizeBytes, limit: limit, kind: .video)
        }
        let rules = try context.required(context.preset.video, "video rules")
        let facts = try VideoProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes,
                                          control: context.control)
        try VideoRulesCheck.check(facts, rules: rules, fit: context.options.fit)
        let needed = MemoryEstimate.video(facts, output: rules.output)
        if let budget = context.options.memoryBudget, needed > budget, let video = facts.video {
            throw KilnError.overMemoryBudget(needed: needed, budget: budget, width: video.width, height: video.height)
        }
        context.memoryEstimate = needed
        context.facts = .video(facts)
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
    static func check(_ facts: VideoFacts, rules: VideoRules, fit: Fit) throws {
        guard let video = facts.video else { throw KilnError.noVideoStream(mime: facts.mime) }
        // Nothing to decode: the key is elsewhere, or there are no pictures (an init segment alone).
        guard video.encrypted != true else { throw KilnError.encryptedVideo() }
        guard video.pixelFormat != "unknown" else { throw KilnError.noPictures(codec: video.codec) }
        guard video.decodable else { throw KilnError.unsupportedCodec(video.codec) }
        if facts.duration < rules.minDuration || facts.duration > rules.maxDuration {
            throw KilnError.duration(facts.duration, min: rules.minDuration, max: rules.maxDuration)
        }
        let (width, height) = (video.displayWidth, video.displayHeight)
        if width < rules.minWidth || height < rules.minHeight || max(width, height) > rules.maxLongEdge
            || min(width, height) > rules.maxShortEdge {
            throw KilnError.videoSize(width: width, height: height, rules: rules)
        }
        if video.frameRate < rules.minFrameRate - 0.01 {
            throw KilnError.frameRate(video.frameRate, min: rules.minFrameRate, max: rules.maxFrameRate)
        }
        if video.frameCount > rules.maxFrames { throw KilnError.frameCount(video.frameCount, max: rules.maxFrames) }
        if let aspect = rules.aspect, fit == .reject, !aspect.contains(Double(width) / Double(height)) {
            throw KilnError.aspect(width: width, height: height, allowed: aspect)
        }
    }
}
