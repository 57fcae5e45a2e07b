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
    private let harness: Process
    private let input: Pipe

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One server for every test in the process that does not break it on purpose; it stops
    /// when the test process exits (the harness sees its input close).
    public static let shared: Result<MotoS3, StartFailure> = {
        do { return .success(try MotoS3()) } catch let error as StartFailure { return .failure(error) } catch {
            return .failure(StartFailure(description: "\(error)"))
        }
    }()

    /// Starts the server; fails after `timeout` seconds without an answer.
    public init(timeout: Double = 60) throws {
        harness = Process()
        harness.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        harness.arguments = ["python3", Fixtures.root + "/Tests/Support/moto_s3.py"]
        input = Pipe()
        let output = Pipe()
        harness.standardInput = input
        harness.standardOutput = output
        try harness.run()
        // The first line is the connection info; read it on a thread so the wait is bounded.
        let ready = DispatchSemaphore(value: 0)
        let box = LineBox()
        Thread.detachNewThread {
            var line = Data()
            while true {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            box.line = line
            ready.signal()
        }
        guard ready.wait(timeout: .now() + timeout) == .success,
              let info = try? JSONSerialization.jsonObject(with: box.line ?? Data()) as? [String: Any],
              let endpoint = info["endpoint"] as? String, let bucket = info["bucket"] as? String,
              let key = info["access_key_id"] as? String, let secret = info["secret_access_key"] as? String,
              let pid = info["pid"] as? Int
        else {
            harness.terminate()
            throw StartFailure(description: "moto did not start within \(timeout) s (is moto installed? pip install 'moto[server]')")
        }
        self.endpoint = endpoint
        self.bucket = bucket
        accessKeyID = key
        secretAccessKey = secret
        serverPID = Int32(pid)
    }

    /// Stops the server and waits for the harness to exit.
    public func stop() {
        try? input.fileHandleForWriting.close()
        harness.waitUntilExit()
    }

    deinit { if harness.isRunning { stop() } }

    private final class LineBox: @unchecked Sendable {
        var line: Data?
    }
}
