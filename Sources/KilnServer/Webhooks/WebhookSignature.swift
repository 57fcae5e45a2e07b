import Crypto
import Foundation

/// How webhook deliveries are signed (issue 13), the one place the scheme is defined:
///
///     Kiln-Signature: t=1795000000,v1=5f2b…,v1=9ac0…
///
/// `t` is the sending time (Unix seconds); each `v1` is the lowercase hex HMAC-SHA256, under
/// one of the endpoint's active secrets, of `"<t>.<body>"` (the body's exact bytes). Secrets are
/// rotated without downtime: sign with the old and the new one for a while (two `v1` values),
/// receivers accept either, then drop the old one. Receivers refuse a `t` outside their
/// tolerance (default 5 minutes), so a captured delivery cannot be replayed later.
public enum WebhookSignature {
    public static let header = "Kiln-Signature"

    /// The header's value for `body` sent at `time` under each of `secrets` (at least one).
    public static func sign(_ body: [UInt8], secrets: [String], time: Date = Date()) -> String {
        let timestamp = String(Int64(time.timeIntervalSince1970))
        let signed = Array((timestamp + ".").utf8) + body
        return (["t=" + timestamp] + secrets.map { "v1=" + mac(signed, secret: $0) }).joined(separator: ",")
    }

    /// Whether `value` signs `body` under one of `secrets`, sent within `tolerance` of `now`.
    public static func verify(_ value: String, body: [UInt8], secrets: [String], tolerance: TimeInterval = 300,
                              now: Date = Date()) -> Bool {
        var timestamp: String?
        var macs: [String] = []
        for part in value.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = pair[1] } else if pair[0] == "v1" { macs.append(pair[1]) }
        }
        guard let timestamp, let seconds = Int64(timestamp), abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance
        else { return false }
        let signed = Array((timestamp + ".").utf8) + body
        return secrets.contains { secret in
            let expected = Array(mac(signed, secret: secret).utf8)
            return macs.contains { constantTimeEqual(Array($0.utf8), expected) }
        }
    }

    private static func mac(_ bytes: [UInt8], secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// Compares without stopping at the first difference (no timing hint to a forger).
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
