import KilnCore
import Synchronization

/// An object store that fails the puts a test picks (by key and by how many puts came before),
/// and can hang them until cancelled: how tests break a store in the middle of a unit.
public final class FaultyObjects: ObjectStore {
    public enum Fault: Sendable {
        /// FILE_006, as a store that went away answers.
        case fail
        /// Never answers (until the task is cancelled).
        case hang
    }

    public let base: any ObjectStore
    private let decide: @Sendable (_ key: String, _ index: Int) -> Fault?
    private let puts = Mutex(0)

    /// - Parameter failing: for each file put (its key and its 0-based number), whether it fails.
    public convenience init(base: any ObjectStore, failing: @escaping @Sendable (_ key: String, _ index: Int) -> Bool) {
        self.init(base: base) { key, index in failing(key, index) ? .fail : nil }
    }

    public init(base: any ObjectStore, fault: @escaping @Sendable (_ key: String, _ index: Int) -> Fault?) {
        self.base = base
        decide = fault
    }

    /// Files put so far (failed ones included).
    public var putCount: Int { puts.withLock { $0 } }

    public func put(file path: String, key: String, contentType: String) async throws(KilnError) {
        let index = puts.withLock { count in
            defer { count += 1 }
            return count
        }
        switch decide(key, index) {
        case .fail?:
            throw KilnError.storageUnavailable("the store refused \(key) (test fault)")
        case .hang?:
            do { try await Task.sleep(for: .seconds(3600)) } catch {}
            throw KilnError.storageUnavailable("the store did not answer for \(key) (test fault)")
        case nil:
            try await base.put(file: path, key: key, contentType: contentType)
        }
    }
    public func put(bytes: [UInt8], key: String, contentType: String) async throws(KilnError) {
        try await base.put(bytes: bytes, key: key, contentType: contentType)
    }
    public func get(key: String, to path: String) async throws(KilnError) { try await base.get(key: key, to: path) }
    public func open(key: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        try await base.open(key: key, range: range)
    }
    public func head(key: String) async throws(KilnError) -> ObjectInfo? { try await base.head(key: key) }
    public func delete(key: String) async throws(KilnError) { try await base.delete(key: key) }
    public func list(prefix: String, after: String?, limit: Int) async throws(KilnError) -> [ObjectInfo] {
        try await base.list(prefix: prefix, after: after, limit: limit)
    }
    public func url(for key: String) -> String? { base.url(for: key) }
}
