import Crypto
import Foundation

/// AWS Signature Version 4, as S3 and Cloudflare R2 check it: header signing and presigned
/// URLs. Paths are signed as they are (S3 does not normalize them); every part is built here
/// so the AWS test suite can check each step.
public struct SigV4: Sendable {
    public struct Credentials: Sendable, Equatable {
        public let accessKeyID: String
        public let secretAccessKey: String
        public let sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// The payload hash value that tells S3 the body is not signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of an empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: Credentials
    /// "auto" for R2.
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: Header signing

    /// The `Authorization` header for a request whose headers (names in any case) already hold
    /// `host` and `x-amz-date`, and any other header to be signed. With a session token, the
    /// `x-amz-security-token` header is signed too: send `tokenHeader` with the request.
    public func authorization(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                              payloadHash: String, date: Date) -> String {
        var headers = headers
        if let token = tokenHeader, !headers.contains(where: { $0.0.lowercased() == token.0 }) {
            headers.append(token)
        }
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: headers,
                                              payloadHash: payloadHash)
        let signature = self.signature(canonicalRequest: canonical.text, date: date)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(date)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The session token header, when the credentials are temporary.
    public var tokenHeader: (String, String)? {
        credentials.sessionToken.map { ("x-amz-security-token", $0) }
    }

    /// Hex signature of a canonical request made at `date`.
    public func signature(canonicalRequest: String, date: Date) -> String {
        let key = signingKey(date: date)
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign(canonicalRequest: canonicalRequest, date: date).utf8),
                                                        using: key))
    }

    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        ["AWS4-HMAC-SHA256", Self.timestamp(date), scope(date), Self.sha256Hex(Data(canonicalRequest.utf8))]
            .joined(separator: "\n")
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    public func scope(_ date: Date) -> String {
        "\(Self.day(date))/\(region)/\(service)/aws4_request"
    }

    func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    // MARK: Presigned URLs

    /// Query items that make a URL usable without headers for `expires` seconds (at most 7 days).
    /// Only `host` is signed; the payload is unsigned.
    public func presignedQuery(method: String, path: String, query: [(String, String)], host: String, date: Date,
                               expires: Int) -> [(String, String)] {
        var items = query + [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"),
            ("X-Amz-Date", Self.timestamp(date)),
            ("X-Amz-Expires", String(min(max(1, expires), 604_800))),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { items.append(("X-Amz-Security-Token", token)) }
        let canonical = Self.canonicalRequest(method: method, path: path, query: items, headers: [("host", host)],
                                              payloadHash: Self.unsignedPayload)
        items.append(("X-Amz-Signature", signature(canonicalRequest: canonical.text, date: date)))
        return items
    }

    // MARK: Canonical forms

    /// The canonical request and its `SignedHeaders` list. `path` is the decoded path (it is
    /// encoded here, once, segment by segment); `query` holds decoded names and values.
    public static func canonicalRequest(method: String, path: String, query: [(String, String)],
                                        headers: [(String, String)], payloadHash: String)
        -> (text: String, signedHeaders: String)
    {
        var grouped: [String: [String]] = [:]
        for (name, value) in headers {
            grouped[name.lowercased(), default: []].append(canonicalHeaderValue(value))
        }
        let names = grouped.keys.sorted()
        let headerLines = names.map { "\($0):\(grouped[$0, default: []].joined(separator: ","))" }
        let signed = names.joined(separator: ";")
        var lines: [String] = [method.uppercased(), canonicalURI(path), canonicalQuery(query)]
        lines.append(contentsOf: headerLines)
        lines.append(contentsOf: ["", signed, payloadHash])
        return (lines.joined(separator: "\n"), signed)
    }

    /// Each byte outside the unreserved set percent-encoded, `/` kept: no normalization.
    public static func canonicalURI(_ path: String) -> String {
        let encoded = encode(path, keepSlash: true)
        return encoded.isEmpty ? "/" : encoded
    }

    /// Names and values encoded, then sorted by name, then by value.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = items.map {
            (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false))
        }
        // Encoded text is ASCII, so String order is byte order, as AWS sorts.
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Trimmed, with runs of whitespace (folded lines included) collapsed to one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// RFC 3986 percent-encoding of UTF-8 bytes: A-Z a-z 0-9 - . _ ~ stay (and `/` if asked).
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + hexDigits(byte)
            }
        }
        return out
    }

    // MARK: Formats

    public static func timestamp(_ date: Date) -> String { format(date, "%Y%m%dT%H%M%SZ") }
    static func day(_ date: Date) -> String { format(date, "%Y%m%d") }

    private static func format(_ date: Date, _ pattern: String) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func sha256Hex(_ data: some DataProtocol) -> String { hex(SHA256.hash(data: data)) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for byte in bytes { out += hexDigits(byte).lowercased() }
        return out
    }

    private static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
