import Foundation
import KilnCore
import KilnTestSupport
import KilnVideo

enum Clips {
    static func path(_ name: String) -> String { Fixtures.sample("video/" + name) }

    static func facts(_ name: String) throws -> VideoFacts { try facts(atPath: path(name)) }

    /// The packets' measurement the plan needs, read as the output check reads a file.
    static func measured(_ name: String) throws -> VideoMeasurement {
        let format = name.hasSuffix(".webm") ? MediaFormat.forMIME("video/webm")! : MediaFormat.forMIME("video/mp4")!
        let size = (try FileManager.default.attributesOfItem(atPath: path(name))[.size] as? Int).map(Int64.init) ?? 0
        return try VideoInspector.inspect(path: path(name), format: format, sizeBytes: size).measured
    }

    static func facts(atPath path: String) throws -> VideoFacts {
        let format = path.hasSuffix(".webm") ? MediaFormat.forMIME("video/webm")! : MediaFormat.forMIME("video/mp4")!
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).map(Int64.init) ?? 0
        return try VideoProber.facts(path: path, format: format, sizeBytes: size)
    }
}
