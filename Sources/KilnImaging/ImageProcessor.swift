import Foundation
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
        /// The size the geometry planned, before a byte limit shrank it (equal when it did not).
        public let plannedWidth: Int
        public let plannedHeight: Int
    }

    /// The byte-limit search: quality down to `minQuality` by bisection, then the picture
    /// shrunk, for at most `maxShrinks` rounds; about 20 encodes at worst, never an open loop.
    static let minQuality = 40
    static let maxShrinks = 5

    /// A source decoded once, upright and in sRGB, at the size the largest of several renditions
    /// needs: they are all made from it (one decode for every target of an upload).
    public final class Decoded: Sendable {
        let image: ImageHandle
        public var width: Int { image.width }
        public var height: Int { image.height }

        init(_ image: ImageHandle) { self.image = image }
    }

    /// One rendition to make: its spec, and the shape rule of the target it is for.
    public struct Plan: Sendable {
        public let spec: RenditionSpec
        public let aspect: AspectRange?
        public let fit: Fit
        public let focus: Focus

        public init(spec: RenditionSpec, aspect: AspectRange?, fit: Fit, focus: Focus = .auto) {
            self.spec = spec
            self.aspect = aspect
            self.fit = fit
            self.focus = focus
        }
    }

    /// Decodes the image at `path` once into memory, large enough for every plan in `plans`
    /// (never larger than the source): shrink-on-load, auto-orient, sRGB, 8 bits.
    public static func decode(path: String, facts: ImageFacts, for plans: [Plan], control: JobControl? = nil)
        throws -> Decoded
    {
        if let stop = control?.stopError() { throw stop }
        let (sw, sh) = (Double(max(1, facts.displayWidth)), Double(max(1, facts.displayHeight)))
        // The scale each rendition takes of the source: a crop covers its box, the others fit in it.
        let scale = min(1, plans.map { plan in
            let g = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                           spec: plan.spec, aspect: plan.aspect, fit: plan.fit)
            let (x, y) = (Double(g.width) / sw, Double(g.height) / sh)
            return g.fills ? min(x, y) : max(x, y)
        }.max() ?? 1)
        // Exactly the largest plan's size: that rendition is then the decode itself, with no resample.
        let width = min(Int(sw), max(1, Int((sw * scale).rounded())))
        let height = min(Int(sh), max(1, Int((sh * scale).rounded())))
        do {
            var image = try shrink(path: path, geometry: RenditionGeometry(mode: .within, width: width, height: height))
            image = try toSRGB(image, flatten: false)
            let watch = control.map(EvalWatch.init)
            watch?.watch(image)
            return Decoded(try withExtendedLifetime(watch) { () throws(VipsFailure) in try image.inMemory() })
        } catch {
            if let stop = control?.stopError() { throw stop }
            throw error.kilnError(decoding: true, format: facts.format)
        }
    }

    /// Renders `spec` from the image at `path` into `outputPath`.
    ///
    /// - Parameter facts: the header facts (their displayed size plans the geometry).
    ///   A `control` stops the work mid-computation (PROCESSING_003 late, PROCESSING_005 cancelled).
    /// - Parameter decoded: the source already decoded (`decode(path:facts:for:)`); the file is
    ///   then not read again.
    /// - Parameter faces: the input's faces (`faces(path:decoded:)`, looked for once per input):
    ///   a crop with focus auto keeps them, else libvips' attention decides.
    public static func render(path: String, facts: ImageFacts, spec: RenditionSpec, aspect: AspectRange?,
                              fit: Fit, focus: Focus = .auto, faces: [Face] = [], outputPath: String, quality: Int? = nil,
                              decoded: Decoded? = nil, control: JobControl? = nil) throws -> Output {
        if let stop = control?.stopError() { throw stop }
        var geometry = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                              spec: spec, aspect: aspect, fit: fit, focus: focus)
        let quality = quality ?? spec.quality
        do {
            if geometry.mode == .crop, geometry.focus == .auto, spec.format != .gif, let point = Face.focus(of: faces) {
                geometry = RenditionGeometry(mode: .crop, width: geometry.width, height: geometry.height, focus: point)
            }
            // A GIF kept animated is read whole (every frame), and each frame resized.
            var image = try decoded.map { decoded throws(VipsFailure) in try derive(decoded.image, geometry: geometry) }
                ?? shrink(path: path, geometry: geometry, allPages: spec.format == .gif,
                          enlarge: geometry.width > facts.displayWidth, source: (facts.displayWidth, facts.displayHeight))
            image = try toSRGB(image, flatten: spec.format == .jpeg)
            if geometry.mode == .pad {
                image = try letterbox(image, width: geometry.width, height: geometry.height)
            } else if geometry.mode == .blur {
                image = try blurredFill(image, width: geometry.width, height: geometry.height)
            }
            let watch = control.map(EvalWatch.init)
            watch?.watch(image)
            if let limit = spec.maxBytes, spec.format != .png {
                let planned = (image.width, image.pageHeight)
                let fitted = try withExtendedLifetime(watch) { () throws(VipsFailure) in
                    try fitBytes(try image.inMemory(), format: spec.format, quality: quality, limit: limit,
                                 to: outputPath, control: control)
                }
                return Output(width: fitted.image.width, height: fitted.image.pageHeight, quality: fitted.quality,
                              plannedWidth: planned.0, plannedHeight: planned.1)
            }
            try withExtendedLifetime(watch) { () throws(VipsFailure) in
                try save(image, format: spec.format, quality: quality, to: outputPath)
            }
            return Output(width: image.width, height: image.pageHeight, quality: quality, plannedWidth: image.width,
                          plannedHeight: image.pageHeight)
        } catch {
            if let stop = control?.stopError() { throw stop }
            throw error.kilnError(decoding: true, format: facts.format)
        }
    }

    /// Writes `image` at the highest quality (from `quality` down to `minQuality`) whose file fits
    /// `limit` bytes; when none does, shrinks the picture by the square root of the overshoot and
    /// searches again. Bounded: at most `maxShrinks` shrinks of about five encodes each.
    private static func fitBytes(_ start: ImageHandle, format: OutputFormat, quality: Int, limit: Int64,
                                 to path: String, control: JobControl?) throws(VipsFailure)
        -> (image: ImageHandle, quality: Int)
    {
        var image = start
        for _ in 0...maxShrinks {
            if control?.isStopped == true { break }
            var written = 0
            func size(at q: Int) throws(VipsFailure) -> Int64 {
                try save(image, format: format, quality: q, to: path)
                written = q
                var info = stat()
                return stat(path, &info) == 0 ? Int64(info.st_size) : Int64.max
            }
            if try size(at: quality) <= limit { return (image, quality) }
            let floor = min(quality, minQuality)
            let smallest = try size(at: floor)
            if smallest <= limit {
                // The highest quality in (floor, quality) that fits: bisection, about four encodes.
                var (low, high) = (floor, quality)
                while high - low > 1 {
                    let mid = (low + high) / 2
                    if try size(at: mid) <= limit { low = mid } else { high = mid }
                }
                if written != low { _ = try size(at: low) }
                return (image, low)
            }
            // Too big even at the floor: bytes scale roughly with pixels.
            let scale = min(0.9, (Double(limit) / Double(smallest)).squareRoot() * 0.95)
            guard image.width > 16, image.height > 16 else { break }
            image = try unwrap(try VipsOperation.call("resize", ["in": .image(image), "scale": .double(scale)]), "resize")
                .inMemory()
        }
        throw VipsFailure(operation: "fit bytes", message: "no encode of the image fits \(limit) bytes")
    }

    /// Decode with shrink-on-load, auto-rotate, import any ICC profile (or CMYK) into sRGB.
    private static func shrink(path: String, geometry: RenditionGeometry, allPages: Bool = false,
                               enlarge: Bool = false, source: (Int, Int)? = nil) throws(VipsFailure)
        -> ImageHandle
    {
        let crop = geometry.mode == .crop
        if crop, case .point = geometry.focus, let (sw, sh) = source {
            // Shrunk on load only to cover the box, then the window around the point.
            let scale = max(Double(geometry.width) / Double(max(1, sw)), Double(geometry.height) / Double(max(1, sh)))
            let covering = try unwrap(try VipsOperation.call("thumbnail", [
                "filename": .string(allPages ? path + "[n=-1]" : path),
                "width": .int(Int((Double(sw) * scale).rounded(.up)) + 1),
                "height": .int(Int((Double(sh) * scale).rounded(.up)) + 1),
                "size": .string("both"), "crop": .string("none"), "fail_on": .string("error"),
            ]), "thumbnail")
            return try window(covering, geometry: geometry)
        }
        // Loader options ride on the file name, as libvips reads them: every frame of an animation.
        let image = try VipsOperation.call("thumbnail", [
            "filename": .string(allPages ? path + "[n=-1]" : path),
            "width": .int(geometry.width),
            "height": .int(geometry.height),
            "size": .string(crop || enlarge ? "both" : "down"),
            "crop": .string(crop ? cropNick(geometry.focus) : "none"),
            "fail_on": .string("error"),
        ])
        return try unwrap(image, "thumbnail")
    }

    /// The faces in the picture as shown: dlib's detector on a grey copy `FaceFinder.side` long,
    /// made from `decoded` when there is one, else from the file (shrunk on load, so cheap).
    public static func faces(path: String, facts: ImageFacts, decoded: Decoded? = nil) throws -> [Face] {
        do {
            return try faces(path: path, decoded: decoded?.image)
        } catch {
            throw error.kilnError(decoding: true, format: facts.format)
        }
    }

    static func faces(path: String, decoded: ImageHandle?) throws(VipsFailure) -> [Face] {
        let side = FaceFinder.side
        let shrunk = if let decoded {
            try VipsOperation.call("thumbnail_image", ["in": .image(decoded), "width": .int(side), "height": .int(side),
                                                       "size": .string("down")])
        } else {
            try VipsOperation.call("thumbnail", ["filename": .string(path), "width": .int(side), "height": .int(side),
                                                 "size": .string("down"), "fail_on": .string("error")])
        }
        let small = try unwrap(shrunk, "thumbnail")
        var grey = try unwrap(try VipsOperation.call("colourspace", ["in": .image(small), "space": .string("b-w")]),
                              "colourspace")
        if grey.bands > 1 {
            grey = try unwrap(try VipsOperation.call("extract_band", ["in": .image(grey), "band": .int(0)]), "extract_band")
        }
        grey = try unwrap(try VipsOperation.call("cast", ["in": .image(grey), "format": .string("uchar")]), "cast")
        let (width, height) = (grey.width, grey.height)
        let pixels = try grey.pixelBytes()
        guard pixels.count >= width * height else { return [] }
        return pixels.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { FaceFinder.faces(grey: $0, width: width, height: height, stride: width) } ?? []
        }
    }

    /// libvips' crop for a focus: its attention measure for auto, the centre for center.
    private static func cropNick(_ focus: Focus) -> String { focus == .center ? "centre" : "attention" }

    /// The box's window of `source`, scaled to cover it, kept around the focus point.
    private static func window(_ source: ImageHandle, geometry: RenditionGeometry) throws(VipsFailure) -> ImageHandle {
        guard case .point(let x, let y) = geometry.focus else { return source }
        let (w, h) = (geometry.width, geometry.height)
        let scale = max(Double(w) / Double(source.width), Double(h) / Double(source.height))
        // A hair over the cover scale, so rounding never leaves the picture a pixel short; none
        // when the source covers the box at about its size already (shrunk on load to it).
        let covered = (0.99...1).contains(scale) ? source : try unwrap(try VipsOperation.call("resize", [
            "in": .image(source), "scale": .double(scale * (1 + 1.0 / Double(max(w, h)))),
        ]), "resize")
        let (cw, ch) = (min(w, covered.width), min(h, covered.height))
        return try unwrap(try VipsOperation.call("extract_area", [
            "input": .image(covered),
            "left": .int(Focus.origin(keeping: x, window: cw, side: covered.width)),
            "top": .int(Focus.origin(keeping: y, window: ch, side: covered.height)),
            "width": .int(cw), "height": .int(ch),
        ]), "extract_area")
    }

    /// The same from an image already decoded (upright and sRGB). A shrink to fit is to the planned
    /// size exactly: fitting a box from a decode whose shape is a rounding off the source's could
    /// lose a pixel (2047 for 2048), and a scale of 1 is no resample at all. Always a new image:
    /// renditions made side by side each watch their own (a watch on the shared decode crashed).
    private static func derive(_ source: ImageHandle, geometry: RenditionGeometry) throws(VipsFailure) -> ImageHandle {
        if geometry.mode == .within {
            if source.width == geometry.width, source.height == geometry.height {
                return try unwrap(try VipsOperation.call("copy", ["in": .image(source)]), "copy")
            }
            return try unwrap(try VipsOperation.call("resize", [
                "in": .image(source),
                "scale": .double(Double(geometry.width) / Double(source.width)),
                "vscale": .double(Double(geometry.height) / Double(source.height)),
            ]), "resize")
        }
        let crop = geometry.mode == .crop
        if crop, case .point = geometry.focus { return try window(source, geometry: geometry) }
        let image = try VipsOperation.call("thumbnail_image", [
            "in": .image(source),
            "width": .int(geometry.width),
            "height": .int(geometry.height),
            "size": .string(crop ? "both" : "down"),
            "crop": .string(crop ? cropNick(geometry.focus) : "none"),
        ])
        return try unwrap(image, "thumbnail_image")
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

    /// `image` (fitted inside the box) over a blurred, darkened copy of itself that fills the
    /// box: made at an eighth of the size, so the blur costs little, then scaled up.
    private static func blurredFill(_ image: ImageHandle, width: Int, height: Int) throws(VipsFailure) -> ImageHandle {
        let (sw, sh) = (max(1, width / 8), max(1, height / 8))
        let small = try unwrap(try VipsOperation.call("thumbnail_image", [
            "in": .image(image), "width": .int(sw), "height": .int(sh), "size": .string("both"), "crop": .string("centre"),
        ]), "thumbnail_image")
        let blurred = try unwrap(try VipsOperation.call("gaussblur", [
            "in": .image(small), "sigma": .double(max(1, Double(min(sw, sh)) / 10)),
        ]), "gaussblur")
        // Darker colour; any alpha kept as it is.
        let factors: [Double] = switch image.bands {
        case 2: [0.75, 1]
        case 4: [0.75, 0.75, 0.75, 1]
        default: [0.75]
        }
        let darker = try unwrap(try VipsOperation.call("linear", [
            "in": .image(blurred), "a": .doubles(factors), "b": .doubles(factors.map { _ in 0 }), "uchar": .bool(true),
        ]), "linear")
        let fill = try unwrap(try VipsOperation.call("resize", [
            "in": .image(darker), "scale": .double(Double(width) / Double(darker.width)),
            "vscale": .double(Double(height) / Double(darker.height)),
        ]), "resize")
        return try unwrap(try VipsOperation.call("insert", [
            "main": .image(fill), "sub": .image(image),
            "x": .int((width - image.width) / 2), "y": .int((height - image.height) / 2),
            "expand": .bool(false),
        ]), "insert")
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
        case .gif:
            try VipsOperation.call("gifsave", ["in": .image(image), "filename": .string(path), "strip": .bool(true)])
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
