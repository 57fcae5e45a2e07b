import KilnCore

/// sniff: libmagic on the first bytes decides the format; the allow-list is `MediaFormat.all`.
/// Then the declared type (`--type`) must match what the content is.
extension Step {
    static let sniff = Step(name: "sniff") { context, environment in
        let mime = try environment.sniffer.mimeType(ofFileAt: context.path)
        context.mime = mime
        guard let format = MediaFormat.forMIME(mime) else { throw KilnError.unsupportedFormat(mime: mime) }
        context.format = format
        let declared: MediaKind? = switch context.options.type {
        case .image: .image
        case .video: .video
        case .auto, .carousel: nil
        }
        if let declared, declared != format.kind {
            throw KilnError.typeMismatch(declared: declared, actual: format.kind, mime: mime)
        }
    }
}
