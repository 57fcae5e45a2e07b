import CFFmpeg

/// One-time FFmpeg settings. Its log would interleave with the CLI's output; failures reach
/// the envelope through error codes and `AVFailure` text instead.
enum FFmpegRuntime {
    static func start() { _ = started }

    private static let started: Bool = {
        av_log_set_level(AV_LOG_QUIET)
        return true
    }()
}
