import Foundation

/// A server started for tests by a Python script under Tests/Support/: the script prints one
/// JSON line once its server is ready, and stops the server when its standard input closes
/// (`stop()`, or the test process exiting), so nothing outlives the tests.
public final class Harness: @unchecked Sendable {
    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The script's JSON line.
    public let info: [String: Any]
    private let process: Process
    private let input: Pipe

    /// Runs `Tests/Support/<script> ARGUMENTS`; fails after `timeout` seconds without its line.
    public init(script: String, arguments: [String] = [], timeout: Double, hint: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.root + "/Tests/Support/" + script] + arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // The line is read on a thread so the wait is bounded.
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
              let info = try? JSONSerialization.jsonObject(with: box.line ?? Data()) as? [String: Any]
        else {
            process.terminate()
            throw StartFailure(description: "\(script) did not start within \(timeout) s (\(hint))")
        }
        self.info = info
    }

    /// A string the script printed.
    public func string(_ key: String) throws -> String {
        guard let value = info[key] as? String else { throw StartFailure(description: "no \(key) in \(info)") }
        return value
    }

    /// Closes the script's input: it stops its server and exits by itself. Not waited for, so a
    /// test's `defer` never holds one of the cooperative pool's threads while a server shuts down.
    public func stop() { try? input.fileHandleForWriting.close() }

    /// Stops the server and waits (bounded, off the pool) until the script has exited.
    public func stopped(seconds: Double = 60) async throws {
        stop()
        _ = try await Loopback.exit(of: process, seconds: seconds)
    }

    deinit { stop() }

    private final class LineBox: @unchecked Sendable {
        var line: Data?
    }
}
