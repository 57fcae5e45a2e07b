import Foundation
import KilnCore
import KilnImaging
import KilnVideo
import Tracing

/// Preflight: the per-target report of `ingest(_:)` told from the inputs' headers alone, before
/// anything is uploaded or stored: which targets take the media as it is, which would change it
/// (and how), which would refuse it (and with what code).
extension Pipeline {
    /// What each of the request's targets would make of its inputs. Reads the headers only: an
    /// input may be just the file's first bytes (`IngestInput(head:name:size:)`); nothing is
    /// hashed, decoded or stored. Throws what `ingest(_:)` throws for the request itself (an
    /// unknown target); everything about an input or a target is that target's `rejected` preview.
    public func preflight(_ request: IngestRequest) async throws(KilnError) -> [TargetPreview] {
        let presets = try resolve(targets: request.targets, limits: request.options.limits)
        guard !request.inputs.isEmpty else { throw KilnError.invalidRequest("send at least one file") }
        let control = request.control ?? request.options.makeControl()
        let threads = places.limits.threadsPerJob
        let environment = environment
        let trace = ServiceContext.current
        let told = try await Blocking.job { () throws(KilnError) -> [TargetPreview] in
            let runs = try Self.check(request, presets: presets, control: control, threads: threads, identify: false, trace: trace,
                                      environment)
            return runs.map { run in
                if let failure = run.failure {
                    return TargetPreview(target: run.preset.name, error: failure.error, failedItem: failure.item)
                }
                var changes: [String] = []
                var unchecked: [String] = []
                var frame: TargetPreview.Frame?
                for (index, context) in run.contexts.enumerated() {
                    let place = request.isCarousel ? TargetOutcome.FailedItem(index: index, name: context.input) : nil
                    do {
                        let told = try Self.preview(context)
                        changes += told.changes.map { place == nil ? $0 : "item \(index): \($0)" }
                        unchecked += told.unchecked.filter { !unchecked.contains($0) }
                        if !request.isCarousel { frame = told.frame }
                    } catch {
                        return TargetPreview(target: run.preset.name, error: Self.catalogError(error, step: "preflight"), failedItem: place)
                    }
                }
                var preview = TargetPreview(target: run.preset.name, changes: changes, unchecked: unchecked)
                preview.frame = frame
                return preview
            }
        }
        // Each target says which account limits it was narrowed to.
        return told.map { preview in
            var preview = preview
            preview.limits = request.options.limits[preview.target]
            return preview
        }
    }

    /// A preflight of an upload as it arrives: its first bytes are kept in a temp file and looked
    /// at as they grow (64 KiB, then doubling), and the answer comes as soon as the headers tell
    /// it: the rest of the stream is not read (a video whose moov is at its end is read to there).
    /// `size` is the whole upload's size, which the limits are held to; when it is not known the
    /// stream is read whole. The temp file is gone when this returns.
    /// - Returns: the previews, the bytes read, and whether the stream was read to its end.
    public func preflight<Bytes: AsyncSequence>(stream: Bytes, name: String, size: Int64?, targets: [String],
                                                options: IngestOptions = IngestOptions())
        async throws(KilnError) -> (previews: [TargetPreview], bytesRead: Int64, ended: Bool)
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        let presets = try resolve(targets: targets, limits: options.limits)
        let limit = IntakeLimits(presets).anyFile
        try IntakeLimits.check(size, within: limit)
        let control = options.makeControl()
        let path = try ReceivedUpload.createFile(in: temporaryDirectory)
        defer { unlink(path) }
        let writer = try BlockFile(writing: path)
        var iterator = stream.makeAsyncIterator()
        var (written, looked, ended) = (Int64(0), Int64(64 << 10), false)
        while true {
            var pending: [UInt8] = []
            defer { looked *= 2 }
            while !ended, written + Int64(pending.count) < looked {
                guard let chunk = try await StreamReceiver.next(&iterator, control) else {
                    ended = true
                    break
                }
                pending.append(contentsOf: chunk)
                try IntakeLimits.check(written + Int64(pending.count), within: limit)
            }
            try await writer.write(pending, at: written)
            written += Int64(pending.count)
            guard written > 0 else { throw KilnError.uploadFailed("the upload is empty (0 bytes); send a non-empty file") }
            if !ended, size == nil { continue }
            // A body that ended short of the size given holds the file's first bytes only.
            let whole = ended && written >= (size ?? written)
            let input = whole ? IngestInput(path: path, name: name) : IngestInput(head: path, name: name, size: size ?? written)
            let previews = try await preflight(IngestRequest(input, targets: targets, options: options, control: control))
            // A header that ends past the bytes read looks broken: more are read before it is believed.
            if ended || !previews.contains(where: { $0.error.map { Self.headerCutShort.contains($0.code) } ?? false }) {
                return (previews, written, ended)
            }
        }
    }

    /// What a header cut short reads as.
    static let headerCutShort: Set<ErrorCode> = [.file005, .media006, .processing001, .processing002]

    /// What one checked input would be changed by for its target, from its header facts.
    static func preview(_ context: IngestContext) throws -> (changes: [String], unchecked: [String], frame: TargetPreview.Frame?) {
        let preset = context.preset
        let fit = context.options.fit
        switch try context.required(context.facts, "facts") {
        case .image(let facts):
            var changes: [String] = []
            var frame: TargetPreview.Frame?
            // The published rendition (the first) says what a platform receives.
            if let spec = preset.renditions(for: facts).first {
                let planned = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                                     spec: spec, aspect: preset.image?.aspect, fit: fit,
                                                     focus: context.options.focus)
                frame = TargetPreview.Frame(planned, sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight)
                if planned.mode == .within, planned.width != facts.displayWidth || planned.height != facts.displayHeight {
                    changes.append("resized \(facts.displayWidth)x\(facts.displayHeight) to \(planned.width)x\(planned.height)")
                }
                if facts.format != spec.format.rawValue {
                    changes.append("re-encoded \(facts.format.uppercased()) as \(spec.format.rawValue.uppercased())")
                }
                if let limit = spec.maxBytes, facts.sizeBytes > limit {
                    changes.append("\(ByteCount.metric(facts.sizeBytes)) over \(preset.name)'s \(ByteCount.metric(limit)): re-encoded within it")
                }
            }
            return (changes + ImageWarnings.describe(facts, preset: preset, fit: fit, focus: context.options.focus), [], frame)
        case .video(let facts):
            let rules = try context.required(preset.video, "video rules")
            let (plan, unchecked) = try VideoPlan.preview(facts: facts, rules: rules, fit: fit,
                                                          fitDuration: context.options.fitDuration,
                                                          focus: context.options.focus, preset: preset.name)
            let frame = facts.video.map {
                TargetPreview.Frame(plan.geometry, sourceWidth: $0.displayWidth, sourceHeight: $0.displayHeight)
            }
            return (plan.warnings, unchecked, frame)
        }
    }
}
