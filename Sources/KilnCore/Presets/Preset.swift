/// A named set of input limits, validation rules, output renditions and carousel range.
///
/// Presets are data: the built-in ones are a table (`Preset.builtIn`), and users add their own
/// from a JSON file with the same fields (snake_case), see `PresetCatalog`.
public struct Preset: Codable, Sendable, Equatable {
    public var name: String
    public var summary: String
    /// Rules for images; nil when the preset takes no images.
    public var image: ImageRules?
    /// Rules for videos; nil when the preset takes no videos.
    public var video: VideoRules?
    /// Carousel item range and the kinds it may hold; nil when the preset takes no carousels.
    public var carousel: CarouselRules?
    /// Image renditions, largest first. For a video, the poster takes the video's size and
    /// the `thumb` rendition (when there is one) is made from the poster.
    public var renditions: [RenditionSpec]
    /// Where the numbers come from (`docs/platforms.md` is made from these); empty for a user's own.
    public var sources: [RuleSource]?

    public init(name: String, summary: String, image: ImageRules?, video: VideoRules? = nil,
                carousel: CarouselRules?, renditions: [RenditionSpec], sources: [RuleSource]? = nil) {
        self.name = name
        self.summary = summary
        self.image = image
        self.video = video
        self.carousel = carousel
        self.renditions = renditions
        self.sources = sources
    }

    /// The animation rules when this preset keeps the animation of the image `facts` describe a
    /// GIF (an animated GIF, on a platform that shows GIFs).
    public func keptAnimation(_ facts: ImageFacts) -> AnimationRules? {
        guard facts.format == "gif", facts.pages > 1, let animation = image?.animation, animation.output == .gif
        else { return nil }
        return animation
    }

    /// The renditions made of the image `facts` describe: a kept GIF in place of the first.
    public func renditions(for facts: ImageFacts) -> [RenditionSpec] {
        guard let animation = keptAnimation(facts), let first = renditions.first else { return renditions }
        return [animation.gifSpec(replacing: first, frames: facts.pages)] + renditions.dropFirst()
    }

    /// The input size limit for `kind` (FILE_004 past it); nil when the preset takes no such kind.
    public func maxBytes(for kind: MediaKind) -> Int64? {
        switch kind {
        case .image: image?.maxBytes
        case .video: video?.maxBytes
        }
    }
}

/// Limits and rules for an image input.
public struct ImageRules: Codable, Sendable, Equatable {
    /// Input size limit (FILE_004), checked with `stat` or while streaming, before decoding.
    public var maxBytes: Int64
    /// Pixel limit (MEDIA_003), checked on the header, before decoding: it stops pixel bombs.
    public var maxPixels: Int
    public var minWidth: Int
    public var minHeight: Int
    /// Allowed width/height range (MEDIA_004 under `--fit reject`); nil when any shape goes.
    public var aspect: AspectRange?
    /// Frames or pages an animated or multi-page input may declare (MEDIA_006): reading the
    /// header of a GIF walks every frame.
    public var maxFrames: Int
    /// What an animated GIF becomes on this platform; nil: its first frame, as a still.
    public var animation: AnimationRules?

    public static let defaultMaxBytes: Int64 = 50 * 1024 * 1024
    public static let defaultMaxPixels = 100_000_000
    public static let defaultMaxFrames = 10_000

    public init(maxBytes: Int64 = defaultMaxBytes, maxPixels: Int = defaultMaxPixels,
                minWidth: Int = 1, minHeight: Int = 1, aspect: AspectRange? = nil,
                maxFrames: Int = defaultMaxFrames, animation: AnimationRules? = nil) {
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.aspect = aspect
        self.maxFrames = maxFrames
        self.animation = animation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            maxBytes: try c.value(.maxBytes, or: Self.defaultMaxBytes),
            maxPixels: try c.value(.maxPixels, or: Self.defaultMaxPixels),
            minWidth: try c.value(.minWidth, or: 1),
            minHeight: try c.value(.minHeight, or: 1),
            aspect: try c.decodeIfPresent(AspectRange.self, forKey: .aspect),
            maxFrames: try c.value(.maxFrames, or: Self.defaultMaxFrames),
            animation: try c.decodeIfPresent(AnimationRules.self, forKey: .animation))
    }

    enum CodingKeys: String, CodingKey {
        case maxBytes = "max_bytes", maxPixels = "max_pixels", minWidth = "min_width"
        case minHeight = "min_height", aspect, maxFrames = "max_frames", animation
    }
}

/// What an animated GIF becomes on a platform: `{"output": "video"}` publishes it as an MP4
/// under the preset's video rules (platforms that do not animate GIFs); `{"output": "gif",
/// "max_bytes", "max_width", "max_height", "max_frames"}` keeps it a GIF within those limits.
public struct AnimationRules: Codable, Sendable, Equatable {
    public enum Output: String, Codable, Sendable { case video, gif }

    public var output: Output
    public var maxBytes: Int64?
    public var maxWidth: Int?
    public var maxHeight: Int?
    public var maxFrames: Int?
    /// Width x height x frames (X: 300,000,000): a GIF over it is scaled down to fit.
    public var maxTotalPixels: Int?

    public init(output: Output, maxBytes: Int64? = nil, maxWidth: Int? = nil, maxHeight: Int? = nil, maxFrames: Int? = nil,
                maxTotalPixels: Int? = nil) {
        self.output = output
        self.maxBytes = maxBytes
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxFrames = maxFrames
        self.maxTotalPixels = maxTotalPixels
    }

