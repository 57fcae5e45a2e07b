import Foundation
import KilnCore
import KilnTestSupport
import Testing

@Suite struct ErrorCatalogTests {
    /// SPEC §3, as published, and the codes added since in the same form: code -> (HTTP status, retryable).
    static let published: [String: (Int, Bool)] = [
        "FILE_001": (400, false), "FILE_002": (404, false), "FILE_003": (415, false), "FILE_004": (413, false),
        "FILE_005": (422, false), "FILE_006": (503, true), "FILE_007": (500, false),
        "MEDIA_001": (400, false), "MEDIA_002": (400, false), "MEDIA_003": (422, false), "MEDIA_004": (422, false),
        "MEDIA_005": (422, false), "MEDIA_006": (422, false),
        "PROCESSING_001": (500, false), "PROCESSING_002": (500, false), "PROCESSING_003": (504, true),
        "PROCESSING_004": (503, true), "PROCESSING_005": (409, false), "AUTH_001": (401, false), "AUTH_002": (403, false),
        "API_001": (400, false), "API_002": (404, false), "API_003": (405, false), "API_004": (429, true),
        "API_005": (500, true),
        "API_006": (416, false),
        // Resumable uploads (tus): a chunk's checksum, its offset, the protocol version.
        "FILE_008": (460, true), "API_007": (409, true), "API_008": (412, false),
        // An Idempotency-Key sent again with another request.
        "API_009": (422, false),
        // DELETE of an item a carousel still lists.
        "API_010": (409, false),
        // A signed fetch URL that expired or was altered.
        "AUTH_003": (403, false),
        // The output check: a written rendition that breaks its platform's rule.
        "PROCESSING_006": (500, false),
    ]

    @Test func everyCodeHasOneEntryMatchingTheSpec() {
        #expect(ErrorCatalog.entries.count == ErrorCode.allCases.count)
        #expect(Set(ErrorCatalog.entries.map(\.code)) == Set(ErrorCode.allCases))
        for entry in ErrorCatalog.entries {
            let expected = Self.published[entry.code.rawValue]
            #expect(expected?.0 == entry.httpStatus, "\(entry.code.rawValue) status")
            #expect(expected?.1 == entry.retryable, "\(entry.code.rawValue) retryable")
            #expect(entry.code.rawValue.hasPrefix(entry.category.rawValue + "_"))
            #expect(!entry.causes.isEmpty && !entry.solutions.isEmpty, "\(entry.code.rawValue) needs causes and solutions")
        }
    }

    @Test func committedReferencePageMatchesTheCatalog() throws {
        let path = Fixtures.root + "/docs/error-codes.md"
        let generated = ErrorCatalog.markdown()
        if ProcessInfo.processInfo.environment["KILN_RECORD"] == "1" {
            try generated.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == generated, "docs/error-codes.md is stale: run `kiln codes --markdown > docs/error-codes.md`")
    }

    @Test func jsonFormUsesSnakeCaseKeys() throws {
        let array = try JSONSerialization.jsonObject(with: ErrorCatalog.json()) as? [[String: Any]]
        let first = try #require(array?.first)
        #expect(Set(first.keys) == ["code", "category", "severity", "http_status", "retryable", "title", "message",
                                    "causes", "solutions"])
        #expect(array?.count == ErrorCode.allCases.count)
    }

    @Test func failureEnvelopeHasTheSpecShape() throws {
        let error = KilnError.tooLarge(size: 122_535_418, limit: 52_428_800, kind: .image)
        let data = try Envelope<JSONValue>.failure(error, meta: Meta(requestId: "req_TEST")).jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["success"] as? Bool == false)
        let body = try #require(object["error"] as? [String: Any])
        #expect(body["code"] as? String == "FILE_004")
        #expect(body["category"] as? String == "FILE")
        #expect(body["severity"] as? String == "ERROR")
        #expect(body["retryable"] as? Bool == false)
        #expect(body["message"] as? String == "File size exceeded: 116.9 MB is over the 50 MB limit for images")
        let details = try #require(body["details"] as? [String: Any])
        #expect(details["limit_bytes"] as? Int == 52_428_800)
        #expect(details["size_bytes"] as? Int == 122_535_418)
        let meta = try #require(object["meta"] as? [String: Any])
        #expect(meta["request_id"] as? String == "req_TEST")
        #expect((meta["timestamp"] as? String)?.hasSuffix("Z") == true)
        #expect(object["data"] == nil)
    }

    @Test func requestIDsAreUniqueAndSortable() {
        let early = RequestID.make(date: Date(timeIntervalSince1970: 1_000))
        let late = RequestID.make(date: Date(timeIntervalSince1970: 2_000))
        #expect(early.hasPrefix("req_") && early.count == 30)
        #expect(early < late)
        #expect(RequestID.make() != RequestID.make())
    }

    @Test func byteCountsReadLikeUploadLimits() {
        #expect(ByteCount.format(52_428_800) == "50 MB")
        #expect(ByteCount.format(512) == "512 bytes")
        #expect(ByteCount.format(1536) == "1.5 KB")
        #expect(ByteCount.decimal(1.9066, places: 3) == "1.907")
    }

    /// A server's envelope never carries its paths, SQL or bucket: codes that may hold them are
    /// shown by their title and what to do, naming the request whose log line has the detail.
    @Test func internalsAreNotShownToClients() {
        let database = KilnError.storageUnavailable("the database failed: SQLite error 5: database is locked - while executing `UPDATE jobs SET status = ?` on /srv/kiln-data/kiln.sqlite")
        let shown = database.shown(requestID: "req_1")
        #expect(shown.code == .file006 && shown.message.contains("req_1"))
        for secret in ["/srv", "UPDATE", "kiln.sqlite", "SQLite"] { #expect(!shown.message.contains(secret)) }
        #expect(shown.details.isEmpty)
        let bucket = KilnError.storageUnavailable("PUT s3://kiln-private-bucket/abc failed").with(detail: "retry_after_seconds", .int(9))
        #expect(!bucket.shown(requestID: "r").message.contains("kiln-private-bucket"))
        #expect(bucket.shown(requestID: "r").details == ["retry_after_seconds": .int(9)])
        for failure in [KilnError.videoProcessing("buffer (video_size=320x240:pix_fmt=-1) /tmp/x"), KilnError.internalError("boom at /opt/x")] {
            #expect(!failure.shown(requestID: "r").message.contains("/"), "\(failure.shown(requestID: "r").message)")
        }
        // The input's own faults say what they say.
        let refused = KilnError.unsupportedCodec("prores")
        #expect(refused.shown(requestID: "r") == refused)
    }
}
