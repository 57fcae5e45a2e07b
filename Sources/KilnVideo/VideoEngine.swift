/// What the FFmpeg libraries on this machine can do, asked of FFmpeg itself.
public enum VideoEngine {
    /// Whether FFmpeg loaded and has the demuxer `name` (e.g. "mov", "matroska").
    public static func hasDemuxer(_ name: String) -> Bool {
        guard (try? FFmpegRuntime.start()) != nil else { return false }
        return ff.av_find_input_format(name) != nil
    }

    /// Whether FFmpeg loaded and has the encoder `name` (e.g. "libx264", "aac").
    public static func hasEncoder(_ name: String) -> Bool {
        guard (try? FFmpegRuntime.start()) != nil else { return false }
        return ff.avcodec_find_encoder_by_name(name) != nil
    }
}
