import Foundation
import KilnCore
import KilnDatabase

/// `GET /v1/uploads/{id}`.
struct UploadView: Encodable, Sendable {
    let id: String
    let offset: Int64
    let length: Int64?
    let expiresAt: String
    let metadata: [String: String]
    /// receiving | processing | succeeded | failed
    let state: String
    /// The media or job the upload made.
    let location: String?
    let error: ErrorBody?
    /// An upload for several targets: one outcome per target.
    let targets: [TargetOutcome]?

    init(_ record: UploadRecord) {
        id = record.id
        offset = record.offset
        length = record.length
        expiresAt = record.expiresAt.formatted(.iso8601)
        metadata = record.metadata
        location = record.result?.location
        struct Answer: Decodable {
            let error: ErrorBody?
            /// Only an answer for targets has them; an item's data is not read here.
            let data: TargetsAnswer?

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                error = try c.decodeIfPresent(ErrorBody.self, forKey: .error)
                data = try? c.decodeIfPresent(TargetsAnswer.self, forKey: .data)
            }

            enum CodingKeys: String, CodingKey { case error, data }
        }
        let answer = record.result.flatMap { try? JSONDecoder().decode(Answer.self, from: $0.body) }
        error = answer?.error
        targets = answer?.data?.targets
        state = switch (record.isComplete, record.result) {
        case (false, _): "receiving"
        case (true, nil): "processing"
        case (true, let result?): result.status < 300 ? "succeeded" : "failed"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, offset, length, metadata, state, location, error, targets
        case expiresAt = "expires_at"
    }
}
