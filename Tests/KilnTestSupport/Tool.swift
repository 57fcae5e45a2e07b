import Foundation
import Synchronization

/// Runs a reference tool (ffmpeg, ffprobe) found on PATH and returns what it printed.
public enum Tool {
    public struct Run: Sendable {
        public let status: Int32
        public let stdout: Data
        public let stderr: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs `tool` (a path, or a name looked up on PATH) and waits for it, reading both of its
    /// outputs as it runs (stderr on a thread) so neither fills and blocks it. A tool still
    /// running after `seconds` is killed and the run fails: a test never waits forever.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
                           seconds: Double = 600) throws -> Run {
        let process = Process()
        if tool.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
        }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            // A tool that exits before reading all its input must not take the tests with it.
            signal(SIGPIPE, SIG_IGN)
            Thread {
                try? stdin.fileHandleForWriting.write(contentsOf: input)
                try? stdin.fileHandleForWriting.close()
            }.start()
        }
        let errors = ErrorText()
        let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile(); errors.done.signal() }
        reader.start()
        let overdue = DispatchWorkItem { [process] in
            errors.overdue.store(true, ordering: .relaxed)
            kill(process.processIdentifier, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: overdue)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        errors.done.wait()
        process.waitUntilExit()
        overdue.cancel()
        if errors.overdue.load(ordering: .relaxed) {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) was still running after \(Int(seconds)) s: killed")
        }
        return Run(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: errors.data, as: UTF8.self))
    }

    /// `run`, failing unless the tool exits 0.
    @discardableResult
    public static func check(_ tool: String, _ arguments: [String]) throws -> Run {
        let run = try run(tool, arguments)
        guard run.status == 0 else { throw Failure(description: "\(tool) \(arguments.joined(separator: " ")): \(run.stderr)") }
        return run
    }

    // From async code the tools run on a thread of their own: waiting for a process on Swift's
    // cooperative pool (two threads on a 2-core machine) stalls every other test in the process,
    // and deadlocks it when the process waits for a server in this process. Swift picks these
    // overloads in an async context, so such a wait cannot be written by mistake.

    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
                           seconds: Double = 600) async throws -> Run {
        try await detached { try run(tool, arguments, input: input, environment: environment, seconds: seconds) as Run }
    }

    @discardableResult
    public static func check(_ tool: String, _ arguments: [String]) async throws -> Run {
        try await detached { try check(tool, arguments) as Run }
    }

    public static func probe(_ path: String) async throws -> [String: Any] {
        let json = try await detached { try check("ffprobe", probeArguments(path)).stdout }
        return try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
    }

    public static func packetSizes(_ path: String, _ kind: String) async throws -> [Int] {
        try await detached { try packetSizes(path, kind) as [Int] }
    }

    /// Runs blocking work (waiting for a process) on a thread of its own: on Swift's cooperative
    /// pool (two threads on this machine) it would stall every other test in the process.
    public static func detached<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// ffprobe's JSON for `path` (streams and format).
    public static func probe(_ path: String) throws -> [String: Any] {
        let run = try check("ffprobe", probeArguments(path))
        return try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any] ?? [:]
    }

    static func probeArguments(_ path: String) -> [String] { ["-v", "error", "-show_streams", "-show_format", "-of", "json", path] }

    /// Sizes of the packets of the first stream of `kind` ("v" or "a"), in order: equal lists
    /// mean the stream was copied, not re-encoded.
    public static func packetSizes(_ path: String, _ kind: String) throws -> [Int] {
        let run = try check("ffprobe", ["-v", "error", "-select_streams", "\(kind):0", "-show_entries", "packet=size",
                                        "-of", "csv=p=0", path])
        // A packet with side data prints it after a comma (and a blank line): the size comes first.
        return String(decoding: run.stdout, as: UTF8.self).split(whereSeparator: \.isNewline)
            .compactMap { $0.split(separator: ",").first.flatMap { Int($0) } }
    }

    private final class ErrorText: @unchecked Sendable {  // `data` is written before `done` is signalled, read after
        var data = Data()
        let overdue = Atomic(false)
        let done = DispatchSemaphore(value: 0)
    }
}

/// An MP4/MOV box walk, independent of FFmpeg: box order and the boxes inside containers.
public enum MP4Boxes {
    /// Top-level box types in file order ("ftyp", "moov", "mdat", ...).
    public static func topLevel(_ path: String) throws -> [String] {
        try children(of: Data(contentsOf: URL(fileURLWithPath: path)), in: nil).map(\.type)
    }

    /// Every box type inside `moov`, at any depth (through the container boxes).
    public static func insideMoov(_ path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let moov = try children(of: data, in: nil).first(where: { $0.type == "moov" }) else { return [] }
        return walk(data, moov.body)
    }

    static let containers: Set<String> = ["moov", "trak", "edts", "mdia", "minf", "stbl", "dinf", "udta", "mvex"]

    private static func walk(_ data: Data, _ range: Range<Int>) -> [String] {
        var types: [String] = []
        for box in (try? children(of: data, in: range)) ?? [] {
            types.append(box.type)
            if containers.contains(box.type) { types += walk(data, box.body) }
        }
        return types
    }

    private static func children(of data: Data, in range: Range<Int>?) throws -> [(type: String, body: Range<Int>)] {
        let range = range ?? data.startIndex..<data.endIndex
        var boxes: [(type: String, body: Range<Int>)] = []
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            var size = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            var header = 8
            if size == 1, offset + 16 <= range.upperBound {
                size = data[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) }
                header = 16
            } else if size == 0 {
                size = range.upperBound - offset
            }
            guard size >= header, offset + size <= range.upperBound else { break }
            boxes.append((type, offset + header..<offset + size))
            offset += size
        }
        return boxes
    }
}
