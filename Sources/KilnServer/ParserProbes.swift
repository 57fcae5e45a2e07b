import Foundation
import KilnCore
import KilnPipeline
import NIOCore

/// The server's parsers of hostile input, each reachable on its own with arbitrary text or
/// bytes: what the fuzz targets (`kiln-fuzz`) and the parsers' unit tests drive. Each answers
/// what the parser made of the input, or nil where it refused it (with a catalog error); none
/// may crash, hang or break the invariants it states.
public enum ParserProbes {
    /// The boundary a probed multipart body is read with.
    public static let boundary = "kilnfuzz"

    /// A `multipart/form-data` body, delivered in `chunk`-byte pieces: each part's name and
    /// its bytes (fields as text, files drained); nil when the reader refused the body.
    public static func multipart(_ bytes: [UInt8], chunk: Int = 7) async -> [(name: String, bytes: Int)]? {
        let size = max(1, chunk)
        let pieces = stride(from: 0, to: bytes.count, by: size).map { ByteBuffer(bytes: bytes[$0..<min($0 + size, bytes.count)]) }
        let reader = MultipartReader(boundary: boundary, body: pieces.makeIterator().async)
        reader.limit = 1 << 20
        var parts: [(name: String, bytes: Int)] = []
        do {
            while let part = try await reader.nextPart() {
                if part.filename == nil, let text = try await reader.text(limit: 4096) {
                    parts.append((part.name, text.utf8.count))
                } else {
                    try await reader.skip()
                    parts.append((part.name, -1))
                }
                guard parts.count < 1000 else { break }
            }
        } catch {
            return nil
        }
        return parts
    }

    /// A `Range` header against a file of `size` bytes: the inclusive range a 206 would send,
    /// nil to send the whole file. A range given is never empty nor starts below 0.
    public static func byteRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        let range = ByteRange.parse(header, size: size)
        if let range { precondition(range.lowerBound >= 0 && range.lowerBound <= range.upperBound, "\(header): \(range)") }
        return range
    }

    /// tus `Upload-Metadata`: its pairs, or nil when refused. Every key is non-empty and
    /// without a comma or a space, and the pairs encode back to metadata that reads the same.
    public static func tusMetadata(_ header: String) -> [String: String]? {
        guard let pairs = try? UploadsController.metadata(header) else { return nil }
        precondition(pairs.keys.allSatisfy { !$0.isEmpty && !$0.contains(",") && !$0.contains(" ") }, "\(pairs)")
        let again = try? UploadsController.metadata(UploadsController.encode(pairs))
        precondition(again == pairs, "metadata \(pairs) does not read back: \(String(describing: again))")
        return pairs
    }

    /// An upload's form fields, `name=value` pairs separated by `&` (or tus metadata, or the
    /// query): the options they set, or nil when refused.
    public static func uploadForm(_ text: String, presets: PresetCatalog = PresetCatalog()) -> IngestOptions? {
        var form = UploadForm(base: IngestOptions())
        for item in text.split(separator: "&", omittingEmptySubsequences: false).prefix(64) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            do { try form.set(String(pair[0]), pair.count > 1 ? String(pair[1]) : "", presets: presets) } catch { return nil }
        }
        // What the form names resolves, narrowed, or is refused: never a crash.
        _ = try? presets.resolve(targets: form.names, limits: form.options.limits)
        return form.options
    }

    /// An `Upload-Checksum` header over `body`: whether the digest matches, nil when refused.
    public static func checksum(_ header: String, body: [UInt8]) -> Bool? {
        guard var digest = try? ChunkDigest(header) else { return nil }
        body.withUnsafeBytes { digest.update($0) }
        return digest.matches
    }

    /// A keyless fetch URL's query (`expires=…&signature=…`) for `id` and `rendition`: whether
    /// it verifies against the tenant, under one secret. Only a URL Kiln signed may verify.
    public static func fetchURL(query: String, id: String, rendition: String, tenant: String) -> Bool {
        let signer = FetchURLs(secrets: ["fuzz-secret"], maxLifetime: .seconds(3600), base: "")
        var fields: [String: String] = [:]
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        guard let expires = fields["expires"].flatMap(FetchURLs.expiry), let signature = fields["signature"] else { return false }
        precondition(String(expires) == fields["expires"], "expires \(fields["expires"] ?? "") read as \(expires)")
        let verdict = signer.verify(tenant: tenant, id: id, rendition: rendition, expires: expires, signature: signature,
                                    now: Date(timeIntervalSince1970: 0))
        if verdict != .altered {
            let expected = FetchURLs.sign("fuzz-secret", tenant: tenant, id: id, rendition: rendition, expires: expires)
            precondition(signature == expected, "a signature Kiln did not make verified")
        }
        let none = signer.verify(tenant: FetchURLs.noTenant, id: id, rendition: rendition, expires: expires, signature: signature)
        precondition(none == .altered || tenant == FetchURLs.noTenant, "an id with no record verified")
        return verdict != .altered
    }

    /// A key's webhook URL and the addresses its name would resolve to (no lookup is made): the
    /// verdict. Allowed only with every address public.
    public static func webhookURL(_ url: String, addresses: [[UInt8]]) -> EndpointGuard.Verdict? {
        guard (try? WebhookSettings.check(url: url)) != nil, let host = EndpointGuard.host(of: url) else { return nil }
        let verdict = EndpointGuard.verdict(host: host, addresses: addresses)
        if case .allowed = verdict { precondition(!addresses.isEmpty && !addresses.contains(where: EndpointGuard.isInternal)) }
        return verdict
    }
}

/// An iterator of byte buffers, as a request body's: for probing the reader with a body in memory.
private struct BufferIterator: AsyncIteratorProtocol {
    var base: IndexingIterator<[ByteBuffer]>
    mutating func next() async -> ByteBuffer? { base.next() }
}

extension IndexingIterator where Elements == [ByteBuffer] {
    fileprivate var async: BufferIterator { BufferIterator(base: self) }
}
