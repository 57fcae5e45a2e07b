import Foundation
import KilnCore
import KilnImaging
import KilnSniff
import KilnStorage
import KilnVideo
import Tracing

/// Kiln's engine: receive -> sniff -> validate -> identify -> process -> store, for one file, an
/// upload stream or a carousel, under a job limit with a bounded queue.
///
/// ```swift
/// let pipeline = try Pipeline(store: LocalStore(root: "kiln-out"))
/// let item = try await pipeline.ingest(path: "photo.heic", options: IngestOptions(preset: "instagram-feed"))
/// print(item.id, item.renditions.map(\.path))
///
/// // One input, several targets: received, sniffed, hashed and decoded once.
/// let result = try await pipeline.ingest(IngestRequest(IngestInput(path: "photo.heic"), targets: ["x", "bluesky"]))
/// for outcome in result.outcomes { print(outcome.target, outcome.status) }
/// ```
/// Every failure is a `KilnError` with a catalog code; nothing half-written is left behind.
/// Cancelling the calling task cancels the job (PROCESSING_005).
public final class Pipeline: Sendable {
    /// The work, run once the checks pass and the item is not stored already.
    static let work: [Step] = [.processImage, .processVideo, .checkOutput, .stageItem]

    public let presets: PresetCatalog
    /// Admits jobs (PROCESSING_004 past the queue) and holds their memory under the budget.
    public let places: EnginePlaces
    /// Where received streams are spooled.
    public let temporaryDirectory: String
    let environment: PipelineEnvironment

    /// - Parameters:
    ///   - store: where items are published and read back; nil for a pipeline that only checks and probes.
    ///   - limits: jobs at once, queue, threads per job and the memory budget. libvips' thread
    ///     count is process-wide: the last pipeline made sets it.
    ///   - temporaryDirectory: where uploads streamed to `ingest(stream:)` are spooled.
    public init(store: (any MediaStore)?, presets: PresetCatalog = PresetCatalog(),
                limits: ExecutionLimits = ExecutionLimits(),
                temporaryDirectory: String = NSTemporaryDirectory() + "kiln") throws {
        self.presets = presets
        places = EnginePlaces(limits: limits)
        self.temporaryDirectory = temporaryDirectory
        environment = PipelineEnvironment(sniffer: try ContentSniffer(), store: store)
        ImageEngine.setThreads(limits.threadsPerJob)
    }

    /// The store items are published to and read from.
    public var store: (any MediaStore)? { environment.store }

    // MARK: Receive

