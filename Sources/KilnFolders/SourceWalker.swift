import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// One input found under a batch's source directory.
public struct SourceFile: Sendable, Equatable {
    /// Absolute path.
    public let path: String
    /// Path below the source directory: the journal's key, stable when the tree moves.
    public let relativePath: String
    public let size: Int64
    /// Modification time in nanoseconds since 1970.
    public let modified: Int64
}

/// Finds the inputs under a directory, recursively, in a stable order. Symbolic links are
/// followed only to files inside the directory (never to directories: no cycles, no escape);
/// hidden files, temporary files and partial downloads are skipped.
public struct SourceWalker: Sendable {
    public let root: String

    /// FILE_002 when `root` is not a directory.
    public init(root: String) throws(KilnError) {
        let resolved = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        var info = stat()
        guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw KilnError.notFound(root)
        }
        self.root = resolved
    }

    /// Names never taken: hidden files (`.DS_Store`, `.part` files that start with a dot),
    /// partial downloads, editors' and Office's lock and temp files, Synology's `@eaDir`.
    public static func skips(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("~$") || name.hasSuffix("~") || name == "@eaDir" { return true }
        let lowered = name.lowercased()
        return [".part", ".crdownload", ".partial", ".download", ".tmp", ".temp", ".swp"].contains { lowered.hasSuffix($0) }
    }

    public func files() -> [SourceFile] {
        var found: [SourceFile] = []
        walk(root, relative: "", into: &found)
        return found
    }

    private func walk(_ directory: String, relative: String, into found: inout [SourceFile]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names.sorted() where !Self.skips(name) {
            let path = directory + "/" + name
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(path, relative: relativePath, into: &found)
            case S_IFREG:
                found.append(SourceFile(path: path, relativePath: relativePath, size: Int64(info.st_size),
                                        modified: Self.nanoseconds(info.st_mtim)))
            case S_IFLNK:
                // Only to a regular file that is itself under the root.
                let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                var targetInfo = stat()
                guard target.hasPrefix(root + "/"), stat(target, &targetInfo) == 0,
                      targetInfo.st_mode & S_IFMT == S_IFREG else { continue }
                found.append(SourceFile(path: path, relativePath: relativePath, size: Int64(targetInfo.st_size),
                                        modified: Self.nanoseconds(targetInfo.st_mtim)))
            default:
                continue
            }
        }
    }

    static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }
}
