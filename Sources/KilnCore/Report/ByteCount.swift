/// Human formats for sizes and ratios in messages ("122.5 MB", "1.91").
public enum ByteCount {
    /// Binary multiples with the familiar labels, as upload limits are stated: 52428800 -> "50 MB".
    public static func format(_ bytes: Int64) -> String {
        scaled(bytes, base: 1024, units: ["bytes", "KB", "MB", "GB", "TB"], places: 1)
    }

    /// `bytes` in the largest unit of `base` that keeps the value at 1 or more.
    private static func scaled(_ bytes: Int64, base: Double, units: [String], places: Int) -> String {
        var value = Double(bytes)
        var unit = 0
        while value >= base, unit < units.count - 1 {
            value /= base
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : "\(decimal(value, places: places)) \(units[unit])"
    }

    /// `value` with at most `places` decimals and no trailing zeros.
    public static func decimal(_ value: Double, places: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(rounded)
        if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > places + 1 {
            text = String(text[..<text.index(dot, offsetBy: places + 1)])
        }
        return text
    }
}

extension ByteCount {
    /// Decimal multiples, as platforms state their limits: 8000000 -> "8 MB", 1000000 -> "1 MB".
    public static func metric(_ bytes: Int64) -> String {
        scaled(bytes, base: 1000, units: ["bytes", "kB", "MB", "GB", "TB"], places: 2)
    }

    /// Bits per second: 25000000 -> "25 Mbps", 128000 -> "128 kbps".
    public static func bitRate(_ bitsPerSecond: Int) -> String {
        bitsPerSecond >= 1_000_000 ? "\(decimal(Double(bitsPerSecond) / 1_000_000, places: 1)) Mbps"
            : "\(decimal(Double(bitsPerSecond) / 1000, places: 1)) kbps"
    }
}