    /// Receives `stream` into a temp file (sniffed first, held to its kind's size limit, hashed
    /// while written) without processing it: for carousels of uploads, or to answer before the
    /// work starts. The file goes when the returned upload does.
    ///
    /// - Parameter targets: the presets it is for (default: `options.preset`): it may grow to the
    ///   largest limit any of them has for its kind.
    public func receive<Bytes: AsyncSequence>(stream: Bytes, name: String, options: IngestOptions = IngestOptions(),
                                              targets: [String]? = nil, control: JobControl? = nil)
        async throws(KilnError) -> ReceivedUpload
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        let presets = try resolve(targets: targets ?? [options.preset], limits: options.limits)
        let control = control ?? options.makeControl()
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        let span = InstrumentationSystem.tracer.startSpan("receive", context: ServiceContext.current ?? .topLevel)
        defer { span.end() }
        do {
            let upload = try await receiver.receive(stream, name: name, presets: presets, declared: options.type,
                                                    control: control)
            control.report(.received)
            return upload
        } catch {
            throw control.stopError() ?? error
        }
    }

    /// How many first bytes `admit(head:)` needs to tell what an upload is.
    public static let headBytes = ContentSniffer.headerBytes

    /// What an upload whose first bytes are `head` is, and what it may grow to: the largest size
    /// limit the targets (default: `options.preset`) have for that kind. FILE_003 when Kiln does
    /// not take the content, MEDIA_001 when it is not the declared kind or no target takes such
    /// a kind. For front ends that receive an upload in pieces (resumable uploads), to refuse it
    /// at its first bytes rather than at its last.
    public func admit(head: [UInt8], options: IngestOptions = IngestOptions(), targets: [String]? = nil)
        throws(KilnError) -> (kind: MediaKind, limit: Int64)
    {
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        let admitted = try receiver.admit(head: head, presets: try resolve(targets: targets ?? [options.preset], limits: options.limits),
                                          declared: options.type)
        return (admitted.format.kind, admitted.limit)
    }

    /// Takes the file at `path`, already whole on disk under the data directory (a completed
    /// resumable upload), as a received upload: the same checks as `receive(stream:)`, but the
    /// file is not copied: the upload is a second name (a hard link) for it. `path` itself is
    /// left to the caller, to remove once what the upload became is recorded.
    public func receive(file path: String, name: String, options: IngestOptions = IngestOptions(),
                        targets: [String]? = nil, control: JobControl? = nil) async throws(KilnError) -> ReceivedUpload
    {
        let presets = try resolve(targets: targets ?? [options.preset], limits: options.limits)
        let control = control ?? options.makeControl()
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        let upload = try await receiver.adopt(file: path, name: name, presets: presets, declared: options.type,
                                              control: control)
        control.report(.received)
        return upload
    }

    // MARK: Checks

    /// Runs only the check phase (`Pipeline.checks`: receive, sniff, admit, probe, validate) on `path`:
    /// what an upload would be rejected for, without processing it.
    public func check(path: String, options: IngestOptions = IngestOptions()) async throws(KilnError) -> MediaFacts {
        let preset = try resolve(options.preset)
        let environment = environment
        let control = options.makeControl()
        let threads = places.limits.threadsPerJob
        return try await Blocking.job { () throws(KilnError) in
            let request = IngestRequest(IngestInput(path: path), options: options, control: control)
            let run = try Self.check(request, presets: [preset], control: control, threads: threads, identify: false,
                                     environment)[0]
            if let failure = run.failure { throw failure.error }
            return try run.contexts[0].required(run.contexts[0].facts, "facts")
        }
    }

    /// Holds any file, made by Kiln or not, to `preset`'s platform rules as the output check does:
    /// a video read back with the libav demuxer and measured from its packets, an image from its
    /// header against the preset's first rendition (the one published). Nothing is written.
    /// `limits` narrows the preset to an account's (keyed by the preset's name).
    public func checkRules(path: String, preset name: String, limits: [String: AccountLimits] = [:])
        async throws(KilnError) -> RuleReport
    {
        let preset = try resolve(targets: [name], limits: limits)[0]
        let environment = environment
        return try await Blocking.job { () throws(KilnError) in
            var context = IngestContext(path: path, input: path, options: IngestOptions(preset: name), preset: preset,
                                        control: JobControl(timeout: VideoProber.probeTimeout))
            try Self.runSteps([.receive, .sniff], &context, environment)
            let format = try context.required(context.format, "format")
            // An image is held to the rendition the preset publishes (its first); a video to its video rules.
            let spec = preset.image == nil ? nil : preset.renditions.first
            let verdicts = try Self.guarded {
                try OutputCheck.verdicts(path: path, format: format, subject: format.kind == .video ? "video" : spec?.name ?? "image",
                                         imageSpec: spec, preset: preset, aspect: preset.image?.aspect, control: context.control)
            }
            let rules = MediaIdentity.rules(for: preset)
            return RuleReport(input: path, mime: context.mime, preset: preset.name, rules: rules, verdicts: verdicts)
        }
    }

    /// What the pipeline sees in a file, without processing it: the sniffed type and header facts.
    public func probe(path: String) async throws(KilnError) -> MediaFacts {
        let preset = presets.presets["default"] ?? Preset.builtIn[0]
        let environment = environment
        return try await Blocking.job { () throws(KilnError) in
            var context = IngestContext(path: path, input: path, options: IngestOptions(), preset: preset,
                                        control: JobControl(timeout: VideoProber.probeTimeout))
            try Self.runSteps([.receive, .sniff], &context, environment)
            let format = try context.required(context.format, "format")
            return try Self.guarded {
                switch format.kind {
                case .image: .image(try ImageProber.facts(path: path, format: format, sizeBytes: context.sizeBytes))
                case .video: .video(try VideoProber.facts(path: path, format: format, sizeBytes: context.sizeBytes))
                }
            }
        }
    }

    /// The preset named `name`, or API_001.
    public func resolve(_ name: String) throws(KilnError) -> Preset {
        try Self.guarded { try presets.preset(named: name) }
    }

    /// The presets named, in order, each narrowed to its account's `limits`; API_001 for the
    /// first that is unknown, or for none, and for limits of a target not named or wider than it.
    public func resolve(targets names: [String], limits: [String: AccountLimits] = [:]) throws(KilnError) -> [Preset] {
        try presets.resolve(targets: names, limits: limits)
    }

    // MARK: Running a job

    /// Admits the job (waiting in the queue, or PROCESSING_004), runs it, and frees its place.
    /// Cancelling the calling task cancels the job; a stopped job reports why it stopped.
    func runJob<T: Sendable>(_ control: JobControl, _ body: () async throws(KilnError) -> T)
        async throws(KilnError) -> T
    {
        let result: Result<T, KilnError> = await withTaskCancellationHandler {
            do throws(KilnError) {
                let admission = try await places.admit()
                defer { places.finish(admission) }
                try control.checkpoint()
                let value = try await body()
                control.report(.done)
                return .success(value)
            } catch {
                // A job stopped mid-way fails for that reason, whatever the stop broke on its way.
                if control.isStopped, let stop = control.stopError(), error.code.entry.category != .media {
                    return .failure(stop)
                }
                return .failure(error)
            }
        } onCancel: {
            control.cancel()
        }
        return try result.get()
    }

    /// Commits a unit within the job's deadline; past it (or on cancellation) the commit is
    /// stopped and the store rolls the unit back.
    func publish(_ unit: [StagedItem], control: JobControl) async throws(KilnError) {
        let store = try environment.requireStore()
        do {
            try control.checkpoint()
        } catch {
            for item in unit { store.discard(item.staging) }
            throw error
        }
        control.report(.storing, 0)
        let span = InstrumentationSystem.tracer.startSpan("store", context: ServiceContext.current ?? .topLevel)
        defer { span.end() }
        let progress: @Sendable (Double) -> Void = { control.report(.storing, $0) }
        guard let remaining = control.remaining else {
            return try await store.commit(unit, progress: progress)
        }
        let outcome: Result<Void, KilnError>? = await withTaskGroup(of: Result<Void, KilnError>?.self) { group in
            group.addTask {
                do throws(KilnError) {
                    return .success(try await store.commit(unit, progress: progress))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: remaining)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome else { throw control.stopError() ?? .timedOut(after: 0) }
        try outcome.get()
    }

    static func runSteps(_ steps: [Step], _ context: inout IngestContext, _ environment: PipelineEnvironment)
        throws(KilnError)
    {
        for step in steps {
            let span = InstrumentationSystem.tracer.startSpan(step.name, context: context.trace ?? .topLevel)
            defer { span.end() }
            do {
                try context.control.checkpoint()
                try step.run(&context, environment)
            } catch {
                span.recordError(error)
                if let staging = context.staging {
                    environment.store?.discard(staging)
                    context.staging = nil
                }
                throw Self.catalogError(error, step: step.name)
            }
        }
    }

    /// Drops whatever the items have staged.
    static func discardStaged(_ contexts: [IngestContext], _ store: any MediaStore) {
        for context in contexts { if let staging = context.staging { store.discard(staging) } }
    }

    static func catalogError(_ error: any Error, step: String) -> KilnError {
        if let error = error as? KilnError { return error }
        return .internalError("\(step): \(error)")
    }

    static func guarded<T>(_ body: () throws -> T) throws(KilnError) -> T {
        do { return try body() } catch { throw catalogError(error, step: "pipeline") }
    }
}
