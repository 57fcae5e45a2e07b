import Crypto
import Foundation
import KilnCore

/// Addresses a platform can fetch a rendition from without a key (Instagram, Threads, TikTok
/// and Pinterest pull media from a URL): `/fetch/{id}/{rendition}?expires=E&signature=S`, S an
/// HMAC-SHA256 under the server's URL secret over the item's tenant, its id, the rendition and
/// E. The first secret signs; every secret verifies, so one can be rotated without breaking the
/// URLs already given out.
struct FetchURLs: Sendable {
    enum Verdict: Equatable { case valid, expired, altered }

    let secrets: [String]
    /// The longest life a URL may be given.
    let maxLifetime: Duration
    /// Where the server is reached from outside (`--public-url`), without a trailing slash.
    let base: String

    /// The path and query that fetch `rendition` of `id` (of `tenant`) until `expires`.
    func path(tenant: String, id: String, rendition: String, expires: Date) -> String {
        let seconds = Int(expires.timeIntervalSince1970)
        let signature = Self.sign(secrets.first ?? "", tenant: tenant, id: id, rendition: rendition, expires: seconds)
        return "/fetch/\(id)/\(rendition)?expires=\(seconds)&signature=\(signature)"
    }

    func url(tenant: String, id: String, rendition: String, expires: Date) -> String {
        base + path(tenant: tenant, id: id, rendition: rendition, expires: expires)
    }

    /// The expiry for a life asked in seconds (nil: the longest), within the configured maximum.
    func expiry(asked seconds: Int?, now: Date = Date()) throws(KilnError) -> Date {
        let most = Int(JobControl.seconds(maxLifetime))
        guard let seconds else { return now.addingTimeInterval(Double(most)) }
        guard (1...most).contains(seconds) else {
            throw KilnError.invalidRequest("expires_in must be 1 to \(most) seconds", fields: ["expires_in": "1-\(most)"])
        }
        return now.addingTimeInterval(Double(seconds))
    }

    /// Whether a URL's signature is one of ours for these values, and still good at `now`.
    func verify(tenant: String, id: String, rendition: String, expires: Int, signature: String, now: Date = Date()) -> Verdict {
        let presented = Array(signature.utf8)
        let matches = secrets.contains { secret in
            let expected = Array(Self.sign(secret, tenant: tenant, id: id, rendition: rendition, expires: expires).utf8)
            guard expected.count == presented.count else { return false }
            // Constant time over the encoded digests.
            return zip(expected, presented).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
        guard matches else { return .altered }
        return Double(expires) > now.timeIntervalSince1970 ? .valid : .expired
    }

    /// What an id without a record is judged against: no tenant's name (names are never empty
    /// and never hold a NUL), so no URL verifies for it.
    static let noTenant = "\u{0}"

    /// An expiry as a URL spells it: one spelling only, decimal digits with no sign and no
    /// leading zero (`+0001797206114` is not `1797206114`).
    static func expiry(_ text: String) -> Int? {
        guard let first = text.first, first != "0" || text.count == 1, text.count <= 18,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text)
    }

    static func sign(_ secret: String, tenant: String, id: String, rendition: String, expires: Int) -> String {
        let text = ["kiln-fetch-v1", tenant, id, rendition, String(expires)].joined(separator: "\n")
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension KilnServer {
    /// A new URL secret (or the one an earlier version kept under the data directory, 0600), for
    /// a server given none: kept in the state (`KeptValueStore`), so fetch URLs outlive restarts
    /// and every node on a shared state signs alike.
    static func keptSecret(in directory: String) throws(KilnError) -> String {
        let path = directory + "/url-secret"
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
           !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let secret = newSecret()
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else {
            throw KilnError.storageUnavailable("cannot keep the URL secret in \(path)")
        }
        return secret
    }

    /// 32 random bytes, base64.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }

    /// The signer, with the address platforms reach this server at.
    func fetchURLs(port: Int) -> FetchURLs {
        let base = settings.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "http://\(settings.host):\(port)"
        return FetchURLs(secrets: urlSecrets, maxLifetime: settings.urlMaxLifetime, base: base)
    }
}
