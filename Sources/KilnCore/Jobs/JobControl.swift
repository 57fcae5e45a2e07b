import Synchronization

/// One job's deadline, cancel switch and progress, shared by every stage and engine that works
/// for it: the checks, libvips (its kill flag, from the eval callback), FFmpeg (its interrupt
/// callback), and the store's uploads.
///
/// The deadline runs from the job's start, so probing, processing and storing share one budget.
/// ```swift
/// let control = JobControl(timeout: .seconds(600)) { print($0.stage, $0.overall) }
/// // from another task: control.cancel()
/// try control.checkpoint()   // PROCESSING_005 once cancelled, PROCESSING_003 once late
/// ```
public final class JobControl: Sendable {
    public let timeout: Duration?
    private let deadline: ContinuousClock.Instant?
    private let cancelled = Atomic<Bool>(false)
    private let reason = Mutex<String?>(nil)
    private let onProgress: (@Sendable (JobProgress) -> Void)?

    public init(timeout: Duration?, progress: (@Sendable (JobProgress) -> Void)? = nil) {
        self.timeout = timeout
        deadline = timeout.map { ContinuousClock.now + $0 }
        onProgress = progress
    }

    /// Stops the job at its next check (FFmpeg and libvips poll it while they work).
    public func cancel(reason: String = "the caller cancelled the job") {
        self.reason.withLock { if $0 == nil { $0 = reason } }
        cancelled.store(true, ordering: .releasing)
    }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    public var isPastDeadline: Bool { deadline.map { ContinuousClock.now >= $0 } ?? false }
    /// True once the job should stop: cancelled or out of time.
    public var isStopped: Bool { isCancelled || isPastDeadline }

    /// Time left before the deadline; nil when there is none.
    public var remaining: Duration? { deadline.map { $0 - ContinuousClock.now } }

    /// Why the job must stop, as its catalog error: PROCESSING_005 when cancelled,
    /// PROCESSING_003 when out of time; nil while it may go on.
    public func stopError() -> KilnError? {
        if isCancelled { return .cancelled(reason.withLock { $0 } ?? "the caller cancelled the job") }
        if isPastDeadline { return .timedOut(after: timeout.map(Self.seconds) ?? 0) }
        return nil
    }

    /// Throws the stop error, if any: called between stages and inside loops.
    public func checkpoint() throws(KilnError) {
        if let error = stopError() { throw error }
    }

    /// Reports progress to the job's listener.
    public func report(_ stage: JobStage, _ fraction: Double = 1) {
        onProgress?(JobProgress(stage: stage, fraction: min(1, max(0, fraction))))
    }

    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Where a job is: received, checked, processing x%, storing x%, done.
public enum JobStage: String, Sendable, Codable, CaseIterable {
    case received, checked, processing, storing, done
}

/// One progress event: the stage and how far into it (0...1).
public struct JobProgress: Sendable, Equatable {
    public let stage: JobStage
    public let fraction: Double

    public init(stage: JobStage, fraction: Double) {
        self.stage = stage
        self.fraction = fraction
    }

    /// The whole job's progress (0...1): processing is most of the work, storing the rest.
    public var overall: Double {
        switch stage {
        case .received: 0.02
        case .checked: 0.05
        case .processing: 0.05 + 0.85 * fraction
        case .storing: 0.9 + 0.1 * fraction
        case .done: 1
        }
    }
}
