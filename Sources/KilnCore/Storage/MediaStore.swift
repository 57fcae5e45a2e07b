import Foundation

/// Where items are published and read back. Work is written into a private staging directory
/// first and published by `commit`, several items as one unit: a reader sees a whole item or
/// nothing, and a carousel's items all or none.
///
/// Manifests hold file names relative to their item; `resolve` adds the store's paths and
/// URLs when an item is read, so a stored manifest never holds a stale path or an expired URL.
public protocol MediaStore: Sendable {
    // MARK: Writing

    /// A fresh, empty local directory to write one item's files into.
    func makeStaging() throws(KilnError) -> Staging
    /// Publishes the staged items (each with its `manifest.json`) as one unit, in order: on any
    /// failure none of them is left published (items already stored under their id stay as
    /// they were; an id's content is fixed by its bytes and options, so they are skipped).
    /// `progress` gets the fraction of bytes published. The staging directories are consumed.
    func commit(_ items: [StagedItem], progress: (@Sendable (Double) -> Void)?) async throws(KilnError)
    /// Throws the staged files away.
    func discard(_ staging: Staging)

    // MARK: Reading

    /// Whether a complete item (its manifest) is stored under `id`: a cheap check.
    func exists(_ id: String) async throws(KilnError) -> Bool
    /// The manifest of `id` as stored, or nil when there is none.
    func manifest(_ id: String) async throws(KilnError) -> Data?
    /// Streams the bytes of `file` in the item `id` (all of it, or the inclusive `range`);
    /// FILE_002 when there is no such file, API_006 when the range starts past its end.
    func open(_ id: String, file: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile
    /// Removes the item: its manifest first, so a reader sees the whole item or nothing.
    /// False when there was nothing under `id`.
    func delete(_ id: String) async throws(KilnError) -> Bool
    /// FILE_006 when the store cannot be used now (for readiness probes): cheap, never a listing.
    func checkAvailable() async throws(KilnError)
    /// Ids of complete items (and carousels) in ascending order, after `after`, at most `limit`.
    func list(after: String?, limit: Int) async throws(KilnError) -> [String]

    // MARK: Addresses

    /// Where the item `id` is published: a directory or a bucket prefix ("s3://bucket/<id>").
    func location(forItem id: String) -> String
    /// A URL a browser can fetch a published file at (public or presigned), when the store has one.
    func url(forItem id: String, file: String) -> String?
    /// The same, working for `lifetime` when the store signs its URLs.
    func url(forItem id: String, file: String, lasting lifetime: Duration) -> String?
    /// How long a URL from `url(forItem:file:)` works: nil when it does not expire.
    var urlLifetime: Duration? { get }

    // MARK: Hand-off

    /// Where a job's received files wait for the worker that runs it, when that worker may be on
    /// another machine (a shared queue): the same bucket or directory, under `incomingPrefix`.
    var handOff: any ObjectStore { get }
}

extension StoreKey {
    /// Keys of job inputs handed to workers: `.kiln-incoming/<job id>/<n>`.
    public static let incomingPrefix = ".kiln-incoming/"
}

extension MediaStore {
    public func url(forItem id: String, file: String) -> String? { nil }
    public func url(forItem id: String, file: String, lasting lifetime: Duration) -> String? { url(forItem: id, file: file) }
    public var urlLifetime: Duration? { nil }

    /// Publishes one staged item.
    public func commit(_ item: StagedItem) async throws(KilnError) {
        try await commit([item], progress: nil)
    }

    /// What is stored under `id`: an item or a carousel; nil when nothing is.
    public func entry(_ id: String) async throws(KilnError) -> StoredEntry? {
        guard let data = try await manifest(id) else { return nil }
        do {
            switch try JSONDecoder().decode(StoredEntry.self, from: data) {
            case .item(let item): return .item(resolve(item))
            case .carousel(var record):
                record.location = location(forItem: id)
                return .carousel(record)
            }
        } catch {
            throw KilnError.storageUnavailable("the manifest of \(id) cannot be read: \(error)")
        }
    }

    /// The item stored under `id`, with paths and URLs; nil when there is none (or it is a carousel).
    public func item(_ id: String) async throws(KilnError) -> MediaItem? {
        if case .item(let item)? = try await entry(id) { return item }
        return nil
    }

    /// The carousel stored under `id`; nil when there is none.
    public func carousel(_ id: String) async throws(KilnError) -> CarouselRecord? {
        if case .carousel(let record)? = try await entry(id) { return record }
        return nil
    }

    /// `item` with this store's location, paths and URLs filled in.
    public func resolve(_ item: MediaItem) -> MediaItem {
        var item = item
        let location = location(forItem: item.id)
        item.location = location
        for index in item.renditions.indices {
            let file = item.renditions[index].file
            item.renditions[index].path = location + "/" + file
            item.renditions[index].url = url(forItem: item.id, file: file)
        }
        if let file = item.original?.file { item.original?.path = location + "/" + file }
        return item
    }
}

/// One item's staged files, to be published under `id`.
public struct StagedItem: Sendable {
    public let id: String
    public let staging: Staging

    public init(id: String, staging: Staging) {
        self.id = id
        self.staging = staging
    }
}

/// What a manifest holds: an item, or a carousel of items.
public enum StoredEntry: Sendable, Equatable, Decodable {
    case item(MediaItem)
    case carousel(CarouselRecord)

    public var id: String {
        switch self {
        case .item(let item): item.id
        case .carousel(let record): record.id
        }
    }

    public init(from decoder: any Decoder) throws {
        enum Probe: String, CodingKey { case items }
        let keys = try decoder.container(keyedBy: Probe.self)
        self = keys.contains(.items) ? .carousel(try CarouselRecord(from: decoder)) : .item(try MediaItem(from: decoder))
    }
}

/// Names of stored things: ids are lowercase hex SHA-256, files are plain names in an item.
public enum StoreKey {
    public static let manifest = "manifest.json"

    /// True for a 64-character lowercase hex id.
    public static func isID(_ id: some StringProtocol) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The object key of `file` in item `id`; API_002 for an id or file name that could not
    /// be Kiln's (a path, a dot file), so no request reaches outside an item.
    public static func key(_ id: String, _ file: String) throws(KilnError) -> String {
        guard isID(id) else { throw KilnError.notFoundResource("media \(id)") }
        guard !file.isEmpty, !file.contains("/"), !file.hasPrefix("."), file.utf8.count <= 255 else {
            throw KilnError.notFoundResource("file \(file) in media \(id)")
        }
        return id + "/" + file
    }
}

/// A private local directory holding one item's files until commit.
public struct Staging: Sendable, Equatable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The path of `name` inside the staging directory.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// The names of the files written so far, sorted.
    public func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// A new, uniquely named staging directory under `root`, in this process's `WorkSession`
    /// (what a killed process staged is removed by the next one).
    public static func create(under root: String) throws(KilnError) -> Staging {
        let directory = try WorkSession.directory(under: root) + "/" + UUID().uuidString.lowercased()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        return Staging(directory: directory)
    }
}
