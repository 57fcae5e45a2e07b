import Foundation

/// ThumbHash (Evan Wallace's compact image placeholder): a DCT of the image's luminance,
/// two chroma channels and alpha, packed into ~25 bytes. Clients decode it into a blurred
/// preview while the rendition loads.
public enum ThumbHash {
    /// Encodes `rgba` (8-bit RGBA, row by row) of a `width` x `height` image, both at most 100.
    public static func encode(width w: Int, height h: Int, rgba: [UInt8]) -> [UInt8] {
        precondition(w > 0 && h > 0 && w <= 100 && h <= 100 && rgba.count >= w * h * 4,
                     "ThumbHash takes RGBA images of at most 100x100")
        let count = w * h
        // Average colour, weighted by alpha.
        var avgR = 0.0, avgG = 0.0, avgB = 0.0, avgA = 0.0
        for i in 0..<count {
            let alpha = Double(rgba[i * 4 + 3]) / 255
            avgR += alpha / 255 * Double(rgba[i * 4])
            avgG += alpha / 255 * Double(rgba[i * 4 + 1])
            avgB += alpha / 255 * Double(rgba[i * 4 + 2])
            avgA += alpha
        }
        if avgA > 0 {
            avgR /= avgA
            avgG /= avgA
            avgB /= avgA
        }
        let hasAlpha = avgA < Double(count)
        let luminanceLimit = hasAlpha ? 5.0 : 7.0
        let longest = Double(max(w, h))
        let lx = max(1, Int((luminanceLimit * Double(w) / longest).rounded()))
        let ly = max(1, Int((luminanceLimit * Double(h) / longest).rounded()))

        // RGBA -> LPQA, composited over the average colour.
        var l = [Double](repeating: 0, count: count)
        var p = l, q = l, a = l
        for i in 0..<count {
            let alpha = Double(rgba[i * 4 + 3]) / 255
            let r = avgR * (1 - alpha) + alpha / 255 * Double(rgba[i * 4])
            let g = avgG * (1 - alpha) + alpha / 255 * Double(rgba[i * 4 + 1])
            let b = avgB * (1 - alpha) + alpha / 255 * Double(rgba[i * 4 + 2])
            l[i] = (r + g + b) / 3
            p[i] = (r + g) / 2 - b
            q[i] = r - g
            a[i] = alpha
        }

        let lum = channel(l, w: w, h: h, nx: max(3, lx), ny: max(3, ly))
        let pc = channel(p, w: w, h: h, nx: 3, ny: 3)
        let qc = channel(q, w: w, h: h, nx: 3, ny: 3)
        let ac = hasAlpha ? channel(a, w: w, h: h, nx: 5, ny: 5) : nil

        let landscape = w > h
        let header24 = Int((63 * lum.dc).rounded())
            | Int((31.5 + 31.5 * pc.dc).rounded()) << 6
            | Int((31.5 + 31.5 * qc.dc).rounded()) << 12
            | Int((31 * lum.scale).rounded()) << 18
            | (hasAlpha ? 1 : 0) << 23
        let header16 = (landscape ? ly : lx)
            | Int((63 * pc.scale).rounded()) << 3
            | Int((63 * qc.scale).rounded()) << 9
            | (landscape ? 1 : 0) << 15
        var hash: [UInt8] = [
            UInt8(header24 & 255), UInt8((header24 >> 8) & 255), UInt8(header24 >> 16),
            UInt8(header16 & 255), UInt8(header16 >> 8),
        ]
        if let ac {
            hash.append(UInt8(Int((15 * ac.dc).rounded()) | Int((15 * ac.scale).rounded()) << 4))
        }
        let factors = [lum.ac, pc.ac, qc.ac] + (ac.map { [$0.ac] } ?? [])
        var index = 0
        let start = hash.count
        for list in factors {
            for factor in list {
                if start + index / 2 >= hash.count { hash.append(0) }
                hash[start + index / 2] |= UInt8(Int((15 * factor).rounded()) << ((index & 1) * 4))
                index += 1
            }
        }
        return hash
    }

    /// The average colour (r, g, b in 0...1) stored in a hash's header.
    public static func averageColor(of hash: [UInt8]) -> (r: Double, g: Double, b: Double)? {
        guard hash.count >= 5 else { return nil }
        let header = Int(hash[0]) | Int(hash[1]) << 8 | Int(hash[2]) << 16
        let l = Double(header & 63) / 63
        let p = Double((header >> 6) & 63) / 31.5 - 1
        let q = Double((header >> 12) & 63) / 31.5 - 1
        let b = l - 2.0 / 3.0 * p
        let r = (3 * l - b + q) / 2
        let g = r - q
        func clamp(_ v: Double) -> Double { min(1, max(0, v)) }
        return (clamp(r), clamp(g), clamp(b))
    }

    /// DC term, AC terms normalised to 0...1, and their scale, for `nx` x `ny` (triangle) frequencies.
    private static func channel(_ values: [Double], w: Int, h: Int, nx: Int, ny: Int)
        -> (dc: Double, ac: [Double], scale: Double)
    {
        var dc = 0.0
        var ac: [Double] = []
        var scale = 0.0
        var fx = [Double](repeating: 0, count: w)
        for cy in 0..<ny {
            var cx = 0
            while cx * ny < nx * (ny - cy) {
                for x in 0..<w { fx[x] = cos(Double.pi / Double(w) * Double(cx) * (Double(x) + 0.5)) }
                var f = 0.0
                for y in 0..<h {
                    let fy = cos(Double.pi / Double(h) * Double(cy) * (Double(y) + 0.5))
                    for x in 0..<w { f += values[x + y * w] * fx[x] * fy }
                }
                f /= Double(w * h)
                if cx > 0 || cy > 0 {
                    ac.append(f)
                    scale = max(scale, abs(f))
                } else {
                    dc = f
                }
                cx += 1
            }
        }
        if scale > 0 { ac = ac.map { 0.5 + 0.5 / scale * $0 } }
        return (dc, ac, scale)
    }
}
