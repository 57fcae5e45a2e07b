import Foundation
import KilnServer
import KilnTestSupport
import Testing

/// The webhook signature scheme: a known vector (computed independently with Python's hmac),
/// rotation with two secrets, and what a receiver must refuse.
@Suite struct WebhookSignatureTests {
    let body = Array(#"{"type":"job.succeeded","data":{"id":"job_1"}}"#.utf8)
    let time = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func matchesAnIndependentHMAC() async throws {
        let script = """
            import hmac, hashlib, sys
            body = sys.argv[1].encode()
            print(hmac.new(b"s3cret", b"1795000000." + body, hashlib.sha256).hexdigest())
            """
        let run = try await Tool.check("python3", ["-c", script, String(decoding: body, as: UTF8.self)])
        let expected = String(decoding: run.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(WebhookSignature.sign(body, secrets: ["s3cret"], time: time) == "t=1795000000,v1=\(expected)")
    }

    @Test func rotationSignsWithBothAndEitherVerifies() {
        let value = WebhookSignature.sign(body, secrets: ["old", "new"], time: time)
        #expect(value.components(separatedBy: "v1=").count == 3)
        #expect(WebhookSignature.verify(value, body: body, secrets: ["old"], now: time))
        #expect(WebhookSignature.verify(value, body: body, secrets: ["new"], now: time))
        #expect(!WebhookSignature.verify(value, body: body, secrets: ["other"], now: time))
    }

    @Test func aReceiverRefusesTamperingReplayAndGarbage() {
        let value = WebhookSignature.sign(body, secrets: ["s3cret"], time: time)
        #expect(WebhookSignature.verify(value, body: body, secrets: ["s3cret"], now: time.addingTimeInterval(299)))
        #expect(!WebhookSignature.verify(value, body: body, secrets: ["s3cret"], now: time.addingTimeInterval(301)), "replayed late")
        var changed = body
        changed[changed.count - 2] ^= 1
        #expect(!WebhookSignature.verify(value, body: changed, secrets: ["s3cret"], now: time), "body changed")
        let otherTime = value.replacingOccurrences(of: "t=1795000000", with: "t=1795000001")
        #expect(!WebhookSignature.verify(otherTime, body: body, secrets: ["s3cret"], now: time), "timestamp changed")
        for garbage in ["", "v1=abc", "t=x,v1=abc", "t=1795000000", "nonsense"] {
            #expect(!WebhookSignature.verify(garbage, body: body, secrets: ["s3cret"], now: time), "\(garbage)")
        }
    }
}
