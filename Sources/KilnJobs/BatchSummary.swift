import Foundation
import KilnCore

/// One input as a JSON line: where it came from, how it ended, and its item.
public struct BatchLine: Encodable, Sendable {
    public let input: String
    public let outcome: BatchOutcome
    public let seconds: Double
    public let item: MediaItem?

    public init(_ report: BatchItemReport) {
        input = report.input.relativePath
        outcome = report.outcome
        seconds = (report.seconds * 1000).rounded() / 1000
        item = report.item
    }

    /// The line's envelope: `error` set for inputs that did not end well.
    public static func envelope(_ report: BatchItemReport) -> Envelope<BatchLine> {
        let line = BatchLine(report)
        guard let error = report.error else { return .success(line) }
        return .failure(error, data: line)
    }
}

/// What a batch did: counts per outcome and per code, the slowest inputs, bytes in and out.
/// Printed at the end and written to `<out>/report.json`.
public struct BatchSummary: Codable, Sendable {
    public struct Slow: Codable, Sendable {
        public let input: String
        public let seconds: Double
    }

    public var total = 0
    public var outcomes: [String: Int] = [:]
    public var codes: [String: Int] = [:]
    public var slowest: [Slow] = []
    public var bytesIn: Int64 = 0
    public var bytesOut: Int64 = 0
    public var seconds: Double = 0
    /// Stopped (SIGINT, SIGTERM) before every input ended.
    public var interrupted = false

    public init(total: Int) { self.total = total }

    public mutating func add(_ report: BatchItemReport) {
        outcomes[report.outcome.rawValue, default: 0] += 1
        if let error = report.error { codes[error.code.rawValue, default: 0] += 1 }
        if report.outcome != .skipped {
            bytesIn += report.input.size
            bytesOut += report.bytesOut
            slowest.append(Slow(input: report.input.relativePath, seconds: report.seconds))
            slowest = Array(slowest.sorted { $0.seconds > $1.seconds }.prefix(5))
        }
    }

    public var ended: Int { outcomes.filter { $0.key != BatchOutcome.interrupted.rawValue }.values.reduce(0, +) }
    /// Kiln itself failed on some input (not the input's fault): the run exits non-zero.
    public var kilnFailed: Bool { outcomes[BatchOutcome.failed.rawValue, default: 0] > 0 }

    /// Lines for a person: counts, codes, the slowest inputs.
    public var text: [String] {
        var lines = ["\(ended) of \(total) inputs ended in \(String(format: "%.1f", seconds)) s"
            + (interrupted ? " (interrupted: run again to finish)" : "")]
        lines.append(BatchOutcome.allCases.compactMap { outcome in
            outcomes[outcome.rawValue].map { "\($0) \(outcome.rawValue)" }
        }.joined(separator: ", "))
        for (code, count) in codes.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(code) x\(count): \(ErrorCatalog.entry(for: ErrorCode(rawValue: code) ?? .api005).title)")
        }
        lines.append("in \(ByteCount.format(bytesIn)), out \(ByteCount.format(bytesOut))")
        if !slowest.isEmpty {
            lines.append("slowest: " + slowest.map { "\($0.input) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", "))
        }
        return lines
    }

    enum CodingKeys: String, CodingKey {
        case total, outcomes, codes, slowest, seconds, interrupted
        case bytesIn = "bytes_in"
        case bytesOut = "bytes_out"
    }
}
