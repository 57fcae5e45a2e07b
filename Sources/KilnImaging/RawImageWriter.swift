import CVips
import KilnCore

/// Encodes pixels produced elsewhere (a decoded video frame) with libvips.
public enum RawImageWriter {
    /// Writes packed 8-bit RGB rows (`width * 3` bytes each, no padding) as `format` to `path`,
    /// with no metadata.
    public static func writeRGB(_ pixels: [UInt8], width: Int, height: Int, format: OutputFormat, quality: Int,
                                to path: String) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw KilnError.imageProcessing("expected \(width)x\(height) RGB pixels, got \(pixels.count) bytes")
        }
        Vips.start()
        let made = pixels.withUnsafeBytes { buffer in
            vips_image_new_from_memory_copy(buffer.baseAddress, buffer.count, Int32(width), Int32(height), 3,
                                            VIPS_FORMAT_UCHAR)
        }
        guard let made else { throw KilnError.imageProcessing("new_from_memory_copy: \(Vips.takeError())") }
        let image = ImageHandle(owning: made)
        do {
            try ImageProcessor.save(image, format: format, quality: quality, to: path)
        } catch {
            throw error.kilnError(decoding: false)
        }
    }
}
