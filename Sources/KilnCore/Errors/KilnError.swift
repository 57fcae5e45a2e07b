/// The one error type the pipeline throws: a catalog code, a message that says what to do,
/// and machine-readable details (limits and actual values).
///
/// Factories for each situation live in `KilnError+Factories.swift`, so a message is written once.
public struct KilnError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public var details: [String: JSONValue]

    public init(_ code: ErrorCode, _ message: String, details: [String: JSONValue] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var entry: CatalogEntry { code.entry }

    /// Kiln's own fault, not the input's or a passing outage (an output that failed its check, an
    /// engine failure): what an operator is shown in the logs.
    public var isKilnsOwnFault: Bool { entry.httpStatus >= 500 && !entry.retryable }

    /// Codes whose message may hold the server's own internals: paths, SQL, bucket names, a
    /// library's text. (FILE_002 from a server names a stored object: its bucket and key.)
    public var mayShowInternals: Bool {
        [.file002, .file006, .file007, .processing001, .processing002, .api005].contains(code)
    }

    /// The error as a client of the server is shown it: for codes that may hold internals, the
    /// catalog's title and what to do, naming the request whose log line keeps the detail;
    /// others as they are.
    public func shown(requestID: String) -> KilnError {
        guard mayShowInternals else { return self }
        let advice = switch code {
        case .file002: "a file the server stored is missing from its storage; tell its operator"
        case .file006: "the server's storage or database did not answer; retry later"
        case .file007: "the server's storage is not configured; tell its operator"
        case .processing001: "the image could not be processed; retry, and report the request id if it persists"
        case .processing002: "the video could not be processed; retry, and report the request id if it persists"
        default: "the server failed unexpectedly; retry, and report the request id if it persists"
        }
        return KilnError(code, "\(entry.title): \(advice) (the server's log has the detail under request \(requestID))",
                         details: details["retry_after_seconds"].map { ["retry_after_seconds": $0] } ?? [:])
    }

    /// The same error with one more detail.
    public func with(detail key: String, _ value: JSONValue) -> KilnError {
        var copy = self
        copy.details[key] = value
        return copy
    }
    public var description: String { "\(code.rawValue): \(message)" }

    /// Stored (job rows, `.error.json` files) as `{"code", "message", "details"}`; the
    /// catalog fields come back from the code.
    enum CodingKeys: String, CodingKey { case code, message, details }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(ErrorCode.self, forKey: .code), try c.decode(String.self, forKey: .message),
                  details: try c.decodeIfPresent([String: JSONValue].self, forKey: .details) ?? [:])
    }
}
