import KilnCore
import KilnImaging
import KilnVideo

/// validate: the cheap checks, in cost order, before any pixel is decoded: size (from stat),
/// then the header (dimensions, pixel count, duration, streams), then the preset's rules.
extension Step {
    static let validateImage = Step(name: "validate") { context, _ in
        let format = try context.required(context.format, "format")
        guard format.kind == .image else { return }
        guard let rules = context.preset.image else {
            throw KilnError.presetRejects(kind: .image, preset: context.preset.name)
        }
        guard context.sizeBytes <= rules.maxBytes else {
            throw KilnError.tooLarge(size: context.sizeBytes, limit: rules.maxBytes, kind: .image)
        }
        let facts = try ImageProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes)
        try ImageRulesCheck.check(facts, rules: rules, fit: context.options.fit)
        if let budget = context.options.memoryBudget {
            let needed = MemoryEstimate.image(facts, renditions: context.preset.renditions)
            if needed > budget {
                throw KilnError.overMemoryBudget(needed: needed, budget: budget, width: facts.width, height: facts.height)
            }
        }
        context.facts = .image(facts)
    }

    static let validateVideo = Step(name: "validate") { context, _ in
        let format = try context.required(context.format, "format")
        guard format.kind == .video else { return }
        guard let rules = context.preset.video else {
            throw KilnError.presetRejects(kind: .video, preset: context.preset.name)
        }
        guard context.sizeBytes <= rules.maxBytes else {
            throw KilnError.tooLarge(size: context.sizeBytes, limit: rules.maxBytes, kind: .video)
        }
        let facts = try VideoProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes)
        try VideoRulesCheck.check(facts, rules: rules, fit: context.options.fit)
        if let budget = context.options.memoryBudget, let video = facts.video {
            let needed = MemoryEstimate.video(facts, output: rules.output)
            if needed > budget {
                throw KilnError.overMemoryBudget(needed: needed, budget: budget, width: video.width, height: video.height)
            }
        }
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
