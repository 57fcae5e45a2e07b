/// How a file is cut for an S3 multipart upload: every part the same size (at least 5 MiB,
/// as R2 requires) except a smaller last one, and never more than 10,000 parts.
public struct MultipartPlan: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        /// 1-based, as S3 numbers them.
        public let number: Int
        public let offset: Int64
        public let length: Int64
    }

    public static let minimumPartSize: Int64 = 5 * 1024 * 1024
    public static let maximumParts = 10_000

    public let partSize: Int64
    public let parts: [Part]

    /// Parts of `preferred` size (raised to the minimum, and to whole MiB if 10,000 parts would
    /// not hold the file) for a file of `size` bytes.
    public init(size: Int64, preferred: Int64) {
        var partSize = max(preferred, Self.minimumPartSize)
        let needed = (size + Int64(Self.maximumParts) - 1) / Int64(Self.maximumParts)
        if needed > partSize {
            let mebibyte: Int64 = 1024 * 1024
            partSize = (needed + mebibyte - 1) / mebibyte * mebibyte
        }
        self.partSize = partSize
        var parts: [Part] = []
        var offset: Int64 = 0
        while offset < size {
            let length = min(partSize, size - offset)
            parts.append(Part(number: parts.count + 1, offset: offset, length: length))
            offset += length
        }
        self.parts = parts
    }
}
