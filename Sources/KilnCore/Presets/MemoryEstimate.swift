/// What processing an input will hold in memory at most, estimated from its header before any
/// decoding, so a job over its memory budget is refused before it starts (MEDIA_003).
///
/// The figures follow how the engines work: libvips streams images in strips (a few hundred
/// lines of the widest stage per thread), FFmpeg keeps a handful of decoded frames per thread,
/// the filter graph a float frame when tone mapping, and libx264 its lookahead.
public enum MemoryEstimate {
    /// Lines of an image libvips keeps per worker thread, generously.
    static let stripLines = 256
    /// Worker threads the estimate assumes (libvips and FFmpeg size their pools to the cores).
    static let threads = 4

    public static func image(_ facts: ImageFacts, renditions: [RenditionSpec]) -> Int64 {
        let bytesPerSample = Int64(max(1, facts.bitDepth / 8))
        let strips = Int64(facts.width) * Int64(max(3, facts.bands)) * bytesPerSample * Int64(stripLines) * Int64(threads)
        // A crop around the most interesting region looks at the whole shrunk picture at once.
        let source = Int64(facts.width) * Int64(facts.height)
        let largest = renditions.map { min(Int64($0.maxWidth) * Int64($0.maxHeight), source) * 4 }.max() ?? 0
        return strips + largest * 2
    }

    /// - Parameter following: a crop that follows the subject holds half a second of decoded
    ///   frames (at most `followingHeldBytes`) while it looks ahead.
    public static func video(_ facts: VideoFacts, output: VideoOutputSpec, following: Bool = false) -> Int64 {
        guard let video = facts.video else { return 0 }
        let bytesPerSample = Int64(max(1, (video.bitDepth + 7) / 8))
        let decoded = Int64(video.width) * Int64(video.height) * 3 / 2 * bytesPerSample
        let toneMapping = video.hdr != nil ? Int64(video.width) * Int64(video.height) * 3 * 4 : 0
        let encoded = Int64(output.maxWidth) * Int64(output.maxHeight) * 3 / 2
        let held = following ? min(Int64(followingHeldBytes), decoded * Int64((video.frameRate * 0.5).rounded(.up) + 2)) : 0
        // Decoder frames in flight, one float frame for tone mapping, x264's lookahead and B-frames.
        return decoded * Int64(threads + 4) + toneMapping * 2 + encoded * 16 + held
    }

    /// The most the frames held by a crop that follows the subject may take.
    public static let followingHeldBytes = 256 << 20
}
