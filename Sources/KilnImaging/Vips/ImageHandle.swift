import CVips

/// Owns one reference to a `VipsImage`. libvips images are immutable, so a handle may be
/// shared across threads; the reference is dropped in `deinit`.
final class ImageHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<VipsImage>

    /// Takes over a reference the caller already holds.
    init(owning pointer: UnsafeMutablePointer<VipsImage>) {
        self.pointer = pointer
    }

    deinit { kiln_object_unref(pointer) }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    /// One frame's height: the whole height but for an animation, whose frames are stacked.
    var pageHeight: Int { Int(vips_image_get_page_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var pages: Int { Int(vips_image_get_n_pages(pointer)) }

    /// The libvips interpretation nick: "srgb", "cmyk", "b-w", "rgb16", "grey16", ...
    var interpretation: String {
        let value = vips_image_get_interpretation(pointer)
        return vips_enum_nick(vips_interpretation_get_type(), Int32(value.rawValue)).map { String(cString: $0) }
            ?? "unknown"
    }

    /// Bits per sample of the band format.
    var bitDepth: Int {
        switch vips_image_get_format(pointer) {
        case VIPS_FORMAT_UCHAR, VIPS_FORMAT_CHAR: 8
        case VIPS_FORMAT_USHORT, VIPS_FORMAT_SHORT: 16
        case VIPS_FORMAT_UINT, VIPS_FORMAT_INT, VIPS_FORMAT_FLOAT: 32
        default: 64
        }
    }

    var isUChar: Bool { vips_image_get_format(pointer) == VIPS_FORMAT_UCHAR }

    /// EXIF orientation 1-8; 1 when the image has none.
    var orientation: Int {
        var value: Int32 = 1
        guard vips_image_get_typeof(pointer, VIPS_META_ORIENTATION) != 0,
              vips_image_get_int(pointer, VIPS_META_ORIENTATION, &value) == 0,
              (1...8).contains(value)
        else { return 1 }
        return Int(value)
    }

    func has(field name: String) -> Bool { vips_image_get_typeof(pointer, name) != 0 }

    /// Names of every metadata field (EXIF, XMP, ICC, ...).
    var fieldNames: [String] {
        guard let fields = vips_image_get_fields(pointer) else { return [] }
        defer { g_strfreev(fields) }
        var names: [String] = []
        var index = 0
        while let name = fields[index] {
            names.append(String(cString: name))
            index += 1
        }
        return names
    }

    /// The image computed once into memory, so several encodes (a byte-limit search) decode the
    /// source once. For renditions: a 2000x2000 RGB image is 12 MB.
    func inMemory() throws(VipsFailure) -> ImageHandle {
        guard let copy = vips_image_copy_memory(pointer) else {
            throw VipsFailure(operation: "copy_memory", message: Vips.takeError())
        }
        return ImageHandle(owning: copy)
    }

    /// Computes every pixel into a packed buffer (band-interleaved, row by row).
    /// For small images only: thumbnails for ThumbHash and colour probes.
    func pixelBytes() throws(VipsFailure) -> [UInt8] {
        var size = 0
        guard let memory = vips_image_write_to_memory(pointer, &size) else {
            throw VipsFailure(operation: "write_to_memory", message: Vips.takeError())
        }
        defer { g_free(memory) }
        return Array(UnsafeRawBufferPointer(start: memory, count: size))
    }
}
