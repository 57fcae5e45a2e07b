import Foundation
import KilnCore
import KilnDatabase
import KilnQueue

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
        let result = record.status == .succeeded ? record.result.flatMap { try? JSONDecoder().decode(JobResult.self, from: $0) } : nil
        let failedTargets = failure?.details["targets"].flatMap {
            try? JSONDecoder().decode([TargetOutcome].self, from: JobRunner.encode($0))
        }
        switch result {
        case .targets(let outcomes)?:
            targets = outcomes.map { $0.presented(present).shown(requestID: record.id) }
            media = nil
        case .carousel(let carousel, let items)?:
            targets = nil
            media = JobRunner.json(CarouselResult(carousel: carousel, items: items.map(present)))
        case .item(let item)?:
            targets = nil
            media = JobRunner.json(present(item))
        case nil:
            targets = failedTargets?.map { $0.presented(present).shown(requestID: record.id) }
            media = nil
        }
        attempts = record.attempts
        createdAt = record.createdAt.formatted(.iso8601)
        updatedAt = record.updatedAt.formatted(.iso8601)
    }

    enum CodingKeys: String, CodingKey {
        case id, status, stage, progress, media, error, targets, attempts
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A carousel as the API shows it.
struct CarouselResult: Encodable, Sendable {
    let carousel: CarouselRecord
    let items: [MediaItem]

    /// The carousel as a client is shown it (no server path), with its items as given.
    init(carousel: CarouselRecord, items: [MediaItem]) {
        self.carousel = carousel.shown
        self.items = items
    }
}
