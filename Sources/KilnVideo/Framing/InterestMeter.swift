import KilnImaging

/// Reads a video's frames, small and upright (packed RGB), one after another: tells a scene
/// cut from the frame before (a frame-difference score on every frame) and, a few times a
/// second, where the interest is: edges, saturation and skin, as libvips' attention crop
/// weighs a still, motion since the last sample, which a still does not have, and above all
/// faces (`saw`), where the detector found any.
struct InterestMeter {
    /// Seconds between samples inside a shot.
    static let interval = 0.25
    /// A cut shorter than this after the last is a flash, not a new shot.
    static let shortestShot = 0.4

    /// What a sample saw: the interest summed down each column (left to right) and across each
    /// row (top to bottom), and whether its frame starts a new shot (every cut is sampled).
    struct Sample {
        let time: Double
        let cut: Bool
        let columns: [Float]
        let rows: [Float]
    }

    private var shotStart: Double?
    private var lastSample = -Double.infinity
    private var previousCells: [Float]?
    private var previousHistogram: [Float]?
    private var sampleLuma: [Float]?
    /// How much frames usually change here (a running mean): a cut stands out against it.
    private var usualChange: Float = 0
    /// The faces last looked for, and when: they count for the samples of the next second and a
    /// half of the same shot.
    private var faces: (time: Double, found: [Face])?

    /// Faces found in the frame `time` seconds in (given before that frame is taken).
    mutating func saw(_ found: [Face], at time: Double) { faces = (time, found) }

    /// Takes one frame `width` x `height` of RGB bytes, `stride` bytes a row, `time` seconds in:
    /// its sample when it is sampled (a few a second, and the first of every shot).
    mutating func take(_ rgb: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int, time: Double) -> Sample? {
        guard width > 2, height > 2 else { return nil }
        var luma = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            let row = rgb + y * stride
            for x in 0..<width {
                let r = Float(row[3 * x]), g = Float(row[3 * x + 1]), b = Float(row[3 * x + 2])
                luma[y * width + x] = 0.299 * r + 0.587 * g + 0.114 * b
            }
        }
        let (cells, histogram) = Self.signature(luma, width: width, height: height)
        var cut = false
        if let previousCells, let previousHistogram, let start = shotStart, time - start >= Self.shortestShot {
            let cellChange = zip(cells, previousCells).map { abs($0 - $1) }.reduce(0, +) / Float(cells.count)
            let histogramChange = zip(histogram, previousHistogram).map { abs($0 - $1) }.reduce(0, +)
            // Both the layout and the tones change at a cut, and more than they have been changing:
            // a fast move changes the first, a fade the second, a handheld shot a little of both.
            cut = histogramChange > 0.5 && cellChange > max(15, 3 * usualChange)
            usualChange = cut ? usualChange : 0.9 * usualChange + 0.1 * cellChange
        }
        previousCells = cells
        previousHistogram = histogram
        let starts = shotStart == nil || cut
        if starts {
            shotStart = time
            sampleLuma = nil
        } else if time - lastSample < Self.interval {
            return nil
        }
        lastSample = time
        var (columns, rows) = interest(rgb, luma: luma, width: width, height: height, stride: stride)
        if let faces, let start = shotStart, faces.time >= start - 1e-6, time - faces.time <= 1.5 {
            // A face outweighs whatever else the picture holds.
            let (columnPeak, rowPeak) = (columns.max() ?? 0, rows.max() ?? 0)
            for face in faces.found {
                for x in Self.span(face.x, face.width, width) { columns[x] += 3 * columnPeak }
                for y in Self.span(face.y, face.height, height) { rows[y] += 3 * rowPeak }
            }
        }
        sampleLuma = luma
        return Sample(time: time, cut: starts, columns: columns, rows: rows)
    }

    /// The pixels from `start` (0-1) over `length` (0-1) of a side `count` long.
    private static func span(_ start: Double, _ length: Double, _ count: Int) -> Range<Int> {
        let low = max(0, min(count, Int(start * Double(count))))
        return low..<max(low, min(count, Int(((start + length) * Double(count)).rounded(.up))))
    }

    /// An 8x8 grid of mean brightness and a 32-bin histogram (summing to 1) of a frame.
    private static func signature(_ luma: [Float], width: Int, height: Int) -> (cells: [Float], histogram: [Float]) {
        var cells = [Float](repeating: 0, count: 64)
        var counts = [Float](repeating: 0, count: 64)
        var histogram = [Float](repeating: 0, count: 32)
        for y in 0..<height {
            let cy = y * 8 / height
            for x in 0..<width {
                let v = luma[y * width + x]
                let cell = cy * 8 + x * 8 / width
                cells[cell] += v
                counts[cell] += 1
                histogram[min(31, Int(v) / 8)] += 1
            }
        }
        let total = Float(width * height)
        return (zip(cells, counts).map { $1 > 0 ? $0 / $1 : 0 }, histogram.map { $0 / total })
    }

    /// The sample's interest summed down its columns and across its rows.
    private func interest(_ rgb: UnsafePointer<UInt8>, luma: [Float], width: Int, height: Int, stride: Int)
        -> (columns: [Float], rows: [Float])
    {
        var columns = [Float](repeating: 0, count: width)
        var rows = [Float](repeating: 0, count: height)
        for y in 1..<(height - 1) {
            let row = rgb + y * stride
            for x in 1..<(width - 1) {
                let i = y * width + x
                let edge = abs(luma[i + 1] - luma[i - 1]) + abs(luma[i + width] - luma[i - width])
                let r = Int(row[3 * x]), g = Int(row[3 * x + 1]), b = Int(row[3 * x + 2])
                let saturation = Float(max(r, g, b) - min(r, g, b))
                // Skin (Peer, Kovac and Solina's rule for daylight): people are what crops should keep.
                let skin: Float = r > 95 && g > 40 && b > 20 && max(r, g, b) - min(r, g, b) > 15 && abs(r - g) > 15
                    && r > g && r > b ? 1 : 0
                var motion: Float = 0
                if let sampleLuma {
                    let change = abs(luma[i] - sampleLuma[i])
                    motion = change > 12 ? change : 0
                }
                let value = 0.5 * edge + 0.4 * saturation + 90 * skin + 1.5 * motion
                columns[x] += value
                rows[y] += value
            }
        }
        return (columns, rows)
    }
}
