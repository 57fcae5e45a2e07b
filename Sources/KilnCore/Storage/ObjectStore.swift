/// A flat namespace of objects (keys like `<media-id>/display.jpg`): the local directory and
/// R2/S3 buckets both offer it, and one conformance suite checks both.
///
/// Writes are atomic per object: a reader sees the old bytes or the new ones, never a mix.
public protocol ObjectStore: Sendable {
    /// Stores the file at `path` under `key`, streaming it.
    func put(file path: String, key: String, contentType: String) async throws(KilnError)
    func put(bytes: [UInt8], key: String, contentType: String) async throws(KilnError)
    /// Writes the object to the local `path` (temp file + rename); FILE_002 when it does not exist.
    func get(key: String, to path: String) async throws(KilnError)
    /// Streams the object (all of it, or the inclusive `range`, clipped to its end); FILE_002
    /// when it does not exist, API_001 when the range starts past its end.
    func open(key: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile
    /// Size and ETag, or nil when there is no such object.
    func head(key: String) async throws(KilnError) -> ObjectInfo?
    /// Removes the object; removing a missing one is not an error.
    func delete(key: String) async throws(KilnError)
    /// Objects whose key starts with `prefix` and sorts after `after`, in key order, at most `limit`.
    func list(prefix: String, after: String?, limit: Int) async throws(KilnError) -> [ObjectInfo]
    /// A URL a browser can fetch the object at (public or presigned), when the store has one.
    func url(for key: String) -> String?
    /// The same, working for `lifetime` when the store signs its URLs (at most what it allows).
    func url(for key: String, lasting lifetime: Duration) -> String?
    /// How long a URL from `url(for:)` works: nil when it does not expire (a public domain).
    var urlLifetime: Duration? { get }
}

extension ObjectStore {
    public var urlLifetime: Duration? { nil }
    public func url(for key: String, lasting lifetime: Duration) -> String? { url(for: key) }

    /// Every object whose key starts with `prefix`, in key order.
    public func list(prefix: String) async throws(KilnError) -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        while true {
            let page = try await list(prefix: prefix, after: objects.last?.key, limit: 1000)
            objects += page
            if page.count < 1000 { return objects }
        }
    }
}

public struct ObjectInfo: Sendable, Equatable {
    public let key: String
    public let size: Int64
    public let etag: String?

    public init(key: String, size: Int64, etag: String?) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}
