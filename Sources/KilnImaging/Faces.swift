import CKilnFaces
import KilnCore

/// A frontal face found in a picture, in 0-1 of its sides (0,0 its top left).
public struct Face: Sendable, Equatable {
    public let x: Double
    public let y: Double
    public let width: Double
    public let height: Double
    /// The detector's confidence (above 0: a face by its own threshold).
    public let score: Double

    /// The point a crop keeps for `faces`: their centre, each weighed by its area; nil for none.
    public static func focus(of faces: [Face]) -> Focus? {
        let weights = faces.map { $0.width * $0.height * max(0.2, min(2, 1 + $0.score)) }
        let total = weights.reduce(0, +)
        guard total > 0 else { return nil }
        let x = zip(faces, weights).map { ($0.x + $0.width / 2) * $1 }.reduce(0, +) / total
        let y = zip(faces, weights).map { ($0.y + $0.height / 2) * $1 }.reduce(0, +) / total
        return .point(x: min(1, max(0, x)), y: min(1, max(0, y)))
    }
}

/// Finds faces with dlib's frontal detector (`kiln_find_faces`): faces about 80 pixels across
/// or larger in the picture it is given, so callers size it for the faces that matter (a
/// subject's, not a crowd's).
public enum FaceFinder {
    /// The longer side a picture is shrunk to for the detector: a face a thirteenth of it across
    /// is found (~50 ms for a 16:9 picture).
    public static let side = 1024

    /// Faces in an 8-bit grey picture, most confident first.
    public static func faces(grey: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int) -> [Face] {
        guard width > 0, height > 0 else { return [] }
        var found = [KilnFace](repeating: KilnFace(), count: 8)
        let count = found.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return 0 }
            return kiln_find_faces(grey, Int32(width), Int32(height), stride, base, Int32(buffer.count))
        }
        return found.prefix(Int(max(0, min(count, 8)))).map { face in
            Face(x: Double(face.x) / Double(width), y: Double(face.y) / Double(height),
                 width: Double(face.width) / Double(width), height: Double(face.height) / Double(height), score: face.score)
        }
    }
}
