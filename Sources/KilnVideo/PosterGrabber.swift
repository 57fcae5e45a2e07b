import CFFmpeg

/// Decodes one representative frame (upright, tone-mapped, at the video's output size) as
/// packed RGB for libvips to encode.
enum PosterGrabber {
    struct Picture {
        let pixels: [UInt8]
        let width: Int
        let height: Int
    }

    /// The key frame at or before `seconds` (decoding only from there to the first picture is
    /// cheap, where an exact frame could cost a whole GOP of decoding), through the plan's filters.
    static func grab(input: Demuxer, plan: VideoPlan, rotation: Int, at seconds: Double, threads: Int)
        throws(AVFailure) -> Picture
    {
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw AVFailure("poster", message: "no video stream") }
        let stream = input.streams[index]
        let decoder = try Decoder(stream: stream, index: index, threads: threads)
        let graph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base,
                                    description: plan.filters(pixelFormat: "rgb24", rotation: rotation, includeFrameRate: false))
        let start = stream.pointee.start_time == kiln_nopts_value() ? 0 : stream.pointee.start_time
        if seconds > 0 {
            let target = start + Int64(seconds / av_q2d(stream.pointee.time_base))
            // A failed seek leaves the position at the start: the first frame is the poster then.
            _ = ff.av_seek_frame(input.context, Int32(index), target, AVSEEK_FLAG_BACKWARD)
        }

        let packet = try Packet()
        let chosen = try Frame()
        var found = false
        reading: while try input.read(into: packet) {
            defer { packet.unref() }
            guard Int(packet.pointer.pointee.stream_index) == index else { continue }
            try decoder.send(packet)
            if try decoder.receive(into: chosen) {
                found = true
                break reading
            }
        }
        if !found {
            try decoder.send(nil)
            found = try decoder.receive(into: chosen)
        }
        guard found else { throw AVFailure("poster", message: "no frame could be decoded") }
        chosen.pointer.pointee.pts = chosen.pointer.pointee.best_effort_timestamp
        try graph.push(chosen)
        try graph.push(nil)
        let rgb = try Frame()
        guard try graph.pull(into: rgb) else { throw AVFailure("poster", message: "the filter graph gave no frame") }
        let width = Int(rgb.pointer.pointee.width)
        let height = Int(rgb.pointer.pointee.height)
        let stride = Int(rgb.pointer.pointee.linesize.0)
        guard let data = rgb.pointer.pointee.data.0, width > 0, height > 0 else {
            throw AVFailure("poster", message: "empty frame")
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for row in 0..<height {
            pixels.append(contentsOf: UnsafeBufferPointer(start: data + row * stride, count: width * 3))
        }
        return Picture(pixels: pixels, width: width, height: height)
    }
}
