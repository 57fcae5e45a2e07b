import KilnCore

/// What the analysis pass saw of a video: its shots (split at scene cuts) and, a few times a
/// second in each, how much interest lies in each column and each row of the picture as shown.
/// One track serves every target's crop: each plans its own path from it (`path`).
public struct SubjectTrack: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        /// Seconds into the source.
        public let time: Double
        /// Interest summed down each column (left to right) and across each row (top to bottom).
        public let columns: [Float]
        public let rows: [Float]
    }

    public struct Shot: Sendable, Equatable {
        /// Seconds into the source of the shot's first frame.
        public let start: Double
        public var samples: [Sample]
    }

    public let shots: [Shot]
    /// Frames the pass decoded.
    public let frames: Int

    /// A pan moves the window at most this many window widths a second: fast enough to follow
    /// a person walking across a 16:9 picture cut to 9:16, slow enough to read as a camera move.
    static let panSpeed = 0.9
    /// A subject within this share of the window from its edge counts as leaving it.
    static let margin = 0.15

    /// The crop path for a window `cropWidth` x `cropHeight` over a source `sourceWidth` x
    /// `sourceHeight` (displayed pixels): per shot, still where the subject stays within the
    /// window, else a smoothed pan of bounded speed.
    public func path(sourceWidth: Int, sourceHeight: Int, cropWidth: Int, cropHeight: Int) -> CropPath {
        let axis: CropPath.Axis = sourceWidth - cropWidth >= sourceHeight - cropHeight ? .x : .y
        let side = axis == .x ? sourceWidth : sourceHeight
        let window = axis == .x ? cropWidth : cropHeight
        let shots = self.shots.map { shot in
            let centres = shot.samples.map { Self.subjectCentre(axis == .x ? $0.columns : $0.rows, window: window, side: side) }
            let keys = Self.keys(times: shot.samples.map(\.time), centres: centres, window: window, side: side)
            return CropPath.Shot(start: shot.start, keys: keys)
        }
        return CropPath(axis: axis, width: cropWidth, height: cropHeight, shots: shots)
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

    /// One shot's keys: still when every centre fits in the window with a margin, else the
    /// centres smoothed over a second and followed at a bounded speed; then only the keys a
    /// straight line between their neighbours does not already give.
    static func keys(times: [Double], centres: [Double?], window: Int, side: Int) -> [CropPath.Key] {
        guard let firstTime = times.first else { return [] }
        let room = Double(max(0, side - window))
        func edge(_ centre: Double) -> Double { min(max(0, centre - Double(window) / 2), room) }
        // A sample with no clear subject holds the one before it (or the first found).
        var known = centres.compactMap { $0 }
        if known.isEmpty { known = [Double(side) / 2] }
        var filled: [Double] = []
        var last = known[0]
        for centre in centres {
            if let centre { last = centre }
            filled.append(last)
        }
        let (low, high) = (filled.min() ?? 0, filled.max() ?? 0)
        if high - low <= Double(window) * (1 - 2 * margin) {
            return [CropPath.Key(time: firstTime, offset: Int(edge((low + high) / 2).rounded()))]
        }
        // Smoothed over about a second (half before, half after: the pass has seen the future).
        let smoothed = filled.indices.map { i in
            let near = filled.indices.filter { abs(times[$0] - times[i]) <= 0.5 }
            return near.map { filled[$0] }.reduce(0, +) / Double(near.count)
        }
        var offsets = [edge(smoothed[0])]
        for i in 1..<smoothed.count {
            let step = panSpeed * Double(window) * max(0, times[i] - times[i - 1])
            let previous = offsets[i - 1]
            offsets.append(previous + min(max(edge(smoothed[i]) - previous, -step), step))
        }
        let keys = zip(times, offsets).map { CropPath.Key(time: $0, offset: Int($1.rounded())) }
        return simplified(keys, tolerance: 2)
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
