/// One row of the error catalog: everything a client, an operator or a doc page needs about a code.
public struct CatalogEntry: Codable, Sendable, Equatable {
    public let code: ErrorCode
    public let category: ErrorCategory
    public let severity: Severity
    /// The HTTP status the API answers with; the CLI maps entries to exit codes at its edge.
    public let httpStatus: Int
    /// Whether the same request may succeed later unchanged.
    public let retryable: Bool
    public let title: String
    /// The message template; placeholders in `{braces}` are filled by the error's factory.
    public let message: String
    public let causes: [String]
    public let solutions: [String]

    enum CodingKeys: String, CodingKey {
        case code, category, severity, retryable, title, message, causes, solutions
        case httpStatus = "http_status"
    }
}
