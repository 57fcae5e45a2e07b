import CVips
import KilnCore

/// A per-job time limit and cancel switch that libvips honours mid-computation: evaluation
/// checks it on every progress tick and kills the image (see `kiln_watch_deadline`).
public final class ImageDeadline: @unchecked Sendable {
    // Unchecked: the C struct is written here and read by libvips' threads; `cancelled` is
    // a single int flag, and the deadline never changes after init.
    let state: UnsafeMutablePointer<KilnDeadline>
    public let timeout: Duration?

    public init(timeout: Duration?) {
        self.timeout = timeout
        state = .allocate(capacity: 1)
        let micros = timeout.map { $0.components.seconds * 1_000_000 + $0.components.attoseconds / 1_000_000_000_000 }
        state.initialize(to: KilnDeadline(deadline_us: micros.map { kiln_monotonic_us() + Int(max(1, $0)) } ?? 0, cancelled: 0))
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    public func cancel() { state.pointee.cancelled = 1 }

    public var isCancelled: Bool { state.pointee.cancelled != 0 }
    public var isPast: Bool { state.pointee.deadline_us != 0 && kiln_monotonic_us() > state.pointee.deadline_us }

    /// PROCESSING_003 when the job should stop (cancelled or out of time).
    func stopError() -> KilnError? {
        if isCancelled { return KilnError(.processing003, "Processing cancelled", details: ["reason": "cancelled"]) }
        if isPast {
            let seconds = timeout.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
            return .timedOut(after: seconds)
        }
        return nil
    }

    func watch(_ image: ImageHandle) { kiln_watch_deadline(image.pointer, state) }
}
