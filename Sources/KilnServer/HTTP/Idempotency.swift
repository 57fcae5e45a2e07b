import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// `Idempotency-Key` on a POST: the first answer per key is kept and replayed to a retry that
/// sends the same request (route, query, form fields, files); another request with the key is
/// refused (422, API_009), and a retry while the first is in flight waits (409, API_007).
struct Idempotency {
    let records: any IdempotencyStore
    let keyID: String?
    let idempotencyKey: String?
    /// The route and query, known before the body.
    let route: String

    init(request: Request, context: KilnRequestContext, records: any IdempotencyStore) async throws {
        self.records = records
        keyID = context.key?.id
        route = "\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")"
        let key = request.headers[.idempotencyKey]
        if let key, key.isEmpty || key.count > 255 {
            throw AnsweredError(error: KilnError.invalidRequest("Idempotency-Key must be 1 to 255 characters",
                                                                fields: ["Idempotency-Key": "1 to 255 characters"]),
                                closeConnection: true)
        }
        idempotencyKey = key
    }

    /// What a request's body amounts to: its options and its files' SHA-256s, in order.
    static func digest(_ options: UploadOptions, files: [String]) -> String {
        FileDigest.sha256(joining: options.canonicalLines + files)
    }

    /// Before the body: nil to go ahead (the key is marked in flight), or the first answer when
    /// the route and query are the same (its body is then compared by `answer`).
    func begin(hasBody: Bool) async throws -> IdempotencyRecords.Answer? {
        guard let keyID, let idempotencyKey else { return nil }
        guard let answer = try await records.begin(keyID: keyID, idempotencyKey: idempotencyKey, requestHash: route) else {
            return nil
        }
        if answer.inFlight { throw AnsweredError(error: KilnError.idempotencyInFlight(), closeConnection: hasBody) }
        guard answer.requestHash.split(separator: " #", maxSplits: 1).first.map(String.init) == route else {
            throw AnsweredError(error: KilnError.idempotencyReused("another route or query"), closeConnection: hasBody)
        }
        return answer
    }

    /// The first answer again, marked `Idempotent-Replayed: true`, when the body sent the same;
    /// API_009 otherwise.
    func replay(_ previous: IdempotencyRecords.Answer, sent: String) throws -> Response {
        guard previous.requestHash == route + " #" + sent else {
            throw AnsweredError(error: KilnError.idempotencyReused("other form fields or files"))
        }
        var response = Reply.raw(previous.body, status: .init(code: previous.status))
        response.headers[.idempotentReplayed] = "true"
        return response
    }

    func record(status: Int, body: Data, sent: String) async throws {
        guard let keyID, let idempotencyKey else { return }
        try await records.record(keyID: keyID, idempotencyKey: idempotencyKey,
                                 .init(requestHash: route + " #" + sent, status: status, body: body))
    }

    /// The request failed: a retry runs anew. Not cut short by the request's own cancellation
    /// (a marker left behind would hold every retry off for half an hour).
    func abandon() async {
        guard let keyID, let idempotencyKey else { return }
        let records = records
        await Task.detached { try? await records.abandon(keyID: keyID, idempotencyKey: idempotencyKey) }.value
    }
}
