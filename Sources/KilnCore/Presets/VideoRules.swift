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
    /// The platform's own frame (width/height: 9:16 for reels, stories, TikTok, Shorts): what an
    /// explicit `fit` (crop, pad, blur) makes, though the platform takes other shapes; no `fit`
    /// keeps any shape it takes.
    public var nativeAspect: Double?
    /// Whether variable frame rate must be made constant.
    public var constantFrameRate: Bool
    /// The published video.
    public var output: VideoOutputSpec
    /// The platform's recommendations among these rules (YouTube's encoding settings): followed
    /// when Kiln encodes anyway, never a reason to re-encode, shrink or refuse.
    public var recommended: [PublishRule]

    public static let defaultMaxBytes: Int64 = 4 * 1024 * 1024 * 1024

    public init(maxBytes: Int64 = defaultMaxBytes, minDuration: Double = 0, maxDuration: Double = 4 * 3600,
                minWidth: Int = 2, minHeight: Int = 2, maxLongEdge: Int = 4096, maxShortEdge: Int = 2160,
                minFrameRate: Double = 1, maxFrameRate: Double = 120, maxFrames: Int = 4 * 3600 * 120,
                aspect: AspectRange? = nil, nativeAspect: Double? = nil, constantFrameRate: Bool = false,
                output: VideoOutputSpec = VideoOutputSpec(), recommended: [PublishRule] = []) {
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
        self.nativeAspect = nativeAspect
        self.constantFrameRate = constantFrameRate
        self.output = output
        self.recommended = recommended
    }

    /// Whether the platform refuses a video that breaks `rule` (false for a recommendation).
    public func requires(_ rule: PublishRule) -> Bool { !recommended.contains(rule) }

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
            nativeAspect: try c.decodeIfPresent(Double.self, forKey: .nativeAspect),
            constantFrameRate: try c.value(.constantFrameRate, or: false),
            output: try c.value(.output, or: defaults.output),
            recommended: try c.value(.recommended, or: []))
    }

    enum CodingKeys: String, CodingKey {
        case aspect, output, recommended
        case maxBytes = "max_bytes", minDuration = "min_duration", maxDuration = "max_duration"
        case minWidth = "min_width", minHeight = "min_height", maxLongEdge = "max_long_edge"
        case maxShortEdge = "max_short_edge", minFrameRate = "min_frame_rate", maxFrameRate = "max_frame_rate"
        case maxFrames = "max_frames", constantFrameRate = "constant_frame_rate", nativeAspect = "native_aspect"
    }
}

/// The published video: H.264 8-bit 4:2:0 + AAC-LC in MP4, moov first, no edit lists, inside a
/// box, and within the platform's stream rules. A stream of the input is copied only when it
/// meets every one of them; otherwise only that stream is redone.
public struct VideoOutputSpec: Codable, Sendable, Equatable {
    /// The box the picture is shrunk into (never enlarged).
    public var maxWidth: Int
    public var maxHeight: Int
    /// libx264's constant rate factor (lower is better and bigger).
    public var crf: Int
    /// libx264's speed preset.
    public var preset: String
    /// The AAC bitrate Kiln encodes at (stereo; half for mono), within `maxAudioBitRate`.
    public var audioBitRate: Int
    public var maxSampleRate: Int
    /// A sample rate the platform requires exactly (Facebook reels: 48 kHz); nil when any up to the maximum goes.
    public var sampleRate: Int?
    public var maxChannels: Int
    /// A channel count the platform requires exactly (Facebook reels: stereo).
    public var channels: Int?
    /// Audio bits per second, measured from the packets.
    public var maxAudioBitRate: Int?
    /// Video bits per second: the average, and the peak over any `peakWindow` seconds.
    public var maxBitRate: Int?
    /// The largest distance between key frames, seconds.
    public var maxKeyframeInterval: Double
    /// Every key frame an IDR (no open GOP).
    public var closedGOP: Bool
    /// H.264 profiles the output may have, by FFmpeg's names.
    public var profiles: [String]
    /// The highest H.264 level, times ten (42 is level 4.2).
    public var maxLevel: Int
    /// Sample aspect ratio 1:1.
    public var squarePixels: Bool
    /// The published file's size limit, in bytes (decimal units where the platform states MB).
    public var maxBytes: Int64?
    /// The smallest file the platform takes (LinkedIn: 75 KB).
    public var minBytes: Int64?

