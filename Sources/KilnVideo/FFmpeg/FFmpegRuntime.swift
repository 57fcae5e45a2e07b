import CFFmpeg

/// FFmpeg, loaded once on first use (see CFFmpeg.h for why it is not linked).
enum FFmpegRuntime {
    static let loadOperation = "load FFmpeg"

    /// The function table, or why the libraries could not be loaded.
    static let loaded: Result<KilnFFmpeg, AVFailure> = {
        let table = UnsafeMutablePointer<KilnFFmpeg>.allocate(capacity: 1)
        defer { table.deallocate() }
        var error = [CChar](repeating: 0, count: 512)
        guard kiln_ffmpeg_load(table, &error, error.count) == 0 else {
            return .failure(AVFailure(loadOperation, message: string(from: error)))
        }
        let functions = table.pointee
        // Its log would interleave with the CLI's output; failures reach the envelope
        // through error codes and `AVFailure` text instead.
        functions.av_log_set_level(AV_LOG_QUIET)
        return .success(functions)
    }()

    /// Loads FFmpeg if needed; every entry point into KilnVideo calls this first.
    static func start() throws(AVFailure) { _ = try loaded.get() }
}

/// The FFmpeg functions, under their own names: `ff.avformat_open_input(...)`.
/// Only reached after `FFmpegRuntime.start()` succeeded.
var ff: KilnFFmpeg {
    switch FFmpegRuntime.loaded {
    case .success(let functions): functions
    case .failure(let failure): preconditionFailure("FFmpeg used before it loaded: \(failure)")
    }
}

/// The table as the C helpers take it.
func withFFmpegTable<T>(_ body: (UnsafePointer<KilnFFmpeg>) -> T) -> T {
    withUnsafePointer(to: ff) { body($0) }
}
