import Dispatch
import KilnCore
import KilnImaging
import KilnStorage
import Synchronization
import Tracing

/// The one way in: a request (inputs, targets, options, control) and its result, one outcome per
/// target. Each input is received, sniffed, probed and hashed once; each target is then held to
/// its own rules, identified, and made (an image decoded once for all its targets) and published
/// on its own, so one failing target loses no other.
extension Pipeline {
    // MARK: Ingest

    /// Makes the request's inputs into an item, or a carousel, for each of its targets. When the
    /// same bytes were stored under the same options before, that item comes back (`reused`).
    ///
    /// Throws only what no target can outlive: an unknown target (API_001), a full queue
    /// (PROCESSING_004), a stopped job (PROCESSING_003, PROCESSING_005) or an unreadable store.
    /// Everything about an input or a target is that target's `rejected` outcome.
    public func ingest(_ request: IngestRequest) async throws(KilnError) -> IngestResult {
        let presets = try resolve(targets: request.targets, limits: request.options.limits)
        guard !request.inputs.isEmpty else { throw KilnError.invalidRequest("send at least one file") }
        let control = request.control ?? request.options.makeControl()
        let threads = places.limits.threadsPerJob
        let trace = ServiceContext.current
        // Received uploads (and so their files) live until the job is over.
        defer { withExtendedLifetime(request.inputs) {} }
        return try await runJob(control) { () async throws(KilnError) -> IngestResult in
            let store = try environment.requireStore()
            let environment = environment
            var runs = try await Blocking.job { () throws(KilnError) -> [TargetRun] in
                let runs = try Self.check(request, presets: presets, control: control, threads: threads, trace: trace,
                                          environment)
                // Told on the job's thread: a progress callback may block (a test's gate), never the pool.
                control.report(.checked)
                return runs
            }
            for r in runs.indices where runs[r].failure == nil {
                for context in runs[r].contexts {
                    runs[r].existing.append(try await store.item(try context.required(context.id, "id")))
                }
            }
            let estimate = runs.flatMap { run in run.failure != nil ? [] : zip(run.contexts, run.existing).filter { $0.1 == nil }.map(\.0.memoryEstimate) }
                .max() ?? 0
            let reservation = try await places.reserve(memory: estimate)
            defer { places.release(reservation) }
            let checked = runs
            let (made, counts) = try await Blocking.job { () throws(KilnError) -> ([TargetRun], (decodes: Int, encodes: Int)) in
                var runs = checked
                let counts = try Self.make(&runs, request, control: control, environment)
                return (runs, counts)
            }
            runs = made
            defer { for run in runs { Self.discardStaged(run.contexts, store) } }
            var outcomes: [TargetOutcome] = []
            for r in runs.indices {
                outcomes.append(try await publish(&runs[r], request, store: store, control: control))
            }
            return IngestResult(outcomes: outcomes, decodes: counts.decodes, encodes: counts.encodes)
        }
    }

    /// Processes the file at `path` (read in place) for `options.preset` and stores its renditions:
    /// a request with one input and one target, its failure thrown.
    public func ingest(path: String, name: String? = nil, options: IngestOptions = IngestOptions(),
                       control: JobControl? = nil) async throws(KilnError) -> MediaItem
    {
        try await ingest(IngestRequest(IngestInput(path: path, name: name), options: options, control: control)).item()
    }

