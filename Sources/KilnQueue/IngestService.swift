import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage

/// What every front end hands `IngestService`: the files (received uploads, or files read in
/// place), the options they came with and whose they are. The multipart routes, a finished
/// resumable upload and the upload sweeper submit received uploads; the job runner, `kiln
/// process`, `batch` and `watch` files on disk.
public struct IngestSubmission: Sendable {
    public var inputs: [IngestInput]
    public var carousel: Bool
    public var options: UploadOptions
    public var tenant: String?
    public var keyID: String?
    public var requestID: String?
    /// The request's deadline and cancel switch, running since its first byte (nil: one is made
    /// from the options when the work starts).
    public var control: JobControl?

    public init(inputs: [IngestInput], carousel: Bool = false, options: UploadOptions, tenant: String? = nil,
                keyID: String? = nil, requestID: String? = nil, control: JobControl? = nil) {
        self.inputs = inputs
        self.carousel = carousel
        self.options = options
        self.tenant = tenant
        self.keyID = keyID
        self.requestID = requestID
        self.control = control
    }
}

/// What became of a submission: queued as a job (videos take long), or made now.
public enum IngestAnswer: Sendable {
    case queued(JobRecord)
    case made(JobResult)
}

/// Files through the engine for every front end, with no HTTP in it. With a queue, a received
/// video is kept and queued as a job (run by a `JobRunner` here or by a `kiln worker`
/// elsewhere) and everything else made at once; without one (the CLI), everything is made at
/// once. What is made is recorded as its tenant's where it is made (`make`), now or when the
/// job ends.
public struct IngestService: Sendable {
    public let pipeline: Pipeline
    let queue: (any JobQueue)?
    /// Where what is made is recorded as its tenant's (nil: nowhere, as for the CLI).
    let records: (any MediaRecordStore)?
    /// The defaults for what a submission does not choose (timeouts, memory budget...).
    let base: IngestOptions
    /// Where queued files are kept (`<data>/jobs/<id>/`) until their job ends.
    let dataDirectory: String
    /// A shared queue: a job's files go through the store to a worker on any machine.
    public let shared: Bool

    public init(pipeline: Pipeline, queue: (any JobQueue)?, records: (any MediaRecordStore)?, base: IngestOptions,
                dataDirectory: String, shared: Bool) {
        self.pipeline = pipeline
        self.queue = queue
        self.records = records
        self.base = base
        self.dataDirectory = dataDirectory
        self.shared = shared
    }

    /// For a front end with no queue and no records (the CLI): everything is made at once.
    public init(pipeline: Pipeline, base: IngestOptions) {
        self.init(pipeline: pipeline, queue: nil, records: nil, base: base, dataDirectory: pipeline.temporaryDirectory,
                  shared: false)
    }

    public static func directory(for job: String, data: String) -> String { data + "/jobs/" + job }

    /// A received video becomes a job when there is a queue (its files kept until it runs);
    /// anything else is made now.
    public func submit(_ submission: IngestSubmission) async throws(KilnError) -> IngestAnswer {
        let uploads = submission.inputs.compactMap(\.upload)
        if let queue, uploads.count == submission.inputs.count, uploads.contains(where: { $0.kind == .video }) {
            return .queued(try await enqueue(submission, uploads: uploads, queue: queue))
        }
        return .made(try await make(submission))
    }

    /// The submission's files through the engine now, what they made recorded as the tenant's.
    /// An outcome per target when the options name `targets` (some may have failed: the caller
    /// tells), else the one item or carousel (its failure thrown).
    public func make(_ submission: IngestSubmission) async throws(KilnError) -> JobResult {
        let (inputs, options, carousel) = (submission.inputs, submission.options, submission.carousel)
        guard let first = inputs.first else { throw KilnError.uploadFailed("the upload has no file") }
        var engine = options.ingestOptions(base: base, tenant: submission.tenant)
        if carousel { engine.type = .carousel }
        let control = submission.control
        let request = carousel ? IngestRequest(carousel: inputs, targets: options.targets, options: engine, control: control)
            : IngestRequest(first, targets: options.targets, options: engine, control: control)
        let result = try await pipeline.ingest(request)
        try await records?.add(result.outcomes, tenant: submission.tenant, keyID: submission.keyID)
        if options.targets != nil { return .targets(result.outcomes) }
        if carousel {
            let (record, items) = try result.carousel()
            return .carousel(record, items: items)
        }
        return .item(try result.item())
    }

    /// Keeps the files (here, or in the store for a worker elsewhere) and queues their job; the
    /// same media under the same options already queued or running answers instead.
    private func enqueue(_ submission: IngestSubmission, uploads: [ReceivedUpload], queue: any JobQueue)
        async throws(KilnError) -> JobRecord
    {
        let job = NewJob(kind: submission.carousel ? "carousel" : "media", payload: Data())
        let directory = Self.directory(for: job.id, data: dataDirectory)
        let handOff = shared ? try requireStore().handOff : nil
        var inputs: [JobPayload.Input] = []
        defer { if handOff != nil { try? FileManager.default.removeItem(atPath: directory) } }
        do throws(KilnError) {
            for (index, upload) in uploads.enumerated() {
                let path = directory + "/\(index)"
                try upload.keep(at: path)
                if let handOff {
                    // A worker on another machine reads it from the store.
                    let key = StoreKey.incomingPrefix + job.id + "/\(index)"
                    inputs.append(.init(path: nil, key: key, name: upload.name))
                    try await handOff.put(file: path, key: key, contentType: upload.mime)
                } else {
                    inputs.append(.init(path: path, key: nil, name: upload.name))
                }
            }
            let payload = JobPayload(inputs: inputs, carousel: submission.carousel, options: submission.options,
                                     keyID: submission.keyID, tenant: submission.tenant, requestID: submission.requestID,
                                     trace: TraceCarrier.current())
            let priority = JobPolicy.priority(bytes: uploads.reduce(0) { $0 + $1.size })
            let record = try await queue.enqueue(NewJob(id: job.id, kind: job.kind, payload: JobRunner.encode(payload),
                                                        priority: priority, dedupeKey: dedupeKey(submission, uploads)))
            if record.id != job.id {
                // The same media and options are already queued or running: that job answers, this copy goes.
                try? FileManager.default.removeItem(atPath: directory)
                for key in inputs.compactMap(\.key) { try? await handOff?.delete(key: key) }
            }
            return record
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            for key in inputs.compactMap(\.key) { try? await handOff?.delete(key: key) }
            throw error
        }
    }

    private func requireStore() throws(KilnError) -> any MediaStore {
        guard let store = pipeline.store else {
            throw KilnError.storageNotConfigured("a shared queue hands files to its workers through the store: configure --storage")
        }
        return store
    }

    /// What makes two uploads one job while it is unfinished: the media ids they will have (the
    /// same bytes under the same options). Nil when a preset is unknown (the job fails on its own).
    private func dedupeKey(_ submission: IngestSubmission, _ uploads: [ReceivedUpload]) -> String? {
        let options = submission.options.ingestOptions(base: base, tenant: submission.tenant)
        guard let presets = try? pipeline.resolve(targets: submission.options.names, limits: options.limits) else { return nil }
        var ids: [String] = []
        for preset in presets {
            let processing = MediaIdentity.options(options, preset: preset)
            ids += uploads.map { MediaIdentity.id(sourceSHA256: $0.sha256, options: processing) }
        }
        // A request with targets answers differently from one with the same single preset.
        return (submission.options.targets == nil ? "" : "targets:") + ids.joined(separator: "+")
    }
}