    /// The rendition a kept GIF of `frames` frames is written as, in place of `published` (the
    /// preset's first): each frame's pixels within the budget the frames share.
    public func gifSpec(replacing published: RenditionSpec, frames: Int) -> RenditionSpec {
        RenditionSpec(name: published.name, format: .gif, maxWidth: maxWidth ?? published.maxWidth,
                      maxHeight: maxHeight ?? published.maxHeight, maxBytes: maxBytes,
                      maxPixels: maxTotalPixels.map { $0 / max(1, frames) })
    }

    enum CodingKeys: String, CodingKey {
        case output
        case maxBytes = "max_bytes", maxWidth = "max_width", maxHeight = "max_height", maxFrames = "max_frames"
        case maxTotalPixels = "max_total_pixels"
    }
}

/// An inclusive range of width/height ratios, e.g. 4:5 (0.8) to 1.91:1.
public struct AspectRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var min: Double
    public var max: Double

    /// Relative slack for pixel rounding (1080x1921 is still 9:16).
    public static let tolerance = 0.01

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    public func contains(_ ratio: Double) -> Bool {
        ratio >= min * (1 - Self.tolerance) && ratio <= max * (1 + Self.tolerance)
    }

    /// The nearest allowed ratio: what `--fit crop` and `--fit pad` aim for.
    public func clamp(_ ratio: Double) -> Double { Swift.min(Swift.max(ratio, min), max) }

    public var description: String {
        min == max ? "\(ByteCount.decimal(min, places: 3)):1"
            : "\(ByteCount.decimal(min, places: 3)):1 to \(ByteCount.decimal(max, places: 3)):1"
    }
}

/// How many items a carousel holds, and of which kinds.
public struct CarouselRules: Codable, Sendable, Equatable {
    public var minItems: Int
    public var maxItems: Int
    public var kinds: [MediaKind]

    public init(minItems: Int, maxItems: Int, kinds: [MediaKind]) {
        self.minItems = minItems
        self.maxItems = maxItems
        self.kinds = kinds
    }

    public var range: ClosedRange<Int> { minItems...Swift.max(minItems, maxItems) }

    enum CodingKeys: String, CodingKey {
        case minItems = "min_items", maxItems = "max_items", kinds
    }
}

/// One output image: its name, format and bounding box.
public struct RenditionSpec: Codable, Sendable, Equatable {
    public var name: String
    public var format: OutputFormat
    /// The box the image is shrunk into (never enlarged).
    public var maxWidth: Int
    public var maxHeight: Int
    public var quality: Int
    /// Output size the platform accepts; met by lowering quality, noted as a warning.
    public var maxBytes: Int64?
    /// Output pixel count the platform accepts; met by shrinking further.
    public var maxPixels: Int?
    /// The narrowest picture the platform takes (Instagram and Threads: 320); a narrower one is
    /// enlarged to it (within the box), as the platform would do itself.
    public var minWidth: Int?

    public init(name: String, format: OutputFormat = .jpeg, maxWidth: Int, maxHeight: Int,
                quality: Int = 85, maxBytes: Int64? = nil, maxPixels: Int? = nil, minWidth: Int? = nil) {
        self.name = name
        self.format = format
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.quality = quality
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.minWidth = minWidth
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        let longEdge = try c.decodeIfPresent(Int.self, forKey: .longEdge)
        guard let width = try c.decodeIfPresent(Int.self, forKey: .maxWidth) ?? longEdge,
              let height = try c.decodeIfPresent(Int.self, forKey: .maxHeight) ?? longEdge,
              width > 0, height > 0
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxWidth, in: c,
                debugDescription: "rendition \(name) needs long_edge, or max_width and max_height, above 0")
        }
        let quality = try c.value(.quality, or: 85)
        guard (1...100).contains(quality) else {
            throw DecodingError.dataCorruptedError(
                forKey: .quality, in: c, debugDescription: "quality must be 1 to 100, got \(quality)")
        }
        self.init(name: name, format: try c.value(.format, or: .jpeg),
                  maxWidth: width, maxHeight: height, quality: quality,
                  maxBytes: try c.decodeIfPresent(Int64.self, forKey: .maxBytes),
                  maxPixels: try c.decodeIfPresent(Int.self, forKey: .maxPixels),
                  minWidth: try c.decodeIfPresent(Int.self, forKey: .minWidth))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(format, forKey: .format)
        try c.encode(maxWidth, forKey: .maxWidth)
        try c.encode(maxHeight, forKey: .maxHeight)
        try c.encode(quality, forKey: .quality)
        try c.encodeIfPresent(maxBytes, forKey: .maxBytes)
        try c.encodeIfPresent(maxPixels, forKey: .maxPixels)
        try c.encodeIfPresent(minWidth, forKey: .minWidth)
    }

    enum CodingKeys: String, CodingKey {
        case name, format, quality
        case maxWidth = "max_width", maxHeight = "max_height", longEdge = "long_edge"
        case maxBytes = "max_bytes", maxPixels = "max_pixels", minWidth = "min_width"
    }
}

/// How an image whose aspect ratio is out of the preset's range is handled.
public enum Fit: String, Codable, Sendable, CaseIterable {
    /// MEDIA_004.
    case reject
    /// Crop to the nearest allowed ratio around the most interesting region.
    case crop
    /// Letterbox to the nearest allowed ratio.
    case pad
    /// Fit the whole picture and fill the bars with a blurred, darkened copy of itself.
    case blur
}

/// How a video longer than the preset allows is handled.
public enum DurationFit: String, Codable, Sendable, CaseIterable {
    /// MEDIA_005.
    case reject
    /// Cut at the preset's maximum (a warning says so).
    case trim
}

/// What the caller says the upload is.
public enum DeclaredType: String, Codable, Sendable, CaseIterable {
    case auto, image, video, carousel
}
