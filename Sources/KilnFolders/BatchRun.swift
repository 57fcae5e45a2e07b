import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import Synchronization

/// How one input of a batch ended.
public enum BatchOutcome: String, Sendable, Codable, CaseIterable {
    /// Processed into a new item.
    case processed
    /// Its item was stored already (same bytes and options): returned, nothing written.
    case reused
    /// Ended in an earlier run (the journal says so) and unchanged since.
    case skipped
    /// Passed the checks (`--dry-run`).
    case checked
    /// Refused for the input's own fault (a FILE_ or MEDIA_ code).
    case rejected
    /// Failed for Kiln's fault (storage, a timeout, a bug): the next run tries it again.
    case failed
    /// Stopped by an interruption before it ended: the next run does it again.
    case interrupted
}

/// One input's report: a JSON line, a progress tick, a row of the summary.
public struct BatchItemReport: Sendable {
    public let input: SourceFile
    public let outcome: BatchOutcome
    public let item: MediaItem?
    public let error: KilnError?
    public let seconds: Double
    /// Made for several targets: one outcome per target (`item` is then nil).
    public var targets: [TargetOutcome]?
    /// Checked for several targets (`--dry-run`): what each would do.
    public var previews: [TargetPreview]?
    /// For a skipped input, how an earlier run decided it (its outcome and code, from the journal).
    public var earlier: BatchJournal.Entry?

    public var bytesOut: Int64 {
        (item.map { [$0] } ?? targets?.flatMap(\.items) ?? []).reduce(0) { $0 + $1.renditionBytes }
    }

    /// How the batch as a whole decided the input, whichever run did: a skipped input counts
    /// as what an earlier run made of it.
    public var decided: (outcome: BatchOutcome, code: String?) {
        guard outcome == .skipped, let earlier else { return (outcome, error?.code.rawValue) }
        return (earlier.status == .rejected ? .rejected : .processed, earlier.code)
    }
}

/// A batch over a directory (SPEC §6, `kiln batch`): each input through the pipeline, `jobs`
/// at a time, with a journal so an interrupted run resumes without losing or repeating work.
/// `stop()` stops taking inputs; the ones in flight finish. Cancelling the task that runs it
/// rolls those back instead (nothing half-written is published; the journal keeps them to redo).
public final class BatchRun: Sendable {
    public struct Options: Sendable {
        public var ingest: IngestOptions
        public var jobs: Int
        public var dryRun = false
        public var force = false
        /// Several presets for every input (`--preset a,b,c`): each input is then one outcome per target.
        public var targets: [String]?

        public init(ingest: IngestOptions, jobs: Int) {
            self.ingest = ingest
            self.jobs = max(1, jobs)
        }
    }

    public let inputs: [SourceFile]
    let pipeline: Pipeline
    let journal: BatchJournal?
    let options: Options
    private let stopped = Atomic<Bool>(false)

    /// `journal` is nil for a dry run (nothing is recorded).
    public init(inputs: [SourceFile], pipeline: Pipeline, journal: BatchJournal?, options: Options) {
        self.inputs = inputs
        self.pipeline = pipeline
        self.journal = journal
        self.options = options
    }

    /// Stop taking inputs; those in flight finish.
    public func stop() { stopped.store(true, ordering: .releasing) }
    public var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Runs every input (until stopped) and reports each as it ends. Throws only when the
    /// journal cannot be written (then nothing could be resumed safely).
    public func run(report: @escaping @Sendable (BatchItemReport) -> Void) async throws(KilnError) {
        // A task answers the journal's failure, if any; the first one stops the run.
        let failure: KilnError? = await withTaskGroup(of: KilnError?.self) { group in
            var (running, failure): (Int, KilnError?) = (0, nil)
            for input in inputs {
                if isStopped || failure != nil || Task.isCancelled { break }
                if running == options.jobs {
                    let answer = await group.next() ?? nil
                    failure = failure ?? answer
                    running -= 1
                }
                group.addTask {
                    do throws(KilnError) {
                        report(try await self.one(input))
                        return nil
                    } catch {
                        return error
                    }
                }
                running += 1
            }
            for await answer in group { failure = failure ?? answer }
            return failure
        }
        if let failure { throw failure }
    }

