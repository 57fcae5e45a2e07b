/// A stored file being read: its size, the part being sent, and its bytes as a stream of
/// chunks pulled one at a time (nothing is read ahead of the consumer).
public struct StoredFile: Sendable {
    /// Size of the whole file.
    public let size: Int64
    /// The inclusive byte range `body` carries; nil when it carries the whole file.
    public let range: ClosedRange<Int64>?
    public let contentType: String
    public let etag: String?
    public let body: AsyncThrowingStream<[UInt8], any Error>

    public init(size: Int64, range: ClosedRange<Int64>?, contentType: String, etag: String?,
                body: AsyncThrowingStream<[UInt8], any Error>) {
        self.size = size
        self.range = range
        self.contentType = contentType
        self.etag = etag
        self.body = body
    }

    /// Bytes in `body`.
    public var length: Int64 { range.map { $0.upperBound - $0.lowerBound + 1 } ?? size }

    /// The requested range clipped to a file of `size` bytes (HTTP's rule: an end past the file
    /// means its end); API_006 when it starts past the end.
    public static func clip(_ range: ClosedRange<Int64>?, size: Int64) throws(KilnError) -> ClosedRange<Int64>? {
        guard let range else { return nil }
        guard range.lowerBound < size else { throw KilnError.rangeNotSatisfiable(range, size: size) }
        return range.lowerBound...min(range.upperBound, size - 1)
    }

    /// Every byte of `body`, for small files and tests (large files are streamed, not collected).
    public func collect() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body { bytes += chunk }
        return bytes
    }
}
