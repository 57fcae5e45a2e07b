import Foundation
import KilnCore
import KilnImaging
import KilnVideo

/// check: every rendition is read back from the written file (the libav demuxer for the video,
/// the libvips header for images) and held to the preset's rules, trusting nothing the encoders
/// said. One that fails is never published: PROCESSING_006 names the rule, the value and the limit.
extension Step {
    static let checkOutput = Step(name: "check") { context, environment in
        let staging = try context.required(context.staging, "staging")
        let preset = context.preset
        let aspect = context.format?.kind == .image ? preset.image?.aspect : nil
        for file in context.renditionFiles {
            let path = staging.path(file.file)
            // The file's own first bytes say what it is (libmagic), not the encoder that wrote it.
            let mime = try environment.sniffer.mimeType(ofFileAt: path)
            guard let format = MediaFormat.forMIME(mime), mime == file.spec.format.mime else {
                let rule: PublishRule = file.spec.format == .mp4 ? .container : .imageFormat
                throw KilnError.outputCheck(RuleVerdict(rule, subject: file.spec.name, measured: mime,
                                                        limit: file.spec.format.mime, passed: false), preset: preset.name)
            }
            let verdicts = try OutputCheck.verdicts(path: path, format: format, subject: file.spec.name, imageSpec: file.spec,
                                                    preset: preset, aspect: aspect, control: context.control)
            if let failed = verdicts.first(where: \.fails) {
                throw KilnError.outputCheck(failed, preset: preset.name)
            }
        }
        context.rulesPassed = MediaIdentity.rules(for: preset, digest: context.processingOptions?.presetDigest)
    }
}

/// The rules one file is held to, with their verdicts: a video read back with the libav demuxer
/// (one open: header, then packets), an image from its libvips header. The output check and
/// `kiln check` both use it.
enum OutputCheck {
    /// - Parameter imageSpec: the rendition an image is held to (its box, format and byte limit).
    static func verdicts(path: String, format: MediaFormat, subject: String, imageSpec: RenditionSpec?, preset: Preset,
                         aspect: AspectRange?, control: JobControl) throws -> [RuleVerdict] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KilnError.storageUnavailable("\(path) cannot be read") }
        let size = Int64(info.st_size)
        if format.kind == .video {
            guard let rules = preset.video else { throw KilnError.presetRejects(kind: .video, preset: preset.name) }
            let read = try VideoInspector.inspect(path: path, format: format, sizeBytes: size, control: control)
            return PublishCheck.video(read.facts, read.measured, rules: rules, subject: subject)
        }
        guard let imageSpec else { throw KilnError.presetRejects(kind: .image, preset: preset.name) }
        let facts = try ImageProber.facts(path: path, format: format, sizeBytes: size)
        return PublishCheck.image(facts, spec: imageSpec, aspect: aspect, subject: subject,
                                  animation: preset.image?.animation)
    }
}
