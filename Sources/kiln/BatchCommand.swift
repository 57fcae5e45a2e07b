import ArgumentParser
import Dispatch
import Foundation
import KilnCore
import KilnDatabase
import KilnFolders
import KilnPipeline
import Synchronization

/// `kiln batch`: every file under a directory through the pipeline, resumably (SPEC §6).
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Process every file under a directory; an interrupted run resumes.",
        discussion: """
            Renditions go to DIR/<media-id>/ (or the bucket with --storage r2); DIR/.kiln holds the \
            journal and temp files, DIR/report.json the summary. A progress bar on a terminal, one \
            JSON envelope per input otherwise (or with --json). Exit 0 when every input ended \
            (processed or rejected with its code), 1 when Kiln itself failed on some, 130 when \
            interrupted (run it again to finish).
            """)

    @OptionGroup var settings: PipelineSettings

    @Argument(help: "Directory to walk (recursively; hidden, temporary and partial files are skipped).")
    var source: String

    @OptionGroup var folder: FolderOptions

    @Flag(name: .long, help: "Check every input, write nothing.") var dryRun = false
    @Flag(name: .long, help: "Process every input again, even those a previous run finished.") var force = false
    @Flag(help: "One JSON envelope per input on stdout, even on a terminal.") var json = false

    /// The run, over the inputs found, with the pipeline and journal it needs.
    private func prepare() async throws(KilnError) -> BatchRun {
        let (configuration, ingest) = try folder.configuration(settings)
        let pipeline = try await configuration.makePipeline()
        let inputs = try SourceWalker(root: source).files()
        let journal = dryRun ? nil : try BatchJournal(directory: folder.out + "/.kiln")
        var options = BatchRun.Options(ingest: ingest, jobs: configuration.jobs ?? ExecutionLimits.cores)
        options.dryRun = dryRun
        options.force = force
        options.targets = configuration.namesTargets ? configuration.targets : nil
        return BatchRun(inputs: inputs, pipeline: pipeline, journal: journal, options: options)
    }

    func run() async throws {
        let started = ContinuousClock.now
        let batch: BatchRun
        do {
            batch = try await prepare()
        } catch {
            Output.printJSON(Envelope<BatchSummary>.failure(error))
            throw ExitCode(1)
        }
        let inputs = batch.inputs
        let lines = json || isatty(STDOUT_FILENO) == 0
        let progress = BatchProgress(total: inputs.count, bytes: inputs.reduce(0) { $0 + $1.size },
                                     bar: !lines && isatty(STDERR_FILENO) != 0)
        let report: @Sendable (BatchItemReport) -> Void = { report in
            progress.add(report)
            if lines { Output.printLine(BatchLine.envelope(report)) }
        }
        let work = Task { try await batch.run(report: report) }
        // The first SIGINT/SIGTERM stops taking inputs and lets those in flight finish; a second
        // rolls them back (nothing half-written is published; the journal keeps them to redo).
        let signals = Self.trap([SIGINT, SIGTERM]) { count in
            if count == 1 { batch.stop() } else { work.cancel() }
        }
        defer { for source in signals { source.cancel() } }

        var failure: KilnError?
        if case .failure(let error) = await work.result { failure = error as? KilnError ?? .internalError("\(error)") }
        var summary = progress.summary
        summary.seconds = JobControl.seconds(ContinuousClock.now - started)
        summary.interrupted = summary.ended < inputs.count
        summary.inputs.sort { $0.input < $1.input }
        progress.finish()
        for line in summary.text { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if !dryRun, let data = try? Envelope.success(summary).jsonData() {
            _ = FileManager.default.createFile(atPath: folder.out + "/report.json", contents: data)
        }
        if let failure {
            FileHandle.standardError.write(Data("kiln batch: \(Output.describe(failure))\n".utf8))
            throw ExitCode(1)
        }
        if summary.interrupted { throw ExitCode(130) }
        if summary.kilnFailed { throw ExitCode(1) }
    }

    /// Handles `signals` on a dispatch queue (their default action off); `handler` gets how
    /// many have arrived so far.
    static func trap(_ signals: [Int32], _ handler: @escaping @Sendable (Int) -> Void) -> [any DispatchSourceSignal] {
        let counter = SignalCount()
        return signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(counter.next()) }
            source.resume()
            return source
        }
    }

    final class SignalCount: Sendable {
        private let count = Atomic<Int>(0)
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
    }
}

/// The summary as inputs end, and the progress bar on a terminal: items, bytes, rate, ETA,
/// failures so far.
final class BatchProgress: Sendable {
    private let state: Mutex<BatchSummary>
    private let bytesTotal: Int64
    private let bar: Bool
    private let start = ContinuousClock.now

    init(total: Int, bytes: Int64, bar: Bool) {
        state = Mutex(BatchSummary(total: total))
        bytesTotal = bytes
        self.bar = bar
    }

    var summary: BatchSummary { state.withLock { $0 } }

    func add(_ report: BatchItemReport) {
        let summary = state.withLock { summary in
            summary.add(report)
            return summary
        }
        guard bar else { return }
        let done = summary.ended
        let elapsed = max(0.001, JobControl.seconds(ContinuousClock.now - start))
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Int(Double(summary.total - done) / rate) : 0
        let width = 24
        let filled = summary.total == 0 ? width : width * done / summary.total
        let failed = summary.outcomes[BatchOutcome.failed.rawValue, default: 0] + summary.outcomes[BatchOutcome.rejected.rawValue, default: 0]
        let line = "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(done)/\(summary.total)  \(ByteCount.format(summary.bytesIn))/\(ByteCount.format(bytesTotal))  "
            + String(format: "%.1f/s", rate) + "  ETA \(eta) s  \(failed) not processed"
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
    }

    func finish() {
        if bar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
