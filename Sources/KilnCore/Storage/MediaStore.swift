import Foundation

/// Where renditions end up. Work is written into a private staging directory first and
/// published as a whole by `commit`, so a reader never sees a half-written item.
public protocol MediaStore: Sendable {
    /// A fresh, empty local directory to write one item's files into.
    func makeStaging() throws(KilnError) -> Staging
    /// Publishes the staged files under `id` and returns where they are (directory or prefix).
    /// An item already stored under `id` is replaced as a whole.
    func commit(_ staging: Staging, as id: String) async throws(KilnError) -> String
    /// Throws the staged files away.
    func discard(_ staging: Staging)
    /// Where the item `id` is published: a directory or a bucket prefix ("s3://bucket/<id>").
    func location(forItem id: String) -> String
    /// A URL a browser can fetch a published file at (public or presigned), when the store has one.
    func url(forItem id: String, file: String) -> String?
}

extension MediaStore {
    public func url(forItem id: String, file: String) -> String? { nil }
}

/// A private local directory holding one item's files until commit.
public struct Staging: Sendable, Equatable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The path of `name` inside the staging directory.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// A new, uniquely named staging directory under `root`.
    public static func create(under root: String) throws(KilnError) -> Staging {
        let directory = root + "/" + UUID().uuidString.lowercased()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        return Staging(directory: directory)
    }
}
