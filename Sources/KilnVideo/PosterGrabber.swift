import CFFmpeg

/// Decodes one representative frame (upright, tone-mapped, at the video's output size, inside
/// its crop) as packed RGB for libvips to encode: the best of a few candidates, scored on
/// sharpness and contrast, so a fade, a black opening or a motion blur is not the poster.
enum PosterGrabber {
    struct Picture {
        let pixels: [UInt8]
        let width: Int
        let height: Int

        /// Higher for a sharper, better exposed picture: the mean gradient of its brightness
        /// (sampled), times how far its spread of brightness is from flat, and near zero for a
        /// black or washed-out frame.
        var score: Double {
            guard width > 2, height > 2 else { return 0 }
            let step = max(1, min(width, height) / 180)
            var sum = 0.0, squares = 0.0, gradient = 0.0, count = 0.0
            func luma(_ x: Int, _ y: Int) -> Double {
                let i = (y * width + x) * 3
                return 0.299 * Double(pixels[i]) + 0.587 * Double(pixels[i + 1]) + 0.114 * Double(pixels[i + 2])
            }
            for y in stride(from: 0, to: height - step, by: step) {
                for x in stride(from: 0, to: width - step, by: step) {
                    let value = luma(x, y)
                    sum += value
                    squares += value * value
                    gradient += abs(luma(x + step, y) - value) + abs(luma(x, y + step) - value)
                    count += 1
                }
            }
            guard count > 0 else { return 0 }
            let mean = sum / count
            let spread = max(0, squares / count - mean * mean).squareRoot()
            // Black or nearly so, white or nearly so: not a picture of anything.
            let exposed = mean < 16 || mean > 245 ? 0.05 : 1.0
            return (gradient / count + 1) * min(1, spread / 40 + 0.05) * exposed
        }
    }

    /// The best-scored of the frames at `times` (seconds; one when the video is short).
    static func best(input: Demuxer, plan: VideoPlan, rotation: Int, at times: [Double], threads: Int)
        throws(AVFailure) -> Picture
    {
        var best: (picture: Picture, score: Double)?
        var lastFailure: AVFailure?
        for time in times {
            do throws(AVFailure) {
                let picture = try grab(input: input, plan: plan, rotation: rotation, at: time, threads: threads)
                let score = picture.score
                if score > best?.score ?? -1 { best = (picture, score) }
            } catch {
                lastFailure = error
            }
        }
        if let best { return best.picture }
        throw lastFailure ?? AVFailure("poster", message: "no frame could be decoded")
    }

    /// The key frame at or before `seconds` (decoding only from there to the first picture is
    /// cheap, where an exact frame could cost a whole GOP of decoding), through the plan's filters.
    static func grab(input: Demuxer, plan: VideoPlan, rotation: Int, at seconds: Double, threads: Int)
        throws(AVFailure) -> Picture
    {
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw AVFailure("poster", message: "no video stream") }
        let stream = input.streams[index]
        let decoder = try Decoder(stream: stream, index: index, threads: threads)
        let crop = plan.frameCrop(decoder: decoder, stream: stream, rotation: rotation)
        let graph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base, size: crop.map { ($0.width, $0.height) },
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
        if let crop {
            let window = VideoPlan.cropWindow(plan.geometry, displayWidth: plan.displayWidth, displayHeight: plan.displayHeight)
            let seconds = crop.seconds(of: chosen)
            try crop.apply(to: chosen, origin: plan.framing?.origin(at: seconds, sourceWidth: plan.displayWidth,
                                                                     sourceHeight: plan.displayHeight) ?? (window.x, window.y))
        }
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
