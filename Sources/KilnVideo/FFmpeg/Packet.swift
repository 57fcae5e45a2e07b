import CFFmpeg

/// Owns one `AVPacket`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws(AVFailure) {
        guard let packet = ff.av_packet_alloc() else { throw AVFailure("av_packet_alloc", code: kiln_averror(ENOMEM)) }
        pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        ff.av_packet_free(&packet)
    }

    func unref() { ff.av_packet_unref(pointer) }
}

/// Owns one `AVFrame`.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws(AVFailure) {
        guard let frame = ff.av_frame_alloc() else { throw AVFailure("av_frame_alloc", code: kiln_averror(ENOMEM)) }
        pointer = frame
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        ff.av_frame_free(&frame)
    }

    func unref() { ff.av_frame_unref(pointer) }
}
