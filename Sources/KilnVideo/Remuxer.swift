import CFFmpeg

/// Copies the main video and audio streams into a new MP4 without decoding: moov first, no
/// edit lists, the display matrix kept. Other streams (data, subtitles) are dropped.
enum Remuxer {
    static func run(input: Demuxer, outputPath: String, interrupt: Interrupt) throws(AVFailure) {
        let muxer = try Muxer(path: outputPath, interrupt: interrupt)
        var mapping: [Int: (output: UnsafeMutablePointer<AVStream>, input: UnsafeMutablePointer<AVStream>)] = [:]
        for index in [input.bestStream(AVMEDIA_TYPE_VIDEO), input.bestStream(AVMEDIA_TYPE_AUDIO)].compactMap({ $0 }) {
            let source = input.streams[index]
            let stream = try muxer.addStream()
            try check(ff.avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar), "avcodec_parameters_copy")
            stream.pointee.codecpar.pointee.codec_tag = 0
            stream.pointee.time_base = source.pointee.time_base
            try check(withFFmpegTable { kiln_copy_display_matrix($0, source, stream) }, "copy display matrix")
            mapping[index] = (stream, source)
        }
        try muxer.start()
        let packet = try Packet()
        while try input.read(into: packet) {
            guard let streams = mapping[Int(packet.pointer.pointee.stream_index)] else {
                packet.unref()
                continue
            }
            ff.av_packet_rescale_ts(packet.pointer, streams.input.pointee.time_base, streams.output.pointee.time_base)
            packet.pointer.pointee.stream_index = streams.output.pointee.index
            packet.pointer.pointee.pos = -1
            try muxer.write(packet)
        }
        try muxer.finish()
    }
}
