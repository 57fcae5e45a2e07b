import CKilnOS
import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A directory of items, one sub-directory per id.
///
/// Staging happens in `<root>/.staging/` (same file system), and `commit` renames each whole
/// directory into place: readers see an item complete or not at all. Deleting renames the
/// item out of the way first, then removes it.
public struct LocalStore: MediaStore {
    public let root: String
    /// Syncs what is published, file then directory, before it is renamed into place.
    let sync: DiskSync

    /// Creates `root` if needed; FILE_007 when it cannot be created or written.
    public init(root: String, sync: DiskSync = .system) throws(KilnError) {
        self.sync = sync
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        do {
            try FileManager.default.createDirectory(atPath: stagingRoot, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageNotConfigured(
                "the output directory \(root) cannot be created (\(Self.reason(error))); point --out at a writable directory")
        }
        guard access(stagingRoot, W_OK) == 0 else {
            throw KilnError.storageNotConfigured("the output directory \(root) is not writable")
        }
    }

    var stagingRoot: String { root + "/.staging" }

    public func makeStaging() throws(KilnError) -> Staging { try Staging.create(under: stagingRoot) }

    public func commit(_ items: [StagedItem], progress: (@Sendable (Double) -> Void)?) async throws(KilnError) {
        let root = root
        let sync = sync
        try await Blocking.run { () throws(KilnError) in
            var published: [String] = []
            for (index, item) in items.enumerated() {
                let target = root + "/" + item.id
                do throws(KilnError) {
                    // On disk before it is visible: each file, the staged directory, then (after
                    // the rename) the root that names it.
                    try sync.contents(of: item.staging.directory)
                    if try Self.publish(item.staging, at: target) {
                        published.append(target)
                        try sync.directory(root)
                    }
                } catch {
                    // Undo this unit: what it published goes, what it had not reached is dropped.
                    for directory in published { Self.remove(directory, via: root + "/.staging") }
                    for rest in items[index...] { try? FileManager.default.removeItem(atPath: rest.staging.directory) }
                    throw error
                }
                progress?(Double(index + 1) / Double(items.count))
            }
        }
    }

    /// Renames the staged directory to `target`; false (and the staging dropped) when a complete
    /// item is already there, which has the same content: its id covers bytes and options.
    private static func publish(_ staging: Staging, at target: String) throws(KilnError) -> Bool {
        if rename(staging.directory, target) == 0 { return true }
        let firstError = errno
        guard firstError == EEXIST || firstError == ENOTEMPTY else {
            throw KilnError.storageUnavailable("cannot publish \(target): \(String(cString: strerror(firstError)))")
        }
        if access(target + "/" + StoreKey.manifest, F_OK) == 0 {
            try? FileManager.default.removeItem(atPath: staging.directory)
            return false
        }
        // A directory without a manifest is not an item (left by hand): swap it out atomically.
        guard kiln_rename_exchange(staging.directory, target) == 0 else {
            throw KilnError.storageUnavailable("cannot replace \(target): \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(atPath: staging.directory)
        return true
    }

    /// Moves `directory` into the staging area (one atomic step for readers), then deletes it.
    /// False when there was nothing to move.
    @discardableResult
    private static func remove(_ directory: String, via stagingRoot: String) -> Bool {
        guard let session = try? WorkSession.directory(under: stagingRoot) else { return false }
        let trash = session + "/deleted-" + UUID().uuidString.lowercased()
        guard rename(directory, trash) == 0 else { return false }
        try? FileManager.default.removeItem(atPath: trash)
        return true
    }

    public func discard(_ staging: Staging) {
        try? FileManager.default.removeItem(atPath: staging.directory)
    }

    public func exists(_ id: String) async throws(KilnError) -> Bool {
        guard StoreKey.isID(id) else { return false }
        return access(root + "/" + id + "/" + StoreKey.manifest, F_OK) == 0
    }

    public func manifest(_ id: String) async throws(KilnError) -> Data? {
        guard StoreKey.isID(id) else { return nil }
        let path = try self.path(for: StoreKey.key(id, StoreKey.manifest))
        return try await Blocking.run { () throws(KilnError) -> Data? in
            guard access(path, F_OK) == 0 else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KilnError.storageUnavailable("cannot read \(path)")
            }
            return data
        }
    }

    public func open(_ id: String, file: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        try await open(key: StoreKey.key(id, file), range: range)
    }

    public func delete(_ id: String) async throws(KilnError) -> Bool {
        guard StoreKey.isID(id) else { return false }
        let (directory, stagingRoot) = (root + "/" + id, stagingRoot)
        return try await Blocking.run { () throws(KilnError) -> Bool in Self.remove(directory, via: stagingRoot) }
    }

    /// The staging directory is still a writable directory (the disk is mounted, the tree intact).
    public func checkAvailable() async throws(KilnError) {
        var info = stat()
        guard stat(stagingRoot, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, access(stagingRoot, W_OK) == 0 else {
            throw KilnError.storageUnavailable("\(stagingRoot) is not a writable directory")
        }
    }

    public func list(after: String?, limit: Int) async throws(KilnError) -> [String] {
        let root = root
        return try await Blocking.run { () throws(KilnError) -> [String] in
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: root)
            } catch {
                throw KilnError.storageUnavailable("cannot list \(root): \(error.localizedDescription)")
            }
            return Array(names.filter { StoreKey.isID($0) && $0 > (after ?? "") }.sorted()
                .lazy.filter { access(root + "/" + $0 + "/" + StoreKey.manifest, F_OK) == 0 }.prefix(max(0, limit)))
        }
    }

    public func location(forItem id: String) -> String { root + "/" + id }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? error.localizedDescription
    }
}
