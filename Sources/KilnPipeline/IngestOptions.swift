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

    public init(preset: String = "default", type: DeclaredType = .auto, fit: Fit = .reject,
                keepOriginal: Bool = false) {
        self.preset = preset
        self.type = type
        self.fit = fit
        self.keepOriginal = keepOriginal
    }
}
