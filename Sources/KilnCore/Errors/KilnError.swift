/// The one error type the pipeline throws: a catalog code, a message that says what to do,
/// and machine-readable details (limits and actual values).
///
/// Factories for each situation live in `KilnError+Factories.swift`, so a message is written once.
public struct KilnError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public var details: [String: JSONValue]

    public init(_ code: ErrorCode, _ message: String, details: [String: JSONValue] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var entry: CatalogEntry { code.entry }

    /// The same error with one more detail.
    public func with(detail key: String, _ value: JSONValue) -> KilnError {
        var copy = self
        copy.details[key] = value
        return copy
    }
    public var description: String { "\(code.rawValue): \(message)" }
}
