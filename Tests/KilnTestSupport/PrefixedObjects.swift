import KilnCore

/// An object store seen under a prefix of another: tests that share one bucket (the shared moto
/// server) each get a store of their own, whose listing holds only its own keys.
public struct PrefixedObjects: ObjectStore {
    public let base: any ObjectStore
    public let prefix: String

    public init(base: any ObjectStore, prefix: String) {
        self.base = base
        self.prefix = prefix
    }

    public func put(file path: String, key: String, contentType: String) async throws(KilnError) {
        try await base.put(file: path, key: prefix + key, contentType: contentType)
    }
    public func put(bytes: [UInt8], key: String, contentType: String) async throws(KilnError) {
        try await base.put(bytes: bytes, key: prefix + key, contentType: contentType)
    }
    public func get(key: String, to path: String) async throws(KilnError) { try await base.get(key: prefix + key, to: path) }
    public func open(key: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        try await base.open(key: prefix + key, range: range)
    }
    public func head(key: String) async throws(KilnError) -> ObjectInfo? {
        try await base.head(key: prefix + key).map { ObjectInfo(key: String($0.key.dropFirst(prefix.count)), size: $0.size, etag: $0.etag) }
    }
    public func delete(key: String) async throws(KilnError) { try await base.delete(key: prefix + key) }
    public func list(prefix listed: String, after: String?, limit: Int) async throws(KilnError) -> [ObjectInfo] {
        try await base.list(prefix: prefix + listed, after: after.map { prefix + $0 }, limit: limit)
            .map { ObjectInfo(key: String($0.key.dropFirst(prefix.count)), size: $0.size, etag: $0.etag) }
    }
    public func url(for key: String) -> String? { base.url(for: prefix + key) }
    public func url(for key: String, lasting lifetime: Duration) -> String? { base.url(for: prefix + key, lasting: lifetime) }
}
