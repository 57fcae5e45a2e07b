import Foundation
import KilnCore

/// One input as a JSON line: where it came from, how it ended, and its item.
public struct BatchLine: Encodable, Sendable {
    public let input: String
    public let outcome: BatchOutcome
    public let seconds: Double
    public let item: MediaItem?
    /// Made for several targets: one outcome per target.
    public let targets: [TargetOutcome]?
    /// Checked for several targets (`--dry-run`): what each would do.
    public let preflight: [TargetPreview]?

    /// A skipped input: how an earlier run decided it.
    public let decided: BatchDecision?

    public init(_ report: BatchItemReport) {
        input = report.input.relativePath
        outcome = report.outcome
        seconds = (report.seconds * 1000).rounded() / 1000
        item = report.item
        targets = report.targets
        preflight = report.previews
        decided = report.earlier == nil ? nil : BatchDecision(report)
    }

    /// The line's envelope: `error` set for inputs that did not end well.
    public static func envelope(_ report: BatchItemReport) -> Envelope<BatchLine> {
        let line = BatchLine(report)
        guard let error = report.error else { return .success(line) }
        return .failure(error, data: line)
    }
}

/// How the batch decided one input, in this run or an earlier one.
public struct BatchDecision: Codable, Sendable, Equatable {
    public let input: String
    public let outcome: BatchOutcome
    public let code: String?
    public let mediaID: String?
    /// "this" or "earlier": which run decided it.
    public let run: String
    /// Made for several targets: how each ended.
    public let targets: [TargetOutcome.Brief]?

    public init(_ report: BatchItemReport) {
        input = report.input.relativePath
        (outcome, code) = report.decided
        mediaID = report.item?.id ?? report.earlier?.mediaID
        run = report.earlier == nil ? "this" : "earlier"
        targets = report.targets?.map(\.brief) ?? report.earlier?.targets
    }

    enum CodingKeys: String, CodingKey {
        case input, outcome, code, run, targets
        case mediaID = "media_id"
    }
}

/// What a batch did: counts per outcome and per code in this run, the slowest inputs, bytes in
/// and out; and the batch as a whole, every input once with the outcome and code of whichever
/// run decided it (`batch`, `inputs`). Printed at the end and written to `<out>/report.json`.
public struct BatchSummary: Codable, Sendable {
    /// Counts over every input, whichever run decided it.
    public struct Whole: Codable, Sendable {
        public var outcomes: [String: Int] = [:]
        public var codes: [String: Int] = [:]
        /// Inputs decided by an earlier run (skipped by this one).
        public var earlier = 0
    }

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
    public var batch = Whole()
    /// Every input that ended, in the order they ended (`sorted()` for the report).
    public var inputs: [BatchDecision] = []

    public init(total: Int) { self.total = total }

    public mutating func add(_ report: BatchItemReport) {
        outcomes[report.outcome.rawValue, default: 0] += 1
        // Made for several targets, each refused target's code counts.
        for code in report.targets.map({ $0.compactMap(\.error?.code) }) ?? report.error.map({ [$0.code] }) ?? [] {
            codes[code.rawValue, default: 0] += 1
        }
        if report.outcome != .interrupted {
            let decision = BatchDecision(report)
            batch.outcomes[decision.outcome.rawValue, default: 0] += 1
            if let code = decision.code { batch.codes[code, default: 0] += 1 }
            if report.earlier != nil { batch.earlier += 1 }
            inputs.append(decision)
        }
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
        if batch.earlier > 0 {
            let whole = BatchOutcome.allCases.compactMap { outcome in batch.outcomes[outcome.rawValue].map { "\($0) \(outcome.rawValue)" } }
            lines.append("the whole batch (\(batch.earlier) decided by earlier runs): " + whole.joined(separator: ", ")
                + batch.codes.sorted(by: { $0.key < $1.key }).map { ", \($0.key) x\($0.value)" }.joined())
        }
        lines.append("in \(ByteCount.format(bytesIn)), out \(ByteCount.format(bytesOut))")
        if !slowest.isEmpty {
            lines.append("slowest: " + slowest.map { "\($0.input) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", "))
        }
        return lines
    }

    enum CodingKeys: String, CodingKey {
        case total, outcomes, codes, slowest, seconds, interrupted, batch, inputs
        case bytesIn = "bytes_in"
        case bytesOut = "bytes_out"
    }
}
