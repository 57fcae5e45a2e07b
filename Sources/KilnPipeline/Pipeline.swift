import Foundation
import KilnCore
import KilnImaging
import KilnSniff
import KilnStorage
import KilnVideo

/// Kiln's engine: receive -> sniff -> validate -> identify -> process -> store, for one file, an
/// upload stream or a carousel, under a job limit with a bounded queue.
///
/// ```swift
/// let pipeline = try Pipeline(store: LocalStore(root: "kiln-out"))
/// let item = try await pipeline.ingest(path: "photo.heic", options: IngestOptions(preset: "instagram-feed"))
/// print(item.id, item.renditions.map(\.path))
/// ```
/// Every failure is a `KilnError` with a catalog code; nothing half-written is left behind.
/// Cancelling the calling task cancels the job (PROCESSING_005).
public final class Pipeline: Sendable {
    /// The cheap checks, run for every item before any expensive work.
    static let checks: [Step] = [.receive, .sniff, .validateImage, .validateVideo]
    /// The work, run once the checks pass and the item is not stored already.
    static let work: [Step] = [.processImage, .processVideo, .checkOutput, .stageItem]

    public let presets: PresetCatalog
    /// Admits jobs (PROCESSING_004 past the queue) and holds their memory under the budget.
    public let scheduler: JobScheduler
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
        scheduler = JobScheduler(limits: limits)
        self.temporaryDirectory = temporaryDirectory
        environment = PipelineEnvironment(sniffer: try ContentSniffer(), store: store)
        ImageEngine.setThreads(limits.threadsPerJob)
    }

    /// The store items are published to and read from.
    public var store: (any MediaStore)? { environment.store }

    // MARK: Ingest

    /// Processes the file at `path` (read in place) and stores its renditions. When the same
    /// bytes were stored under the same options before, that item comes back (`reused`).
    /// - Parameters:
    ///   - name: the name to report (defaults to `path`), e.g. an upload's file name.
    ///   - control: the job's control, to cancel it or follow it from elsewhere; made from
    ///     `options` when nil.
    public func ingest(path: String, name: String? = nil, options: IngestOptions = IngestOptions(),
                       control: JobControl? = nil) async throws(KilnError) -> MediaItem
    {
        let preset = try resolve(options.preset)
        let control = control ?? options.makeControl()
        return try await runJob(control) { () async throws(KilnError) -> MediaItem in
            let context = IngestContext(path: path, input: name ?? path, options: options, preset: preset,
                                        control: control, threads: scheduler.limits.threadsPerJob)
            return try await ingestChecked(context)
        }
    }

    /// Receives an upload from `stream` (chunks of bytes) and processes it: the first bytes are
    /// sniffed before anything is written, the size limit of the content's kind is applied
    /// while writing (FILE_004), and the bytes are hashed as they arrive. The temp file is
    /// removed whatever happens. A full queue is refused before the body is read.
    public func ingest<Bytes: AsyncSequence>(stream: Bytes, name: String?, options: IngestOptions = IngestOptions(),
                                             control: JobControl? = nil) async throws(KilnError) -> MediaItem
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        try scheduler.checkCapacity()
        let control = control ?? options.makeControl()
        let upload = try await receive(stream: stream, name: name ?? "upload", options: options, control: control)
        return try await ingest(upload: upload, options: options, control: control)
    }

    /// Receives `stream` into a temp file (sniffed first, held to its kind's size limit, hashed
    /// while written) without processing it: for carousels of uploads, or to answer before the
    /// work starts. The file goes when the returned upload does.
    public func receive<Bytes: AsyncSequence>(stream: Bytes, name: String, options: IngestOptions = IngestOptions(),
                                              control: JobControl? = nil) async throws(KilnError) -> ReceivedUpload
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        let preset = try resolve(options.preset)
        let control = control ?? options.makeControl()
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        do {
            let upload = try await receiver.receive(stream, name: name, preset: preset, declared: options.type,
                                                    control: control)
            control.report(.received)
            return upload
        } catch {
            throw control.stopError() ?? error
        }
    }

    /// How many first bytes `admit(head:)` needs to tell what an upload is.
    public static let headBytes = ContentSniffer.headerBytes

    /// What an upload whose first bytes are `head` is, and what it may grow to: the preset's
    /// size limit for that kind. FILE_003 when Kiln does not take the content, MEDIA_001 when it is not the
    /// declared kind or the preset takes no such kind. For front ends that receive an upload in
    /// pieces (resumable uploads), to refuse it at its first bytes rather than at its last.
    public func admit(head: [UInt8], options: IngestOptions = IngestOptions()) throws(KilnError)
        -> (kind: MediaKind, limit: Int64)
    {
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        let admitted = try receiver.admit(head: head, preset: try resolve(options.preset), declared: options.type)
        return (admitted.format.kind, admitted.limit)
    }

    /// Takes the file at `path`, already whole on disk under the data directory (a completed
    /// resumable upload), as a received upload: the same checks as `receive(stream:)`, but the
    /// file is not copied: the upload is a second name (a hard link) for it. `path` itself is
    /// left to the caller, to remove once what the upload became is recorded.
    public func receive(file path: String, name: String, options: IngestOptions = IngestOptions(),
                        control: JobControl? = nil) async throws(KilnError) -> ReceivedUpload
    {
        let preset = try resolve(options.preset)
        let control = control ?? options.makeControl()
        let receiver = StreamReceiver(directory: temporaryDirectory, sniffer: environment.sniffer)
        let upload = try await receiver.adopt(file: path, name: name, preset: preset, declared: options.type, control: control)
        control.report(.received)
        return upload
    }

    /// Processes an upload received with `receive(stream:)` (its hash is not computed again).
    public func ingest(upload: ReceivedUpload, options: IngestOptions = IngestOptions(), control: JobControl? = nil)
        async throws(KilnError) -> MediaItem
    {
        let preset = try resolve(options.preset)
        let control = control ?? options.makeControl()
        // The upload (and so its file) lives until the job is over.
        defer { withExtendedLifetime(upload) {} }
        return try await runJob(control) { () async throws(KilnError) -> MediaItem in
            var context = IngestContext(path: upload.path, input: upload.name, options: options, preset: preset,
                                        control: control, threads: scheduler.limits.threadsPerJob)
            context.sourceSHA256 = upload.sha256
            return try await ingestChecked(context)
        }
    }

    /// Processes several files as one carousel: the count and every item's checks pass before
    /// any item is processed, and the items and the carousel are published as one unit.
    public func ingestCarousel(paths: [(path: String, name: String)], options: IngestOptions = IngestOptions(),
                               control: JobControl? = nil) async throws(KilnError)
        -> (carousel: CarouselRecord, items: [MediaItem])
    {
        try await ingestCarousel(paths.map { CarouselInput(path: $0.path, name: $0.name) }, options: options,
                                 control: control)
    }

    /// One item of a carousel: a local file, or an upload already received.
    public struct CarouselInput: Sendable {
        let path: String
        let name: String
        let upload: ReceivedUpload?

        public init(path: String, name: String) {
            self.path = path
            self.name = name
            upload = nil
        }

        public init(upload: ReceivedUpload) {
            path = upload.path
            name = upload.name
            self.upload = upload
        }
    }

    /// Processes several inputs as one carousel (see `ingestCarousel(paths:)`).
    public func ingestCarousel(_ inputs: [CarouselInput], options: IngestOptions = IngestOptions(),
                               control: JobControl? = nil) async throws(KilnError)
        -> (carousel: CarouselRecord, items: [MediaItem])
    {
        let paths = inputs
        let preset = try resolve(options.preset)
        guard let rules = preset.carousel, rules.range.contains(paths.count) else {
            throw KilnError.carouselCount(paths.count, range: preset.carousel?.range, preset: preset.name)
        }
        let control = control ?? options.makeControl()
        let threads = scheduler.limits.threadsPerJob
        return try await runJob(control) { () async throws(KilnError) -> (carousel: CarouselRecord, items: [MediaItem]) in
            let store = try environment.requireStore()
            let environment = environment
            var contexts = try await Blocking.job { () throws(KilnError) -> [IngestContext] in
                var contexts = paths.map {
                    var context = IngestContext(path: $0.path, input: $0.name, options: options, preset: preset,
                                                control: control, threads: threads)
                    context.sourceSHA256 = $0.upload?.sha256
                    return context
                }
                for index in contexts.indices {
                    try Self.runSteps(Self.checks, &contexts[index], environment)
                    if let kind = contexts[index].format?.kind, !rules.kinds.contains(kind) {
                        throw KilnError.carouselKind(kind, preset: preset.name)
                    }
                }
                for index in contexts.indices { try Self.runSteps([.identify], &contexts[index], environment) }
                return contexts
            }
            control.report(.checked)
            var stored: [MediaItem?] = []
            for context in contexts {
                stored.append(try await store.item(try context.required(context.id, "id")))
            }
            let estimate = zip(contexts, stored).filter { $0.1 == nil }.map(\.0.memoryEstimate).max() ?? 0
            let reservation = try await scheduler.reserve(memory: estimate)
            defer { scheduler.release(reservation) }
            defer { Self.discardStaged(contexts, store) }
            let (checked, found) = (contexts, stored)
            contexts = try await Blocking.job { () throws(KilnError) -> [IngestContext] in
                var contexts = checked
                do throws(KilnError) {
                    for index in contexts.indices where found[index] == nil {
                        try Self.runSteps(Self.work, &contexts[index], environment)
                    }
                } catch {
                    // Items processed before the failure are staged: none of them goes further.
                    Self.discardStaged(contexts, store)
                    throw error
                }
                return contexts
            }
            let items = try zip(contexts, stored).map { context, existing throws(KilnError) in
                if let existing { return existing.reused(for: context.input) }
                return try context.required(context.item, "item")
            }
            let record = CarouselRecord(id: FileDigest.sha256(joining: items.map(\.id)), preset: preset.name,
                                        items: items.map(\.id), tenant: options.tenant)
            var unit: [StagedItem] = []
            for context in contexts {
                if let staging = context.staging { unit.append(StagedItem(id: try context.required(context.id, "id"), staging: staging)) }
            }
            let carouselStaging = try store.makeStaging()
            do throws(KilnError) {
                try ManifestFile.write(record, to: carouselStaging.path(StoreKey.manifest))
            } catch {
                store.discard(carouselStaging)
                throw error
            }
            unit.append(StagedItem(id: record.id, staging: carouselStaging))
            for index in contexts.indices { contexts[index].staging = nil }
            try await publish(unit, control: control)
            var published = record
            published.location = store.location(forItem: record.id)
            return (published, items.map { $0.reused ? $0 : store.resolve($0) })
        }
    }

    /// Runs only the cheap checks (receive, sniff, validate against the preset) on `path`:
    /// what an upload would be rejected for, without processing it.
    public func check(path: String, options: IngestOptions = IngestOptions()) async throws(KilnError) -> MediaFacts {
        let preset = try resolve(options.preset)
        let environment = environment
        let control = options.makeControl()
        return try await Blocking.job { () throws(KilnError) in
            var context = IngestContext(path: path, input: path, options: options, preset: preset, control: control)
            try Self.runSteps(Self.checks, &context, environment)
            return try context.required(context.facts, "facts")
        }
    }

    /// Holds any file, made by Kiln or not, to `preset`'s platform rules as the output check does:
    /// a video read back with the libav demuxer and measured from its packets, an image from its
    /// header against the preset's first rendition (the one published). Nothing is written.
    public func checkRules(path: String, preset name: String) async throws(KilnError) -> RuleReport {
        let preset = try resolve(name)
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

    // MARK: Running a job

    /// Admits the job (waiting in the queue, or PROCESSING_004), runs it, and frees its place.
    /// Cancelling the calling task cancels the job; a stopped job reports why it stopped.
    private func runJob<T: Sendable>(_ control: JobControl, _ body: () async throws(KilnError) -> T)
        async throws(KilnError) -> T
    {
        let result: Result<T, KilnError> = await withTaskCancellationHandler {
            do throws(KilnError) {
                let admission = try await scheduler.admit()
                defer { scheduler.finish(admission) }
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

    /// Checks, identifies, reuses a stored item or processes and publishes a new one.
    private func ingestChecked(_ start: IngestContext) async throws(KilnError) -> MediaItem {
        let environment = environment
        let store = try environment.requireStore()
        var context = try await Blocking.job { () throws(KilnError) -> IngestContext in
            var context = start
            try Self.runSteps(Self.checks, &context, environment)
            context.control.report(.checked)
            try Self.runSteps([.identify], &context, environment)
            return context
        }
        let id = try context.required(context.id, "id")
        if let existing = try await store.item(id) { return existing.reused(for: context.input) }
        let reservation = try await scheduler.reserve(memory: context.memoryEstimate)
        defer { scheduler.release(reservation) }
        try context.control.checkpoint()
        let checked = context
        context = try await Blocking.job { () throws(KilnError) -> IngestContext in
            var context = checked
            try Self.runSteps(Self.work, &context, environment)
            return context
        }
        let item = try context.required(context.item, "item")
        let staging = try context.required(context.staging, "staging")
        try await publish([StagedItem(id: id, staging: staging)], control: context.control)
        return store.resolve(item)
    }

    /// Commits a unit within the job's deadline; past it (or on cancellation) the commit is
    /// stopped and the store rolls the unit back.
    private func publish(_ unit: [StagedItem], control: JobControl) async throws(KilnError) {
        let store = try environment.requireStore()
        do {
            try control.checkpoint()
        } catch {
            for item in unit { store.discard(item.staging) }
            throw error
        }
        control.report(.storing, 0)
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
            do {
                try context.control.checkpoint()
                try step.run(&context, environment)
            } catch {
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
