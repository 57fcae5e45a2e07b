import CFFmpeg
import Foundation

/// An MP4 being written: owns the output `AVFormatContext` and its file. Published with
/// `finish()` (trailer, `+faststart` moves the moov atom first); otherwise the file is deleted.
final class Muxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    let path: String
    private let interrupt: Interrupt
    private var finished = false

    init(path: String, interrupt: Interrupt) throws(AVFailure) {
        try FFmpegRuntime.start()
        self.path = path
        self.interrupt = interrupt
        var context: UnsafeMutablePointer<AVFormatContext>?
        try check(ff.avformat_alloc_output_context2(&context, nil, "mp4", path), "avformat_alloc_output_context2")
        guard let context else { throw AVFailure("avformat_alloc_output_context2", code: kiln_averror(ENOMEM)) }
        self.context = context
        context.pointee.interrupt_callback = interrupt.callback
    }

    deinit {
        if context.pointee.pb != nil { _ = ff.avio_closep(&context.pointee.pb) }
        ff.avformat_free_context(context)
        if !finished { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Whether encoders must put their parameter sets in the container header.
    var wantsGlobalHeader: Bool { (context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 }

    func addStream() throws(AVFailure) -> UnsafeMutablePointer<AVStream> {
        guard let stream = ff.avformat_new_stream(context, nil) else {
            throw AVFailure("avformat_new_stream", code: kiln_averror(ENOMEM))
        }
        return stream
    }

    /// Opens the file and writes the header: moov first, no edit lists (Meta's rules).
    func start() throws(AVFailure) {
        var callback = interrupt.callback
        try check(ff.avio_open2(&context.pointee.pb, path, AVIO_FLAG_WRITE, &callback, nil), "avio_open2")
        var options: OpaquePointer?
        defer { ff.av_dict_free(&options) }
        try check(ff.av_dict_set(&options, "movflags", "+faststart", 0), "av_dict_set")
        try check(ff.av_dict_set(&options, "use_editlist", "0", 0), "av_dict_set")
        try check(ff.avformat_write_header(context, &options), "avformat_write_header")
    }

    /// Writes a packet whose timestamps are already in the stream's time base.
    func write(_ packet: Packet) throws(AVFailure) {
        try interrupt.checkpoint()
        try check(ff.av_interleaved_write_frame(context, packet.pointer), "av_interleaved_write_frame")
    }

    func finish() throws(AVFailure) {
        try check(ff.av_write_trailer(context), "av_write_trailer")
        try check(ff.avio_closep(&context.pointee.pb), "avio_closep")
        finished = true
    }
}
