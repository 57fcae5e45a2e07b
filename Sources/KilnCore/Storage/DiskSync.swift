#if canImport(Glibc)
import Glibc
#endif

/// Makes written files survive a power cut before they are published: the file's data (fsync),
/// then the directory that names it, so a manifest never stands over a truncated rendition and a
/// 202 never promises an input the disk has not kept. Tests pass an observer to see the order.
public struct DiskSync: Sendable {
    public enum Event: Sendable, Equatable {
        case file(String)
        case directory(String)
    }

    private let observer: (@Sendable (Event) -> Void)?

    /// The real thing, unobserved.
    public static let system = DiskSync()

    public init(observer: (@Sendable (Event) -> Void)? = nil) {
        self.observer = observer
    }

    /// The file's data and size on disk.
    public func file(_ path: String) throws(KilnError) {
        try sync(path, flags: O_RDONLY)
        observer?(.file(path))
    }

    /// The directory's entries (a file renamed or linked into it) on disk.
    public func directory(_ path: String) throws(KilnError) {
        try sync(path, flags: O_RDONLY | O_DIRECTORY)
        observer?(.directory(path))
    }

    /// Every regular file directly in `directory`, then the directory itself.
    public func contents(of directory: String) throws(KilnError) {
        guard let stream = opendir(directory) else {
            throw KilnError.storageUnavailable("cannot list \(directory): \(String(cString: strerror(errno)))")
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entry.pointee.d_type == UInt8(DT_REG) { names.append(name) }
        }
        closedir(stream)
        for name in names.sorted() { try file(directory + "/" + name) }
        try self.directory(directory)
    }

    private func sync(_ path: String, flags: Int32) throws(KilnError) {
        let descriptor = open(path, flags | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw KilnError.storageUnavailable("cannot open \(path) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw KilnError.storageUnavailable("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }
}
