import KilnCore
import KilnImaging

/// validate: the cheap checks, in cost order, before any pixel is decoded: size (from stat),
/// then the header (dimensions, pixel count), then the preset's rules (minimum size, aspect).
extension Step {
    static let validate = Step(name: "validate") { context, _ in
        let format = try context.required(context.format, "format")
        guard format.kind == .image else {
            throw KilnError.unsupportedFormat(mime: context.mime)
        }
        guard let rules = context.preset.image else {
            throw KilnError.presetRejects(kind: .image, preset: context.preset.name)
        }
        guard context.sizeBytes <= rules.maxBytes else {
            throw KilnError.tooLarge(size: context.sizeBytes, limit: rules.maxBytes, kind: .image)
        }
        let facts = try ImageProber.facts(path: context.path, format: format, sizeBytes: context.sizeBytes)
        try ImageRulesCheck.check(facts, rules: rules, fit: context.options.fit)
        context.facts = facts
    }
}

/// The preset's image rules over header facts; pure, so the rules are tested without files.
enum ImageRulesCheck {
    static func check(_ facts: ImageFacts, rules: ImageRules, fit: Fit) throws {
        // Pixel bombs first: width x height per frame, before anything else looks at pixels.
        if facts.width * facts.height > rules.maxPixels {
            throw KilnError.tooManyPixels(width: facts.width, height: facts.height, limit: rules.maxPixels)
        }
        let (width, height) = (facts.displayWidth, facts.displayHeight)
        if width < rules.minWidth || height < rules.minHeight {
            throw KilnError.tooSmall(width: width, height: height, minWidth: rules.minWidth, minHeight: rules.minHeight)
        }
        if let aspect = rules.aspect, fit == .reject, !aspect.contains(Double(width) / Double(height)) {
            throw KilnError.aspect(width: width, height: height, allowed: aspect)
        }
    }
}
