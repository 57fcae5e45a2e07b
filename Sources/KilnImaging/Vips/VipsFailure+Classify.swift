import KilnCore

/// Where libvips' error text is read to choose a catalog code: decoder trouble is the
/// file's fault (FILE_005), anything else on a validated input is Kiln's (PROCESSING_001).
extension VipsFailure {
    private static let decoderMarkers = [
        "load", "premature end", "truncated", "corrupt", "not a known file format", "read error",
        "invalid", "bad ", "vipsjpeg", "libspng", "png2vips", "gifload", "webp", "heif", "jxl", "tiff",
        "out of order", "unexpected end", "decode", "huffman", "marker", "crc",
    ]

    /// The catalog error for this failure; `decoding` says whether pixels were being read.
    ///
    /// libvips' error buffer is process-wide: when two images fail at once, one may take both
    /// messages and the other none. A decode failure that lost its text is still the file's.
    func kilnError(decoding: Bool) -> KilnError {
        let text = message.lowercased()
        let lostText = message == Vips.unknownError
        if decoding, lostText || Self.decoderMarkers.contains(where: { text.contains($0) }) {
            return .corrupt(Self.firstLine(message))
        }
        return .imageProcessing("\(operation): \(Self.firstLine(message))")
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n").first ?? Substring(text))
    }
}
