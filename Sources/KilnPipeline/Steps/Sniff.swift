import KilnCore

/// sniff: libmagic on the first bytes decides the format; the allow-list is `MediaFormat.all`.
/// Then the declared type (`--type`) must match what the content is.
extension Step {
    static let sniff = Step(name: "sniff") { context, environment in
        let mime = try environment.sniffer.mimeType(ofFileAt: context.path)
        context.mime = mime
        let declared: MediaKind? = switch context.options.type {
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
        context.format = format
    }
}
