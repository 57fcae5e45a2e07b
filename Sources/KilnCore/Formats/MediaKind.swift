/// What a file is, as the pipeline treats it.
public enum MediaKind: String, Codable, Sendable, CaseIterable {
    case image
    case video

    /// "images", "videos": for messages.
    public var plural: String { rawValue + "s" }
}
