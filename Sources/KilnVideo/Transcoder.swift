import CFFmpeg
import KilnCore

/// Writes the MP4 the plan asks for, moov first and without edit lists, deciding each stream on
/// its own: the video is copied (a remux) or decoded, filtered (rotation, tone mapping,
/// scale/crop/pad, frame rate, 8-bit 4:2:0) and encoded with libx264; the audio is copied when
/// it already meets the preset, otherwise resampled and encoded to AAC. Other streams (data,
/// subtitles, cover art) are dropped.
final class Transcoder {
    private let input: Demuxer
    private let muxer: Muxer
    private let video: VideoOutput
    private let audio: AudioOutput?
    private let progress: (Int) -> Void
    private var framesDone = 0
    /// Where the output ends (`VideoPlan.trim`), and the streams it cuts.
    private let trim: Double?
    private let videoIndex: Int
    private let audioIndex: Int?
    /// Plays of the input (`VideoPlan.loops`), each after the first read from `again()`, its
    /// frames' times moved on by the plays before it.
    private let loops: Int
    private let again: () throws(AVFailure) -> Demuxer
    private var offset: Int64 = 0
    private var playEnd: Int64 = 0

    init(input: Demuxer, again: @escaping () throws(AVFailure) -> Demuxer, plan: VideoPlan, output: VideoOutputSpec,
         outputPath: String, interrupt: Interrupt, threads: Int, progress: @escaping (Int) -> Void) throws(AVFailure) {
        self.input = input
        self.again = again
        self.progress = progress
        muxer = try Muxer(path: outputPath, interrupt: interrupt)
        guard let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw AVFailure("transcode", message: "no video stream")
        }
        self.videoIndex = videoIndex
        audioIndex = input.bestStream(AVMEDIA_TYPE_AUDIO)
        trim = plan.trim
        // Only a re-encoded video without audio (an animated GIF) is looped.
        loops = plan.mode == .transcode && audioIndex == nil ? max(1, plan.loops) : 1
        switch plan.mode {
        case .remux:
            let copy = try StreamCopy(input: input, index: videoIndex, muxer: muxer)
            try check(withFFmpegTable { kiln_copy_display_matrix($0, copy.source, copy.stream) }, "copy display matrix")
            video = .copy(copy)
        case .transcode:
            video = .encode(try VideoEncoding(input: input, index: videoIndex, plan: plan, output: output,
                                              muxer: muxer, threads: threads))
        }
        let muxer = muxer
        audio = try audioIndex.map { index throws(AVFailure) in
            switch plan.audio {
            case .none, .copy: .copy(try StreamCopy(input: input, index: index, muxer: muxer))
            case .transcode(let sampleRate, let channels, let bitRate):
                .encode(try AudioEncoding(input: input, index: index, sampleRate: sampleRate, channels: channels,
                                          bitRate: bitRate, muxer: muxer))
            }
        }
        try muxer.start()
    }

    /// Where a crop that follows the subject went (after `run`).
    var framing: CropPath? {
        if case .encode(let encoding) = video { encoding.follower?.path() } else { nil }
    }

    func run() throws(AVFailure) {
        let packet = try Packet()
        let frame = try Frame()
        let filtered = try Frame()
        let encoded = try Packet()
        var ended: Set<Int> = []
        var source = input
        for play in 0..<loops {
            if play > 0 {
                source = try again()
                offset = playEnd
            }
            while try source.read(into: packet) {
                let index = Int(packet.pointer.pointee.stream_index)
                if let trim, pastCut(packet, stream: index, at: trim) {
                    // Cut: the video by decoding order (every kept frame keeps what it refers to),
                    // the audio by time; read on only while a stream still runs.
                    packet.unref()
                    ended.insert(index)
                    if ended.contains(videoIndex), audioIndex.map(ended.contains) ?? true { break }
                    continue
                }
                switch (video, audio) {
                case (.copy(let copy), _) where index == copy.inputIndex:
                    try copy.write(packet, to: muxer)
                    framesDone += 1
                    progress(framesDone)
                case (.encode(let encoding), _) where index == encoding.decoder.streamIndex:
                    try encoding.decoder.send(packet)
                    try drainVideo(encoding, frame, filtered, encoded)
                case (_, .copy(let copy)?) where index == copy.inputIndex:
                    try copy.write(packet, to: muxer)
                case (_, .encode(let encoding)?) where index == encoding.decoder.streamIndex:
                    try encoding.consume(packet, frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
                default:
                    break
                }
                packet.unref()
            }
        }
        if case .encode(let encoding) = video {
            try encoding.decoder.send(nil)
            try drainVideo(encoding, frame, filtered, encoded, flush: true)
        }
        if case .encode(let encoding)? = audio {
            try encoding.finish(frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
        }
        try muxer.finish()
    }

    /// Whether `packet` starts at or after `seconds` into its stream (decode time for the video).
    private func pastCut(_ packet: Packet, stream index: Int, at seconds: Double) -> Bool {
        guard index == videoIndex || index == audioIndex else { return false }
        let p = packet.pointer.pointee
        let unknown = Int64.min  // AV_NOPTS_VALUE
        let time = index == videoIndex && p.dts != unknown ? p.dts : p.pts
        guard time != unknown else { return false }
        let stream = input.streams[index].pointee
        let start = stream.start_time == unknown ? 0 : stream.start_time
        return Double(time - start) * av_q2d(stream.time_base) >= seconds
    }

    private func drainVideo(_ video: VideoEncoding, _ frame: Frame, _ filtered: Frame, _ encoded: Packet,
                            flush: Bool = false) throws(AVFailure) {
        while try video.decoder.receive(into: frame) {
            let f = frame.pointer.pointee
            frame.pointer.pointee.pts = f.best_effort_timestamp + offset
            playEnd = max(playEnd, f.best_effort_timestamp + offset + max(1, f.pkt_duration))
            if let follower = video.follower {
                // Held until the subject's next half second is seen, then cut to its window.
                try follower.take(frame)
                try follower.release(flush: false) { held throws(AVFailure) in
                    try video.graph.push(held)
                    try encodeFiltered(video, filtered, encoded)
                }
            } else {
                try video.graph.push(frame)
                try encodeFiltered(video, filtered, encoded)
            }
        }
        guard flush else { return }
        try video.follower?.release(flush: true) { held throws(AVFailure) in
            try video.graph.push(held)
            try encodeFiltered(video, filtered, encoded)
        }
        try video.graph.push(nil)
        try encodeFiltered(video, filtered, encoded)
        try video.encoder.send(nil)
        try video.encoder.write(into: encoded, stream: video.stream, muxer: muxer)
    }

    private func encodeFiltered(_ video: VideoEncoding, _ filtered: Frame, _ encoded: Packet) throws(AVFailure) {
        while try video.graph.pull(into: filtered) {
            filtered.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try video.encoder.send(filtered)
            filtered.unref()
            framesDone += 1
            progress(framesDone)
            try video.encoder.write(into: encoded, stream: video.stream, muxer: muxer)
        }
    }
}

private enum VideoOutput {
    case copy(StreamCopy)
    case encode(VideoEncoding)
}

private enum AudioOutput {
    case copy(StreamCopy)
    case encode(AudioEncoding)
}

/// One input stream copied packet by packet into an output stream (no decoding).
private struct StreamCopy {
    let inputIndex: Int
    let source: UnsafeMutablePointer<AVStream>
    let stream: UnsafeMutablePointer<AVStream>

    init(input: Demuxer, index: Int, muxer: Muxer) throws(AVFailure) {
        inputIndex = index
        source = input.streams[index]
        stream = try muxer.addStream()
        try check(ff.avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar), "avcodec_parameters_copy")
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = source.pointee.time_base
    }

    func write(_ packet: Packet, to muxer: Muxer) throws(AVFailure) {
        ff.av_packet_rescale_ts(packet.pointer, source.pointee.time_base, stream.pointee.time_base)
        packet.pointer.pointee.stream_index = stream.pointee.index
        packet.pointer.pointee.pos = -1
        try muxer.write(packet)
    }
}

