import Foundation
import KilnCore

/// The local directory as an `ObjectStore`: keys are relative paths under the root; writes
/// go to the staging area and are renamed into place.
extension LocalStore: ObjectStore {
    public var handOff: any ObjectStore { self }

    public func put(file path: String, key: String, contentType: String) async throws(KilnError) {
        let target = try self.path(for: key)
        let temp = try temporaryPath()
        try await Blocking.run { () throws(KilnError) in
            do {
                try FileManager.default.copyItem(atPath: path, toPath: temp)
            } catch {
                try? FileManager.default.removeItem(atPath: temp)
                guard FileManager.default.fileExists(atPath: path) else { throw KilnError.notFound(path) }
                throw KilnError.storageUnavailable("cannot copy \(path): \(error.localizedDescription)")
            }
            try Self.publish(temp, at: target, sync: sync)
        }
    }

    public func put(bytes: [UInt8], key: String, contentType: String) async throws(KilnError) {
        let target = try self.path(for: key)
        let temp = try temporaryPath()
        try await Blocking.run { () throws(KilnError) in
            guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
                throw KilnError.storageUnavailable("cannot write \(temp)")
            }
            try Self.publish(temp, at: target, sync: sync)
        }
    }

    public func get(key: String, to path: String) async throws(KilnError) {
        let source = try self.path(for: key)
        try await Blocking.run { () throws(KilnError) in
            guard FileManager.default.fileExists(atPath: source) else { throw KilnError.notFound(key) }
            let temp = path + ".part-" + UUID().uuidString.lowercased()
            do {
                try FileManager.default.copyItem(atPath: source, toPath: temp)
            } catch {
                throw KilnError.storageUnavailable("cannot read \(key): \(error.localizedDescription)")
            }
            guard rename(temp, path) == 0 else {
                try? FileManager.default.removeItem(atPath: temp)
                throw KilnError.storageUnavailable("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func open(key: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        let source = try self.path(for: key)
        var info = stat()
        guard stat(source, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw KilnError.notFound(key) }
        let size = Int64(info.st_size)
        let clipped = try StoredFile.clip(range, size: size)
        let offset = clipped?.lowerBound ?? 0
        let reader = try FileRangeReader(path: source, offset: offset, length: (clipped?.upperBound ?? size - 1) - offset + 1)
        return StoredFile(size: size, range: clipped, contentType: OutputFormat.mime(forFile: key), etag: nil,
                          body: reader.stream)
    }

    public func head(key: String) async throws(KilnError) -> ObjectInfo? {
        var info = stat()
        guard stat(try path(for: key), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return ObjectInfo(key: key, size: Int64(info.st_size), etag: nil)
    }

    public func delete(key: String) async throws(KilnError) {
        let target = try path(for: key)
        guard unlink(target) == 0 || errno == ENOENT else {
            throw KilnError.storageUnavailable("cannot delete \(key): \(String(cString: strerror(errno)))")
        }
    }

    public func list(prefix: String, after: String?, limit: Int) async throws(KilnError) -> [ObjectInfo] {
        let root = root
        return try await Blocking.run { () throws(KilnError) -> [ObjectInfo] in
            guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
            var objects: [ObjectInfo] = []
            while let relative = walker.nextObject() as? String {
                if relative.hasPrefix(".staging") { continue }
                var info = stat()
                guard relative.hasPrefix(prefix), relative > (after ?? ""), stat(root + "/" + relative, &info) == 0,
                      (info.st_mode & S_IFMT) == S_IFREG else { continue }
                objects.append(ObjectInfo(key: relative, size: Int64(info.st_size), etag: nil))
            }
            return Array(objects.sorted { $0.key < $1.key }.prefix(max(0, limit)))
        }
    }

    public func url(for key: String) -> String? { nil }
    public var urlLifetime: Duration? { nil }

    /// The file for `key`; API_001 for keys that would leave the root.
    func path(for key: String) throws(KilnError) -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !parts.contains(".."), !parts.contains("."), !parts.contains(""),
              !key.hasPrefix(".staging")
        else { throw KilnError.invalidRequest("object key \"\(key)\" is not a plain relative path", fields: ["key": "invalid"]) }
        return root + "/" + key
    }

    private func temporaryPath() throws(KilnError) -> String {
        try makeStaging().directory + "/object"
    }

    /// Renames the finished temp file into place (creating parent directories) and drops its staging folder.
    private static func publish(_ temp: String, at target: String, sync: DiskSync) throws(KilnError) {
        let folder = (temp as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create the folder for \(target): \(error.localizedDescription)")
        }
        try sync.file(temp)
        guard rename(temp, target) == 0 else {
            throw KilnError.storageUnavailable("cannot publish \(target): \(String(cString: strerror(errno)))")
        }
        try sync.directory((target as NSString).deletingLastPathComponent)
    }
}
