import KilnCore

/// Where libvips' error text is read to choose a catalog code: decoder trouble is the
/// file's fault (FILE_005), anything else on a validated input is Kiln's (PROCESSING_001).
extension VipsFailure {
    private static let decoderMarkers = [
        "load", "premature end", "truncated", "corrupt", "not a known file format", "read error",
        "invalid", "bad ", "vipsjpeg", "libspng", "png2vips", "gifload", "webp", "heif", "jxl", "tiff",
        "out of order", "unexpected end", "decode", "huffman", "marker", "crc",
    ]

    /// Words that mark a line of libvips' error text as coming from a format's decoder.
    private static let formatMarkers: [String: [String]] = [
        "jpeg": ["jpeg", "jpg"], "png": ["png"], "webp": ["webp"], "gif": ["gif"], "tiff": ["tiff"],
        "heic": ["heif"], "heif": ["heif"], "avif": ["heif", "avif"], "jxl": ["jxl"],
    ]

    /// The catalog error for this failure; `decoding` says whether pixels were being read, and
    /// `format` (the input's) which lines of the error text are this job's.
    ///
    /// libvips' error buffer is process-wide: when two images fail at once, one may take both
    /// messages and the other none. Only lines naming this job's decoder are kept, and a decode
    /// failure that lost its text is still the file's.
    func kilnError(decoding: Bool, format: String? = nil) -> KilnError {
        let lines = message.split(separator: "\n").map(String.init)
        let own = format.flatMap { Self.formatMarkers[$0] }.map { markers in
            lines.filter { line in markers.contains { line.lowercased().contains($0) } }
        } ?? lines
        let text = own.first ?? lines.first ?? message
        let lostText = message == Vips.unknownError || (format != nil && own.isEmpty)
        if decoding, lostText || Self.decoderMarkers.contains(where: { text.lowercased().contains($0) }) {
            return .corrupt(lostText ? "the \(format ?? "image") data cannot be decoded" : text)
        }
        return .imageProcessing("\(operation): \(text)")
    }
}