    /// The window the peak bitrate is measured over, seconds.
    public static let peakWindow = 2.0
    /// Where a re-encode aims below a bitrate cap: libx264's VBV keeps the average under
    /// `maxrate` and any window of `peakWindow` under `maxrate + bufsize / peakWindow`; with
    /// maxrate at 80% of the cap and half a second of buffer both stay under the cap.
    public static let bitRateHeadroom = 0.8
    public static let defaultProfiles = ["Constrained Baseline", "Baseline", "Main", "High"]

    public init(maxWidth: Int = 1920, maxHeight: Int = 1920, crf: Int = 23, preset: String = "veryfast",
                audioBitRate: Int = 128_000, maxSampleRate: Int = 48_000, sampleRate: Int? = nil,
                maxChannels: Int = 2, channels: Int? = nil, maxAudioBitRate: Int? = nil, maxBitRate: Int? = nil,
                maxKeyframeInterval: Double = 10, closedGOP: Bool = true, profiles: [String] = defaultProfiles,
                maxLevel: Int = 52, squarePixels: Bool = true, maxBytes: Int64? = nil, minBytes: Int64? = nil) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.crf = crf
        self.preset = preset
        self.audioBitRate = audioBitRate
        self.maxSampleRate = maxSampleRate
        self.sampleRate = sampleRate
        self.maxChannels = maxChannels
        self.channels = channels
        self.maxAudioBitRate = maxAudioBitRate
        self.maxBitRate = maxBitRate
        self.maxKeyframeInterval = maxKeyframeInterval
        self.closedGOP = closedGOP
        self.profiles = profiles
        self.maxLevel = maxLevel
        self.squarePixels = squarePixels
        self.maxBytes = maxBytes
        self.minBytes = minBytes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = VideoOutputSpec()
        self.init(maxWidth: try c.value(.maxWidth, or: d.maxWidth),
                  maxHeight: try c.value(.maxHeight, or: d.maxHeight),
                  crf: try c.value(.crf, or: d.crf),
                  preset: try c.value(.preset, or: d.preset),
                  audioBitRate: try c.value(.audioBitRate, or: d.audioBitRate),
                  maxSampleRate: try c.value(.maxSampleRate, or: d.maxSampleRate),
                  sampleRate: try c.decodeIfPresent(Int.self, forKey: .sampleRate),
                  maxChannels: try c.value(.maxChannels, or: d.maxChannels),
                  channels: try c.decodeIfPresent(Int.self, forKey: .channels),
                  maxAudioBitRate: try c.decodeIfPresent(Int.self, forKey: .maxAudioBitRate),
                  maxBitRate: try c.decodeIfPresent(Int.self, forKey: .maxBitRate),
                  maxKeyframeInterval: try c.value(.maxKeyframeInterval, or: d.maxKeyframeInterval),
                  closedGOP: try c.value(.closedGOP, or: d.closedGOP),
                  profiles: try c.value(.profiles, or: d.profiles),
                  maxLevel: try c.value(.maxLevel, or: d.maxLevel),
                  squarePixels: try c.value(.squarePixels, or: d.squarePixels),
                  maxBytes: try c.decodeIfPresent(Int64.self, forKey: .maxBytes),
                  minBytes: try c.decodeIfPresent(Int64.self, forKey: .minBytes))
    }

    enum CodingKeys: String, CodingKey {
        case crf, preset, channels, profiles
        case maxWidth = "max_width", maxHeight = "max_height", audioBitRate = "audio_bit_rate"
        case maxSampleRate = "max_sample_rate", sampleRate = "sample_rate", maxChannels = "max_channels"
        case maxAudioBitRate = "max_audio_bit_rate", maxBitRate = "max_bit_rate"
        case maxKeyframeInterval = "max_keyframe_interval", closedGOP = "closed_gop", maxLevel = "max_level"
        case squarePixels = "square_pixels", maxBytes = "max_bytes", minBytes = "min_bytes"
    }

    /// The key-frame interval Kiln encodes at: 2 s, or the platform's maximum when it is shorter.
    public var encodeKeyframeInterval: Double { min(2, maxKeyframeInterval) }

    /// The AAC bitrate Kiln encodes `channels` at: within the platform's cap with room for the
    /// encoder's drift.
    public func encodeAudioBitRate(channels: Int) -> Int {
        let wanted = channels == 1 ? audioBitRate / 2 : audioBitRate
        guard let cap = maxAudioBitRate else { return wanted }
        return min(wanted, Int(Double(cap) * 0.9))
    }
}
