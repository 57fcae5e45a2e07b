import KilnCore

/// Reads an image's header with the loader its sniffed format names: dimensions, orientation,
/// colour space, depth, alpha, pages. No pixel is decoded, so a 625-megapixel bomb costs
/// milliseconds.
public enum ImageProber {
    /// Header facts of the image at `path`, whose sniffed format is `format`.
    public static func facts(path: String, format: MediaFormat, sizeBytes: Int64) throws -> ImageFacts {
        let image: ImageHandle?
        do {
            image = try VipsOperation.call(format.decoder, [
                "filename": .string(path), "access": .string("sequential"), "fail_on": .string("error"),
            ])
        } catch {
            throw KilnError.corrupt("the \(format.name) header cannot be read (\(error.message.split(separator: "\n").first ?? ""))")
        }
        guard let image else { throw KilnError.imageProcessing("\(format.decoder) returned no image") }
        return ImageFacts(
            format: format.name, mime: format.mime, sizeBytes: sizeBytes, width: image.width, height: image.height,
            orientation: image.orientation, colorSpace: image.interpretation, bands: image.bands,
            bitDepth: image.bitDepth, hasAlpha: image.hasAlpha, hasICCProfile: image.has(field: "icc-profile-data"),
            pages: image.pages, metadata: metadataBlocks(image.fieldNames))
    }

    /// Which metadata blocks the header carries, from libvips' field names.
    static func metadataBlocks(_ fields: [String]) -> [String] {
        var blocks: [String] = []
        if fields.contains("exif-data") { blocks.append("exif") }
        if fields.contains(where: { $0.hasPrefix("exif-ifd3-") || $0.contains("GPS") }) { blocks.append("gps") }
        if fields.contains("xmp-data") { blocks.append("xmp") }
        if fields.contains("iptc-data") { blocks.append("iptc") }
        if fields.contains("icc-profile-data") { blocks.append("icc") }
        return blocks
    }
}
