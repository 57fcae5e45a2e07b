import KilnCore
import Tracing

/// One step of the check phase and where it runs.
struct Check: Sendable {
    enum Scope: Sendable {
        /// Once on the input, for every live target; a failure refuses them all.
        case input
        /// Once on the input read as a video, when a live target publishes an animated GIF as
        /// one (`Pipeline.takesAsVideo`); a failure refuses those targets.
        case animation
        /// On each live target's own copy of the input; a failure refuses that target.
        case target
    }

    let step: Step
    let scope: Scope
    /// A target step that starts from a new copy of the input (what the input steps before it
    /// learned); the steps after it continue on that copy.
    var freshCopy = false
    /// Needed only to give items their ids: not run for a preflight, which reads headers only.
    var identifies = false
}

extension Pipeline {
    /// The check phase, in order: cheap, before any decode. What the receiver learned of an
    /// upload (its size, type and digest) is carried into the input, not found again.
    static let checks: [Check] = [
        Check(step: .receive, scope: .input),
        Check(step: .sniff, scope: .input),
        // Each target's size limit before the header is read, and a carousel's kinds.
        Check(step: .admit, scope: .target, freshCopy: true),
        Check(step: .carouselKind, scope: .target),
        Check(step: .probe, scope: .input),
        Check(step: .probeAsVideo, scope: .animation),
        // Admitted again: a GIF taken as a video is held to the video size limit.
        Check(step: .admit, scope: .target, freshCopy: true),
        Check(step: .validate, scope: .target),
        Check(step: .hash, scope: .input, identifies: true),
        Check(step: .identify, scope: .target, identifies: true),
    ]

    /// Runs `checks` over every input of `request` for every target, in one loop. A target
    /// refused here is not processed; the live targets come back with one checked context per
    /// input.
    ///
    /// - Parameter identify: hash the input and give each target its id (not for a preflight).
    static func check(_ request: IngestRequest, presets: [Preset], control: JobControl, threads: Int,
                      identify: Bool = true, trace: ServiceContext? = nil, _ environment: PipelineEnvironment)
        throws(KilnError) -> [TargetRun]
    {
        var runs = presets.map(TargetRun.init)
        let count = request.inputs.count
        for r in runs.indices where request.isCarousel && runs[r].preset.carousel?.range.contains(count) != true {
            let preset = runs[r].preset
            runs[r].fail(.carouselCount(count, range: preset.carousel?.range, preset: preset.name), at: nil, nil)
        }
        for (index, input) in request.inputs.enumerated() {
            let place = request.isCarousel ? TargetOutcome.FailedItem(index: index, name: input.name) : nil
            var shared = IngestContext(path: input.path, input: input.name, options: request.options, preset: presets[0],
                                       control: control, threads: threads)
            shared.trace = trace
            shared.carouselItem = request.isCarousel
            shared.sizeBytes = input.upload?.size ?? input.size ?? 0
            shared.sourceSHA256 = input.upload?.sha256
            shared.mime = input.upload?.mime ?? ""
            var animated: IngestContext?
            var own = [IngestContext?](repeating: nil, count: runs.count)

            /// Runs `step` on `context`; a failure refuses the targets `refused` names (a stopped job stops all).
            func run(_ step: Step, _ context: inout IngestContext, refusing refused: (Int) -> Bool) throws(KilnError) {
                do throws(KilnError) {
                    try runSteps([step], &context, environment)
                } catch {
                    if let stop = control.stopError() { throw stop }
                    for r in runs.indices where refused(r) { runs[r].fail(error, at: place, nil) }
                }
            }
            for check in checks where identify || !check.identifies {
                switch check.scope {
                case .input:
                    guard runs.contains(where: \.isLive) else { break }
                    try run(check.step, &shared) { _ in true }
                case .animation:
                    let video = runs.indices.filter { runs[$0].isLive && takesAsVideo(shared, runs[$0].preset) }
                    guard !video.isEmpty else { break }
                    var context = shared
                    try run(check.step, &context) { video.contains($0) }
                    if runs[video[0]].isLive { animated = context }
                case .target:
                    for r in runs.indices where runs[r].isLive {
                        var mine: IngestContext
                        if !check.freshCopy, let kept = own[r] {
                            mine = kept
                            // What input steps found since the copy was made: the digest.
                            mine.sourceSHA256 = shared.sourceSHA256
                        } else {
                            mine = animated.flatMap { takesAsVideo(shared, runs[r].preset) ? $0 : nil } ?? shared
                            mine.preset = runs[r].preset
                        }
                        try run(check.step, &mine) { $0 == r }
                        own[r] = mine
                    }
                }
            }
            for r in runs.indices where runs[r].isLive {
                guard let checked = own[r] else { continue }
                runs[r].contexts.append(checked)
            }
        }
        return runs
    }

    /// Whether `preset` takes the input as a video though it is an image: an animated GIF for a
    /// platform that publishes one as an MP4.
    static func takesAsVideo(_ input: IngestContext, _ preset: Preset) -> Bool {
        guard case .image(let facts)? = input.facts, facts.pages > 1, input.format?.name == MediaFormat.animatedGIF.name
        else { return false }
        return preset.image?.animation?.output == .video && preset.video != nil
    }
}

extension Step {
    /// A carousel's item of a kind the target's carousels do not hold (MEDIA_007 for that target).
    static let carouselKind = Step(name: "carousel_kind") { context, _ in
        guard context.carouselItem, let kind = context.format?.kind else { return }
        if context.preset.carousel?.kinds.contains(kind) != true {
            throw KilnError.carouselKind(kind, preset: context.preset.name)
        }
    }

    /// An animated GIF probed as a video (FFmpeg's GIF demuxer), for the targets that publish it
    /// as an MP4: its frames, rate and duration are held to their video rules.
    static let probeAsVideo = Step(name: "probe_as_video") { context, environment in
        context.format = .animatedGIF
        context.facts = nil
        try probe.run(&context, environment)
    }
}
