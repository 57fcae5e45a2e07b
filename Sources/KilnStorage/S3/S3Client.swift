import AsyncHTTPClient
import Foundation
import KilnCore
import NIOCore
import NIOHTTP1
import Synchronization

/// The handful of S3 calls Kiln needs, signed with SigV4 and sent with async-http-client.
/// R2's rules hold throughout: no `x-amz-checksum-*` headers, no aws-chunked bodies, no
/// `Expect: 100-continue`; bodies stream from disk.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let signer: SigV4
    let http: HTTPClient
    /// Multipart uploads whose abort failed, tried again later.
    let unaborted = Mutex<[(key: String, uploadID: String)]>([])

    public init(configuration: S3Configuration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
        signer = SigV4(credentials: configuration.credentials, region: configuration.region)
    }

    enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// A file range with its SHA-256, computed beforehand so the payload is signed.
        case file(FileChunks, sha256: String)

        var payloadHash: String {
            switch self {
            case .empty: SigV4.emptyPayloadHash
            case .bytes(let bytes): SigV4.sha256Hex(bytes)
            case .file(_, let sha256): sha256
            }
        }

        var request: HTTPClientRequest.Body? {
            switch self {
            case .empty: nil
            case .bytes(let bytes): .bytes(ByteBuffer(bytes: bytes))
            case .file(let chunks, _): .stream(chunks, length: .known(chunks.length))
            }
        }
    }

    struct Response {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        /// The body still to be read, when the request asked to stream it.
        var stream: HTTPClientResponse.Body?
    }

    /// What happens to a successful response's body.
    enum Delivery {
        /// Read whole (XML answers), up to a size.
        case collect(maxBytes: Int)
        /// Written chunk by chunk into a file (the sink is reset before a retry).
        case sink(ResponseSink)
        /// Handed back unread, for the caller to stream (retries end once headers arrive).
        case stream
    }

    /// Host, path (decoded) and the URL prefix for `key` (nil: the bucket itself).
    func location(for key: String?) -> (host: String, path: String, base: String) {
        let endpoint = configuration.endpoint
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host ?? ""
        if let port = endpoint.port { host += ":\(port)" }
        let prefix = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        switch configuration.addressing {
        case .path:
            let path = prefix + "/" + configuration.bucket + (key.map { "/" + $0 } ?? "")
            return (host, path, "\(scheme)://\(host)")
        case .virtualHost:
            let virtualHost = configuration.bucket + "." + host
            return (virtualHost, prefix + "/" + (key ?? ""), "\(scheme)://\(virtualHost)")
        }
    }

    /// Sends one signed request, retrying with backoff on 5xx, 429, timeouts and connection errors.
    /// A successful response's body is collected, written to a sink, or handed back to stream.
    func send(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
              body: Body = .empty, delivery: Delivery = .collect(maxBytes: 8 << 20)) async throws -> Response {
        let place = location(for: key)
        let queryText = SigV4.canonicalQuery(query)
        let url = place.base + SigV4.canonicalURI(place.path) + (queryText.isEmpty ? "" : "?" + queryText)
        var attempt = 0
        while true {
            do {
                return try await once(method, url: url, place: place, query: query, headers: extra, body: body,
                                      delivery: delivery)
            } catch let failure as S3Failure where failure.isRetryable && attempt + 1 < configuration.retry.maxAttempts {
                attempt += 1
                if case .sink(let sink) = delivery { try sink.reset() }
                try await Task.sleep(for: configuration.retry.delay(beforeAttempt: attempt))
            }
        }
    }

    private func once(_ method: HTTPMethod, url: String, place: (host: String, path: String, base: String),
                      query: [(String, String)], headers extra: [(String, String)], body: Body,
                      delivery: Delivery) async throws -> Response {
        let date = Date()
        var headers: [(String, String)] = [
            ("host", place.host), ("x-amz-date", SigV4.timestamp(date)), ("x-amz-content-sha256", body.payloadHash),
        ] + extra
        if let token = signer.tokenHeader { headers.append(token) }
        let authorization = signer.authorization(method: method.rawValue, path: place.path, query: query,
                                                 headers: headers, payloadHash: body.payloadHash, date: date)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "authorization", value: authorization)
        if case .bytes(let bytes) = body { request.headers.replaceOrAdd(name: "content-length", value: String(bytes.count)) }
        request.body = body.request
        do {
            let response = try await http.execute(request, timeout: .seconds(configuration.timeout.components.seconds))
            let status = Int(response.status.code)
            let success = (200..<300).contains(status)
            switch delivery {
            case .sink(let sink) where success:
                for try await chunk in response.body { try sink.write(chunk) }
                return Response(status: status, headers: response.headers, body: [])
            case .stream where success:
                return Response(status: status, headers: response.headers, body: [], stream: response.body)
            default:
                break
            }
            let limit = if case .collect(let maxBytes) = delivery { maxBytes } else { 8 << 20 }
            let body = Array(try await response.body.collect(upTo: limit).readableBytesView)
            guard success else {
                throw S3Failure.http(status: status, code: S3XML.value("Error/Code", in: body),
                                     message: S3XML.value("Error/Message", in: body))
            }
            return Response(status: status, headers: response.headers, body: body)
        } catch let failure as S3Failure {
            throw failure
        } catch {
            throw S3Failure.transport("\(place.base): \(error)")
        }
    }

    /// Where a streamed response body goes (a download's temp file).
    final class ResponseSink: @unchecked Sendable {
        // Unchecked: one request at a time writes through it, never concurrently.
        private let handle: FileHandle

        init(handle: FileHandle) { self.handle = handle }

        func write(_ chunk: ByteBuffer) throws { try handle.write(contentsOf: Data(chunk.readableBytesView)) }

        func reset() throws {
            try handle.truncate(atOffset: 0)
            try handle.seek(toOffset: 0)
        }
    }

    /// Runs `body` and turns its S3 failures into catalog errors.
    func cataloged<T>(key: String?, _ body: () async throws -> T) async throws(KilnError) -> T {
        do {
            return try await body()
        } catch let failure as S3Failure {
            throw failure.kilnError(bucket: configuration.bucket, key: key)
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError.storageUnavailable("\(configuration.bucket): \(error)")
        }
    }
}
