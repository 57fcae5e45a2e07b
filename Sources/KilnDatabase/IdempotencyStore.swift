import Foundation
import KilnCore

/// The first answer to a POST made with an `Idempotency-Key`, per API key. A row with status
/// 0 marks a first request still in flight (a retry then waits, 409); a marker older than
/// `IdempotencyRecords.inFlightLimit` is one a crash left, and is taken over.
public protocol IdempotencyStore: Sendable {
    /// The answer kept for the key, or, when there is none, an in-flight marker put in its
    /// place (nil returned: go ahead). One of two requests racing gets the other's marker.
    func begin(keyID: String, idempotencyKey: String, requestHash: String, at time: Date) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    /// Keeps the first request's answer in place of its marker.
    func record(keyID: String, idempotencyKey: String, _ answer: IdempotencyRecords.Answer) async throws(KilnError)
    /// The first request failed before an answer worth keeping: its marker goes, a retry runs anew.
    func abandon(keyID: String, idempotencyKey: String) async throws(KilnError)
    /// Forgets answers (and markers) made before `time`.
    func prune(before time: Date) async throws(KilnError)
}

extension IdempotencyStore {
    public func begin(keyID: String, idempotencyKey: String, requestHash: String) async throws(KilnError)
        -> IdempotencyRecords.Answer?
    {
        try await begin(keyID: keyID, idempotencyKey: idempotencyKey, requestHash: requestHash, at: Date())
    }
}

/// What both idempotency stores share.
public enum IdempotencyRecords {
    /// Longer than any request may take (the pipeline's own deadline is 10 minutes).
    public static let inFlightLimit: TimeInterval = 30 * 60

    public struct Answer: Sendable, Equatable {
        /// What was asked: the route and query, then a digest of the form fields and files (a
        /// retry with another request is refused).
        public let requestHash: String
        /// 0 while the first request is in flight.
        public let status: Int
        public let body: Data

        public var inFlight: Bool { status == 0 }

        public init(requestHash: String, status: Int, body: Data) {
            self.requestHash = requestHash
            self.status = status
            self.body = body
        }
    }
}
