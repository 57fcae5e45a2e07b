import KilnCore
import KilnImaging
import KilnVideo

/// process (video): remux or transcode into `video.mp4`, a `poster.jpg` at the video's size,
/// and the preset's `thumb` made from the poster, which also yields the ThumbHash.
extension Step {
    static let processVideo = Step(name: "process") { context, environment in
        guard case .video(let facts)? = context.facts else { return }
        let rules = try context.required(context.preset.video, "video rules")
        let format = try context.required(context.format, "format")
        let staging = try environment.requireStore().makeStaging()
        context.staging = staging
        let control = context.control
        let output = try VideoProcessor.process(
            path: context.path, format: format, facts: facts, rules: rules, fit: context.options.fit,
            fitDuration: context.options.fitDuration,
            preset: context.preset.name,
            videoPath: staging.path("video.mp4"), posterPath: staging.path("poster.jpg"),
            control: context.control, threads: context.threads) { done, total in
                control.report(.processing, Double(done) / Double(max(1, total)))
            }
        context.warnings.append(contentsOf: output.warnings)
        context.renditionFiles.append((
            RenditionSpec(name: "video", format: .mp4, maxWidth: rules.output.maxWidth, maxHeight: rules.output.maxHeight),
            "video.mp4", output.width, output.height))
        let poster = RenditionSpec(name: "poster", maxWidth: output.posterWidth, maxHeight: output.posterHeight)
        context.renditionFiles.append((poster, "poster.jpg", output.posterWidth, output.posterHeight))
        var smallest = staging.path("poster.jpg")
        if let thumb = context.preset.renditions.first(where: { $0.name == "thumb" }) {
            let file = "thumb.\(thumb.format.fileExtension)"
            let posterFacts = try ImageProber.facts(path: staging.path("poster.jpg"),
                                                    format: MediaFormat.forMIME("image/jpeg") ?? format, sizeBytes: 0)
            let rendered = try ImageProcessor.render(path: staging.path("poster.jpg"), facts: posterFacts, spec: thumb,
                                                     aspect: nil, fit: .reject, outputPath: staging.path(file),
                                                     control: context.control)
            context.renditionFiles.append((thumb, file, rendered.width, rendered.height))
            smallest = staging.path(file)
        }
        let hints = try Placeholder.make(fromRendition: smallest)
        context.placeholder = (hints.thumbhash, hints.dominantColor)
    }
}
