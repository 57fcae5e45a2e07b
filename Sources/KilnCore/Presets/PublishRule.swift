/// One rule a platform sets for what it accepts: the names `kiln check`, the output check, the
/// plan's warnings and `docs/platforms.md` share. Inputs are held to some (duration, size),
/// outputs to all.
public enum PublishRule: String, Codable, Sendable, CaseIterable {
    // Inputs Kiln cannot fix by re-encoding (MEDIA_ errors) and input limits (FILE_004).
    case inputBytes = "input_bytes"
    case inputPixels = "input_pixels"
    case minSize = "min_size"
    case aspect
    case duration
    case minFrameRate = "min_frame_rate"
    case carousel
    case animation
    /// The shape an explicit fit (crop, pad, blur) makes: the platform's own frame.
    case nativeFrame = "native_frame"
    // The published video.
    case container
    case moovFirst = "moov_first"
    case editLists = "edit_lists"
    case videoCodec = "video_codec"
    case profile
    case level
    case pixelFormat = "pixel_format"
    case scan
    case sampleAspect = "sample_aspect"
    case frameRate = "frame_rate"
    case closedGOP = "closed_gop"
    case keyframeInterval = "keyframe_interval"
    case videoBitRate = "video_bit_rate"
    case videoPeakBitRate = "video_peak_bit_rate"
    case audioCodec = "audio_codec"
    case audioProfile = "audio_profile"
    case sampleRate = "sample_rate"
    case channels
    case audioBitRate = "audio_bit_rate"
    case videoBox = "video_box"
    case fileBytes = "file_bytes"
    // A published image.
    case imageFormat = "image_format"
    case imageBytes = "image_bytes"
    case imageBox = "image_box"
    case imagePixels = "image_pixels"
    case colorSpace = "color_space"
    case metadata

    /// Which part of a video the rule is about: a rule of one stream is met by redoing only
    /// that stream.
    public enum Scope: Sendable { case input, file, video, audio, image }

    public var scope: Scope {
        switch self {
        case .inputBytes, .inputPixels, .minSize, .aspect, .duration, .minFrameRate, .carousel, .animation, .nativeFrame: .input
        case .container, .moovFirst, .editLists, .fileBytes: .file
        case .videoCodec, .profile, .level, .pixelFormat, .scan, .sampleAspect, .frameRate, .closedGOP,
             .keyframeInterval, .videoBitRate, .videoPeakBitRate, .videoBox: .video
        case .audioCodec, .audioProfile, .sampleRate, .channels, .audioBitRate: .audio
        case .imageFormat, .imageBytes, .imageBox, .imagePixels, .colorSpace, .metadata: .image
        }
    }

    /// What the rule is, in words for tables.
    public var title: String {
        switch self {
        case .inputBytes: "input file size"
        case .inputPixels: "input pixels"
        case .minSize: "smallest size"
        case .aspect: "aspect ratio"
        case .duration: "duration"
        case .minFrameRate: "slowest frame rate"
        case .carousel: "carousel items"
        case .animation: "animated GIF"
        case .nativeFrame: "native frame"
        case .container: "container"
        case .moovFirst: "moov before mdat"
        case .editLists: "edit lists"
        case .videoCodec: "video codec"
        case .profile: "H.264 profile"
        case .level: "H.264 level"
        case .pixelFormat: "pixel format"
        case .scan: "scan"
        case .sampleAspect: "sample aspect ratio"
        case .frameRate: "frame rate"
        case .closedGOP: "closed GOP"
        case .keyframeInterval: "key-frame interval"
        case .videoBitRate: "video bitrate (average)"
        case .videoPeakBitRate: "video bitrate (peak over \(ByteCount.decimal(VideoOutputSpec.peakWindow)) s)"
        case .audioCodec: "audio codec"
        case .audioProfile: "AAC profile"
        case .sampleRate: "audio sample rate"
        case .channels: "audio channels"
        case .audioBitRate: "audio bitrate"
        case .videoBox: "video size"
        case .fileBytes: "file size"
        case .imageFormat: "image format"
        case .imageBytes: "image file size"
        case .imageBox: "image size"
        case .imagePixels: "image pixels"
        case .colorSpace: "colour space"
        case .metadata: "metadata"
        }
    }
}

/// Where a preset's numbers come from: a page, the day it was read, the rules it stands for,
/// and whose page it is (the platform's own, or a restatement where the platform's could not be read).
public struct RuleSource: Codable, Sendable, Equatable {
    /// Whose words a page is.
    public enum Kind: String, Codable, Sendable {
        /// The platform's own developer or help page (the AT Protocol lexicons for Bluesky).
        case platform
        /// Someone else's restatement: used only where the platform's own page could not be read.
        case secondary
    }

    public var url: String
    public var kind: Kind
    /// ISO date the page was read.
    public var read: String
    public var rules: [PublishRule]
    /// What the page says where it differs from another source, or how it was read.
    public var note: String?

    public init(_ url: String, kind: Kind, read: String, rules: [PublishRule], note: String? = nil) {
        self.url = url
        self.kind = kind
        self.read = read
        self.rules = rules
        self.note = note
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(String.self, forKey: .url), kind: try c.decode(Kind.self, forKey: .kind),
                  read: try c.decode(String.self, forKey: .read), rules: try c.decode([PublishRule].self, forKey: .rules),
                  note: try c.decodeIfPresent(String.self, forKey: .note))
    }

    enum CodingKeys: String, CodingKey { case url, kind, read, rules, note }
}

/// One rule held against one file: what was measured, the limit, and whether it passes.
public struct RuleVerdict: Codable, Sendable, Equatable {
    public var rule: PublishRule
    /// The file the verdict is about (`video`, `display`, or the checked file's name).
    public var subject: String
    public var measured: String
    public var limit: String
    public var passed: Bool
    /// False for a platform's recommendation: followed when Kiln encodes anyway, never a reason
    /// to re-encode, shrink or refuse, and never a failed output check.
    public var required: Bool

    public init(_ rule: PublishRule, subject: String, measured: String, limit: String, passed: Bool,
                required: Bool = true) {
        self.rule = rule
        self.subject = subject
        self.measured = measured
        self.limit = limit
        self.passed = passed
        self.required = required
    }

    /// A required rule the file breaks.
    public var fails: Bool { !passed && required }

    /// "video bitrate (average) 40.1 Mbps over instagram-reel's 25 Mbps".
    public func describe(preset: String) -> String {
        "\(rule.title) \(measured) \(passed ? "within" : "breaks") \(preset)'s \(limit)"
    }
}
