import CFFmpeg

/// A decoder for one input stream: owns its `AVCodecContext`.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let streamIndex: Int

    /// - Parameter threads: decoding threads; 0 lets FFmpeg use every core.
    init(stream: UnsafeMutablePointer<AVStream>, index: Int, threads: Int = 0) throws(AVFailure) {
        guard let parameters = stream.pointee.codecpar else {
            throw AVFailure("avcodec_parameters", message: "stream \(index) has no codec parameters")
        }
        guard let codec = ff.avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw AVFailure("avcodec_find_decoder", message: "no decoder for \(text(ff.avcodec_get_name(parameters.pointee.codec_id)))")
        }
        guard let context = ff.avcodec_alloc_context3(codec) else {
            throw AVFailure("avcodec_alloc_context3", code: kiln_averror(ENOMEM))
        }
        self.context = context
        streamIndex = index
        try check(ff.avcodec_parameters_to_context(context, parameters), "avcodec_parameters_to_context")
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = Int32(threads)
        try check(ff.avcodec_open2(context, codec, nil), "avcodec_open2 (decoder)")
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        ff.avcodec_free_context(&context)
    }

    /// Sends a packet; nil flushes the decoder at the end of the stream.
    func send(_ packet: Packet?) throws(AVFailure) {
        let code = ff.avcodec_send_packet(context, packet?.pointer)
        if code == kiln_averror_eof() { return }
        try check(code, "avcodec_send_packet")
    }

    /// The next decoded frame, or false when the decoder needs input or is drained.
    func receive(into frame: Frame) throws(AVFailure) -> Bool {
        let code = ff.avcodec_receive_frame(context, frame.pointer)
        if code == kiln_averror_eagain() || code == kiln_averror_eof() { return false }
        try check(code, "avcodec_receive_frame")
        return true
    }
}

/// An encoder for one output stream: owns its `AVCodecContext`.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let codec: UnsafePointer<AVCodec>

    /// Allocates the encoder; set the context's fields, then call `open`.
    init(name: String) throws(AVFailure) {
        guard let codec = ff.avcodec_find_encoder_by_name(name) else {
            throw AVFailure("avcodec_find_encoder_by_name", message: "FFmpeg has no \(name) encoder")
        }
        guard let context = ff.avcodec_alloc_context3(codec) else {
            throw AVFailure("avcodec_alloc_context3", code: kiln_averror(ENOMEM))
        }
        self.codec = codec
        self.context = context
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        ff.avcodec_free_context(&context)
    }

    /// Opens the encoder with private `options` (e.g. x264's preset and crf) and describes it
    /// on `stream`.
    func open(options: [(String, String)], globalHeader: Bool, stream: UnsafeMutablePointer<AVStream>)
        throws(AVFailure)
    {
        if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var dictionary: OpaquePointer?
        defer { ff.av_dict_free(&dictionary) }
        for (key, value) in options { try check(ff.av_dict_set(&dictionary, key, value, 0), "av_dict_set") }
        try check(ff.avcodec_open2(context, codec, &dictionary), "avcodec_open2 (encoder)")
        try check(ff.avcodec_parameters_from_context(stream.pointee.codecpar, context), "avcodec_parameters_from_context")
        stream.pointee.time_base = context.pointee.time_base
    }

    /// Sends a frame; nil starts draining.
    func send(_ frame: Frame?) throws(AVFailure) {
        let code = ff.avcodec_send_frame(context, frame?.pointer)
        if code == kiln_averror_eof() { return }
        try check(code, "avcodec_send_frame")
    }

    func receive(into packet: Packet) throws(AVFailure) -> Bool {
        let code = ff.avcodec_receive_packet(context, packet.pointer)
        if code == kiln_averror_eagain() || code == kiln_averror_eof() { return false }
        try check(code, "avcodec_receive_packet")
        return true
    }

    /// Writes every packet the encoder has ready to `stream`, in the stream's time base.
    func write(into packet: Packet, stream: UnsafeMutablePointer<AVStream>, muxer: Muxer) throws(AVFailure) {
        while try receive(into: packet) {
            packet.pointer.pointee.stream_index = stream.pointee.index
            // libx264 leaves durations unset; the muxer then gives the last frame none, and the
            // stream's average rate reads a frame fast (251 frames in 250 frames' time).
            let rate = context.pointee.framerate, base = context.pointee.time_base
            if packet.pointer.pointee.duration <= 0, rate.num > 0, rate.den > 0, base.num > 0 {
                packet.pointer.pointee.duration = Int64((av_q2d(AVRational(num: rate.den, den: rate.num)) / av_q2d(base)).rounded())
            }
            ff.av_packet_rescale_ts(packet.pointer, context.pointee.time_base, stream.pointee.time_base)
            try muxer.write(packet)
        }
    }
}
