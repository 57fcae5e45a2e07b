import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage

/// One upload handed to `IngestService`: the received files, the options they came with and
/// whose they are. Every front end that holds a queue hands the service this (the multipart
/// route, a finished resumable upload, the upload sweeper), as the job runner does for a
/// queued job's files.
public struct IngestSubmission: Sendable {
    public var uploads: [ReceivedUpload]
    public var carousel: Bool
    public var options: UploadOptions
    public var tenant: String?
    public var keyID: String?
    public var requestID: String
    /// The request's deadline and cancel switch, running since its first byte.
    public var control: JobControl

    public init(uploads: [ReceivedUpload], carousel: Bool, options: UploadOptions, tenant: String?, keyID: String?,
                requestID: String, control: JobControl) {
        self.uploads = uploads
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

/// Received uploads through the engine, with no HTTP in it: videos are kept and queued as a job
/// (run by a `JobRunner` here or by a `kiln worker` elsewhere), images are processed at once;
/// what is made is recorded as its tenant's where it is made (`make`), now or when the job ends.
public struct IngestService: Sendable {
    public let pipeline: Pipeline
    let queue: any JobQueue
    /// Where what is made is recorded as its tenant's.
    let records: any MediaRecordStore
    /// The defaults for what a submission does not choose (timeouts, memory budget...).
    let base: IngestOptions
    /// Where queued files are kept (`<data>/jobs/<id>/`) until their job ends.
    let dataDirectory: String
    /// A shared queue: a job's files go through the store to a worker on any machine.
    let shared: Bool

    public init(pipeline: Pipeline, queue: any JobQueue, records: any MediaRecordStore, base: IngestOptions,
                dataDirectory: String, shared: Bool) {
        self.pipeline = pipeline
        self.queue = queue
        self.records = records
        self.base = base
        self.dataDirectory = dataDirectory
        self.shared = shared
    }

    public static func directory(for job: String, data: String) -> String { data + "/jobs/" + job }

    public func submit(_ submission: IngestSubmission) async throws(KilnError) -> IngestAnswer {
        if submission.uploads.contains(where: { $0.kind == .video }) {
            return .queued(try await enqueue(submission))
        }
        let inputs = submission.uploads.map(IngestInput.init(upload:))
        return .made(try await make(inputs, carousel: submission.carousel, options: submission.options,
                                    tenant: submission.tenant, keyID: submission.keyID, control: submission.control))
    }

    /// Files through the engine now, what they made recorded as the tenant's. An outcome per
    /// target when the options name `targets` (some may have failed: the caller tells), else
    /// the one item or carousel (its failure thrown).
    public func make(_ inputs: [IngestInput], carousel: Bool, options: UploadOptions, tenant: String?, keyID: String?,
                     control: JobControl) async throws(KilnError) -> JobResult {
        guard let first = inputs.first else { throw KilnError.uploadFailed("the upload has no file") }
        var engine = options.ingestOptions(base: base, tenant: tenant)
        if carousel { engine.type = .carousel }
        let request = carousel ? IngestRequest(carousel: inputs, targets: options.targets, options: engine, control: control)
            : IngestRequest(first, targets: options.targets, options: engine, control: control)
        let result = try await pipeline.ingest(request)
        try await records.add(result.outcomes, tenant: tenant, keyID: keyID)
        if options.targets != nil { return .targets(result.outcomes) }
        if carousel {
            let (record, items) = try result.carousel()
            return .carousel(record, items: items)
        }
        return .item(try result.item())
    }

    /// Keeps the files (here, or in the store for a worker elsewhere) and queues their job; the
    /// same media under the same options already queued or running answers instead.
    private func enqueue(_ submission: IngestSubmission) async throws(KilnError) -> JobRecord {
        let job = NewJob(kind: submission.carousel ? "carousel" : "media", payload: Data())
        let directory = Self.directory(for: job.id, data: dataDirectory)
        let handOff = shared ? try requireStore().handOff : nil
        var inputs: [JobPayload.Input] = []
        defer { if handOff != nil { try? FileManager.default.removeItem(atPath: directory) } }
        do throws(KilnError) {
            for (index, upload) in submission.uploads.enumerated() {
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
            let priority = JobPolicy.priority(bytes: submission.uploads.reduce(0) { $0 + $1.size })
            let record = try await queue.enqueue(NewJob(id: job.id, kind: job.kind, payload: JobRunner.encode(payload),
                                                        priority: priority, dedupeKey: dedupeKey(submission)))
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
    private func dedupeKey(_ submission: IngestSubmission) -> String? {
        let options = submission.options.ingestOptions(base: base, tenant: submission.tenant)
        guard let presets = try? pipeline.resolve(targets: submission.options.names, limits: options.limits) else { return nil }
        var ids: [String] = []
        for preset in presets {
            let processing = MediaIdentity.options(options, preset: preset)
            ids += submission.uploads.map { MediaIdentity.id(sourceSHA256: $0.sha256, options: processing) }
        }
        // A request with targets answers differently from one with the same single preset.
        return (submission.options.targets == nil ? "" : "targets:") + ids.joined(separator: "+")
    }
}
