import Foundation
import KilnCore

/// Where and how to reach an S3-compatible bucket (Cloudflare R2 first).
public struct S3Configuration: Sendable {
    public enum Addressing: String, Sendable {
        /// `https://endpoint/bucket/key` (R2 and most S3-compatible stores).
        case path
        /// `https://bucket.endpoint/key`.
        case virtualHost = "virtual"
    }

    public var endpoint: URL
    public var bucket: String
    public var credentials: SigV4.Credentials
    /// "auto" for R2.
    public var region: String
    public var addressing: Addressing
    /// Base URL readers use for published objects (e.g. an R2 custom domain); presigned URLs otherwise.
    public var publicURL: String?
    /// Files above this size go up in parts.
    public var multipartThreshold: Int64
    public var partSize: Int64
    /// Parts in flight at once.
    public var parallelParts: Int
    public var retry: RetryPolicy
    /// Per request.
    public var timeout: Duration
    /// Told of every part uploaded (number, bytes): for tests and progress.
    public var partObserver: (@Sendable (Int, Int64) -> Void)?

    public init(endpoint: URL, bucket: String, credentials: SigV4.Credentials, region: String = "auto",
                addressing: Addressing = .path, publicURL: String? = nil, multipartThreshold: Int64 = 64 << 20,
                partSize: Int64 = 16 << 20, parallelParts: Int = 4, retry: RetryPolicy = RetryPolicy(),
                timeout: Duration = .seconds(120)) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.credentials = credentials
        self.region = region
        self.addressing = addressing
        self.publicURL = publicURL
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.parallelParts = max(1, parallelParts)
        self.retry = retry
        self.timeout = timeout
    }

    /// From `KILN_R2_ENDPOINT`, `KILN_R2_BUCKET`, `KILN_R2_ACCESS_KEY_ID`,
    /// `KILN_R2_SECRET_ACCESS_KEY`, and optional `KILN_R2_PUBLIC_URL`, `KILN_R2_REGION`,
    /// `KILN_R2_ADDRESSING`. FILE_007 names whatever is missing or malformed.
    public static func fromEnvironment(_ environment: [String: String]) throws(KilnError) -> S3Configuration {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        let required = ["KILN_R2_ENDPOINT", "KILN_R2_BUCKET", "KILN_R2_ACCESS_KEY_ID", "KILN_R2_SECRET_ACCESS_KEY"]
        let missing = required.filter { value($0) == nil }
        guard missing.isEmpty else {
            throw KilnError.storageNotConfigured("R2 storage needs \(missing.joined(separator: ", ")); set them, or use --storage local")
        }
        let endpointText = value("KILN_R2_ENDPOINT") ?? ""
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme, ["http", "https"].contains(scheme),
              endpoint.host != nil
        else {
            throw KilnError.storageNotConfigured("KILN_R2_ENDPOINT \"\(endpointText)\" is not an http(s) URL")
        }
        let addressingText = value("KILN_R2_ADDRESSING") ?? "path"
        guard let addressing = Addressing(rawValue: addressingText) else {
            throw KilnError.storageNotConfigured("KILN_R2_ADDRESSING must be path or virtual, not \"\(addressingText)\"")
        }
        return S3Configuration(
            endpoint: endpoint, bucket: value("KILN_R2_BUCKET") ?? "",
            credentials: .init(accessKeyID: value("KILN_R2_ACCESS_KEY_ID") ?? "",
                               secretAccessKey: value("KILN_R2_SECRET_ACCESS_KEY") ?? ""),
            region: value("KILN_R2_REGION") ?? "auto", addressing: addressing, publicURL: value("KILN_R2_PUBLIC_URL"))
    }
}

/// Retries with exponential backoff and full jitter: attempt n waits a random time up to
/// min(maxDelay, baseDelay x 2^n).
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    func delay(beforeAttempt attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let nanoseconds = Double(ceiling.components.seconds) * 1e9 + Double(ceiling.components.attoseconds) / 1e9
        return .nanoseconds(Int64(Double.random(in: 0...max(0, nanoseconds))))
    }
}
