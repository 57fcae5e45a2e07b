import Foundation

/// moto's S3 server with signature checking on, started for a test by Tests/Support/moto_s3.py
/// on a free loopback port and stopped by `stop()` (or when the test process exits).
public final class MotoS3: @unchecked Sendable {
    public let endpoint: String
    public let bucket: String
    public let accessKeyID: String
    public let secretAccessKey: String
    /// The moto server process (to pause or kill it in fault tests).
    public let serverPID: Int32
    private let harness: Harness

    public typealias StartFailure = Harness.StartFailure

    /// One server for every test in the process that does not break it on purpose; it stops
    /// when the test process exits (the harness sees its input close).
    public static let shared: Result<MotoS3, StartFailure> = {
        do { return .success(try MotoS3()) } catch let error as StartFailure { return .failure(error) } catch {
            return .failure(StartFailure(description: "\(error)"))
        }
    }()

    /// The shared server, started (the first time) on a thread of its own, not on the pool.
    public static func started() async throws -> MotoS3 { try await Tool.detached { try shared.get() } }

    /// Starts the server; fails after `timeout` seconds without an answer.
    public init(timeout: Double = 60) throws {
        harness = try Harness(script: "moto_s3.py", timeout: timeout, hint: "is moto installed? pip install 'moto[server]'")
        endpoint = try harness.string("endpoint")
        bucket = try harness.string("bucket")
        accessKeyID = try harness.string("access_key_id")
        secretAccessKey = try harness.string("secret_access_key")
        guard let pid = harness.info["pid"] as? Int else { throw StartFailure(description: "moto_s3.py printed no pid") }
        serverPID = Int32(pid)
    }

    /// The `KILN_R2_*` settings that point Kiln at this bucket.
    public var environment: [String: String] {
        ["KILN_R2_ENDPOINT": endpoint, "KILN_R2_BUCKET": bucket, "KILN_R2_ACCESS_KEY_ID": accessKeyID,
         "KILN_R2_SECRET_ACCESS_KEY": secretAccessKey]
    }

    /// Stops the server and waits for the harness to exit.
    public func stop() { harness.stop() }
}
