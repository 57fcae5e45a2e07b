import AsyncHTTPClient
import Foundation
import KilnCore
import NIOCore
import NIOHTTP1

/// The bucket as an `ObjectStore`.
extension S3Client: ObjectStore {
    public func put(file path: String, key: String, contentType: String) async throws(KilnError) {
        let size = try localSize(path)
        if size > configuration.multipartThreshold {
            return try await putMultipart(file: path, size: size, key: key, contentType: contentType)
        }
        try await cataloged(key: key) {
            let chunks = FileChunks(path: path, offset: 0, length: size)
            _ = try await send(.PUT, key: key, headers: [("content-type", contentType)],
                               body: .file(chunks, sha256: try await chunks.sha256()))
        }
    }

    public func put(bytes: [UInt8], key: String, contentType: String) async throws(KilnError) {
        try await cataloged(key: key) {
            _ = try await send(.PUT, key: key, headers: [("content-type", contentType)], body: .bytes(bytes))
        }
    }

    public func get(key: String, to path: String) async throws(KilnError) {
        let temp = path + ".part-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try await cataloged(key: key) {
            try await download(key: key, to: temp)
            guard rename(temp, path) == 0 else { throw S3Failure.localFile("cannot write \(path)") }
        }
    }

    public func open(key: String, range: ClosedRange<Int64>?) async throws(KilnError) -> StoredFile {
        let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let response: Response
        do {
            response = try await send(.GET, key: key, headers: headers, delivery: .stream)
        } catch S3Failure.http(416, _, _) where range != nil {
            throw KilnError.rangeNotSatisfiable(range ?? 0...0, size: nil)
        } catch let failure as S3Failure {
            throw failure.kilnError(bucket: configuration.bucket, key: key)
        } catch {
            throw KilnError.storageUnavailable("\(configuration.bucket): \(error)")
        }
        let length = Int64(response.headers.first(name: "content-length") ?? "") ?? 0
        var size = length
        var served: ClosedRange<Int64>?
        // 206 answers "Content-Range: bytes first-last/size".
        if response.status == 206, let header = response.headers.first(name: "content-range"),
           let slash = header.lastIndex(of: "/"), let total = Int64(header[header.index(after: slash)...]) {
            size = total
            let span = header.dropFirst("bytes ".count).prefix { $0 != "/" }.split(separator: "-").compactMap { Int64($0) }
            if span.count == 2 { served = span[0]...span[1] }
        }
        let chunks = ResponseChunks(response.stream)
        return StoredFile(size: size, range: served, contentType: response.headers.first(name: "content-type")
                              ?? OutputFormat.mime(forFile: key),
                          etag: response.headers.first(name: "etag"), body: AsyncThrowingStream { try await chunks.next() })
    }

    public func head(key: String) async throws(KilnError) -> ObjectInfo? {
        do {
            let response = try await send(.HEAD, key: key)
            return ObjectInfo(key: key, size: Int64(response.headers.first(name: "content-length") ?? "") ?? 0,
                              etag: response.headers.first(name: "etag"))
        } catch S3Failure.http(404, _, _) {
            return nil
        } catch let failure as S3Failure {
            throw failure.kilnError(bucket: configuration.bucket, key: key)
        } catch {
            throw KilnError.storageUnavailable("\(configuration.bucket): \(error)")
        }
    }

    public func delete(key: String) async throws(KilnError) {
        try await cataloged(key: key) { _ = try await send(.DELETE, key: key) }
    }

    public func list(prefix: String, after: String?, limit: Int) async throws(KilnError) -> [ObjectInfo] {
        try await cataloged(key: prefix) {
            var objects: [ObjectInfo] = []
            var token: String?
            repeat {
                var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(min(1000, max(1, limit - objects.count))))]
                if let token {
                    query.append(("continuation-token", token))
                } else if let after {
                    query.append(("start-after", after))
                }
                let body = try await send(.GET, key: nil, query: query).body
                // One object per Contents element, whatever the order of its fields (S3 writes
                // ETag before Size): each Key starts the next.
                var current: (key: String, size: Int64, etag: String?)?
                token = nil
                for leaf in S3XML.leaves(body) {
                    switch leaf.path {
                    case "ListBucketResult/Contents/Key":
                        if let done = current { objects.append(ObjectInfo(key: done.key, size: done.size, etag: done.etag)) }
                        current = (leaf.text, 0, nil)
                    case "ListBucketResult/Contents/Size": current?.size = Int64(leaf.text) ?? 0
                    case "ListBucketResult/Contents/ETag": current?.etag = leaf.text
                    case "ListBucketResult/NextContinuationToken": token = leaf.text
                    default: break
                    }
                }
                if let done = current { objects.append(ObjectInfo(key: done.key, size: done.size, etag: done.etag)) }
            } while token != nil && objects.count < limit
            return Array(objects.sorted { $0.key < $1.key }.prefix(max(0, limit)))
        }
    }

    public func url(for key: String) -> String? {
        if let base = configuration.publicURL {
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + SigV4.canonicalURI("/" + key)
        }
        return presignedURL(key: key, expires: Self.presignedSeconds)
    }

    /// A presigned URL for `lifetime` (at most the 7 days SigV4 allows); a public domain's as it is.
    public func url(for key: String, lasting lifetime: Duration) -> String? {
        guard configuration.publicURL == nil else { return url(for: key) }
        return presignedURL(key: key, expires: Int(lifetime.components.seconds))
    }

    /// Presigned URLs work an hour; a public domain's do not expire.
    public static let presignedSeconds = 3600
    public var urlLifetime: Duration? { configuration.publicURL == nil ? .seconds(Self.presignedSeconds) : nil }

    /// A GET URL for `key` that works without credentials for `expires` seconds.
    public func presignedURL(key: String, expires: Int, date: Date = Date()) -> String {
        let place = location(for: key)
        let query = signer.presignedQuery(method: "GET", path: place.path, query: [], host: place.host, date: date,
                                          expires: expires)
        return place.base + SigV4.canonicalURI(place.path) + "?" + SigV4.canonicalQuery(query)
    }

    /// Checks, at start-up, that the bucket exists and the credentials are accepted.
    public func verify() async throws(KilnError) {
        do {
            _ = try await send(.HEAD, key: nil)
        } catch S3Failure.http(404, _, _) {
            throw KilnError.storageNotConfigured("bucket \(configuration.bucket) does not exist at \(configuration.endpoint); create it or fix KILN_R2_BUCKET")
        } catch let failure as S3Failure {
            throw failure.kilnError(bucket: configuration.bucket, key: nil)
        } catch {
            throw KilnError.storageUnavailable("\(configuration.bucket): \(error)")
        }
    }

    /// Streams the object into `path` chunk by chunk.
    private func download(key: String, to path: String) async throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw S3Failure.localFile("cannot create \(path)")
        }
        defer { try? handle.close() }
        // The whole exchange is retried like any other request; the body is written as it arrives.
        _ = try await send(.GET, key: key, delivery: .sink(ResponseSink(handle: handle)))
    }

    private func localSize(_ path: String) throws(KilnError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KilnError.notFound(path) }
        return Int64(info.st_size)
    }
}

/// A response body read one chunk per call, for a pull-based stream. Unchecked: the stream
/// that owns it has a single consumer, which never calls `next` concurrently.
private final class ResponseChunks: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator?

    init(_ body: HTTPClientResponse.Body?) { iterator = body?.makeAsyncIterator() }

    func next() async throws -> [UInt8]? {
        guard let buffer = try await iterator?.next() else {
            iterator = nil
            return nil
        }
        return Array(buffer.readableBytesView)
    }
}
