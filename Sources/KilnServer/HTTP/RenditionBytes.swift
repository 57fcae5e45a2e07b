import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnQueue
import KilnStorage
import NIOCore

/// A rendition's bytes as HTTP sends them: ETag (its SHA-256), 304 for a matching
/// If-None-Match, 206 for a Range, no body for HEAD, or a redirect to the bucket's URL (cached
/// no longer than the URL works). Keyed routes and keyless fetch URLs send them alike.
struct RenditionBytes {
    let store: any MediaStore
    let metrics: KilnMetrics

    /// Who may keep a rendition's answer, and how long.
    enum Caching {
        /// Asked for with a key: the caller's cache only, never a shared one; the bytes never change.
        case privateImmutable
        /// A keyless URL's: any cache, no longer than the URL lives.
        case shared(seconds: Int)

        var header: String {
            switch self {
            case .privateImmutable: "private, max-age=31536000, immutable"
            case .shared(let seconds): "public, max-age=\(seconds)"
            }
        }

        /// A redirect to a URL that works `lifetime` seconds is kept no longer than that.
        func redirect(lifetime: Int) -> String {
            switch self {
            case .privateImmutable: "private, max-age=\(lifetime)"
            case .shared(let seconds): "public, max-age=\(min(seconds, lifetime))"
            }
        }
    }

    func send(_ rendition: Rendition, of id: String, _ request: Request, cache: Caching) async throws -> Response {
        let etag = "\"\(rendition.sha256)\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: cache.header, .acceptRanges: "bytes"]
        if let match = request.headers[.ifNoneMatch],
           match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        if let url = store.url(forItem: id, file: rendition.file) {
            headers[.location] = url
            // The redirect is kept no longer than the URL it names works (5 minutes short of a
            // presigned URL's hour); a public domain's for a day.
            headers[.cacheControl] = cache.redirect(lifetime: store.urlLifetime.map { max(0, Int($0.components.seconds) - 300) } ?? 86_400)
            return Response(status: .found, headers: headers)
        }
        let range: ClosedRange<Int64>?
        do {
            range = try StoredFile.clip(ByteRange.parse(request.headers[.range], size: rendition.bytes), size: rendition.bytes)
        } catch {
            throw AnsweredError(error: error, headers: [.contentRange: "bytes */\(rendition.bytes)"])
        }
        let file = try await store.open(id, file: rendition.file, range: range)
        headers[.contentType] = file.contentType
        if let range = file.range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)" }
        let status: HTTPResponse.Status = file.range == nil ? .ok : .partialContent
        if request.method == .head {
            headers[.contentLength] = String(file.length)
            return Response(status: status, headers: headers)
        }
        let metrics = metrics
        let body = ResponseBody(contentLength: Int(file.length)) { writer in
            for try await chunk in file.body {
                try await writer.write(ByteBuffer(bytes: chunk))
                metrics.bytesOut(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

/// A `Range` header of one range.
enum ByteRange {
    /// `bytes=A-B`, `bytes=A-` or `bytes=-N` as an inclusive range; nil for none, several, or
    /// one that is not of these forms (RFC 9110 lets a server ignore it: the whole file is sent).
    static func parse(_ header: String?, size: Int64) -> ClosedRange<Int64>? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let bounds = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2 else { return nil }
        if bounds[0].isEmpty {
            guard let suffix = Int64(bounds[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...max(0, size - 1)
        }
        guard let start = Int64(bounds[0]), start >= 0 else { return nil }
        if bounds[1].isEmpty { return start...max(start, size - 1) }
        guard let end = Int64(bounds[1]), end >= start else { return nil }
        return start...end
    }
}