    /// Receives an upload from `stream` (see `receive(stream:)`; a full queue is refused before
    /// the body is read) and processes it for `options.preset`, its failure thrown.
    public func ingest<Bytes: AsyncSequence>(stream: Bytes, name: String?, options: IngestOptions = IngestOptions(),
                                             control: JobControl? = nil) async throws(KilnError) -> MediaItem
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        try places.checkCapacity()
        let control = control ?? options.makeControl()
        let upload = try await receive(stream: stream, name: name ?? "upload", options: options, control: control)
        return try await ingest(IngestRequest(IngestInput(upload: upload), options: options, control: control)).item()
    }

    // MARK: The stages of a request

    /// One target's way through a request: a context per input, what the store already holds,
    /// and, once refused, why.
    struct TargetRun: Sendable {
        let preset: Preset
        var contexts: [IngestContext] = []
        var existing: [MediaItem?] = []
        var failure: (error: KilnError, item: TargetOutcome.FailedItem?)?

        init(preset: Preset) { self.preset = preset }

        var isLive: Bool { failure == nil }

        /// Refuses the target (its first failure stands), dropping what it staged.
        mutating func fail(_ error: KilnError, at item: TargetOutcome.FailedItem?, _ store: (any MediaStore)?) {
            guard failure == nil else { return }
            failure = (error, item)
            if let store { Pipeline.discardStaged(contexts, store) }
            for index in contexts.indices { contexts[index].staging = nil }
        }
    }

    /// The work for every live target that the store does not hold yet, input by input: an image
    /// with several renditions to make is decoded once for all of them, and each distinct
    /// rendition made once (`SharedRenditions`); a video with several targets is measured once,
    /// and each file two targets' plans make alike made once (`SharedVideo`). Returns the image
    /// decodes and the video files made.
    static func make(_ runs: inout [TargetRun], _ request: IngestRequest, control: JobControl,
                     _ environment: PipelineEnvironment) throws(KilnError) -> (decodes: Int, encodes: Int)
    {
        let store = try environment.requireStore()
        var (decodes, encodes) = (0, 0)
        do throws(KilnError) {
            for (index, input) in request.inputs.enumerated() {
                let place = request.isCarousel ? TargetOutcome.FailedItem(index: index, name: input.name) : nil
                let needing = runs.indices.filter { runs[$0].isLive && runs[$0].existing[index] == nil }
                let images = needing.filter { if case .image? = runs[$0].contexts[index].facts { true } else { false } }
                var shared: SharedRenditions?
                // Once every target has linked what it shares (or failed, or the job stopped).
                defer { if let shared { store.discard(shared.staging) } }
                if let first = images.first, case .image(let facts)? = runs[first].contexts[index].facts {
                    // A GIF kept animated is read from the file, all its frames: not from the one decode.
                    let plans = images.flatMap { r in
                        runs[r].preset.renditions(for: facts).filter { $0.format != .gif }.map {
                            ImageProcessor.Plan(spec: $0, aspect: runs[r].preset.image?.aspect, fit: request.options.fit,
                                               focus: request.options.focus)
                        }
                    }
                    if plans.count > 1 {
                        do {
                            let decoded = try ImageProcessor.decode(path: input.path, facts: facts, for: plans, control: control)
                            decodes += 1
                            shared = SharedRenditions(plans, decoded: decoded, path: input.path, facts: facts,
                                                      staging: try store.makeStaging(), control: control)
                        } catch {
                            if let stop = control.stopError() { throw stop }
                            for r in images { runs[r].fail(catalogError(error, step: "process"), at: place, store) }
                        }
                    }
                }
                // An image's targets are made side by side (libjpeg encodes on one thread each); a
                // video's one after another (each encode holds its own frames and threads).
                let live = needing.filter { runs[$0].isLive }
                let together = live.filter(images.contains)
                let made = Self.side(by: together.map { r in
                    var context = runs[r].contexts[index]
                    context.shared = shared
                    return context
                }, environment)
                // What was staged is kept first, so a stop below discards it with the rest.
                for (r, result) in zip(together, made) {
                    if case .success(let context) = result { runs[r].contexts[index] = context }
                }
                for (r, result) in zip(together, made) {
                    guard case .failure(let error) = result else { continue }
                    if let stop = control.stopError() { throw stop }
                    runs[r].fail(error, at: place, store)
                }
                let videos = live.filter { if case .video? = runs[$0].contexts[index].facts { true } else { false } }
                var video: SharedVideo?
                defer { video?.discard(store) }
                if videos.count > 1 {
                    do throws(KilnError) {
                        video = try SharedVideo(videos.map { runs[$0].contexts[index] }, store: store)
                        encodes += video?.encodes ?? 0
                    } catch {
                        if let stop = control.stopError() { throw stop }
                        for r in videos { runs[r].fail(error, at: place, store) }
                    }
                }
                for r in live where !images.contains(r) && runs[r].isLive {
                    runs[r].contexts[index].video = video
                    do throws(KilnError) {
                        try runSteps(work, &runs[r].contexts[index], environment)
                    } catch {
                        if let stop = control.stopError() { throw stop }
                        runs[r].fail(error, at: place, store)
                    }
                }
                for r in live where runs[r].isLive {
                    decodes += runs[r].contexts[index].decodes
                    encodes += runs[r].contexts[index].encodes
                    runs[r].contexts[index].shared = nil
                    runs[r].contexts[index].video = nil
                }
            }
        } catch {
            for run in runs { discardStaged(run.contexts, store) }
            throw error
        }
        return (decodes, encodes)
    }

    /// The work on each context, at once on as many threads as there are contexts (one alone runs
    /// here); each context's own result.
    static func side(by contexts: [IngestContext], _ environment: PipelineEnvironment)
        -> [Result<IngestContext, KilnError>]
    {
        @Sendable func make(_ start: IngestContext) -> Result<IngestContext, KilnError> {
            var context = start
            do throws(KilnError) {
                try runSteps(work, &context, environment)
                return .success(context)
            } catch {
                return .failure(error)
            }
        }
        guard contexts.count > 1 else { return contexts.map(make) }
        let results = Mutex<[Int: Result<IngestContext, KilnError>]>([:])
        DispatchQueue.concurrentPerform(iterations: contexts.count) { index in
            let result = make(contexts[index])
            results.withLock { $0[index] = result }
        }
        return results.withLock { made in
            contexts.indices.map { made[$0] ?? .failure(KilnError.internalError("a target's work did not end")) }
        }
    }

    /// Publishes one target's items (and carousel) as one unit, and says what the target came to.
    private func publish(_ run: inout TargetRun, _ request: IngestRequest, store: any MediaStore,
                         control: JobControl) async throws(KilnError) -> TargetOutcome
    {
        let target = run.preset.name
        do throws(KilnError) {
            if let failure = run.failure { throw failure.error }
            let items = try zip(run.contexts, run.existing).map { context, existing throws(KilnError) in
                if let existing { return existing.reused(for: context.input) }
                return try context.required(context.item, "item")
            }
            var unit: [StagedItem] = []
            for context in run.contexts {
                if let staging = context.staging { unit.append(StagedItem(id: try context.required(context.id, "id"), staging: staging)) }
            }
            guard request.isCarousel else {
                for index in run.contexts.indices { run.contexts[index].staging = nil }
                if !unit.isEmpty { try await publish(unit, control: control) }
                return TargetOutcome(target: target, items: items.map { $0.reused ? $0 : store.resolve($0) })
            }
            let record = CarouselRecord(id: FileDigest.sha256(joining: items.map(\.id)), preset: target,
                                        items: items.map(\.id), tenant: request.options.tenant)
            let carouselStaging = try store.makeStaging()
            do throws(KilnError) {
                try ManifestFile.write(record, to: carouselStaging.path(StoreKey.manifest))
            } catch {
                store.discard(carouselStaging)
                throw error
            }
            unit.append(StagedItem(id: record.id, staging: carouselStaging))
            for index in run.contexts.indices { run.contexts[index].staging = nil }
            try await publish(unit, control: control)
            var published = record
            published.location = store.location(forItem: record.id)
            return TargetOutcome(target: target, items: items.map { $0.reused ? $0 : store.resolve($0) },
                                 carousel: published)
        } catch {
            if let stop = control.stopError() { throw stop }
            return TargetOutcome(target: target, error: error, failedItem: run.failure?.item)
        }
    }
}
