extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent: preset files name only what
    /// they change.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
