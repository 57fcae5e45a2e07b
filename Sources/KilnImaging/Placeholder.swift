import Foundation

/// What a client shows before a rendition loads: a ThumbHash and the dominant colour.
public struct Placeholder: Sendable, Equatable {
    /// ThumbHash bytes, base64.
    public let thumbhash: String
    /// `#rrggbb`.
    public let dominantColor: String

    /// Samples a rendition Kiln wrote (8-bit sRGB) through a <= 100 px thumbnail. Reading the
    /// smallest rendition back is cheaper than keeping any rendition's pixels in memory.
    public static func make(fromRendition path: String) throws -> Placeholder {
        do {
            return try sample(path)
        } catch {
            throw error.kilnError(decoding: false)
        }
    }

    private static func sample(_ path: String) throws(VipsFailure) -> Placeholder {
        let small = try ImageProcessor.unwrap(try VipsOperation.call("thumbnail", [
            "filename": .string(path), "width": .int(100), "height": .int(100), "size": .string("down"),
        ]), "thumbnail")
        let pixels = try small.pixelBytes()
        let rgba = Self.rgba(pixels, bands: small.bands, count: small.width * small.height)
        let hash = ThumbHash.encode(width: small.width, height: small.height, rgba: rgba)
        return Placeholder(thumbhash: Data(hash).base64EncodedString(), dominantColor: Self.dominantColor(rgba))
    }

    /// Widens 1-4 band 8-bit pixels to RGBA.
    static func rgba(_ pixels: [UInt8], bands: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 255, count: count * 4)
        for i in 0..<count {
            let s = i * bands
            switch bands {
            case 1, 2:
                out[i * 4] = pixels[s]; out[i * 4 + 1] = pixels[s]; out[i * 4 + 2] = pixels[s]
                if bands == 2 { out[i * 4 + 3] = pixels[s + 1] }
            default:
                out[i * 4] = pixels[s]; out[i * 4 + 1] = pixels[s + 1]; out[i * 4 + 2] = pixels[s + 2]
                if bands >= 4 { out[i * 4 + 3] = pixels[s + 3] }
            }
        }
        return out
    }

    /// The most common colour: pixels binned at 4 bits per channel, the fullest bin averaged.
    /// Mostly transparent pixels do not vote.
    static func dominantColor(_ rgba: [UInt8]) -> String {
        var counts = [Int](repeating: 0, count: 4096)
        var sums = [(Int, Int, Int)](repeating: (0, 0, 0), count: 4096)
        for i in stride(from: 0, to: rgba.count, by: 4) where rgba[i + 3] >= 128 {
            let bin = Int(rgba[i] >> 4) << 8 | Int(rgba[i + 1] >> 4) << 4 | Int(rgba[i + 2] >> 4)
            counts[bin] += 1
            sums[bin].0 += Int(rgba[i]); sums[bin].1 += Int(rgba[i + 1]); sums[bin].2 += Int(rgba[i + 2])
        }
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }), counts[best] > 0 else {
            return "#000000"
        }
        let n = counts[best]
        let (r, g, b) = (sums[best].0 / n, sums[best].1 / n, sums[best].2 / n)
        return "#" + [r, g, b].map { String(format: "%02x", $0) }.joined()
    }
}
