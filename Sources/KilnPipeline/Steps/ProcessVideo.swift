import Foundation
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
        let shared = try context.video ?? SharedVideo([context], store: environment.requireStore())
        let plan = try shared.plan(for: context, facts: facts, rules: rules)
        let output: VideoProcessor.Output
        if let linked = shared.link(VideoProcessor.Encode(plan, output: rules.output),
                                    video: staging.path("video.mp4"), poster: staging.path("poster.jpg")) {
            output = try VideoProcessor.hold(linked.get(), plan: plan, facts: facts, rules: rules)
        } else {
            output = try SharedVideo.make(plan, context, rules: rules, video: staging.path("video.mp4"),
                                          poster: staging.path("poster.jpg"))
            context.encodes += 1
        }
        context.warnings.append(contentsOf: output.warnings)
        context.framing = output.framing
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

/// A video read once for every target of the input: its packets measured once, and each file that
/// two or more targets' plans make alike (same plan, same encoder settings: TikTok's and
/// Pinterest's, say) made once, into a staging each of them links from.
final class SharedVideo: Sendable {
    let measured: VideoMeasurement
    private let made: [(encode: VideoProcessor.Encode, result: Result<VideoProcessor.Output, KilnError>,
                        video: String, poster: String)]
    private let staging: Staging?
    /// The files made here.
    var encodes: Int { made.count }

    /// Measures the input once and makes the encodes `contexts` (one input's video targets) share.
    init(_ contexts: [IngestContext], store: any MediaStore) throws(KilnError) {
        guard let first = contexts.first else { throw KilnError.internalError("a shared video with no target") }
        let format = try first.required(first.format, "format")
        let measured = try Pipeline.guarded { () throws in
            try VideoProcessor.measure(path: first.path, format: format, control: first.control)
        }
        self.measured = measured
        // Each target's plan; one that cannot be planned is left to its own step (which says why).
        var groups: [(encode: VideoProcessor.Encode, plan: VideoPlan, members: [IngestContext])] = []
        for context in contexts {
            guard case .video(let facts)? = context.facts, let rules = context.preset.video,
                  let plan = try? Self.plan(context, facts: facts, rules: rules, measured: measured)
            else { continue }
            let encode = VideoProcessor.Encode(plan, output: rules.output)
            if let index = groups.firstIndex(where: { $0.encode == encode }) {
                groups[index].members.append(context)
            } else {
                groups.append((encode, plan, [context]))
            }
        }
        let sharing = groups.filter { $0.members.count > 1 }
        let staging = sharing.isEmpty ? nil : try store.makeStaging()
        var made: [(encode: VideoProcessor.Encode, result: Result<VideoProcessor.Output, KilnError>,
                    video: String, poster: String)] = []
        for (index, group) in sharing.enumerated() {
            guard let staging else { break }
            // Read as far as the longest limit among them; each is held to its own when it links.
            let context = group.members.max { ($0.preset.video?.maxDuration ?? 0) < ($1.preset.video?.maxDuration ?? 0) } ?? first
            let (video, poster) = (staging.path("\(index).mp4"), staging.path("\(index).jpg"))
            let result = Result { () throws(KilnError) -> VideoProcessor.Output in
                try Self.make(group.plan, context, rules: try context.required(context.preset.video, "video rules"),
                              video: video, poster: poster)
            }
            if case .failure(let error) = result, context.control.stopError() != nil {
                store.discard(staging)
                throw error
            }
            made.append((group.encode, result, video, poster))
        }
        self.made = made
        self.staging = staging
    }

    /// `context`'s plan for this video.
    func plan(for context: IngestContext, facts: VideoFacts, rules: VideoRules) throws(KilnError) -> VideoPlan {
        try Self.plan(context, facts: facts, rules: rules, measured: measured)
    }

    private static func plan(_ context: IngestContext, facts: VideoFacts, rules: VideoRules, measured: VideoMeasurement)
        throws(KilnError) -> VideoPlan {
        try Pipeline.guarded { () throws in
            try VideoPlan.make(facts: facts, measured: measured, rules: rules, fit: context.options.fit,
                               fitDuration: context.options.fitDuration, focus: context.options.focus,
                               preset: context.preset.name)
        }
    }

    /// Makes one plan's files for `context`, with its progress.
    static func make(_ plan: VideoPlan, _ context: IngestContext, rules: VideoRules, video: String, poster: String)
        throws(KilnError) -> VideoProcessor.Output
    {
        guard case .video(let facts)? = context.facts else { throw KilnError.internalError("a video step without video facts") }
        let format = try context.required(context.format, "format")
        let control = context.control
        return try Pipeline.guarded { () throws in
            try VideoProcessor.make(plan, path: context.path, format: format, facts: facts, rules: rules, videoPath: video,
                                    posterPath: poster, control: control, threads: context.threads) { done, total in
                control.report(.processing, Double(done) / Double(max(1, total)))
            }
        }
    }

    /// Links the shared files of `encode` to `video` and `poster`: the output, or the failure that
    /// made none; nil when this encode was not shared.
    func link(_ encode: VideoProcessor.Encode, video: String, poster: String) -> Result<VideoProcessor.Output, KilnError>? {
        guard let shared = made.first(where: { $0.encode == encode }) else { return nil }
        return shared.result.flatMap { output in
            Result { () throws(KilnError) in
                try StagedFile.link(shared.video, to: video)
                try StagedFile.link(shared.poster, to: poster)
                return output
            }
        }
    }

    /// The shared files go once every target has linked them.
    func discard(_ store: any MediaStore) { if let staging { store.discard(staging) } }
}
