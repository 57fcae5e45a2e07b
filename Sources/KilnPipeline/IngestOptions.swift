import KilnCore

/// What the caller asks of one ingest.
public struct IngestOptions: Sendable {
    /// Preset name (built-in or from the user's preset file).
    public var preset: String
    /// What the caller says the upload is; checked against the sniffed content (MEDIA_001).
    public var type: DeclaredType
    /// What to do when the aspect ratio is out of the preset's range.
    public var fit: Fit
    /// What to do with a video longer than the preset allows: refuse it (MEDIA_005) or cut it.
    public var fitDuration: DurationFit = .reject
    /// Where a crop keeps the subject (`fit=crop`).
    public var focus: Focus = .auto
    /// Each target's account limits (`{"tiktok": {"max_duration_seconds": 180}}`): the preset is
    /// narrowed to them before anything is checked (so they are part of the item's id).
    public var limits: [String: AccountLimits] = [:]
    /// Also store the original byte for byte (unsanitized, marked so in the manifest).
    public var keepOriginal: Bool
    /// The tenant the item is made for (part of its id); nil outside the server.
    public var tenant: String?
    /// Wall-clock limit for the whole job, from its start: checks, processing and storing
    /// (PROCESSING_003 past it); nil for none.
    public var timeout: Duration?
    /// Told where the job is: received, checked, processing x%, storing x%, done.
    public var progress: (@Sendable (JobProgress) -> Void)?
    /// Memory one job may plan to use (estimated from the header, see `MemoryEstimate`);
    /// a job over it is refused before decoding (MEDIA_003). Nil for no budget.
    public var memoryBudget: Int64?

    public static let defaultMemoryBudget: Int64 = 2 << 30
    public static let defaultTimeout: Duration = .seconds(600)

    public init(preset: String = "default", type: DeclaredType = .auto, fit: Fit = .reject,
                keepOriginal: Bool = false, timeout: Duration? = defaultTimeout,
                progress: (@Sendable (JobProgress) -> Void)? = nil,
                memoryBudget: Int64? = defaultMemoryBudget, tenant: String? = nil) {
        self.preset = preset
        self.type = type
        self.fit = fit
        self.keepOriginal = keepOriginal
        self.timeout = timeout
        self.progress = progress
        self.memoryBudget = memoryBudget
        self.tenant = tenant
    }

    /// A new job's control: its deadline starts now.
    public func makeControl() -> JobControl { JobControl(timeout: timeout, progress: progress) }
}
