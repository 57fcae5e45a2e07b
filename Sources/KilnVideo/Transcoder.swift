import CFFmpeg
import KilnCore

/// Decodes, filters (rotation, tone mapping, scale/crop/pad, frame rate, 8-bit 4:2:0) and
/// encodes to H.264 + AAC in an MP4 with moov first. Audio that already meets the preset is
/// copied; other audio is resampled to AAC.
final class Transcoder {
    private let input: Demuxer
    private let muxer: Muxer
    private let video: VideoPath
    private let audio: AudioPath?
    private let progress: (Int) -> Void
    private var framesDone = 0

    init(input: Demuxer, plan: VideoPlan, output: VideoOutputSpec, outputPath: String, interrupt: Interrupt,
         progress: @escaping (Int) -> Void) throws(AVFailure) {
        self.input = input
        self.progress = progress
        muxer = try Muxer(path: outputPath, interrupt: interrupt)
        guard let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw AVFailure("transcode", message: "no video stream")
        }
        video = try VideoPath(input: input, index: videoIndex, plan: plan, output: output, muxer: muxer)
        if let audioIndex = input.bestStream(AVMEDIA_TYPE_AUDIO) {
            audio = try AudioPath(input: input, index: audioIndex, plan: plan.audio, output: output, muxer: muxer)
        } else {
            audio = nil
        }
        try muxer.start()
    }

    func run() throws(AVFailure) {
        let packet = try Packet()
        let frame = try Frame()
        let filtered = try Frame()
        let encoded = try Packet()
        while try input.read(into: packet) {
            let index = Int(packet.pointer.pointee.stream_index)
            if index == video.decoder.streamIndex {
                try video.decoder.send(packet)
                try drainVideo(frame, filtered, encoded)
            } else if let audio, index == audio.inputIndex {
                try audio.consume(packet, frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
            }
            packet.unref()
        }
        try video.decoder.send(nil)
        try drainVideo(frame, filtered, encoded, flush: true)
        try audio?.finish(frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
        try muxer.finish()
    }

    private func drainVideo(_ frame: Frame, _ filtered: Frame, _ encoded: Packet, flush: Bool = false) throws(AVFailure) {
        while try video.decoder.receive(into: frame) {
            frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
            try video.graph.push(frame)
            try encodeFiltered(filtered, encoded)
        }
        guard flush else { return }
        try video.graph.push(nil)
        try encodeFiltered(filtered, encoded)
        try video.encoder.send(nil)
        try writePackets(encoded)
    }

    private func encodeFiltered(_ filtered: Frame, _ encoded: Packet) throws(AVFailure) {
        while try video.graph.pull(into: filtered) {
            filtered.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try video.encoder.send(filtered)
            filtered.unref()
            framesDone += 1
            progress(framesDone)
            try writePackets(encoded)
        }
    }

    private func writePackets(_ encoded: Packet) throws(AVFailure) {
        while try video.encoder.receive(into: encoded) {
            encoded.pointer.pointee.stream_index = video.stream.pointee.index
            ff.av_packet_rescale_ts(encoded.pointer, video.encoder.context.pointee.time_base, video.stream.pointee.time_base)
            try muxer.write(encoded)
        }
    }
}

/// Decoder -> filter graph -> libx264 for the main video stream.
private struct VideoPath {
    let decoder: Decoder
    let graph: FilterGraph
    let encoder: Encoder
    let stream: UnsafeMutablePointer<AVStream>

    init(input: Demuxer, index: Int, plan: VideoPlan, output: VideoOutputSpec, muxer: Muxer) throws(AVFailure) {
        let source = input.streams[index]
        decoder = try Decoder(stream: source, index: index)
        graph = try FilterGraph(video: decoder, timeBase: source.pointee.time_base,
                                description: plan.filters(pixelFormat: "yuv420p", rotation: plan.rotation))
        encoder = try Encoder(name: "libx264")
        stream = try muxer.addStream()
        let c = encoder.context
        c.pointee.width = graph.outputWidth
        c.pointee.height = graph.outputHeight
        c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        c.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        c.pointee.time_base = graph.outputTimeBase
        var rate = graph.outputFrameRate
        if rate.num <= 0 || rate.den <= 0 { rate = source.pointee.avg_frame_rate }
        if rate.num > 0 && rate.den > 0 {
            c.pointee.framerate = rate
            c.pointee.gop_size = Int32(max(1, (2 * av_q2d(rate)).rounded()))
        }
        if plan.toneMap != nil {
            c.pointee.color_primaries = AVCOL_PRI_BT709
            c.pointee.color_trc = AVCOL_TRC_BT709
            c.pointee.colorspace = AVCOL_SPC_BT709
        } else {
            c.pointee.color_primaries = decoder.context.pointee.color_primaries
            c.pointee.color_trc = decoder.context.pointee.color_trc
            c.pointee.colorspace = decoder.context.pointee.colorspace
        }
        c.pointee.color_range = AVCOL_RANGE_MPEG
        try encoder.open(options: [("preset", output.preset), ("crf", String(output.crf)), ("profile", "high")],
                         globalHeader: muxer.wantsGlobalHeader, stream: stream)
    }
}

/// The main audio stream: copied when it already meets the preset, else decoded, resampled
/// (libswresample through `aresample`) and encoded to AAC in 1024-sample frames.
private final class AudioPath {
    let inputIndex: Int
    private let inputStream: UnsafeMutablePointer<AVStream>
    private let stream: UnsafeMutablePointer<AVStream>
    private let coder: (decoder: Decoder, graph: FilterGraph, encoder: Encoder)?

    init(input: Demuxer, index: Int, plan: VideoPlan.Audio, output: VideoOutputSpec, muxer: Muxer) throws(AVFailure) {
        inputIndex = index
        inputStream = input.streams[index]
        stream = try muxer.addStream()
        switch plan {
        case .none, .copy:
            try check(ff.avcodec_parameters_copy(stream.pointee.codecpar, inputStream.pointee.codecpar), "avcodec_parameters_copy")
            stream.pointee.codecpar.pointee.codec_tag = 0
            stream.pointee.time_base = inputStream.pointee.time_base
            coder = nil
        case .transcode(let sampleRate, let channels):
            let decoder = try Decoder(stream: inputStream, index: index)
            let layout = channels == 1 ? "mono" : "stereo"
            let graph = try FilterGraph(audio: decoder, timeBase: inputStream.pointee.time_base,
                                        description: "aresample=\(sampleRate),aformat=sample_fmts=fltp:sample_rates=\(sampleRate):channel_layouts=\(layout)")
            let encoder = try Encoder(name: "aac")
            let c = encoder.context
            c.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            c.pointee.sample_rate = Int32(sampleRate)
            ff.av_channel_layout_default(&c.pointee.ch_layout, Int32(channels))
            c.pointee.bit_rate = Int64(channels == 1 ? output.audioBitRate / 2 : output.audioBitRate)
            c.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
            try encoder.open(options: [], globalHeader: muxer.wantsGlobalHeader, stream: stream)
            graph.setFrameSize(c.pointee.frame_size)
            coder = (decoder, graph, encoder)
        }
    }

    func consume(_ packet: Packet, frame: Frame, filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        guard let coder else {
            ff.av_packet_rescale_ts(packet.pointer, inputStream.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            packet.pointer.pointee.pos = -1
            try muxer.write(packet)
            return
        }
        try coder.decoder.send(packet)
        try drain(coder, frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
    }

    func finish(frame: Frame, filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        guard let coder else { return }
        try coder.decoder.send(nil)
        try drain(coder, frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
        try coder.graph.push(nil)
        try encode(coder, filtered: filtered, encoded: encoded, muxer: muxer)
        try coder.encoder.send(nil)
        try write(coder, encoded: encoded, muxer: muxer)
    }

    private func drain(_ coder: (decoder: Decoder, graph: FilterGraph, encoder: Encoder), frame: Frame, filtered: Frame,
                       encoded: Packet, muxer: Muxer) throws(AVFailure) {
        while try coder.decoder.receive(into: frame) {
            frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
            try coder.graph.push(frame)
            try encode(coder, filtered: filtered, encoded: encoded, muxer: muxer)
        }
    }

    private func encode(_ coder: (decoder: Decoder, graph: FilterGraph, encoder: Encoder), filtered: Frame,
                        encoded: Packet, muxer: Muxer) throws(AVFailure) {
        while try coder.graph.pull(into: filtered) {
            try coder.encoder.send(filtered)
            filtered.unref()
            try write(coder, encoded: encoded, muxer: muxer)
        }
    }

    private func write(_ coder: (decoder: Decoder, graph: FilterGraph, encoder: Encoder), encoded: Packet,
                       muxer: Muxer) throws(AVFailure) {
        while try coder.encoder.receive(into: encoded) {
            encoded.pointer.pointee.stream_index = stream.pointee.index
            ff.av_packet_rescale_ts(encoded.pointer, coder.encoder.context.pointee.time_base, stream.pointee.time_base)
            try muxer.write(encoded)
        }
    }
}
