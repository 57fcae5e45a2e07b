import Foundation

/// A crop window that follows the subject through a video: its size in the source's displayed
/// pixels, and for each shot where its left (or top) edge is over time. Inside a shot the window
/// holds still or pans (straight between keys, held before the first and after the last); it
/// jumps only where a shot starts, at a scene cut. Recorded in the item's manifest as `framing`.
public struct CropPath: Codable, Sendable, Hashable {
    /// The side the window moves along: `x` when a wide picture is cut narrower, `y` when a tall one is cut shorter.
    public enum Axis: String, Codable, Sendable, Hashable { case x, y }

    /// Where the window's edge is at a time (seconds into the source); stored as `[seconds, offset]`.
    public struct Key: Codable, Sendable, Hashable {
        public let time: Double
        public let offset: Int

        /// `time` is kept to the millisecond (as the manifest keeps it).
        public init(time: Double, offset: Int) {
            self.time = (time * 1000).rounded() / 1000
            self.offset = offset
        }

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            self.init(time: try c.decode(Double.self), offset: try c.decode(Int.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(time)
            try c.encode(offset)
        }
    }

    public struct Shot: Codable, Sendable, Hashable {
        /// Seconds into the source where the shot starts (0 for the first).
        public let start: Double
        public let keys: [Key]

        public init(start: Double, keys: [Key]) {
            self.start = start
            self.keys = keys
        }

        /// The window's edge at `seconds` (inside this shot).
        func offset(at seconds: Double) -> Int {
            guard let first = keys.first else { return 0 }
            guard seconds > first.time else { return first.offset }
            for (a, b) in zip(keys, keys.dropFirst()) where seconds < b.time {
                let f = (seconds - a.time) / max(1e-9, b.time - a.time)
                return Int((Double(a.offset) + f * Double(b.offset - a.offset)).rounded())
            }
            return keys[keys.count - 1].offset
        }
    }

    public let axis: Axis
    /// The window, in the source's displayed pixels.
    public let width: Int
    public let height: Int
    public let shots: [Shot]

    public init(axis: Axis, width: Int, height: Int, shots: [Shot]) {
        self.axis = axis
        self.width = width
        self.height = height
        self.shots = shots
    }

    /// The window's edge along `axis` at `seconds` into the source.
    public func offset(at seconds: Double) -> Int {
        let shot = shots.last { $0.start <= seconds } ?? shots.first
        return shot?.offset(at: seconds) ?? 0
    }

    /// The window's left and top edges at `seconds` for a source `width` x `height` as displayed,
    /// even (4:2:0 chroma) and inside the picture.
    public func origin(at seconds: Double, sourceWidth: Int, sourceHeight: Int) -> (x: Int, y: Int) {
        let along = offset(at: seconds)
        let x = axis == .x ? along : (sourceWidth - width) / 2
        let y = axis == .y ? along : (sourceHeight - height) / 2
        return (min(max(0, x), max(0, sourceWidth - width)) & ~1, min(max(0, y), max(0, sourceHeight - height)) & ~1)
    }

    /// A shape as people name it ("16:9", "9:16", "4:5"), or its ratio to one ("2.35:1").
    public static func shapeName(width: Int, height: Int) -> String {
        guard width > 0, height > 0 else { return "\(width)x\(height)" }
        let ratio = Double(width) / Double(height)
        let named = [(16, 9), (9, 16), (4, 3), (3, 4), (1, 1), (4, 5), (5, 4), (3, 2), (2, 3), (21, 9), (2, 1), (1, 2)]
        if let (w, h) = named.first(where: { abs(Double($0.0) / Double($0.1) / ratio - 1) < 0.02 }) { return "\(w):\(h)" }
        return ratio >= 1 ? "\(ByteCount.decimal(ratio, places: 2)):1" : "1:\(ByteCount.decimal(1 / ratio, places: 2))"
    }
}
