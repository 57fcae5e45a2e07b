import CFFmpeg
import KilnCore

/// Reads a video's container and stream headers with the demuxer its sniffed format names:
/// codecs, size, rotation, frame rate, duration, colour, audio. Nothing is decoded.
public enum VideoProber {
    /// How long reading a header alone may take.
    public static let probeTimeout: Duration = .seconds(30)

    /// - Parameter control: the job's deadline and cancel switch; probing alone gets 30 s.
    public static func facts(path: String, format: MediaFormat, sizeBytes: Int64,
                             control: JobControl = JobControl(timeout: probeTimeout)) throws -> VideoFacts {
        var facts = facts(of: try opened(path: path, format: format, sizeBytes: sizeBytes, control: control), mime: format.mime,
                          sizeBytes: sizeBytes)
        // The demuxer reads an encrypted track's original format (`frma`) and says nothing of the rest.
        if (try? MP4Layout.read(path: path))??.encrypted == true { facts.video?.encrypted = true }
        return facts
    }

    /// The file opened and its header checked (catalog errors for what cannot be read or is cut
    /// short), for a caller that goes on to read its packets.
    static func opened(path: String, format: MediaFormat, sizeBytes: Int64, control: JobControl) throws -> Demuxer {
        try open(format: format, sizeBytes: sizeBytes, control: control) { interrupt throws(AVFailure) in
            try Demuxer(path: path, format: format.decoder, interrupt: interrupt)
        }
    }

    /// Header facts of a video held in memory (read through a custom AVIOContext).
    public static func facts(bytes: UnsafeRawBufferPointer, format: MediaFormat) throws -> VideoFacts {
        let demuxer = try open(format: format, sizeBytes: Int64(bytes.count), control: JobControl(timeout: probeTimeout)) {
            interrupt throws(AVFailure) in
            try Demuxer(bytes: bytes, format: format.decoder, interrupt: interrupt)
        }
        return facts(of: demuxer, mime: format.mime, sizeBytes: Int64(bytes.count))
    }

    /// Opens with `open`, maps failures to catalog codes, and checks the index against the size.
    private static func open(format: MediaFormat, sizeBytes: Int64, control: JobControl,
                             open: (Interrupt) throws(AVFailure) -> Demuxer) throws -> Demuxer {
        let demuxer: Demuxer
        do {
            demuxer = try open(Interrupt(control))
        } catch where error.wasInterrupted || control.isStopped {
            throw control.stopError() ?? KilnError.corrupt("the \(format.name) container cannot be read (\(error.message))")
        } catch where error.operation == FFmpegRuntime.loadOperation {
            throw KilnError.videoProcessing(error.message)
        } catch {
            throw KilnError.corrupt("the \(format.name) container cannot be read (\(error.message))")
        }
        if let stream = truncatedStream(demuxer, fileSize: sizeBytes) {
            throw KilnError.corrupt("the data ends before the last sample of stream \(stream) (truncated upload?)")
        }
        return demuxer
    }

    /// A stream whose index (read from the header) points past the end of the file: the
    /// upload was cut short. Header-only, so a truncated file fails before any decoding.
    static func truncatedStream(_ demuxer: Demuxer, fileSize: Int64) -> Int? {
        for (index, stream) in demuxer.streams.enumerated() {
            let count = ff.avformat_index_get_entries_count(stream)
            guard count > 0, let last = ff.avformat_index_get_entry(stream, count - 1) else { continue }
            if last.pointee.pos + Int64(last.pointee.size) > fileSize { return index }
        }
        return nil
    }

    static func facts(of demuxer: Demuxer, mime: String, sizeBytes: Int64) -> VideoFacts {
        let context = demuxer.context.pointee
        let video = demuxer.bestStream(AVMEDIA_TYPE_VIDEO).map { videoFacts(demuxer.streams[$0], containerDuration: context.duration) }
        let audio = demuxer.bestStream(AVMEDIA_TYPE_AUDIO).map { audioFacts(demuxer.streams[$0]) }
        return VideoFacts(
            container: String(cString: context.iformat.pointee.name), mime: mime, sizeBytes: sizeBytes,
            duration: duration(of: demuxer), bitRate: context.bit_rate > 0 ? Int(context.bit_rate) : nil,
            video: video, audio: audio)
    }

