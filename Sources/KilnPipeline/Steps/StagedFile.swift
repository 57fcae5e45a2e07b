import Foundation
import KilnCore

/// A file made once for several targets, put into each target's own staging.
enum StagedFile {
    /// A hard link (the stagings share one root); a copy where the file system will not link.
    static func link(_ source: String, to destination: String) throws(KilnError) {
        if Glibc.link(source, destination) == 0 { return }
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw KilnError.storageUnavailable("could not put a shared rendition into staging: \(error)")
        }
    }
}
