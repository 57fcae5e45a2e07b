import CKilnOS
import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A directory of items, one sub-directory per content-addressed id.
///
/// Staging happens in `<root>/.staging/` (same file system), and `commit` renames the whole
/// directory into place: readers see the old item or the new one, never a mix.
public struct LocalStore: MediaStore {
    public let root: String

    /// Creates `root` if needed; FILE_007 when it cannot be created or written.
    public init(root: String) throws(KilnError) {
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

    private var stagingRoot: String { root + "/.staging" }

    public func makeStaging() throws(KilnError) -> Staging { try Staging.create(under: stagingRoot) }

    public func commit(_ staging: Staging, as id: String) async throws(KilnError) -> String {
        let target = root + "/" + id
        if rename(staging.directory, target) == 0 { return target }
        let firstError = errno
        guard firstError == EEXIST || firstError == ENOTEMPTY else {
            discard(staging)
            throw KilnError.storageUnavailable("cannot publish \(target): \(String(cString: strerror(firstError)))")
        }
        // Replace an existing item atomically: swap the two directories, then drop the old one.
        guard kiln_rename_exchange(staging.directory, target) == 0 else {
            let code = errno
            discard(staging)
            throw KilnError.storageUnavailable("cannot replace \(target): \(String(cString: strerror(code)))")
        }
        discard(staging)
        return target
    }

    public func location(forItem id: String) -> String { root + "/" + id }

    public func discard(_ staging: Staging) {
        try? FileManager.default.removeItem(atPath: staging.directory)
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? error.localizedDescription
    }
}
