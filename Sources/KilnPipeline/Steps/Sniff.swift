import KilnCore

/// sniff: libmagic on the first bytes decides the format (an upload's was sniffed as it was
/// received, and is carried); the allow-list is `MediaFormat.all`. Then the declared type
/// (`--type`) must match what the content is.
extension Step {
    static let sniff = Step(name: "sniff") { context, environment in
        let mime = context.mime.isEmpty ? try environment.sniffer.mimeType(ofFileAt: context.path) : context.mime
        context.mime = mime
        context.format = try Sniffing.accept(mime: mime, declared: context.options.type)
    }
}

enum Sniffing {
    /// The format for a sniffed MIME type: MEDIA_001 when the content is plainly not the
    /// declared kind, FILE_003 when Kiln does not take it.
    static func accept(mime: String, declared type: DeclaredType) throws(KilnError) -> MediaFormat {
        let declared: MediaKind? = switch type {
        case .image: .image
        case .video: .video
        case .auto, .carousel: nil
        }
        let format = MediaFormat.forMIME(mime)
        let actual = format?.kind.rawValue ?? MediaFormat.family(of: mime)
        // A declared kind that the content plainly is not (a song sent as a video) is a mismatch
        // even when Kiln would not take the content at all.
        if let declared, declared.rawValue != actual, ["image", "video", "audio"].contains(actual) {
            throw KilnError.typeMismatch(declared: declared, actual: actual, mime: mime)
        }
        guard let format else { throw KilnError.unsupportedFormat(mime: mime) }
        return format
    }
}