    /// One input: skipped when the journal says it ended, else taken, run, and recorded.
    private func one(_ input: SourceFile) async throws(KilnError) -> BatchItemReport {
        let start = ContinuousClock.now
        func report(_ outcome: BatchOutcome, item: MediaItem? = nil, error: KilnError? = nil) -> BatchItemReport {
            BatchItemReport(input: input, outcome: outcome, item: item, error: error,
                            seconds: JobControl.seconds(ContinuousClock.now - start))
        }
        var options = options.ingest
        options.progress = nil
        if self.options.dryRun {
            do throws(KilnError) {
                if let targets = self.options.targets {
                    // Every target's preflight: checked when some target would take the input.
                    let previews = try await pipeline.preflight(IngestRequest(IngestInput(path: input.path, name: input.relativePath),
                                                                              targets: targets, options: options))
                    let taken = previews.contains { $0.error == nil }
                    let first = previews.compactMap(\.error).first
                    var checked = taken ? report(.checked) : report(first.map(Self.isInputsFault) == false ? .failed : .rejected,
                                                                    error: first)
                    checked.previews = previews
                    return checked
                }
                _ = try await pipeline.check(path: input.path, options: options)
                return report(.checked)
            } catch {
                return report(Self.isInputsFault(error) ? .rejected : .failed, error: error)
            }
        }
        guard let journal else { throw KilnError.internalError("a batch that writes needs its journal") }
        let entry = try await journal.entry(input.relativePath)
        if let entry, !self.options.force, entry.size == input.size, entry.modified == input.modified,
           entry.status == .done || entry.status == .rejected {
            var skipped = report(.skipped, error: nil)
            skipped.earlier = entry
            return skipped
        }
        // Forced: the items made last time go, so they are made again rather than found stored.
        if self.options.force {
            for id in [entry?.mediaID].compactMap(\.self) + (entry?.targets ?? []).compactMap(\.mediaID) {
                _ = try await pipeline.store?.delete(id)
            }
        }
        try await journal.begin(path: input.relativePath, size: input.size, modified: input.modified)
        if let targets = self.options.targets {
            return try await several(input, targets: targets, options: options, report: report)
        }
        do throws(KilnError) {
            let item = try await IngestService(pipeline: pipeline, base: options)
                .make(IngestSubmission(inputs: [IngestInput(path: input.path, name: input.relativePath)],
                                       options: UploadOptions(base: options))).item()
            let done = report(item.reused ? .reused : .processed, item: item)
            try await journal.finish(path: input.relativePath, status: .done, mediaID: item.id, code: nil, seconds: done.seconds)
            return done
        } catch {
            if error.code == .processing005 { return report(.interrupted, error: error) }  // redone next run
            let ended = report(Self.isInputsFault(error) ? .rejected : .failed, error: error)
            try await journal.finish(path: input.relativePath, status: ended.outcome == .rejected ? .rejected : .failed,
                                     mediaID: nil, code: error.code.rawValue, seconds: ended.seconds)
            return ended
        }
    }

    /// One input made for several targets: processed (or reused) when some target took it, the
    /// input's outcome from the first target's error when none did; each target's in the journal.
    private func several(_ input: SourceFile, targets: [String], options: IngestOptions,
                         report: (BatchOutcome, MediaItem?, KilnError?) -> BatchItemReport) async throws(KilnError)
        -> BatchItemReport
    {
        guard let journal else { throw KilnError.internalError("a batch that writes needs its journal") }
        let outcomes: [TargetOutcome]
        do throws(KilnError) {
            outcomes = try await IngestService(pipeline: pipeline, base: options)
                .make(IngestSubmission(inputs: [IngestInput(path: input.path, name: input.relativePath)],
                                       options: UploadOptions(base: options, targets: targets))).outcomes
        } catch {
            if error.code == .processing005 { return report(.interrupted, nil, error) }
            let ended = report(Self.isInputsFault(error) ? .rejected : .failed, nil, error)
            try await journal.finish(path: input.relativePath, status: ended.outcome == .rejected ? .rejected : .failed,
                                     mediaID: nil, code: error.code.rawValue, seconds: ended.seconds)
            return ended
        }
        let made = outcomes.filter { $0.error == nil }
        let first = outcomes.compactMap(\.error).first
        let outcome: BatchOutcome = if let first, made.isEmpty {
            Self.isInputsFault(first) ? .rejected : .failed
        } else {
            made.allSatisfy { $0.items.allSatisfy(\.reused) } ? .reused : .processed
        }
        var ended = report(outcome, nil, made.isEmpty ? first : nil)
        ended.targets = outcomes
        let status: BatchJournal.Status = switch outcome {
        case .rejected: .rejected
        case .failed: .failed
        default: .done
        }
        try await journal.finish(path: input.relativePath, status: status, mediaID: nil, code: made.isEmpty ? first?.code.rawValue : nil,
                                 seconds: ended.seconds, targets: outcomes.map(\.brief))
        return ended
    }

    /// FILE_ and MEDIA_ codes are about the input (except storage trouble, which is Kiln's).
    static func isInputsFault(_ error: KilnError) -> Bool {
        switch error.code.entry.category {
        case .file: error.code != .file006 && error.code != .file007
        case .media: true
        default: false
        }
    }
}
