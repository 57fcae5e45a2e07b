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
    /// How the target frames a single file's picture (none for a carousel).
    public var frame: Frame?

    /// The target's output picture and, for a crop, the window of the source it keeps (in the
    /// source's displayed pixels): what a page draws over the first frame.
    public struct Frame: Codable, Sendable, Equatable {
        public struct Window: Codable, Sendable, Equatable {
            public let x: Int
            public let y: Int
            public let width: Int
            public let height: Int
        }

        /// The source as displayed (upright), which the window is in.
        public let sourceWidth: Int
        public let sourceHeight: Int
        public let width: Int
        public let height: Int
        public let fit: RenditionGeometry.Mode
        public let focus: Focus
        /// Around the focus point; centred for auto, whose place is found when the file is made
        /// (faces, then attention; a video's follows the subject through it).
        public let window: Window?

        enum CodingKeys: String, CodingKey {
            case width, height, fit, focus, window
            case sourceWidth = "source_width", sourceHeight = "source_height"
        }

        public init(_ geometry: RenditionGeometry, sourceWidth: Int, sourceHeight: Int) {
            (self.sourceWidth, self.sourceHeight) = (sourceWidth, sourceHeight)
            (width, height, fit, focus) = (geometry.width, geometry.height, geometry.mode, geometry.focus)
            let kept = geometry.cropWindow(sourceWidth: sourceWidth, sourceHeight: sourceHeight)
            window = geometry.mode == .crop ? Window(x: kept.x, y: kept.y, width: kept.width, height: kept.height) : nil
        }
    }

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
        case target, status, changes, unchecked, error, limits, frame
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
        try c.encodeIfPresent(frame, forKey: .frame)
    }
}
