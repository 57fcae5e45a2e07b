import Dispatch
import Foundation
import KilnCore
import KilnImaging
import Synchronization

/// process: every rendition of the preset, written into the item's staging directory (linked
/// from the input's shared renditions when the targets made them together). The smallest
/// rendition also yields the ThumbHash and dominant colour.
extension Step {
    static let processImage = Step(name: "process") { context, environment in
        guard case .image(let facts)? = context.facts else { return }
        let staging = try environment.requireStore().makeStaging()
        context.staging = staging
        let aspect = context.preset.image?.aspect
        let specs = context.preset.renditions(for: facts)
        // Faces are looked for once per input: a crop with focus auto keeps them.
        let crops = specs.contains { SharedRenditions.Key($0, facts: facts, aspect: aspect, fit: context.options.fit,
                                                           focus: context.options.focus).followsFaces }
        let faces = try context.shared.map { $0.faces }
            ?? (crops ? ImageProcessor.faces(path: context.path, facts: facts) : [])
        for (index, spec) in specs.enumerated() {
            context.processing(Double(index) / Double(max(1, specs.count)))
            let file = "\(spec.name).\(spec.format.fileExtension)"
            let key = SharedRenditions.Key(spec, facts: facts, aspect: aspect, fit: context.options.fit,
                                           focus: context.options.focus)
            let output: ImageProcessor.Output
            if let shared = context.shared?.link(key, to: staging.path(file)) {
                output = try shared.get()
            } else {
                output = try ImageProcessor.render(path: context.path, facts: facts, spec: spec, aspect: aspect,
                                                   fit: context.options.fit, focus: context.options.focus, faces: faces,
                                                   outputPath: staging.path(file), control: context.control)
                context.decodes += 1
            }
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
        context.warnings.append(contentsOf: ImageWarnings.describe(facts, preset: context.preset, fit: context.options.fit,
                                                                   focus: context.options.focus, faces: crops ? faces.count : 0))
    }
}

/// The renditions an image's targets ask for, each made once from one decode: targets asking for
/// the same one (size, format, quality and byte limit: X's and LinkedIn's display, every thumb)
/// link the one file into their own staging. Made side by side, one thread each.
final class SharedRenditions: Sendable {
    /// What makes two renditions the same file.
    struct Key: Hashable, Sendable {
        let geometry: RenditionGeometry
        let format: OutputFormat
        let quality: Int
        let maxBytes: Int64?

        init(_ spec: RenditionSpec, facts: ImageFacts, aspect: AspectRange?, fit: Fit, focus: Focus) {
            geometry = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                              spec: spec, aspect: aspect, fit: fit, focus: focus)
            (format, quality, maxBytes) = (spec.format, spec.quality, spec.maxBytes)
        }

        /// Whether this rendition's crop is left to Kiln (focus auto): it keeps the input's faces.
        var followsFaces: Bool { geometry.mode == .crop && geometry.focus == .auto && format != .gif }
    }

    private let made: [Key: Result<(path: String, output: ImageProcessor.Output), KilnError>]
    /// The input's faces, looked for once when some rendition's crop keeps them.
    let faces: [Face]
    /// Where the shared files are; discarded once every target has linked what it needs.
    let staging: Staging

    /// Makes every distinct rendition of `plans` from `decoded` into `staging`. A rendition that
    /// fails is that failure for each target asking for it.
    init(_ plans: [ImageProcessor.Plan], decoded: ImageProcessor.Decoded, path: String, facts: ImageFacts,
         staging: Staging, control: JobControl)
    {
        var distinct: [(key: Key, plan: ImageProcessor.Plan)] = []
        for plan in plans {
            let key = Key(plan.spec, facts: facts, aspect: plan.aspect, fit: plan.fit, focus: plan.focus)
            if !distinct.contains(where: { $0.key == key }) { distinct.append((key, plan)) }
        }
        let work = distinct
        // A failed look leaves the crops to libvips' attention; the renditions say what is wrong.
        let faces = work.contains { $0.key.followsFaces }
            ? (try? ImageProcessor.faces(path: path, facts: facts, decoded: decoded)) ?? [] : []
        let results = Mutex<[Key: Result<(path: String, output: ImageProcessor.Output), KilnError>]>([:])
        DispatchQueue.concurrentPerform(iterations: work.count) { index in
            let (key, plan) = work[index]
            let file = staging.path("\(index).\(plan.spec.format.fileExtension)")
            let result = Result { () throws(KilnError) -> (path: String, output: ImageProcessor.Output) in
                do {
                    return (file, try ImageProcessor.render(path: path, facts: facts, spec: plan.spec, aspect: plan.aspect,
                                                            fit: plan.fit, focus: plan.focus, faces: faces, outputPath: file,
                                                            decoded: decoded, control: control))
                } catch {
                    throw Pipeline.catalogError(error, step: "process")
                }
            }
            results.withLock { $0[key] = result }
        }
        made = results.withLock { $0 }
        self.faces = faces
        self.staging = staging
    }

    /// Links the rendition `key` names to `path`: its output, or the failure that made none; nil
    /// when it was not made here.
    func link(_ key: Key, to path: String) -> Result<ImageProcessor.Output, KilnError>? {
        guard let result = made[key] else { return nil }
        return result.flatMap { made in
            Result { () throws(KilnError) in
                try StagedFile.link(made.path, to: path)
                return made.output
            }
        }
    }
}

/// What the pipeline changed or removed, in words for the envelope's `warnings`.
enum ImageWarnings {
    /// - Parameter faces: the faces a crop with focus auto was kept around.
    static func describe(_ facts: ImageFacts, preset: Preset, fit: Fit, focus: Focus = .auto, faces: Int = 0) -> [String] {
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
        if let animation = preset.keptAnimation(facts) {
            warnings.append("kept the animation (\(facts.pages) frames) as a GIF")
            if let budget = animation.maxTotalPixels, facts.displayWidth * facts.displayHeight * facts.pages > budget {
                warnings.append("scaled the GIF down to fit \(preset.name)'s \(budget) pixels in all (width x height x frames)")
            }
        } else if facts.pages > 1 {
            warnings.append("used the first of \(facts.pages) frames")
        }
        if let minWidth = preset.renditions.first?.minWidth, facts.displayWidth < minWidth {
            warnings.append("enlarged \(facts.displayWidth) px wide to \(preset.name)'s \(minWidth) px minimum width")
        }
        if let aspect = preset.image?.aspect, !aspect.contains(Double(facts.displayWidth) / Double(facts.displayHeight)) {
            switch fit {
            case .crop:
                let around = switch focus {
                case .auto: faces > 0 ? " around \(faces) face\(faces == 1 ? "" : "s")" : ""
                case .center: " around the centre"
                case .point: " around the focus \(focus)"
                }
                warnings.append("cropped to aspect \(aspect)\(around) (--fit crop)")
            case .pad: warnings.append("padded to aspect \(aspect) (--fit pad)")
            case .blur: warnings.append("fitted to aspect \(aspect) over a blurred fill (--fit blur)")
            case .reject: break
            }
        }
        return warnings
    }
}
