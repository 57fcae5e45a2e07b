import Foundation
import KilnCore
import KilnTestSupport
import KilnVideo

enum Clips {
    static func path(_ name: String) -> String { Fixtures.sample("video/" + name) }

    static func facts(_ name: String) throws -> VideoFacts { try facts(atPath: path(name)) }

    static func facts(atPath path: String) throws -> VideoFacts {
        let format = path.hasSuffix(".webm") ? MediaFormat.forMIME("video/webm")! : MediaFormat.forMIME("video/mp4")!
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).map(Int64.init) ?? 0
        return try VideoProber.facts(path: path, format: format, sizeBytes: size)
    }

    /// Top-level MP4 box types in file order ("ftyp", "moov", "mdat", ...).
    static func topLevelBoxes(_ path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var boxes: [String] = []
        var offset = 0
        while offset + 8 <= data.count {
            let size32 = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            var size = size32
            if size32 == 1, offset + 16 <= data.count {
                size = data[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) }
            } else if size32 == 0 {
                size = data.count - offset
            }
            boxes.append(type)
            guard size >= 8 else { break }
            offset += size
        }
        return boxes
    }
}