/// Decoder -> (the window following the subject) -> filter graph -> libx264 for the main video stream.
private struct VideoEncoding {
    let decoder: Decoder
    let follower: SubjectFollower?
    let graph: FilterGraph
    let encoder: Encoder
    let stream: UnsafeMutablePointer<AVStream>

    init(input: Demuxer, index: Int, plan: VideoPlan, output: VideoOutputSpec, muxer: Muxer, threads: Int)
        throws(AVFailure)
    {
        let source = input.streams[index]
        decoder = try Decoder(stream: source, index: index, threads: threads)
        follower = plan.follows ? try SubjectFollower(plan: plan, decoder: decoder, stream: source, rotation: plan.rotation) : nil
        graph = try FilterGraph(video: decoder, timeBase: source.pointee.time_base, size: follower?.croppedSize,
                                description: plan.filters(pixelFormat: "yuv420p", rotation: plan.rotation))
        encoder = try Encoder(name: "libx264")
        stream = try muxer.addStream()
        let c = encoder.context
        c.pointee.width = graph.outputWidth
        c.pointee.height = graph.outputHeight
        c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        c.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        c.pointee.time_base = graph.outputTimeBase
        // x264's own rule for its frame threads, 1.5 per core, within this job's share: with
        // one per core the lookahead leaves cores idle (measured 5-8% slower than the CLI).
        c.pointee.thread_count = Int32(threads > 0 ? threads + threads / 2 : 0)
        var rate = graph.outputFrameRate
        if rate.num <= 0 || rate.den <= 0 { rate = source.pointee.avg_frame_rate }
        if rate.num > 0 && rate.den > 0 {
            c.pointee.framerate = rate
            // Closed GOPs (x264's default) at the platform's key-frame interval; scene cuts may
            // add IDR frames, never stretch a GOP past it.
            c.pointee.gop_size = Int32(max(1, (plan.keyframeInterval * av_q2d(rate)).rounded(.down)))
        }
        if let maxRate = plan.maxRate {
            // VBV over CRF: maxrate with half a second of buffer keeps every peak window under the cap.
            c.pointee.rc_max_rate = Int64(maxRate)
            c.pointee.rc_buffer_size = Int32(clamping: maxRate / 2)
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
        try encoder.open(options: [("preset", output.preset), ("crf", String(output.crf)), ("profile", "high"),
                                   ("x264-params", "open-gop=0")],
                         globalHeader: muxer.wantsGlobalHeader, stream: stream)
    }
}

/// The main audio stream decoded, resampled (libswresample through `aresample`) and encoded
/// to AAC in 1024-sample frames.
private struct AudioEncoding {
    let decoder: Decoder
    let graph: FilterGraph
    let encoder: Encoder
    let stream: UnsafeMutablePointer<AVStream>

