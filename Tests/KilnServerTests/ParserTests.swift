import Crypto
import Foundation
import KilnCore
@testable import KilnServer
import Testing

/// The server's parsers of hostile input, each on its edge cases (the fuzz targets drive the
/// same entry points with arbitrary bytes).
@Suite struct ParserTests {
    static func body(_ parts: String) -> [UInt8] { Array(parts.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    static let form = body("""
        --kilnfuzz
        Content-Disposition: form-data; name="preset"

        bluesky
        --kilnfuzz
        Content-Disposition: form-data; name="file"; filename="a.jpg"
        Content-Type: image/jpeg

        0123456789
        --kilnfuzz--

        """)

    @Test(arguments: [1, 2, 7, 64, 4096])
    func aMultipartBodyReadsTheSameInAnyPieces(_ chunk: Int) async {
        let parts = await ParserProbes.multipart(Self.form, chunk: chunk)
        #expect(parts?.map(\.name) == ["preset", "file"], "\(String(describing: parts))")
        #expect(parts?.first?.bytes == 7, "the field's text")
    }

    @Test func aMultipartBodyCutShortOrUnnamedIsRefused() async {
        #expect(await ParserProbes.multipart(Array(Self.form.dropLast(16))) == nil, "no closing boundary")
        #expect(await ParserProbes.multipart(Self.body("--kilnfuzz\nContent-Disposition: form-data\n\nx\n--kilnfuzz--\n")) == nil,
                "a part without a name")
        #expect(await ParserProbes.multipart([]) == nil, "an empty body")
        let endless = Self.body("--kilnfuzz\nX-Long: " + String(repeating: "a", count: 20_000))
        #expect(await ParserProbes.multipart(endless) == nil, "part headers past 16 KiB")
    }

    /// Found by the fuzzer: multipart-kit 4.7.1 crashes the process on a header name byte at 0x80
    /// or above (it indexes a 128-entry table with it). Refused before the parser sees it, in
    /// any pieces, whatever the boundary.
    @Test(arguments: [1, 3, 64])
    func aHeaderNameOutsideASCIIIsRefusedNotACrash(_ chunk: Int) async {
        var body = Self.form
        let at = body.firstIndex(of: UInt8(ascii: "C")) ?? 0
        body[at + 3] = 0xe9  // "Con\u{e9}ent-Disposition"
        #expect(await ParserProbes.multipart(body, chunk: chunk) == nil)
        let value = Self.body("--kilnfuzz\nContent-Disposition: form-data; name=\"f\"; filename=\"caf\u{e9}.jpg\"\n\nx\n--kilnfuzz--\n")
        #expect(await ParserProbes.multipart(value, chunk: chunk)?.map(\.name) == ["f"], "a header's value may be UTF-8")
    }

    @Test(arguments: [
        ("bytes=0-99", 1000, 0...99), ("bytes=-10", 1000, 990...999), ("bytes=5-", 1000, 5...999),
        ("bytes=10-5", 1000, nil), ("bytes=0-1,5-6", 1000, nil), ("bytes=abc", 1000, nil), ("items=0-1", 1000, nil),
        ("bytes=-0", 1000, nil), ("bytes=--1", 1000, nil), ("bytes=0-99999999999999999999", 1000, nil),
    ] as [(String, Int64, ClosedRange<Int64>?)])
    func byteRanges(_ header: String, _ size: Int64, _ expected: ClosedRange<Int64>?) {
        #expect(ParserProbes.byteRange(header, size: size) == expected, "\(header)")
    }

    @Test func tusMetadata() {
        let value = Data("photo.jpg".utf8).base64EncodedString()
        #expect(ParserProbes.tusMetadata("filename \(value),is_draft") == ["filename": "photo.jpg", "is_draft": ""])
        #expect(ParserProbes.tusMetadata("  filename   \(value) ") == ["filename": "photo.jpg"])
        for refused in ["a b c", "x %%%", "a \(value),a \(value)", "a " + Data([0xff, 0xfe]).base64EncodedString(),
                        "k " + String(repeating: "A", count: 5000)] {
            #expect(ParserProbes.tusMetadata(refused) == nil, "\(refused.prefix(40))")
        }
        #expect(ParserProbes.tusMetadata("") == [:])
        // Found by the fuzzer: a combining mark after a comma made one character of the two, and
        // two pairs of one. Read as bytes, keys in ASCII.
        #expect(ParserProbes.tusMetadata("a,\u{35B}b") == nil)
        #expect(ParserProbes.tusMetadata("caf\u{e9} \(value)") == nil, "a key outside ASCII")
    }

    @Test func uploadFormFields() {
        let options = ParserProbes.uploadForm(#"targets=tiktok,x&fit=crop&limits={"tiktok":{"max_duration_seconds":180}}"#)
        #expect(options?.fit == .crop && options?.limits["tiktok"]?.maxDurationSeconds == 180)
        for refused in ["nope=1", "preset=nope", "fit=sideways", "fit_duration=later", "type=pdf", #"limits={"x":"#, "targets="] {
            #expect(ParserProbes.uploadForm(refused) == nil, "\(refused)")
        }
    }

    @Test func checksums() {
        let chunk = Array("hello chunk".utf8)
        let good = "sha256 " + Data(SHA256.hash(data: chunk)).base64EncodedString()
        #expect(ParserProbes.checksum(good, body: chunk) == true)
        #expect(ParserProbes.checksum(good, body: chunk + [0]) == false)
        #expect(ParserProbes.checksum("SHA256 " + good.dropFirst(7), body: chunk) == true, "the algorithm's name in any case")
        for refused in ["md5 AAAA", "sha256", "sha256 %%%", ""] {
            #expect(ParserProbes.checksum(refused, body: chunk) == nil, "\(refused)")
        }
    }

    @Test func fetchURLsTakeOneSpelling() {
        let id = String(repeating: "ab", count: 32)
        let signature = FetchURLs.sign("fuzz-secret", tenant: "acme", id: id, rendition: "thumb", expires: 1_797_206_114)
        #expect(ParserProbes.fetchURL(query: "expires=1797206114&signature=\(signature)", id: id, rendition: "thumb", tenant: "acme"))
        for query in ["expires=+1797206114&signature=\(signature)", "expires=01797206114&signature=\(signature)",
                      "expires=1797206114.0&signature=\(signature)", "expires=1797206114", "signature=\(signature)"] {
            #expect(!ParserProbes.fetchURL(query: query, id: id, rendition: "thumb", tenant: "acme"), "\(query)")
        }
        #expect(!ParserProbes.fetchURL(query: "expires=1797206114&signature=\(signature)", id: id, rendition: "display", tenant: "acme"))
        #expect(FetchURLs.expiry("0") == 0 && FetchURLs.expiry("") == nil && FetchURLs.expiry("99999999999999999999") == nil)
    }

    @Test func webhookURLs() {
        #expect(ParserProbes.webhookURL("https://hooks.example.com/x", addresses: [[8, 8, 8, 8]])
            == .allowed(host: "hooks.example.com", address: "8.8.8.8"))
        #expect(ParserProbes.webhookURL("https://hooks.example.com/x", addresses: [[8, 8, 8, 8], [10, 0, 0, 1]])
            == .internalAddress("10.0.0.1"))
        #expect(ParserProbes.webhookURL("https://hooks.example.com/x", addresses: []) == .unresolved("hooks.example.com"))
        #expect(ParserProbes.webhookURL("ftp://example.com/x", addresses: [[8, 8, 8, 8]]) == nil)
        #expect(ParserProbes.webhookURL("http:///x", addresses: [[8, 8, 8, 8]]) == nil)
        let mapped: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1]
        #expect(ParserProbes.webhookURL("http://[::ffff:127.0.0.1]/x", addresses: [mapped]) == .internalAddress("::ffff:127.0.0.1"))
    }
}
