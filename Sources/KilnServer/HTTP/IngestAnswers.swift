import Foundation
import HTTPTypes
import KilnCore
import KilnQueue

/// What the ingest service answered, as HTTP: a queued job (videos) 202 with the job, media made
/// now 201 (200 when reused), an upload with `targets` one outcome per target (`TargetsAnswer`).
/// The multipart routes answer it; a resumable upload keeps it as its result.
struct IngestAnswers: Sendable {
    /// Shows stored items as clients see them (addresses and fetch URLs made on read).
    let present: @Sendable (MediaItem) -> MediaItem

    /// The status and envelope, and the job or media made.
    struct Outcome {
        let status: HTTPResponse.Status
        let body: Data
        var jobID: String?
        var mediaID: String?

        /// Where what it made can be read.
        var location: String? { jobID.map { "/v1/jobs/\($0)" } ?? mediaID.map { "/v1/media/\($0)" } }
    }

    func outcome(_ answer: IngestAnswer, requestID: String) throws -> Outcome {
        switch answer {
        case .queued(let job):
            return Outcome(status: .accepted, body: try envelope(["job": JobView(job, present: present)], requestID: requestID),
                           jobID: job.id)
        case .made(.targets(let outcomes)):
            let answer = TargetsAnswer(outcomes.map { $0.presented(present).shown(requestID: requestID) })
            return Outcome(status: answer.status, body: try answer.body(requestID: requestID))
        case .made(.carousel(let record, let items)):
            return Outcome(status: .created, body: try envelope(CarouselResult(carousel: record, items: items.map(present)),
                                                                requestID: requestID), mediaID: record.id)
        case .made(.item(let item)):
            return Outcome(status: item.reused ? .ok : .created, body: try envelope(present(item), requestID: requestID),
                           mediaID: item.id)
        }
    }

    private func envelope<Payload: Encodable & Sendable>(_ data: Payload, requestID: String) throws -> Data {
        try Reply.encoder.encode(Envelope.success(data, meta: Meta(requestId: requestID)))
    }
}
