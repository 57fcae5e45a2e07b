import Crypto
import Foundation
import HTTPTypes
import KilnCore

/// The tus headers' values as Kiln reads and writes them: lengths and offsets, `Upload-Metadata`,
/// `Upload-Expires`, `Upload-Checksum`, and the headers' names.
extension UploadsController {
    static func count(_ value: String, header: String) throws(KilnError) -> Int64 {
        guard let count = Int64(value.trimmingCharacters(in: .whitespaces)), count >= 0 else {
            throw KilnError.invalidRequest("\(header) must be a whole number of bytes", fields: [header: "a non-negative integer"])
        }
        return count
    }

    static let maxMetadataBytes = 4096

    /// `Upload-Metadata`: comma-separated `key base64(value)` pairs (a key may come alone).
    static func metadata(_ header: String?) throws(KilnError) -> [String: String] {
        // Kept in the upload's row and sent back on every HEAD: a few names, not a payload.
        if let header, header.utf8.count > maxMetadataBytes {
            throw KilnError.invalidRequest("Upload-Metadata is \(header.utf8.count) bytes; at most \(maxMetadataBytes)",
                                           fields: ["Upload-Metadata": "at most \(maxMetadataBytes) bytes"])
        }
        // Read as bytes, not characters: a combining mark after a comma would otherwise glue the
        // comma into one character with it and two pairs into one. Keys are ASCII (tus: no
        // spaces, no commas), values base64.
        var pairs: [String: String] = [:]
        for item in Array((header ?? "").utf8).split(separator: UInt8(ascii: ",")) {
            let parts = item.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
                .filter { !$0.allSatisfy { $0 == UInt8(ascii: "\t") } }
            guard let keyBytes = parts.first, parts.count <= 2,
                  keyBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw KilnError.invalidRequest("Upload-Metadata must be `key base64value` pairs, keys in ASCII",
                                               fields: ["Upload-Metadata": "key base64value[,key base64value…]"])
            }
            let key = String(decoding: keyBytes, as: UTF8.self)
            guard pairs[key] == nil else {
                throw KilnError.invalidRequest("Upload-Metadata must be `key base64value` pairs with distinct keys",
                                               fields: ["Upload-Metadata": "key base64value[,key base64value…]"])
            }
            var value = ""
            if parts.count == 2 {
                guard let data = Data(base64Encoded: String(decoding: parts[1], as: UTF8.self)),
                      let text = String(data: data, encoding: .utf8) else {
                    throw KilnError.invalidRequest("the Upload-Metadata value of \(key) is not base64 UTF-8",
                                                   fields: ["Upload-Metadata": "values in base64"])
                }
                value = text
            }
            pairs[key] = value
        }
        return pairs
    }

    static func encode(_ metadata: [String: String]) -> String {
        metadata.keys.sorted().map { key in
            let value = metadata[key] ?? ""
            return value.isEmpty ? key : key + " " + Data(value.utf8).base64EncodedString()
        }.joined(separator: ",")
    }

    /// RFC 9110's date (`Upload-Expires`).
    static func httpDate(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }
}

/// A chunk's `Upload-Checksum` (`sha1` or `sha256`, base64), and the digest of what arrived.
struct ChunkDigest {
    private enum Hasher {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
    }

    let algorithm: String
    private let expected: Data
    private var hasher: Hasher

    /// Nil without the header; API_001 for an algorithm this server does not offer.
    init?(_ header: String?) throws(KilnError) {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let expected = Data(base64Encoded: String(parts[1])) else {
            throw KilnError.invalidRequest("Upload-Checksum must be `<algorithm> <base64 digest>`",
                                           fields: ["Upload-Checksum": "sha1 or sha256, then the digest in base64"])
        }
        algorithm = parts[0].lowercased()
        self.expected = expected
        switch algorithm {
        case "sha1": hasher = .sha1(Insecure.SHA1())
        case "sha256": hasher = .sha256(SHA256())
        default:
            throw KilnError.invalidRequest("checksum algorithm \(algorithm) is not offered",
                                           fields: ["Upload-Checksum": UploadsController.checksums])
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch hasher {
        case .sha1(var hash):
            hash.update(bufferPointer: bytes)
            hasher = .sha1(hash)
        case .sha256(var hash):
            hash.update(bufferPointer: bytes)
            hasher = .sha256(hash)
        }
    }

    var matches: Bool {
        switch hasher {
        case .sha1(let hash): Data(hash.finalize()) == expected
        case .sha256(let hash): Data(hash.finalize()) == expected
        }
    }
}

extension HTTPField.Name {
    static let tusResumable = HTTPField.Name("Tus-Resumable")!
    static let tusVersion = HTTPField.Name("Tus-Version")!
    static let tusExtension = HTTPField.Name("Tus-Extension")!
    static let tusMaxSize = HTTPField.Name("Tus-Max-Size")!
    static let tusChecksumAlgorithm = HTTPField.Name("Tus-Checksum-Algorithm")!
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadDeferLength = HTTPField.Name("Upload-Defer-Length")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!
    static let uploadExpires = HTTPField.Name("Upload-Expires")!
    static let uploadChecksum = HTTPField.Name("Upload-Checksum")!
    static let methodOverride = HTTPField.Name("X-HTTP-Method-Override")!
    /// Where a processed upload's media or job is.
    static let kilnLocation = HTTPField.Name("Kiln-Location")!
}
