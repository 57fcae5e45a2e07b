/// Limits and rules for a video input, and what the published video must be.
///
/// Rules Kiln can meet by re-encoding (codec, size, frame rate cap, audio) are met and noted;
/// the others (duration, too small, too slow, aspect under `--fit reject`) are MEDIA_ errors.
public struct VideoRules: Codable, Sendable, Equatable {
    /// Input size limit (FILE_004).
    public var maxBytes: Int64
    /// Seconds (MEDIA_005).
    public var minDuration: Double
    public var maxDuration: Double
    /// Displayed size limits (MEDIA_003).
    public var minWidth: Int
    public var minHeight: Int
    public var maxLongEdge: Int
    public var maxShortEdge: Int
    /// Frame rate range (MEDIA_006 below the minimum; above the maximum it is capped).
    public var minFrameRate: Double
    public var maxFrameRate: Double
    /// Frame count limit (MEDIA_006): a bound on decoding work.
    public var maxFrames: Int
    /// Allowed width/height range (MEDIA_004 under `--fit reject`).
    public var aspect: AspectRange?
    /// Whether variable frame rate must be made constant.
    public var constantFrameRate: Bool
    /// The published video.
    public var output: VideoOutputSpec

    public static let defaultMaxBytes: Int64 = 4 * 1024 * 1024 * 1024

    public init(maxBytes: Int64 = defaultMaxBytes, minDuration: Double = 0, maxDuration: Double = 4 * 3600,
                minWidth: Int = 2, minHeight: Int = 2, maxLongEdge: Int = 4096, maxShortEdge: Int = 2160,
                minFrameRate: Double = 1, maxFrameRate: Double = 120, maxFrames: Int = 4 * 3600 * 120,
                aspect: AspectRange? = nil, constantFrameRate: Bool = false,
                output: VideoOutputSpec = VideoOutputSpec()) {
        self.maxBytes = maxBytes
        self.minDuration = minDuration
        self.maxDuration = maxDuration
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.maxLongEdge = maxLongEdge
        self.maxShortEdge = maxShortEdge
        self.minFrameRate = minFrameRate
        self.maxFrameRate = maxFrameRate
        self.maxFrames = maxFrames
        self.aspect = aspect
        self.constantFrameRate = constantFrameRate
        self.output = output
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = VideoRules()
        self.init(
            maxBytes: try c.value(.maxBytes, or: defaults.maxBytes),
            minDuration: try c.value(.minDuration, or: defaults.minDuration),
            maxDuration: try c.value(.maxDuration, or: defaults.maxDuration),
            minWidth: try c.value(.minWidth, or: defaults.minWidth),
            minHeight: try c.value(.minHeight, or: defaults.minHeight),
            maxLongEdge: try c.value(.maxLongEdge, or: defaults.maxLongEdge),
            maxShortEdge: try c.value(.maxShortEdge, or: defaults.maxShortEdge),
            minFrameRate: try c.value(.minFrameRate, or: defaults.minFrameRate),
            maxFrameRate: try c.value(.maxFrameRate, or: defaults.maxFrameRate),
            maxFrames: try c.value(.maxFrames, or: defaults.maxFrames),
            aspect: try c.decodeIfPresent(AspectRange.self, forKey: .aspect),
            constantFrameRate: try c.value(.constantFrameRate, or: false),
            output: try c.value(.output, or: defaults.output))
    }

    enum CodingKeys: String, CodingKey {
        case aspect, output
        case maxBytes = "max_bytes", minDuration = "min_duration", maxDuration = "max_duration"
        case minWidth = "min_width", minHeight = "min_height", maxLongEdge = "max_long_edge"
        case maxShortEdge = "max_short_edge", minFrameRate = "min_frame_rate", maxFrameRate = "max_frame_rate"
        case maxFrames = "max_frames", constantFrameRate = "constant_frame_rate"
    }
}

/// The published video: H.264 8-bit 4:2:0 + AAC in MP4, moov first, inside a box.
public struct VideoOutputSpec: Codable, Sendable, Equatable {
    /// The box the picture is shrunk into (never enlarged).
    public var maxWidth: Int
    public var maxHeight: Int
    /// libx264's constant rate factor (lower is better and bigger).
    public var crf: Int
    /// libx264's speed preset.
    public var preset: String
    public var audioBitRate: Int
    public var maxSampleRate: Int

    public init(maxWidth: Int = 1920, maxHeight: Int = 1920, crf: Int = 23, preset: String = "veryfast",
                audioBitRate: Int = 128_000, maxSampleRate: Int = 48_000) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.crf = crf
        self.preset = preset
        self.audioBitRate = audioBitRate
        self.maxSampleRate = maxSampleRate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = VideoOutputSpec()
        self.init(maxWidth: try c.value(.maxWidth, or: d.maxWidth),
                  maxHeight: try c.value(.maxHeight, or: d.maxHeight),
                  crf: try c.value(.crf, or: d.crf),
                  preset: try c.value(.preset, or: d.preset),
                  audioBitRate: try c.value(.audioBitRate, or: d.audioBitRate),
                  maxSampleRate: try c.value(.maxSampleRate, or: d.maxSampleRate))
    }

    enum CodingKeys: String, CodingKey {
        case crf, preset
        case maxWidth = "max_width", maxHeight = "max_height", audioBitRate = "audio_bit_rate"
        case maxSampleRate = "max_sample_rate"
    }
}
