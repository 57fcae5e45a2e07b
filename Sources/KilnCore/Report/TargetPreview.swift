/// What one target would make of an upload, told from its headers before it is sent (preflight):
/// `accepted` as it is, `changed` (and how: "cropped to 4:5", "re-encoded opus audio to AAC"), or
/// `rejected` with the code the upload would get. Nothing is stored.
public struct TargetPreview: Codable, Sendable, Equatable {
    public let target: String
    public let status: TargetOutcome.Status
    /// What the target would change, in the words an upload's warnings use.
    public let changes: [String]
    /// Rules a header cannot settle (a video's key frames and peak bitrate, read from its
    /// packets once it is uploaded): assumed met here.
    public let unchecked: [String]
    public let error: KilnError?
    public let failedItem: TargetOutcome.FailedItem?
    /// The account limits the target was narrowed to, when the request gave some.
    public var limits: AccountLimits?

    public init(target: String, changes: [String], unchecked: [String] = []) {
        self.target = target
        status = changes.isEmpty ? .accepted : .changed
        self.changes = changes
        self.unchecked = unchecked
        error = nil
        failedItem = nil
    }

    public init(target: String, error: KilnError, failedItem: TargetOutcome.FailedItem? = nil) {
        self.target = target
        status = .rejected
        changes = []
        unchecked = []
        self.error = error
        self.failedItem = failedItem
    }

    /// The same preview with its error as a client is shown it.
    public func shown(requestID: String) -> TargetPreview {
        guard let error else { return self }
        var shown = TargetPreview(target: target, error: error.shown(requestID: requestID), failedItem: failedItem)
        shown.limits = limits
        return shown
    }

    enum CodingKeys: String, CodingKey {
        case target, status, changes, unchecked, error, limits
        case failedItem = "failed_item"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(status, forKey: .status)
        try c.encode(changes, forKey: .changes)
        try c.encode(unchecked, forKey: .unchecked)
        if let error { try c.encode(ErrorBody(error), forKey: .error) }
        try c.encodeIfPresent(failedItem, forKey: .failedItem)
        try c.encodeIfPresent(limits, forKey: .limits)
    }
}
