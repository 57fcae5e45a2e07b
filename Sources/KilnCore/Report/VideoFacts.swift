/// Facts read from a video's container and stream headers: what `kiln probe` prints and
/// validation checks. Header-only: nothing is decoded to get them.
public struct VideoFacts: Codable, Sendable, Equatable {
    /// FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm".
    public var container: String
    public var mime: String
    public var sizeBytes: Int64
    /// Seconds.
    public var duration: Double
    /// Bits per second over the whole file, when known.
    public var bitRate: Int?
    public var video: VideoStreamFacts?
    public var audio: AudioStreamFacts?

    public init(container: String, mime: String, sizeBytes: Int64, duration: Double, bitRate: Int?,
                video: VideoStreamFacts?, audio: AudioStreamFacts?) {
        self.container = container
        self.mime = mime
        self.sizeBytes = sizeBytes
        self.duration = duration
        self.bitRate = bitRate
        self.video = video
        self.audio = audio
    }

    enum CodingKeys: String, CodingKey {
        case container, mime, duration, video, audio
        case sizeBytes = "size_bytes", bitRate = "bit_rate"
    }
}

/// The main video stream.
public struct VideoStreamFacts: Codable, Sendable, Equatable {
    public var codec: String
    public var profile: String?
    /// The codec level times ten as FFmpeg reports it (H.264 4.2 is 42), when known.
    public var level: Int?
    /// The sample (pixel) aspect ratio, "4:3"; nil when square or unset.
    public var sampleAspect: String?
    public var pixelFormat: String
    public var bitDepth: Int
    /// Coded size, before rotation.
    public var width: Int
    public var height: Int
    /// Clockwise degrees the display matrix turns the picture: 0, 90, 180 or 270.
    public var rotation: Int
    /// Average frames per second.
    public var frameRate: Double
    /// True when the stream's timing is not constant (phones often record this way).
    public var variableFrameRate: Bool
    /// Frames in the stream, from the header or estimated from duration x rate.
    public var frameCount: Int
    public var colorTransfer: String?
    public var colorPrimaries: String?
    /// "hlg" or "pq" for HDR transfer functions; nil for SDR.
    public var hdr: String?
    public var interlaced: Bool
    /// Whether this FFmpeg build has a decoder for the codec.
    public var decodable: Bool
    /// True when the samples are encrypted (CENC/DRM: an `encv` sample entry): nothing can be
    /// decoded without the key. Nil otherwise.
    public var encrypted: Bool?

    public init(codec: String, profile: String?, pixelFormat: String, bitDepth: Int, width: Int, height: Int,
                rotation: Int, frameRate: Double, variableFrameRate: Bool, frameCount: Int,
                colorTransfer: String?, colorPrimaries: String?, hdr: String?, interlaced: Bool, decodable: Bool,
                level: Int? = nil, sampleAspect: String? = nil) {
        self.codec = codec
        self.profile = profile
        self.level = level
        self.sampleAspect = sampleAspect
        self.pixelFormat = pixelFormat
        self.bitDepth = bitDepth
        self.width = width
        self.height = height
        self.rotation = rotation
        self.frameRate = frameRate
        self.variableFrameRate = variableFrameRate
        self.frameCount = frameCount
        self.colorTransfer = colorTransfer
        self.colorPrimaries = colorPrimaries
        self.hdr = hdr
        self.interlaced = interlaced
        self.decodable = decodable
        // Non-square pixels are shown stretched: 1440x1080 at 4:3 is a 1920x1080 picture.
        let shownWidth = Self.stretch(width, by: sampleAspect)
        displayWidth = rotation % 180 == 0 ? shownWidth : height
        displayHeight = rotation % 180 == 0 ? height : shownWidth
    }

    static func stretch(_ width: Int, by sampleAspect: String?) -> Int {
        guard let parts = sampleAspect?.split(separator: ":").compactMap({ Double($0) }), parts.count == 2,
              parts[0] > 0, parts[1] > 0 else { return width }
        return Int((Double(width) * parts[0] / parts[1]).rounded())
    }

    /// Size as displayed: non-square pixels stretched, and a quarter turn swaps the sides.
    public let displayWidth: Int
    public let displayHeight: Int

    enum CodingKeys: String, CodingKey {
        case codec, profile, level, width, height, rotation, hdr, interlaced, decodable, encrypted
        case sampleAspect = "sample_aspect", pixelFormat = "pixel_format", bitDepth = "bit_depth", frameRate = "frame_rate"
        case variableFrameRate = "variable_frame_rate", frameCount = "frame_count"
        case colorTransfer = "color_transfer", colorPrimaries = "color_primaries"
        case displayWidth = "display_width", displayHeight = "display_height"
    }
}

/// The main audio stream.
public struct AudioStreamFacts: Codable, Sendable, Equatable {
    public var codec: String
    /// The codec profile by FFmpeg's name ("LC", "HE-AAC", "HE-AACv2"), when known.
    public var profile: String?
    public var channels: Int
    public var channelLayout: String
    public var sampleRate: Int

    public init(codec: String, profile: String? = nil, channels: Int, channelLayout: String, sampleRate: Int) {
        self.codec = codec
        self.profile = profile
        self.channels = channels
        self.channelLayout = channelLayout
        self.sampleRate = sampleRate
    }

    enum CodingKeys: String, CodingKey {
        case codec, profile, channels
        case channelLayout = "channel_layout", sampleRate = "sample_rate"
    }
}

/// What the header of an input says: image facts or video facts.
public enum MediaFacts: Codable, Sendable, Equatable {
    case image(ImageFacts)
    case video(VideoFacts)

    public var mime: String {
        switch self {
        case .image(let facts): facts.mime
        case .video(let facts): facts.mime
        }
    }

    public var image: ImageFacts? {
        if case .image(let facts) = self { return facts }
        return nil
    }

    public var video: VideoFacts? {
        if case .video(let facts) = self { return facts }
        return nil
    }

    public var sizeBytes: Int64 {
        switch self {
        case .image(let facts): facts.sizeBytes
        case .video(let facts): facts.sizeBytes
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .image(let facts): try facts.encode(to: encoder)
        case .video(let facts): try facts.encode(to: encoder)
        }
    }

    /// Video facts carry a duration; image facts never do.
    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: VideoFacts.CodingKeys.self)
        self = keys.contains(.duration) ? .video(try VideoFacts(from: decoder)) : .image(try ImageFacts(from: decoder))
    }
}
