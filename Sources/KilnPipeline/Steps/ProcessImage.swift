import Foundation
import KilnCore
import KilnImaging

/// process: every rendition of the preset, written into the item's staging directory.
/// The smallest (last) rendition also yields the ThumbHash and dominant colour.
extension Step {
    static let processImage = Step(name: "process") { context, environment in
        guard case .image(let facts)? = context.facts else { return }
        let staging = try environment.requireStore().makeStaging()
        context.staging = staging
        let aspect = context.preset.image?.aspect
        let specs = context.preset.renditions(for: facts)
        for (index, spec) in specs.enumerated() {
            context.processing(Double(index) / Double(max(1, specs.count)))
            let file = "\(spec.name).\(spec.format.fileExtension)"
            let output = try ImageProcessor.render(
                path: context.path, facts: facts, spec: spec, aspect: aspect, fit: context.options.fit,
                outputPath: staging.path(file), decoded: spec.format == .gif ? nil : context.decoded, control: context.control)
            if context.decoded == nil || spec.format == .gif { context.decodes += 1 }
            if let limit = spec.maxBytes, output.quality != spec.quality || output.width != output.plannedWidth {
                var given = ["quality \(output.quality) (asked \(spec.quality))"]
                if output.width != output.plannedWidth {
                    given.append("\(output.width)x\(output.height) (planned \(output.plannedWidth)x\(output.plannedHeight))")
                }
                context.warnings.append("re-encoded \(spec.name) at \(given.joined(separator: " and ")) to fit \(context.preset.name)'s \(ByteCount.metric(limit)) limit")
            }
            context.renditionFiles.append((spec, file, output.width, output.height))
        }
        if let smallest = context.renditionFiles.min(by: { $0.width * $0.height < $1.width * $1.height }) {
            let hints = try Placeholder.make(fromRendition: staging.path(smallest.file))
            context.placeholder = (hints.thumbhash, hints.dominantColor)
        }
        context.warnings.append(contentsOf: ImageWarnings.describe(facts, preset: context.preset,
                                                                   fit: context.options.fit))
    }
}

/// What the pipeline changed or removed, in words for the envelope's `warnings`.
enum ImageWarnings {
    static func describe(_ facts: ImageFacts, preset: Preset, fit: Fit) -> [String] {
        var warnings: [String] = []
        if facts.orientation != 1 { warnings.append("rotated upright from EXIF orientation \(facts.orientation)") }
        if facts.metadata.contains("gps") { warnings.append("stripped GPS metadata") }
        let other = facts.metadata.filter { $0 != "gps" && $0 != "icc" }
        if !other.isEmpty { warnings.append("stripped metadata: \(other.joined(separator: ", "))") }
        switch facts.colorSpace {
        case "srgb", "b-w", "rgb16", "grey16":
            if facts.hasICCProfile { warnings.append("converted the embedded ICC profile to sRGB") }
        default:
            warnings.append("converted \(facts.colorSpace.uppercased()) to sRGB")
        }
        if facts.bitDepth > 8 { warnings.append("reduced \(facts.bitDepth)-bit samples to 8-bit") }
        if preset.keptAnimation(facts) != nil {
            warnings.append("kept the animation (\(facts.pages) frames) as a GIF")
        } else if facts.pages > 1 {
            warnings.append("used the first of \(facts.pages) frames")
        }
        if let aspect = preset.image?.aspect, !aspect.contains(Double(facts.displayWidth) / Double(facts.displayHeight)) {
            switch fit {
            case .crop: warnings.append("cropped to aspect \(aspect) (--fit crop)")
            case .pad: warnings.append("padded to aspect \(aspect) (--fit pad)")
            case .reject: break
            }
        }
        return warnings
    }
}
