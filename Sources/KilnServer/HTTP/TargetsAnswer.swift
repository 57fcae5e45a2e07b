import Foundation
import HTTPTypes
import KilnCore

/// The answer to an upload with `targets`: `data.targets` holds one outcome per target, and the
/// status says how many succeeded: 201 all (200 when every item was stored before), 207 some,
/// and none: the status of the code they all share, else 422 (the first target's error is the
/// envelope's `error`).
struct TargetsAnswer: Codable, Sendable {
    let targets: [TargetOutcome]

    init(_ targets: [TargetOutcome]) { self.targets = targets }

    var status: HTTPResponse.Status {
        switch TargetOutcome.tally(targets) {
        case .all: targets.allSatisfy { $0.items.allSatisfy(\.reused) } ? .ok : .created
        case .some: HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status")
        case .none:
            Set(targets.compactMap(\.error?.code)).count == 1
                ? HTTPResponse.Status(code: targets[0].error?.entry.httpStatus ?? 422) : .unprocessableContent
        }
    }

    func body(requestID: String) throws -> Data {
        let meta = Meta(requestId: requestID)
        let envelope: Envelope<TargetsAnswer> = switch TargetOutcome.tally(targets) {
        case .all: .success(self, meta: meta)
        case .some: .partial(self, meta: meta)
        case .none: .failure(targets.first?.error ?? KilnError.internalError("no target"), data: self, meta: meta)
        }
        return try Reply.encoder.encode(envelope)
    }
}
