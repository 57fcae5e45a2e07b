/// What a video's packets say, read without decoding: bitrates from packet sizes and
/// timestamps, the GOP structure from the key packets' NAL units, and the MP4 box layout.
/// The plan measures the input with it; the output check measures what was written.
public struct VideoMeasurement: Codable, Sendable, Equatable {
    /// Video bits per second over the stream.
    public var videoBitRate: Int
    /// The most video bits in any `VideoOutputSpec.peakWindow` seconds, per second.
    public var peakBitRate: Int
    public var keyframes: Int
    /// Key frames that are IDR pictures; nil when the codec's key frames are not classified.
    public var idrKeyframes: Int?
    /// The longest stretch between key frames (and from the last to the end), seconds.
    public var maxKeyframeInterval: Double
    /// Audio bits per second over the stream; nil without audio.
    public var audioBitRate: Int?
    /// For MP4 and MOV: the moov box comes before the media data, and whether any track has an
    /// edit list. Nil for other containers.
    public var moovFirst: Bool?
    public var editLists: Bool?

    public init(videoBitRate: Int, peakBitRate: Int, keyframes: Int, idrKeyframes: Int?, maxKeyframeInterval: Double,
                audioBitRate: Int?, moovFirst: Bool?, editLists: Bool?) {
        self.videoBitRate = videoBitRate
        self.peakBitRate = peakBitRate
        self.keyframes = keyframes
        self.idrKeyframes = idrKeyframes
        self.maxKeyframeInterval = maxKeyframeInterval
        self.audioBitRate = audioBitRate
        self.moovFirst = moovFirst
        self.editLists = editLists
    }

    enum CodingKeys: String, CodingKey {
        case keyframes
        case videoBitRate = "video_bit_rate", peakBitRate = "peak_bit_rate", idrKeyframes = "idr_keyframes"
        case maxKeyframeInterval = "max_keyframe_interval", audioBitRate = "audio_bit_rate"
        case moovFirst = "moov_first", editLists = "edit_lists"
    }
}
