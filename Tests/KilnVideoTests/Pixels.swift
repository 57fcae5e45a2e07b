@testable import KilnImaging
import Testing

/// Decoded 8-bit pixels of a file, for probes.
struct Pixels {
    let width: Int
    let height: Int
    private let bands: Int
    private let bytes: [UInt8]

    init(path: String, loader: String) throws {
        let image = try #require(try VipsOperation.call(loader, ["filename": .string(path)]))
        width = image.width
        height = image.height
        bands = image.bands
        bytes = try image.pixelBytes()
    }

    func rgb(x: Int, y: Int) -> (Int, Int, Int) {
        let i = (min(y, height - 1) * width + min(x, width - 1)) * bands
        return bands >= 3 ? (Int(bytes[i]), Int(bytes[i + 1]), Int(bytes[i + 2])) : (Int(bytes[i]), Int(bytes[i]), Int(bytes[i]))
    }
}
