import CFFmpeg
import Synchronization

/// Stops FFmpeg's blocking calls (opening, reading, writing) when a job is past its deadline
/// or cancelled: FFmpeg polls `AVIOInterruptCB`, and the loops poll `isStopped`.
final class Interrupt: Sendable {
    private let deadline: ContinuousClock.Instant?
    private let cancelled = Atomic<Bool>(false)

    init(timeout: Duration?) {
        deadline = timeout.map { ContinuousClock.now + $0 }
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    var isPastDeadline: Bool { deadline.map { ContinuousClock.now >= $0 } ?? false }
    var isStopped: Bool { isCancelled || isPastDeadline }

    /// The callback record for a format context; valid while this object lives (the demuxer
    /// or muxer holding it keeps a strong reference).
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(callback: { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<Interrupt>.fromOpaque(opaque).takeUnretainedValue().isStopped ? 1 : 0
        }, opaque: Unmanaged.passUnretained(self).toOpaque())
    }

    /// Throws when the job should stop; called between packets.
    func checkpoint() throws(AVFailure) {
        if isStopped { throw AVFailure("interrupted", code: kiln_averror_exit()) }
    }
}
