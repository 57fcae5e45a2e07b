import KilnCore

/// Every size question an intake asks, answered in one place from the presets an upload is
/// for: what one file may weigh (of the kind it turns out to be, or of any kind while that is
/// not known yet) and what one request may carry (a carousel's items, a multipart body's
/// framing). The multipart route, tus, the preflight and the receiver ask it, so they agree.
/// Each target holds the file to its own limit later (the `admit` step): these are the widest.
public struct IntakeLimits: Sendable {
    /// Room for a multipart body's framing (boundaries, part headers, small fields) beyond its files.
    public static let framing: Int64 = 1 << 20

    public let presets: [Preset]

    public init(_ presets: [Preset]) { self.presets = presets }

    /// The most a file of `kind` may weigh for some target; MEDIA_001 when no target takes the kind.
    public func file(_ kind: MediaKind) throws(KilnError) -> Int64 {
        guard let limit = presets.compactMap({ $0.maxBytes(for: kind) }).max() else {
            throw KilnError.presetRejects(kind: kind, preset: presets.map(\.name).joined(separator: ", "))
        }
        return limit
    }

    /// The most a file of any kind may weigh (before its first bytes say what it is).
    public var anyFile: Int64 { presets.map(Self.largestFile).max() ?? 0 }

    /// The most one request may carry: its largest file, or for a carousel the largest of the
    /// kinds it holds times its item count; with room for the multipart framing.
    public func request(carousel: Bool) -> Int64 {
        presets.map { preset in
            guard carousel, let rules = preset.carousel else { return Self.largestFile(preset) + Self.framing }
            // Only the kinds the carousel holds: Bluesky's four images, not four of its videos.
            let file = rules.kinds.compactMap(preset.maxBytes(for:)).max() ?? 0
            return file * Int64(rules.maxItems) + Self.framing
        }.max() ?? 0
    }

    /// FILE_004 (the request) when a size declared up front (Content-Length, Upload-Length) or
    /// counted so far is over `limit`.
    public static func check(_ size: Int64?, within limit: Int64) throws(KilnError) {
        if let size, size > limit { throw KilnError.requestTooLarge(size: size, limit: limit) }
    }

    /// FILE_004 (the file, named by its kind) when a file of `kind` is over `limit`.
    public static func check(file size: Int64, within limit: Int64, kind: MediaKind) throws(KilnError) {
        guard size <= limit else { throw KilnError.tooLarge(size: size, limit: limit, kind: kind) }
    }

    private static func largestFile(_ preset: Preset) -> Int64 { MediaKind.allCases.compactMap(preset.maxBytes(for:)).max() ?? 0 }
}
