import CFFmpeg

/// An opened input file: owns the `AVFormatContext` and closes it.
final class Demuxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    /// Held so the interrupt callback's opaque pointer stays valid.
    private let interrupt: Interrupt
    /// For input read from memory: the custom IO context and its cursor, freed after the context.
    private var memoryIO: UnsafeMutablePointer<AVIOContext>?
    private var memory: UnsafeMutablePointer<KilnMemoryInput>?

    /// Opens `path` with the demuxer `format` names (never FFmpeg's own guess) and reads enough
    /// to know its streams. Only the file protocol is allowed: a container cannot make FFmpeg
    /// open other files or URLs.
    init(path: String, format: String, interrupt: Interrupt) throws(AVFailure) {
        try FFmpegRuntime.start()
        self.interrupt = interrupt
        context = try Self.open(url: path, format: format, interrupt: interrupt, io: nil)
    }

    /// Opens bytes in memory through a custom AVIOContext: `bytes` must outlive the demuxer.
    init(bytes: UnsafeRawBufferPointer, format: String, interrupt: Interrupt) throws(AVFailure) {
        try FFmpegRuntime.start()
        self.interrupt = interrupt
        let memory = UnsafeMutablePointer<KilnMemoryInput>.allocate(capacity: 1)
        memory.initialize(to: KilnMemoryInput(data: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                              size: Int64(bytes.count), position: 0))
        var io = withFFmpegTable { kiln_memory_io($0, memory) }
        guard io != nil else {
            memory.deallocate()
            throw AVFailure("avio_alloc_context", code: kiln_averror(ENOMEM))
        }
        do {
            context = try Self.open(url: "", format: format, interrupt: interrupt, io: io)
        } catch {
            withFFmpegTable { kiln_memory_io_free($0, &io) }
            memory.deallocate()
            throw error
        }
        self.memoryIO = io
        self.memory = memory
    }

    private static func open(url path: String, format: String, interrupt: Interrupt,
                             io: UnsafeMutablePointer<AVIOContext>?) throws(AVFailure) -> UnsafeMutablePointer<AVFormatContext> {
        guard let inputFormat = ff.av_find_input_format(format) else {
            throw AVFailure("av_find_input_format", message: "FFmpeg has no \(format) demuxer")
        }
        var options: OpaquePointer?
        defer { ff.av_dict_free(&options) }
        try check(ff.av_dict_set(&options, "protocol_whitelist", "file", 0), "av_dict_set")
        guard let allocated = ff.avformat_alloc_context() else {
            throw AVFailure("avformat_alloc_context", code: kiln_averror(ENOMEM))
        }
        allocated.pointee.interrupt_callback = interrupt.callback
        if let io {
            allocated.pointee.pb = io
            allocated.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        }
        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        // avformat_open_input frees the context on failure.
        try check(ff.avformat_open_input(&context, path, inputFormat, &options), "avformat_open_input")
        guard let opened = context else { throw AVFailure("avformat_open_input", code: kiln_averror(ENOMEM)) }
        do {
            try check(ff.avformat_find_stream_info(opened, nil), "avformat_find_stream_info")
        } catch {
            var toClose: UnsafeMutablePointer<AVFormatContext>? = opened
            ff.avformat_close_input(&toClose)
            throw error
        }
        return opened
    }

    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = context
        ff.avformat_close_input(&context)
        if memoryIO != nil { withFFmpegTable { kiln_memory_io_free($0, &memoryIO) } }
        memory?.deallocate()
    }

    var streams: [UnsafeMutablePointer<AVStream>] {
        (0..<Int(context.pointee.nb_streams)).compactMap { context.pointee.streams[$0] }
    }

    /// The index of the best stream of `type` (cover art is not a video stream), or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = ff.av_find_best_stream(context, type, -1, -1, nil, 0)
        guard index >= 0, let stream = context.pointee.streams[Int(index)] else { return nil }
        if (stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0 { return nil }
        return Int(index)
    }

    /// How far into the file (seconds from its start) the packets read so far reach.
    private(set) var secondsRead = 0.0
    /// Reading stops past this many seconds of media, whatever the header claimed.
    var durationLimit: Double?
    static let durationLimitOperation = "duration limit"

    /// Reads the next packet; false at the end of the file.
    func read(into packet: Packet) throws(AVFailure) -> Bool {
        try interrupt.checkpoint()
        let code = ff.av_read_frame(context, packet.pointer)
        if code == kiln_averror_eof() { return false }
        try check(code, "av_read_frame")
        let p = packet.pointer.pointee
        if p.pts != kiln_nopts_value(), let stream = context.pointee.streams[Int(p.stream_index)] {
            let start = stream.pointee.start_time == kiln_nopts_value() ? 0 : stream.pointee.start_time
            secondsRead = max(secondsRead, Double(p.pts - start + max(0, p.duration)) * av_q2d(stream.pointee.time_base))
            if let durationLimit, secondsRead > durationLimit {
                throw AVFailure(Self.durationLimitOperation, message: "the media runs past \(durationLimit) s")
            }
        }
        return true
    }
}
