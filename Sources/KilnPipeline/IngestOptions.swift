import KilnCore

/// What the caller asks of one ingest.
public struct IngestOptions: Sendable {
    /// Preset name (built-in or from the user's preset file).
    public var preset: String
    /// What the caller says the upload is; checked against the sniffed content (MEDIA_001).
    public var type: DeclaredType
    /// What to do when the aspect ratio is out of the preset's range.
    public var fit: Fit
    /// Also store the original byte for byte (unsanitized, marked so in the manifest).
    public var keepOriginal: Bool
    /// Wall-clock limit for processing one video (PROCESSING_003 past it); nil for none.
    public var timeout: Duration?
    /// Called with frames done and the expected total while a video is transcoded.
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    /// Memory one job may plan to use (estimated from the header, see `MemoryEstimate`);
    /// a job over it is refused before decoding (MEDIA_003). Nil for no budget.
    public var memoryBudget: Int64?

    public static let defaultMemoryBudget: Int64 = 2 << 30

    public init(preset: String = "default", type: DeclaredType = .auto, fit: Fit = .reject,
                keepOriginal: Bool = false, timeout: Duration? = .seconds(600),
                progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil,
                memoryBudget: Int64? = defaultMemoryBudget) {
        self.preset = preset
        self.type = type
        self.fit = fit
        self.keepOriginal = keepOriginal
        self.timeout = timeout
        self.progress = progress
        self.memoryBudget = memoryBudget
    }
}
