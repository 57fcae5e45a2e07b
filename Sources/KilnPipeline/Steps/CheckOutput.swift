import Foundation
import KilnCore
import KilnImaging
import KilnSniff
import KilnVideo

/// check: every rendition is read back from the written file (the libav demuxer for the video,
/// the libvips header for images) and held to the preset's rules, trusting nothing the encoders
/// said. One that fails is never published: PROCESSING_006 names the rule, the value and the limit.
extension Step {
    static let checkOutput = Step(name: "check") { context, environment in
        let staging = try context.required(context.staging, "staging")
        let preset = context.preset
        let isImage = context.format?.kind == .image
        for file in context.renditionFiles {
            let path = staging.path(file.file)
            let verdicts = try OutputCheck.verdicts(path: path, spec: file.spec, preset: preset, sniffer: environment.sniffer,
                                                    aspect: isImage ? preset.image?.aspect : nil, control: context.control)
            if let failed = verdicts.first(where: { !$0.passed }) {
                throw KilnError.outputCheck(failed, preset: preset.name)
            }
        }
        context.rulesPassed = "\(preset.name)@\(String(MediaIdentity.presetDigest(preset).prefix(16)))"
    }
}

/// The rules one written rendition is held to, with their verdicts.
enum OutputCheck {
    /// The file's own first bytes say what it is (libmagic), not the encoder that wrote it.
    static func verdicts(path: String, spec: RenditionSpec, preset: Preset, sniffer: ContentSniffer,
                         aspect: AspectRange?, control: JobControl) throws -> [RuleVerdict] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KilnError.storageUnavailable("rendition \(path) was not written") }
        let size = Int64(info.st_size)
        let mime = try sniffer.mimeType(ofFileAt: path)
        guard let format = MediaFormat.forMIME(mime), mime == spec.format.mime else {
            let rule: PublishRule = spec.format == .mp4 ? .container : .imageFormat
            return [RuleVerdict(rule, subject: spec.name, measured: mime, limit: spec.format.mime, passed: false)]
        }
        if spec.format == .mp4 {
            guard let rules = preset.video else { return [] }
            let read = try VideoInspector.inspect(path: path, format: format, sizeBytes: size, control: control)
            return PublishCheck.video(read.facts, read.measured, rules: rules, subject: spec.name)
        }
        let facts = try ImageProber.facts(path: path, format: format, sizeBytes: size)
        return PublishCheck.image(facts, spec: spec, aspect: aspect, subject: spec.name)
    }
}
