import CFFmpeg
import KilnCore
import KilnImaging

/// The analysis pass: the video decoded once, fast (no deblocking: the pictures are only
/// looked at), scaled to a small upright picture and read by an `InterestMeter`, and once a
/// second to a grey one `FaceFinder.side` long that dlib's detector looks for faces in.
enum SubjectAnalysis {
    /// The small picture's longer side, in pixels.
    static let longSide = 160
    /// Seconds between looks for faces (each ~50 ms of detector).
    static let faceInterval = 1.0

    /// The track of `input`'s main video stream up to `limit` seconds in.
    static func track(input: Demuxer, rotation: Int, limit: Double, threads: Int) throws(AVFailure) -> SubjectTrack {
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw AVFailure("analysis", message: "no video stream") }
        let stream = input.streams[index]
        let decoder = try Decoder(stream: stream, index: index, threads: threads, lookOnly: true)
        let c = decoder.context.pointee
        let (uprightWidth, uprightHeight) = rotation % 180 == 0 ? (Int(c.width), Int(c.height)) : (Int(c.height), Int(c.width))
        let fit = Double(longSide) / Double(max(1, uprightWidth, uprightHeight))
        let width = max(8, Int(Double(uprightWidth) * fit) & ~1), height = max(8, Int(Double(uprightHeight) * fit) & ~1)
        let chain = (VideoPlan.turn(rotation).map { [$0] } ?? []) + ["scale=\(width):\(height):flags=fast_bilinear", "setsar=1",
                                                                    "format=rgb24"]
        let graph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base, description: chain.joined(separator: ","))
        let faceFit = min(1, Double(FaceFinder.side) / Double(max(1, uprightWidth, uprightHeight)))
        let faceChain = (VideoPlan.turn(rotation).map { [$0] } ?? [])
            + ["scale=\(max(2, Int(Double(uprightWidth) * faceFit) & ~1)):\(max(2, Int(Double(uprightHeight) * faceFit) & ~1))",
               "setsar=1", "format=gray"]
        let faceGraph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base,
                                        description: faceChain.joined(separator: ","))
        let grey = try Frame()
        var lastFaces = -Double.infinity
        let start = stream.pointee.start_time == kiln_nopts_value() ? 0 : stream.pointee.start_time
        let timeBase = av_q2d(graph.outputTimeBase)
        var meter = InterestMeter()
        let packet = try Packet()
        let frame = try Frame()
        let small = try Frame()
        var done = false

        func look(flush: Bool) throws(AVFailure) {
            while try decoder.receive(into: frame) {
                let pts = frame.pointer.pointee.best_effort_timestamp
                frame.pointer.pointee.pts = pts
                let seconds = pts == kiln_nopts_value() ? 0 : Double(pts - start) * av_q2d(stream.pointee.time_base)
                if seconds > limit {
                    frame.unref()
                    done = true
                    break
                }
                if seconds - lastFaces >= faceInterval {
                    lastFaces = seconds
                    try faceGraph.push(frame, keep: true)
                    while try faceGraph.pull(into: grey) {
                        defer { grey.unref() }
                        let g = grey.pointer.pointee
                        guard let data = g.data.0 else { continue }
                        meter.saw(FaceFinder.faces(grey: data, width: Int(g.width), height: Int(g.height),
                                                   stride: Int(g.linesize.0)), at: seconds)
                    }
                }
                try graph.push(frame)
                frame.unref()
                try read()
            }
            if flush {
                try graph.push(nil)
                try read()
            }
        }
        func read() throws(AVFailure) {
            while try graph.pull(into: small) {
                defer { small.unref() }
                let s = small.pointer.pointee
                guard let data = s.data.0 else { continue }
                let time = s.pts == kiln_nopts_value() ? 0 : Double(s.pts - start) * timeBase
                meter.take(data, width: Int(s.width), height: Int(s.height), stride: Int(s.linesize.0), time: time)
            }
        }

        while !done, try input.read(into: packet) {
            defer { packet.unref() }
            guard Int(packet.pointer.pointee.stream_index) == index else { continue }
            try decoder.send(packet)
            try look(flush: false)
        }
        try decoder.send(nil)
        try look(flush: true)
        return meter.track
    }
}
