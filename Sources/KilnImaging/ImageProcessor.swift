import KilnCore

/// Makes renditions with libvips: fail-on-error decode with shrink-on-load, EXIF auto-orient,
/// sRGB, crop or pad to the planned geometry, metadata stripped, encoded to the spec's format.
public enum ImageProcessor {
    /// What was written.
    public struct Output: Sendable, Equatable {
        public let width: Int
        public let height: Int
        /// The quality used: lower than asked when the spec's byte limit required it.
        public let quality: Int
    }

    /// Renders `spec` from the image at `path` into `outputPath`.
    ///
    /// - Parameter facts: the header facts (their displayed size plans the geometry).
    ///   A `control` stops the work mid-computation (PROCESSING_003 late, PROCESSING_005 cancelled).
    public static func render(path: String, facts: ImageFacts, spec: RenditionSpec, aspect: AspectRange?,
                              fit: Fit, outputPath: String, quality: Int? = nil,
                              control: JobControl? = nil) throws -> Output {
        if let stop = control?.stopError() { throw stop }
        let geometry = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                              spec: spec, aspect: aspect, fit: fit)
        let quality = quality ?? spec.quality
        do {
            var image = try shrink(path: path, geometry: geometry)
            image = try toSRGB(image, flatten: spec.format == .jpeg)
            if geometry.mode == .pad {
                image = try letterbox(image, width: geometry.width, height: geometry.height)
            }
            let watch = control.map(EvalWatch.init)
            watch?.watch(image)
            try withExtendedLifetime(watch) { () throws(VipsFailure) in
                try save(image, format: spec.format, quality: quality, to: outputPath)
            }
            return Output(width: image.width, height: image.height, quality: quality)
        } catch {
            if let stop = control?.stopError() { throw stop }
            throw error.kilnError(decoding: true, format: facts.format)
        }
    }

    /// Decode with shrink-on-load, auto-rotate, import any ICC profile (or CMYK) into sRGB.
    private static func shrink(path: String, geometry: RenditionGeometry) throws(VipsFailure) -> ImageHandle {
        let crop = geometry.mode == .crop
        let image = try VipsOperation.call("thumbnail", [
            "filename": .string(path),
            "width": .int(geometry.width),
            "height": .int(geometry.height),
            "size": .string(crop ? "both" : "down"),
            "crop": .string(crop ? "attention" : "none"),
            "fail_on": .string("error"),
        ])
        return try unwrap(image, "thumbnail")
    }

    /// 8-bit sRGB (grey, 16-bit and CMYK leftovers included); alpha flattened onto white for JPEG.
    private static func toSRGB(_ input: ImageHandle, flatten: Bool) throws(VipsFailure) -> ImageHandle {
        var image = input
        if image.interpretation != "srgb" || !image.isUChar {
            image = try unwrap(try VipsOperation.call("colourspace", [
                "in": .image(image), "space": .string("srgb"),
            ]), "colourspace")
        }
        if !image.isUChar {
            image = try unwrap(try VipsOperation.call("cast", ["in": .image(image), "format": .string("uchar")]), "cast")
        }
        if flatten, image.hasAlpha {
            image = try unwrap(try VipsOperation.call("flatten", [
                "in": .image(image), "background": .doubles([255, 255, 255]),
            ]), "flatten")
        }
        return image
    }

    private static func letterbox(_ image: ImageHandle, width: Int, height: Int) throws(VipsFailure) -> ImageHandle {
        let background: [Double] = image.bands == 4 ? [0, 0, 0, 0] : Array(repeating: 0, count: image.bands)
        return try unwrap(try VipsOperation.call("gravity", [
            "in": .image(image), "direction": .string("centre"), "width": .int(width), "height": .int(height),
            "extend": .string("background"), "background": .doubles(background),
        ]), "gravity")
    }

    static func save(_ image: ImageHandle, format: OutputFormat, quality: Int, to path: String)
        throws(VipsFailure)
    {
        switch format {
        case .jpeg:
            try VipsOperation.call("jpegsave", [
                "in": .image(image), "filename": .string(path), "Q": .int(quality), "strip": .bool(true),
            ])
        case .webp:
            try VipsOperation.call("webpsave", [
                "in": .image(image), "filename": .string(path), "Q": .int(quality), "strip": .bool(true),
            ])
        case .avif:
            try VipsOperation.call("heifsave", [
                "in": .image(image), "filename": .string(path), "Q": .int(quality), "strip": .bool(true),
                "compression": .string("av1"),
            ])
        case .png:
            try VipsOperation.call("pngsave", ["in": .image(image), "filename": .string(path), "strip": .bool(true)])
        case .mp4:
            throw VipsFailure(operation: "save", message: "libvips does not write video")
        }
    }

    static func unwrap(_ image: ImageHandle?, _ operation: String) throws(VipsFailure) -> ImageHandle {
        guard let image else { throw VipsFailure(operation: operation, message: "produced no image") }
        return image
    }
}

extension Error {
    /// The catalog error for anything thrown while imaging.
    func kilnError(decoding: Bool, format: String? = nil) -> KilnError {
        switch self {
        case let error as KilnError: error
        case let error as VipsFailure: error.kilnError(decoding: decoding, format: format)
        default: .imageProcessing(String(describing: self))
        }
    }
}
