import CFFmpeg
import KilnCore
import KilnImaging

/// Keeps the subject in a crop window while the video is transcoded, from the one decode:
/// each decoded frame is looked at (a 160 px copy for the `InterestMeter`, and once a second a
/// grey one `FaceFinder.side` long for faces) and held for half a second, so that when it
/// leaves, its window is decided from where the subject was both before and after it
/// (`WindowPilot`). The frame is then cut to the window in place (`FrameCrop`).
final class SubjectFollower {
    /// The small picture's longer side, in pixels.
    static let longSide = 160
    /// Seconds between looks for faces (each ~50 ms of detector).
    static let faceInterval = 1.0
    /// The most the held frames may take: a 4K60 source holds fewer than half a second of them.
    static let heldBytes = MemoryEstimate.followingHeldBytes

    private let crop: FrameCrop
    private let graph: FilterGraph
    private let faceGraph: FilterGraph
    private let axis: CropPath.Axis
    private let window: (width: Int, height: Int)
    private let display: (width: Int, height: Int)
    private let mostHeld: Int
    private var meter = InterestMeter()
    private var pilot: WindowPilot
    private var held: [(frame: Frame, time: Double)] = []
    /// Where the subject was in the samples not yet behind every held frame, by shot.
    private var seen: [(time: Double, shot: Int, centre: Double?)] = []
    private var shotStarts: [Double] = []
    private var releasedShot = -1
    private var lastFaces = -Double.infinity
    private let small: Frame
    private let grey: Frame
    private let start: Int64
    private let timeBase: Double

    /// The size of the window's input to the filter graph (coded pixels).
    var croppedSize: (width: Int, height: Int) { (crop.width, crop.height) }

    init(plan: VideoPlan, decoder: Decoder, stream: UnsafeMutablePointer<AVStream>, rotation: Int) throws(AVFailure) {
        display = (plan.displayWidth, plan.displayHeight)
        let kept = VideoPlan.cropWindow(plan.geometry, displayWidth: plan.displayWidth, displayHeight: plan.displayHeight)
        window = (kept.width, kept.height)
        axis = plan.displayWidth - kept.width >= plan.displayHeight - kept.height ? .x : .y
        pilot = axis == .x ? WindowPilot(window: kept.width, side: plan.displayWidth)
            : WindowPilot(window: kept.height, side: plan.displayHeight)
        crop = FrameCrop(window: window, rotation: rotation, displayWidth: plan.displayWidth,
                         displayHeight: plan.displayHeight, decoder: decoder, stream: stream)
        let c = decoder.context.pointee
        let (uprightWidth, uprightHeight) = rotation % 180 == 0 ? (Int(c.width), Int(c.height)) : (Int(c.height), Int(c.width))
        func sized(_ side: Int) -> String {
            let fit = min(1, Double(side) / Double(max(1, uprightWidth, uprightHeight)))
            return "scale=\(max(8, Int(Double(uprightWidth) * fit) & ~1)):\(max(8, Int(Double(uprightHeight) * fit) & ~1))"
        }
        let turn = VideoPlan.turn(rotation).map { [$0] } ?? []
        graph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base,
                                description: (turn + [sized(Self.longSide) + ":flags=fast_bilinear", "setsar=1", "format=rgb24"])
                                    .joined(separator: ","))
        faceGraph = try FilterGraph(video: decoder, timeBase: stream.pointee.time_base,
                                    description: (turn + [sized(FaceFinder.side), "setsar=1", "format=gray"]).joined(separator: ","))
        let depth = ff.av_pix_fmt_desc_get(c.pix_fmt).map { Int($0.pointee.comp.0.depth) } ?? 8
        let frameBytes = max(1, Int(c.width) * Int(c.height) * 3 / 2 * max(1, (depth + 7) / 8))
        let rate = av_q2d(stream.pointee.avg_frame_rate) > 0 ? av_q2d(stream.pointee.avg_frame_rate) : 30
        mostHeld = max(4, min(Int((WindowPilot.reach * rate).rounded(.up)) + 2, Self.heldBytes / frameBytes))
        small = try Frame()
        grey = try Frame()
        start = stream.pointee.start_time == kiln_nopts_value() ? 0 : stream.pointee.start_time
        timeBase = av_q2d(stream.pointee.time_base)
    }

    /// Looks at a decoded frame (its `pts` set) and holds it; the frame given is left empty.
    func take(_ frame: Frame) throws(AVFailure) {
        let pts = frame.pointer.pointee.pts
        let time = pts == kiln_nopts_value() ? (held.last?.time ?? 0) : Double(pts - start) * timeBase
        if time - lastFaces >= Self.faceInterval {
            lastFaces = time
            try faceGraph.push(frame, keep: true)
            while try faceGraph.pull(into: grey) {
                defer { grey.unref() }
                let g = grey.pointer.pointee
                guard let data = g.data.0 else { continue }
                meter.saw(FaceFinder.faces(grey: data, width: Int(g.width), height: Int(g.height), stride: Int(g.linesize.0)),
                          at: time)
            }
        }
        try graph.push(frame, keep: true)
        while try graph.pull(into: small) {
            defer { small.unref() }
            let s = small.pointer.pointee
            guard let data = s.data.0,
                  let sample = meter.take(data, width: Int(s.width), height: Int(s.height), stride: Int(s.linesize.0), time: time)
            else { continue }
            if sample.cut { shotStarts.append(sample.time) }
            let centre = axis == .x
                ? WindowPilot.subjectCentre(sample.columns, window: window.width, side: display.width)
                : WindowPilot.subjectCentre(sample.rows, window: window.height, side: display.height)
            seen.append((sample.time, shotStarts.count - 1, centre))
        }
        let kept = try Frame()
        ff.av_frame_move_ref(kept.pointer, frame.pointer)
        held.append((kept, time))
    }

    /// Hands on, cut to their windows, the held frames whose next half second has been seen
    /// (or that the memory cap lets go), and every one when `flush`.
    func release(flush: Bool, _ body: (Frame) throws(AVFailure) -> Void) throws(AVFailure) {
        let seenTo = held.last?.time ?? 0
        while let (frame, time) = held.first,
              flush || held.count > mostHeld || time <= seenTo - WindowPilot.reach {
            held.removeFirst()
            while releasedShot + 1 < shotStarts.count, shotStarts[releasedShot + 1] <= time + 1e-6 {
                releasedShot += 1
                pilot.cut(at: shotStarts[releasedShot])
            }
            seen.removeAll { $0.time < time - WindowPilot.reach }
            let near = seen.filter { $0.shot == releasedShot && abs($0.time - time) <= WindowPilot.reach }.compactMap(\.centre)
            let offset = pilot.step(time: time, subject: near.isEmpty ? nil : near.reduce(0, +) / Double(near.count))
            let origin = axis == .x ? (offset, (display.height - window.height) / 2) : ((display.width - window.width) / 2, offset)
            try crop.apply(to: frame, origin: (origin.0 & ~1, origin.1 & ~1))
            try body(frame)
        }
    }

    /// Where the window went, once every frame is released.
    func path() -> CropPath { pilot.path(axis: axis, width: window.width, height: window.height) }
}
