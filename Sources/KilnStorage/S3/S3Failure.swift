import KilnCore

/// What went wrong talking to the bucket, before it becomes a catalog code.
enum S3Failure: Error, CustomStringConvertible {
    /// The store answered with an error status (and, usually, an XML code and message).
    case http(status: Int, code: String?, message: String?)
    /// No answer: connection refused or reset, DNS, timeout.
    case transport(String)
    /// A staged file could not be read.
    case localFile(String)

    var isRetryable: Bool {
        switch self {
        case .http(let status, _, _): status >= 500 || status == 429 || status == 408
        case .transport: true
        case .localFile: false
        }
    }

    var description: String {
        switch self {
        case .http(let status, let code, let message):
            "HTTP \(status)" + (code.map { " \($0)" } ?? "") + (message.map { ": \($0)" } ?? "")
        case .transport(let reason): reason
        case .localFile(let reason): reason
        }
    }

    /// The catalog error: credentials and missing buckets are configuration (FILE_007), a
    /// missing object is FILE_002, anything that may pass on retry is FILE_006.
    func kilnError(bucket: String, key: String?) -> KilnError {
        switch self {
        case .http(let status, let code, _) where status == 401 || status == 403:
            var error = KilnError.storageNotConfigured(
                "the store rejected the credentials for bucket \(bucket) (\(description)); check KILN_R2_ACCESS_KEY_ID and KILN_R2_SECRET_ACCESS_KEY")
            error.details["s3_code"] = code.map { .string($0) } ?? .null
            return error
        case .http(404, "NoSuchBucket", _):
            return .storageNotConfigured("bucket \(bucket) does not exist; create it or fix KILN_R2_BUCKET")
        case .http(404, _, _):
            return .notFound(key.map { "\(bucket)/\($0)" } ?? bucket)
        default:
            var error = KilnError.storageUnavailable("\(bucket): \(description)")
            if case .http(let status, let code, _) = self {
                error.details["http_status"] = .int(status)
                error.details["s3_code"] = code.map { .string($0) } ?? .null
            }
            return error
        }
    }
}
