import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline

/// What a queued job does, as stored in its row: the received files and the options they were
/// sent with. A file is kept under `<data>/jobs/<job id>/` (`path`) for the embedded queue, or
/// handed off in the store (`key`, under `.kiln-incoming/`) for a shared queue, whose worker
/// may run on another machine.
struct JobPayload: Codable, Sendable {
    struct Input: Codable, Sendable {
        let path: String?
        let key: String?
        let name: String
    }

    let inputs: [Input]
    let carousel: Bool
    let preset: String
    let type: DeclaredType
    let fit: Fit
    /// `trim` to cut a video too long for the preset (nil for reject, and in jobs queued before).
    var fitDuration: DurationFit?
    /// Each target's account limits (nil when none were given, and in jobs queued before).
    var limits: [String: AccountLimits]?
    let keyID: String?
    /// The tenant of that key, whose the job and its media are. Jobs queued before tenants have
    /// none: their key's id names its tenant (`SQLiteKeyStore.migrateTenants`).
    var tenant: String?
    /// The upload's request id: a job that fails for Kiln's own fault is logged with it.
    var requestID: String?
    /// Several presets (`targets`): the job's result is then one outcome per target.
    var targets: [String]?
    /// The upload's trace (W3C `traceparent`): the worker's spans and the job's webhook join it.
    var trace: [String: String]?

    var owner: String? { tenant ?? keyID }

    func options(base: IngestOptions) -> IngestOptions {
        var options = base
        options.preset = preset
        options.type = type
        options.fit = fit
        options.fitDuration = fitDuration ?? .reject
        options.limits = limits ?? [:]
        options.tenant = owner
        return options
    }

    /// The tenant whose job `record` is, read on its own: a job whose work cannot be read still
    /// answers its tenant (with API_005). Nil when not even that can be read.
    static func owner(of record: JobRecord) -> String? {
        struct Owner: Decodable {
            let tenant: String?
            let keyID: String?
            enum CodingKeys: String, CodingKey { case tenant, keyID = "key_id" }
        }
        return (try? JSONDecoder().decode(Owner.self, from: record.payload)).flatMap { $0.tenant ?? $0.keyID }
    }

    enum CodingKeys: String, CodingKey {
        case inputs, carousel, preset, type, fit, tenant, limits
        case fitDuration = "fit_duration"
        case targets, trace
        case keyID = "key_id", requestID = "request_id"
    }
}

/// A job as the API shows it (SPEC §6): `data.job` in a 202, `data` in a poll.
struct JobView: Encodable, Sendable {
    let id: String
    let status: JobStatus
    let stage: String?
    let progress: Double
    let media: JSONValue?
    let error: ErrorBody?
    let targets: [TargetOutcome]?
    let attempts: Int
    let createdAt: String
    let updatedAt: String

    /// `present` shows stored items as clients see them (addresses made on read).
    init(_ record: JobRecord, present: (MediaItem) -> MediaItem) {
        id = record.id
        status = record.status
        stage = record.stage
        progress = record.progress
        let failure = record.status == .failed || record.status == .cancelled
            ? record.error.flatMap { try? JSONDecoder().decode(KilnError.self, from: $0) } : nil
        error = failure.map { ErrorBody($0.shown(requestID: record.id)) }
        // A job for several targets: their outcomes, whether some or none succeeded; else its media.
        let succeeded = record.status == .succeeded ? record.result : nil
        let stored = succeeded.flatMap { try? JSONDecoder().decode(TargetsAnswer.self, from: $0) }
            ?? failure?.details["targets"].flatMap { try? JSONDecoder().decode([TargetOutcome].self, from: JobRunner.encode($0)) }
                .map(TargetsAnswer.init)
        targets = stored?.targets.map { $0.presented(present).shown(requestID: record.id) }
        media = stored == nil ? succeeded.flatMap { Self.media($0, kind: record.kind, present: present) } : nil
        attempts = record.attempts
        createdAt = record.createdAt.formatted(.iso8601)
        updatedAt = record.updatedAt.formatted(.iso8601)
    }

    /// The stored result (an item, or a carousel with its items) with its items presented.
    private static func media(_ result: Data, kind: String, present: (MediaItem) -> MediaItem) -> JSONValue? {
        let decoder = JSONDecoder()
        if kind == "carousel" {
            guard let stored = try? decoder.decode(CarouselResult.self, from: result) else { return nil }
            return JobRunner.json(CarouselResult(carousel: stored.carousel, items: stored.items.map(present)))
        }
        return (try? decoder.decode(MediaItem.self, from: result)).map { JobRunner.json(present($0)) }
    }

    enum CodingKeys: String, CodingKey {
        case id, status, stage, progress, media, error, targets, attempts
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
