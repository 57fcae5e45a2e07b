@testable import KilnImaging
import Testing

/// Reads a rendered file's pixels for probes: colours at points, not bytes.
struct PixelProbe {
    let width: Int
    let height: Int
    let bands: Int
    let interpretation: String
    let fields: [String]
    private let pixels: [UInt8]

    init(path: String) throws {
        let image = try #require(try VipsOperation.call("jpegload", ["filename": .string(path)]))
        width = image.width
        height = image.height
        bands = image.bands
        interpretation = image.interpretation
        fields = image.fieldNames
        pixels = try image.pixelBytes()
    }

    /// The colour at a fraction of the width and height.
    func color(atX x: Double, y: Double) -> (r: Int, g: Int, b: Int) {
        let px = min(width - 1, Int(Double(width) * x))
        let py = min(height - 1, Int(Double(height) * y))
        let index = (py * width + px) * bands
        if bands < 3 { return (Int(pixels[index]), Int(pixels[index]), Int(pixels[index])) }
        return (Int(pixels[index]), Int(pixels[index + 1]), Int(pixels[index + 2]))
    }

    /// Whether the colour at the point is within `tolerance` of `expected` on every channel.
    func isClose(atX x: Double, y: Double, to expected: (Int, Int, Int), tolerance: Int = 40) -> Bool {
        let c = color(atX: x, y: y)
        return abs(c.r - expected.0) <= tolerance && abs(c.g - expected.1) <= tolerance && abs(c.b - expected.2) <= tolerance
    }
}
