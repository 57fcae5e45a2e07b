import Foundation

/// The one JSON shape of every outcome (SPEC §4):
/// `{"success": false, "error": {...}, "meta": {...}}` or `{"success": true, "data": {...}, "meta": {...}}`.
public struct Envelope<Payload: Encodable & Sendable>: Encodable, Sendable {
    public let success: Bool
    public let data: Payload?
    public let error: ErrorBody?
    public let meta: Meta

    public static func success(_ data: Payload, meta: Meta = Meta()) -> Envelope {
        Envelope(success: true, data: data, error: nil, meta: meta)
    }

    /// Several independent items of which some failed: `success` is false, each item carries its own error.
    public static func partial(_ data: Payload, meta: Meta = Meta()) -> Envelope {
        Envelope(success: false, data: data, error: nil, meta: meta)
    }

    public static func failure(_ error: KilnError, meta: Meta = Meta()) -> Envelope {
        Envelope(success: false, data: nil, error: ErrorBody(error), meta: meta)
    }

    /// A failure about something the data names (a batch's input): both are shown.
    public static func failure(_ error: KilnError, data: Payload, meta: Meta = Meta()) -> Envelope {
        Envelope(success: false, data: data, error: ErrorBody(error), meta: meta)
    }

    /// Compact, key-sorted JSON on one line: for JSON lines.
    public func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Pretty, key-sorted JSON: stable for scripts and diffs.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(success, forKey: .success)
        try container.encodeIfPresent(data, forKey: .data)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encode(meta, forKey: .meta)
    }

    enum CodingKeys: String, CodingKey { case success, data, error, meta }
}

/// A failure as the envelope shows it.
public struct ErrorBody: Codable, Sendable, Equatable {
    public let code: ErrorCode
    public let message: String
    public let category: ErrorCategory
    public let severity: Severity
    public let retryable: Bool
    public let details: [String: JSONValue]

    public init(_ error: KilnError) {
        let entry = error.entry
        code = error.code
        message = error.message
        category = entry.category
        severity = entry.severity
        retryable = entry.retryable
        details = error.details
    }
}

/// Request id and time of an envelope.
public struct Meta: Codable, Sendable {
    public let requestId: String
    public let timestamp: String

    public init(requestId: String = RequestID.make(), date: Date = Date()) {
        self.requestId = requestId
        self.timestamp = date.formatted(.iso8601)
    }

    enum CodingKeys: String, CodingKey {
        case requestId = "request_id"
        case timestamp
    }
}

/// Sortable request ids: `req_` + 48-bit milliseconds + 80 random bits, Crockford base32 (ULID layout).
public enum RequestID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func make(date: Date = Date()) -> String {
        var characters: [Character] = []
        var time = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var timePart: [Character] = []
        for _ in 0..<10 {
            timePart.append(alphabet[Int(time & 31)])
            time >>= 5
        }
        characters.append(contentsOf: timePart.reversed())
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 { characters.append(alphabet[Int(generator.next() & 31)]) }
        return "req_" + String(characters)
    }
}
