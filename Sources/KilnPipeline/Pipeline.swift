import Foundation
import KilnCore
import KilnImaging
import KilnSniff
import KilnStorage
import KilnVideo

/// Kiln's engine: receive -> sniff -> validate -> process -> store, for one file or a carousel.
///
/// ```swift
/// let pipeline = try Pipeline(store: LocalStore(root: "kiln-out"))
/// let item = try await pipeline.ingest(path: "photo.heic", options: IngestOptions(preset: "instagram-feed"))
/// print(item.renditions.map(\.path))
/// ```
/// Every failure is a `KilnError` with a catalog code; nothing half-written is left behind.
public final class Pipeline: Sendable {
    /// The cheap checks, run for every item before any expensive work.
    static let checks: [Step] = [.receive, .sniff, .validateImage, .validateVideo]
    /// The work, run once the checks pass.
    static let work: [Step] = [.processImage, .processVideo, .stageItem]

    public let presets: PresetCatalog
    let environment: PipelineEnvironment

    public init(store: (any MediaStore)?, presets: PresetCatalog = PresetCatalog()) throws {
        self.presets = presets
        environment = PipelineEnvironment(sniffer: try ContentSniffer(), store: store)
    }

    /// Processes the file at `path` and stores its renditions.
    /// - Parameter name: the name to report (defaults to `path`), e.g. an upload's file name.
    public func ingest(path: String, name: String? = nil, options: IngestOptions = IngestOptions())
        async throws(KilnError) -> MediaItem
    {
        let preset = try resolve(options.preset)
        let environment = environment
        var context = try await Self.cancellable(options) { control throws(KilnError) in
            var context = IngestContext(path: path, input: name ?? path, options: options, preset: preset, control: control)
            try Self.runSteps(Self.checks + Self.work, &context, environment)
            return context
        }
        return try await commit(&context)
    }

    /// Runs blocking work off the caller's thread; cancelling the caller's task stops it
    /// (FFmpeg's interrupt callback, libvips' kill flag), as does the job's deadline.
    static func cancellable<T: Sendable>(_ options: IngestOptions,
                                         _ work: @escaping @Sendable (JobControl) throws(KilnError) -> T)
        async throws(KilnError) -> T
    {
        let control = JobControl(timeout: options.timeout)
        let result: Result<T, KilnError> = await withTaskCancellationHandler {
            do {
                return .success(try await Offload.run { () throws(KilnError) in try work(control) })
            } catch {
                return .failure(catalogError(error, step: "ingest"))
            }
        } onCancel: {
            control.cancel()
        }
        return try result.get()
    }

    /// Processes several files as one carousel: the count and every item's checks pass before any
    /// item is processed, and nothing is published unless every item succeeds.
    public func ingestCarousel(paths: [(path: String, name: String)], options: IngestOptions = IngestOptions())
        async throws(KilnError) -> (carousel: CarouselRecord, items: [MediaItem])
    {
        let preset = try resolve(options.preset)
        guard let rules = preset.carousel, rules.range.contains(paths.count) else {
            throw KilnError.carouselCount(paths.count, range: preset.carousel?.range, preset: preset.name)
        }
        let environment = environment
        var contexts = try await Self.cancellable(options) { control throws(KilnError) in
            var contexts = paths.map {
                IngestContext(path: $0.path, input: $0.name, options: options, preset: preset, control: control)
            }
            for index in contexts.indices {
                try Self.runSteps(Self.checks, &contexts[index], environment)
                if let kind = contexts[index].format?.kind, !rules.kinds.contains(kind) {
                    throw KilnError.carouselKind(kind, preset: preset.name)
                }
            }
            for index in contexts.indices {
                do throws(KilnError) {
                    try Self.runSteps(Self.work, &contexts[index], environment)
                } catch {
                    for context in contexts { if let staging = context.staging { environment.store?.discard(staging) } }
                    throw error
                }
            }
            return contexts
        }
        defer { for context in contexts { if let staging = context.staging { environment.store?.discard(staging) } } }
        var items: [MediaItem] = []
        for index in contexts.indices { items.append(try await commit(&contexts[index])) }
        var record = CarouselRecord(id: FileDigest.sha256(joining: items.map(\.id)), preset: preset.name,
                                    items: items.map(\.id))
        record.location = try await storeCarousel(record)
        return (record, items)
    }

    /// Runs only the cheap checks (receive, sniff, validate against the preset) on `path`:
    /// what an upload would be rejected for, without processing it.
    public func check(path: String, options: IngestOptions = IngestOptions()) async throws(KilnError) -> MediaFacts {
        let preset = try resolve(options.preset)
        let environment = environment
        return try await Offload.run { () throws(KilnError) in
            var context = IngestContext(path: path, input: path, options: options, preset: preset)
            try Self.runSteps(Self.checks, &context, environment)
            return try context.required(context.facts, "facts")
        }
    }

    /// What the pipeline sees in a file, without processing it: the sniffed type and header facts.
    public func probe(path: String) async throws(KilnError) -> MediaFacts {
        let preset = presets.presets["default"] ?? Preset.builtIn[0]
        let environment = environment
        return try await Offload.run { () throws(KilnError) in
            var context = IngestContext(path: path, input: path, options: IngestOptions(), preset: preset)
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

    static func runSteps(_ steps: [Step], _ context: inout IngestContext, _ environment: PipelineEnvironment)
        throws(KilnError)
    {
        for step in steps {
            do {
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

    private func commit(_ context: inout IngestContext) async throws(KilnError) -> MediaItem {
        guard var item = context.item, let staging = context.staging else {
            throw KilnError.internalError("pipeline step order: nothing staged to commit")
        }
        item.location = try await Self.guardedAsync { try await self.environment.requireStore().commit(staging, as: item.id) }
        context.staging = nil
        return item
    }

    private func storeCarousel(_ record: CarouselRecord) async throws(KilnError) -> String {
        let store = try environment.requireStore()
        return try await Self.guardedAsync {
            let staging = try store.makeStaging()
            do {
                try ManifestFile.write(record, to: staging.path(ManifestFile.name))
            } catch {
                store.discard(staging)
                throw error
            }
            return try await store.commit(staging, as: record.id)
        }
    }

    static func catalogError(_ error: any Error, step: String) -> KilnError {
        if let error = error as? KilnError { return error }
        return .internalError("\(step): \(error)")
    }

    static func guarded<T>(_ body: () throws -> T) throws(KilnError) -> T {
        do { return try body() } catch { throw catalogError(error, step: "pipeline") }
    }

    static func guardedAsync<T>(_ body: () async throws -> T) async throws(KilnError) -> T {
        do { return try await body() } catch { throw catalogError(error, step: "store") }
    }
}