    init(input: Demuxer, index: Int, sampleRate: Int, channels: Int, bitRate: Int, muxer: Muxer)
        throws(AVFailure)
    {
        let source = input.streams[index]
        decoder = try Decoder(stream: source, index: index, threads: 1)
        let layout = channels == 1 ? "mono" : "stereo"
        graph = try FilterGraph(audio: decoder, timeBase: source.pointee.time_base,
                                description: "aresample=\(sampleRate),aformat=sample_fmts=fltp:sample_rates=\(sampleRate):channel_layouts=\(layout)")
        encoder = try Encoder(name: "aac")
        stream = try muxer.addStream()
        let c = encoder.context
        c.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        c.pointee.sample_rate = Int32(sampleRate)
        ff.av_channel_layout_default(&c.pointee.ch_layout, Int32(channels))
        c.pointee.bit_rate = Int64(bitRate)
        c.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        try encoder.open(options: [], globalHeader: muxer.wantsGlobalHeader, stream: stream)
        graph.setFrameSize(c.pointee.frame_size)
    }

    func consume(_ packet: Packet, frame: Frame, filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        try decoder.send(packet)
        try drain(frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
    }

    func finish(frame: Frame, filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        try decoder.send(nil)
        try drain(frame: frame, filtered: filtered, encoded: encoded, muxer: muxer)
        try graph.push(nil)
        try encode(filtered: filtered, encoded: encoded, muxer: muxer)
        try encoder.send(nil)
        try encoder.write(into: encoded, stream: stream, muxer: muxer)
    }

    private func drain(frame: Frame, filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        while try decoder.receive(into: frame) {
            frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
            try graph.push(frame)
            try encode(filtered: filtered, encoded: encoded, muxer: muxer)
        }
    }

    private func encode(filtered: Frame, encoded: Packet, muxer: Muxer) throws(AVFailure) {
        while try graph.pull(into: filtered) {
            try encoder.send(filtered)
            filtered.unref()
            try encoder.write(into: encoded, stream: stream, muxer: muxer)
        }
    }
}