    /// Seconds, from the container, else from the longest stream.
    static func duration(of demuxer: Demuxer) -> Double {
        let container = demuxer.context.pointee.duration
        if container != kiln_nopts_value(), container > 0 { return Double(container) / Double(kiln_time_base()) }
        return demuxer.streams.map { stream in
            let s = stream.pointee
            return s.duration > 0 ? Double(s.duration) * av_q2d(s.time_base) : 0
        }.max() ?? 0
    }

    private static func videoFacts(_ stream: UnsafeMutablePointer<AVStream>, containerDuration: Int64) -> VideoStreamFacts {
        let p = stream.pointee.codecpar.pointee
        let pixelFormat = AVPixelFormat(rawValue: p.format)
        let descriptor = ff.av_pix_fmt_desc_get(pixelFormat)
        let average = rate(stream.pointee.avg_frame_rate) ?? rate(stream.pointee.r_frame_rate) ?? 0
        let real = rate(stream.pointee.r_frame_rate) ?? average
        let seconds = stream.pointee.duration > 0 ? Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base)
            : Double(max(0, containerDuration)) / Double(kiln_time_base())
        let frames = stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : Int((seconds * average).rounded())
        // A constant-rate stream's average differs from its rate by at most one frame's worth
        // (whether the last frame's duration is counted); beyond that the timing varies.
        let variable = average > 0 && abs(real - average) / average > 1 / Double(max(2, frames) - 1) + 0.005
        let transfer = p.color_trc
        return VideoStreamFacts(
            codec: text(ff.avcodec_get_name(p.codec_id)),
            profile: ff.avcodec_profile_name(p.codec_id, p.profile).map { String(cString: $0) },
            pixelFormat: ff.av_get_pix_fmt_name(pixelFormat).map { String(cString: $0) } ?? "unknown",
            bitDepth: descriptor.map { Int($0.pointee.comp.0.depth) } ?? 8,
            width: Int(p.width), height: Int(p.height), rotation: clockwiseRotation(stream),
            frameRate: variable ? average : real, variableFrameRate: variable,
            frameCount: frames,
            colorTransfer: transfer == AVCOL_TRC_UNSPECIFIED ? nil : ff.av_color_transfer_name(transfer).map { String(cString: $0) },
            colorPrimaries: p.color_primaries == AVCOL_PRI_UNSPECIFIED ? nil
                : ff.av_color_primaries_name(p.color_primaries).map { String(cString: $0) },
            hdr: transfer == AVCOL_TRC_ARIB_STD_B67 ? "hlg" : transfer == AVCOL_TRC_SMPTE2084 ? "pq" : nil,
            interlaced: p.field_order != AV_FIELD_UNKNOWN && p.field_order != AV_FIELD_PROGRESSIVE,
            decodable: ff.avcodec_find_decoder(p.codec_id) != nil,
            level: p.level > 0 ? Int(p.level) : nil, sampleAspect: sampleAspect(stream))
    }

    private static func audioFacts(_ stream: UnsafeMutablePointer<AVStream>) -> AudioStreamFacts {
        var layout = stream.pointee.codecpar.pointee.ch_layout
        var description = [CChar](repeating: 0, count: 64)
        _ = ff.av_channel_layout_describe(&layout, &description, description.count)
        let p = stream.pointee.codecpar.pointee
        return AudioStreamFacts(codec: text(ff.avcodec_get_name(p.codec_id)),
                                profile: ff.avcodec_profile_name(p.codec_id, p.profile).map { String(cString: $0) },
                                channels: Int(p.ch_layout.nb_channels),
                                channelLayout: string(from: description), sampleRate: Int(p.sample_rate))
    }

    /// The clockwise turn that shows the picture upright (FFmpeg's display matrix angle is
    /// counter-clockwise), snapped to a quarter turn.
    static func clockwiseRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Int {
        let angle = -withFFmpegTable { kiln_stream_rotation($0, stream) }
        let quarter = Int((angle / 90).rounded()) * 90
        return ((quarter % 360) + 360) % 360
    }

    /// "4:3" for non-square pixels, reduced; nil when square or unset.
    static func sampleAspect(_ stream: UnsafeMutablePointer<AVStream>) -> String? {
        var sar = stream.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = stream.pointee.codecpar.pointee.sample_aspect_ratio }
        guard sar.num > 0, sar.den > 0, sar.num != sar.den else { return nil }
        var (a, b) = (Int(sar.num), Int(sar.den))
        while b != 0 { (a, b) = (b, a % b) }
        return "\(Int(sar.num) / a):\(Int(sar.den) / a)"
    }

    private static func rate(_ value: AVRational) -> Double? {
        value.num > 0 && value.den > 0 ? av_q2d(value) : nil
    }
}
