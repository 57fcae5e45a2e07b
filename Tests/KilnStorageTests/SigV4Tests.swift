import Foundation
import KilnStorage
import KilnTestSupport
import Testing

/// AWS's SigV4 test suite, case by case: canonical request, string to sign, Authorization.
@Suite struct SigV4Tests {
    static let suite = Fixtures.root + "/Tests/Fixtures/aws-sigv4-testsuite"
    static let signer = SigV4(credentials: .init(accessKeyID: "AKIDEXAMPLE",
                                                 secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                              region: "us-east-1", service: "service")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z

    /// Every case directory (a folder holding a .req), minus the ones that need dot-segment
    /// normalization, which S3 forbids.
    static let cases: [String] = {
        guard let walker = FileManager.default.enumerator(atPath: suite) else { return [] }
        var found: [String] = []
        while let next = walker.nextObject() as? String {
            guard next.hasSuffix(".req") else { continue }
            let directory = (next as NSString).deletingLastPathComponent
            let name = (directory as NSString).lastPathComponent
            let needsNormalizing = ["get-relative", "get-relative-relative", "get-slash", "get-slash-dot-slash",
                                    "get-slash-pointless-dot", "get-slashes"].contains(name)
            // "after" adds the session token once the request is signed: nothing to sign differently.
            if !needsNormalizing && name != "post-sts-header-after" { found.append(directory) }
        }
        return found.sorted()
    }()

    struct Request {
        var method = ""
        var path = ""
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body = Data()
    }

    /// Parses a .req file: request line, headers (indented lines continue the last one), body.
    static func parse(_ text: String) -> Request {
        var request = Request()
        let parts = text.components(separatedBy: "\n\n")
        var lines = parts[0].components(separatedBy: "\n")
        let first = lines.removeFirst()
        request.method = String(first.prefix { $0 != " " })
        var target = String(first.dropFirst(request.method.count + 1))
        if let range = target.range(of: " HTTP/", options: .backwards) { target = String(target[..<range.lowerBound]) }
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        request.path = String(pieces[0])
        if pieces.count > 1 {
            for item in pieces[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]).removingPercentEncoding ?? String(pair[0])
                let value = pair.count > 1 ? (String(pair[1]).removingPercentEncoding ?? String(pair[1])) : ""
                request.query.append((name, value))
            }
        }
        for line in lines {
            if line.first == " " || line.first == "\t", let last = request.headers.popLast() {
                request.headers.append((last.0, last.1 + "\n" + line))
            } else if let colon = line.firstIndex(of: ":") {
                request.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        if parts.count > 1 { request.body = Data(parts.dropFirst().joined(separator: "\n\n").utf8) }
        return request
    }

    func expected(_ directory: String, _ suffix: String) throws -> String {
        let name = (directory as NSString).lastPathComponent
        return try String(contentsOfFile: "\(Self.suite)/\(directory)/\(name).\(suffix)", encoding: .utf8)
    }

    @Test func suiteIsThere() {
        #expect(Self.cases.count >= 20, "found \(Self.cases)")
    }

    @Test(arguments: cases)
    func matchesAWS(directory: String) throws {
        let request = Self.parse(try expected(directory, "req"))
        let payloadHash = SigV4.sha256Hex(request.body)
        // The session-token case signs a token the request file does not carry.
        let signer = directory == "get-vanilla-with-session-token"
            ? SigV4(credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                       sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"),
                    region: "us-east-1", service: "service")
            : Self.signer
        let headers = request.headers + (signer.tokenHeader.map { [$0] } ?? [])
        let canonical = SigV4.canonicalRequest(method: request.method, path: request.path, query: request.query,
                                               headers: headers, payloadHash: payloadHash)
        #expect(canonical.text == (try expected(directory, "creq")), "canonical request")
        #expect(signer.stringToSign(canonicalRequest: canonical.text, date: Self.date)
            == (try expected(directory, "sts")), "string to sign")
        let authorization = signer.authorization(method: request.method, path: request.path, query: request.query,
                                                      headers: request.headers, payloadHash: payloadHash, date: Self.date)
        #expect(authorization == (try expected(directory, "authz")), "authorization")
    }

    @Test func s3KeysAreEncodedOnceAndNotNormalized() {
        #expect(SigV4.canonicalURI("/bucket/a b+c=d/ሴ.jpg") == "/bucket/a%20b%2Bc%3Dd/%E1%88%B4.jpg")
        #expect(SigV4.canonicalURI("/bucket/my-object//example//photo.user") == "/bucket/my-object//example//photo.user")
        #expect(SigV4.canonicalURI("/bucket/./x/../y") == "/bucket/./x/../y")
        #expect(SigV4.canonicalQuery([("prefix", "a b"), ("list-type", "2")]) == "list-type=2&prefix=a%20b")
    }

    @Test func unsignedPayloadIsSignedAsSuch() {
        let canonical = SigV4.canonicalRequest(method: "PUT", path: "/b/k", query: [],
                                               headers: [("host", "h"), ("x-amz-content-sha256", SigV4.unsignedPayload)],
                                               payloadHash: SigV4.unsignedPayload)
        #expect(canonical.text.hasSuffix("\nhost;x-amz-content-sha256\nUNSIGNED-PAYLOAD"))
    }

    /// AWS's documented presigned GET example (S3 docs, "Authenticating Requests: Using Query Parameters").
    @Test func presignedURLMatchesAWSExample() {
        let signer = SigV4(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                              secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                           region: "us-east-1")
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z
        let query = signer.presignedQuery(method: "GET", path: "/test.txt", query: [],
                                          host: "examplebucket.s3.amazonaws.com", date: date, expires: 86_400)
        #expect(query.last?.1 == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}
