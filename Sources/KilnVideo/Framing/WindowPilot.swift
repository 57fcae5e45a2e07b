import KilnCore

/// Steers a crop window along one side of the picture, frame by frame, from where the subject
/// was seen just before and just after each frame: still while the subject stays in the
/// window's middle; once it nears an edge, a pan that eases toward it (bounded speed and
/// acceleration, so a walker is followed at their pace, not in bursts) and settles when it is
/// centred and still; a jump only where a shot starts. It records where the window went.
struct WindowPilot {
    /// A pan moves the window at most this many window widths a second: fast enough to follow
    /// a person walking across a 16:9 picture cut to 9:16, slow enough to read as a camera move.
    static let panSpeed = 0.9
    /// A subject this share of the window from its edge is leaving it: the window starts to pan.
    static let margin = 0.15
    /// Seconds of samples either side of a frame that say where the subject is at it.
    static let reach = 0.5
    /// A pan closes the gap to the subject over about this many seconds...
    static let settle = 0.5
    /// ...and changes speed by at most this many window widths a second, each second.
    static let acceleration = 2.0

    let window: Int
    let side: Int
    private var offset: Double?
    private var panning = false
    private var velocity = 0.0
    private var lastTime = 0.0
    private var shots: [CropPath.Shot] = []
    private var keys: [CropPath.Key] = []
    private var shotStart = 0.0

    init(window: Int, side: Int) {
        self.window = window
        self.side = side
    }

    /// A new shot starts at `time`: the next step places the window afresh.
    mutating func cut(at time: Double) {
        closeShot()
        shotStart = time
        offset = nil
        panning = false
        velocity = 0
    }

    /// The window's edge (even) for the frame `time` seconds in, the subject's centre there
    /// being `subject` (pixels along the side; nil when nothing stood out).
    mutating func step(time: Double, subject: Double?) -> Int {
        let room = Double(max(0, side - window))
        func edge(_ centre: Double) -> Double { min(max(0, centre - Double(window) / 2), room) }
        if let current = offset {
            let inner = Double(window) * Self.margin
            if let subject, subject < current + inner || subject > current + Double(window) - inner { panning = true }
            if panning {
                // Unseen for a moment: the pan eases to a stop where it is.
                let goal = subject.map(edge) ?? current
                let elapsed = max(0, time - lastTime), top = Self.panSpeed * Double(window)
                let wanted = min(max((goal - current) / Self.settle, -top), top)
                let change = Self.acceleration * Double(window) * elapsed
                velocity += min(max(wanted - velocity, -change), change)
                let moved = min(max(0, current + velocity * elapsed), room)
                offset = moved
                if abs(goal - moved) < 2, abs(velocity) < 0.05 * Double(window) { (panning, velocity) = (false, 0) }
            }
        } else {
            offset = edge(subject ?? Double(side) / 2)
        }
        lastTime = time
        let placed = Int((offset ?? 0).rounded()) & ~1
        keys.append(CropPath.Key(time: time, offset: placed))
        return placed
    }

    /// Where the window went: one shot per cut, its keys thinned to those a straight line
    /// between their neighbours does not give.
    mutating func path(axis: CropPath.Axis, width: Int, height: Int) -> CropPath {
        closeShot()
        return CropPath(axis: axis, width: width, height: height, shots: shots)
    }

    private mutating func closeShot() {
        if !keys.isEmpty { shots.append(CropPath.Shot(start: shotStart, keys: Self.simplified(keys, tolerance: 2))) }
        keys = []
    }

    /// Where along a side `side` pixels long the subject is, from a sample's interest `profile`
    /// along it: the centre of interest inside the best window, or nil when no window stands out.
    static func subjectCentre(_ profile: [Float], window: Int, side: Int) -> Double? {
        let n = profile.count
        guard n > 2, side > 0 else { return nil }
        let span = max(1, Int((Double(window) / Double(side) * Double(n)).rounded()))
        guard span < n else { return nil }
        // A slight pull to the middle: of two equal candidates, the centred one.
        let weighted = profile.enumerated().map { i, v in
            Double(v) * (1 - 0.15 * abs(2 * (Double(i) + 0.5) / Double(n) - 1))
        }
        func windowSums(_ values: [Double]) -> [Double] {
            var prefix = [0.0]
            prefix.reserveCapacity(n + 1)
            for v in values { prefix.append(prefix[prefix.count - 1] + v) }
            return (0...(n - span)).map { prefix[$0 + span] - prefix[$0] }
        }
        // Whether any window stands out is asked of the interest as it is, before the pull.
        let plain = windowSums(profile.map(Double.init))
        let mean = plain.reduce(0, +) / Double(plain.count)
        guard mean > 0, (plain.max() ?? 0) - (plain.min() ?? 0) > 0.05 * mean else { return nil }
        let sums = windowSums(weighted)
        let best = sums.indices.max { sums[$0] < sums[$1] } ?? 0
        // The centre of what rises above the picture's usual level inside that window.
        let level = weighted.sorted()[n / 2]
        var mass = 0.0, moment = 0.0
        for i in best..<(best + span) {
            let v = max(0, weighted[i] - level)
            mass += v
            moment += v * (Double(i) + 0.5)
        }
        let centre = mass > 0 ? moment / mass : Double(best) + Double(span) / 2
        return centre / Double(n) * Double(side)
    }

    /// Keys without those within `tolerance` pixels of the line between the kept ones around them
    /// (Ramer-Douglas-Peucker).
    static func simplified(_ keys: [CropPath.Key], tolerance: Double) -> [CropPath.Key] {
        guard keys.count > 2 else { return keys }
        var keep = [Bool](repeating: false, count: keys.count)
        keep[0] = true
        keep[keys.count - 1] = true
        var spans = [(0, keys.count - 1)]
        while let (a, b) = spans.popLast() {
            guard b > a + 1 else { continue }
            var worst = (index: a, distance: 0.0)
            for i in (a + 1)..<b {
                let f = (keys[i].time - keys[a].time) / max(1e-9, keys[b].time - keys[a].time)
                let line = Double(keys[a].offset) + f * Double(keys[b].offset - keys[a].offset)
                let distance = abs(Double(keys[i].offset) - line)
                if distance > worst.distance { worst = (i, distance) }
            }
            if worst.distance > tolerance {
                keep[worst.index] = true
                spans.append((a, worst.index))
                spans.append((worst.index, b))
            }
        }
        return keys.indices.filter { keep[$0] }.map { keys[$0] }
    }
}
