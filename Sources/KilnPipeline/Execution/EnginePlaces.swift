import Dispatch
import KilnCore
import Synchronization

/// The engine's places, where jobs run (an admission slot, not a job: that is `JobQueue`'s row).
/// Admits jobs under `ExecutionLimits`: at most `jobs` run, at most `queueDepth` wait in order,
/// and the rest are refused at once with PROCESSING_004 and a Retry-After estimate. Running
/// jobs also reserve their memory estimate; one that would pass the budget waits.
///
/// Waiting is cancellable: a waiter whose task is cancelled leaves the queue (PROCESSING_005).
public final class EnginePlaces: Sendable {
    public let limits: ExecutionLimits

    /// A snapshot for metrics and tests.
    public struct Stats: Sendable, Equatable {
        public let running: Int
        public let waiting: Int
        public let memoryReserved: Int64
        public let waitingForMemory: Int
    }

    private struct Waiter {
        let id: UInt64
        let bytes: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var queue: [Waiter] = []
        var memoryReserved: Int64 = 0
        var memoryQueue: [Waiter] = []
        var nextID: UInt64 = 0
        /// Seconds a job has taken recently (moving average), for Retry-After.
        var averageSeconds = 5.0
    }

    private let state = Mutex(State())

    public init(limits: ExecutionLimits) { self.limits = limits }

    public var stats: Stats {
        state.withLock { Stats(running: $0.running, waiting: $0.queue.count, memoryReserved: $0.memoryReserved,
                               waitingForMemory: $0.memoryQueue.count) }
    }

    /// Throws PROCESSING_004 if a job arriving now would be refused: a front end checks this
    /// before accepting a body it would only throw away.
    public func checkCapacity() throws(KilnError) {
        if let busy = state.withLock({ Self.refusal($0, limits) }) { throw busy }
    }

    /// Waits for a place to run; PROCESSING_004 when the queue is full. Pair with `finish`.
    func admit() async throws(KilnError) -> Admission {
        try await wait(on: \.queue, bytes: 0) { state, limits in
            if state.running < limits.jobs && state.queue.isEmpty {
                state.running += 1
                return .go
            }
            if let busy = Self.refusal(state, limits) { return .refuse(busy) }
            return .queue
        }
        // Timed from here: the Retry-After estimate wants how long jobs run, not how long they waited.
        return Admission(started: ContinuousClock.now)
    }

    /// Gives the place back (to the first waiter, if any) and learns how long jobs take.
    func finish(_ admission: Admission) {
        let seconds = JobControl.seconds(ContinuousClock.now - admission.started)
        let next: Waiter? = state.withLock { state in
            state.averageSeconds = state.averageSeconds * 0.8 + seconds * 0.2
            guard !state.queue.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Reserves `bytes` of the memory budget, waiting (in order) while running jobs hold too
    /// much of it. A job alone may always run: its own estimate was checked against its budget.
    func reserve(memory bytes: Int64) async throws(KilnError) -> MemoryReservation {
        try await wait(on: \.memoryQueue, bytes: bytes) { state, limits in
            if state.memoryQueue.isEmpty && (state.memoryReserved == 0 || state.memoryReserved + bytes <= limits.memoryBudget) {
                state.memoryReserved += bytes
                return .go
            }
            return .queue
        }
        return MemoryReservation(bytes: bytes)
    }

    func release(_ reservation: MemoryReservation) {
        var ready: [Waiter] = []
        state.withLock { state in
            state.memoryReserved -= reservation.bytes
            // In order: the first waiter that does not fit holds back those behind it.
            while let first = state.memoryQueue.first,
                  state.memoryReserved == 0 || state.memoryReserved + first.bytes <= limits.memoryBudget {
                state.memoryReserved += first.bytes
                ready.append(state.memoryQueue.removeFirst())
            }
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    private enum Decision {
        case go
        case queue
        case refuse(KilnError)
    }

    /// Decides under the lock; when told to queue, parks the caller until `finish`/`release`
    /// hands it a place, or its task is cancelled.
    private func wait(on queue: WritableKeyPath<State, [Waiter]> & Sendable, bytes: Int64,
                      _ decide: @Sendable (inout State, ExecutionLimits) -> Decision) async throws(KilnError) {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let limits = limits
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let decision = state.withLock { state -> Decision in
                        let decision = decide(&state, limits)
                        if case .queue = decision {
                            // Cancelled before parking: the handler has already run and found nothing.
                            if Task.isCancelled { return .refuse(.cancelled()) }
                            state[keyPath: queue].append(Waiter(id: id, bytes: bytes, continuation: continuation))
                        }
                        return decision
                    }
                    switch decision {
                    case .go: continuation.resume()
                    case .queue: break
                    case .refuse(let error): continuation.resume(throwing: error)
                    }
                }
            } onCancel: {
                let waiter = state.withLock { state -> Waiter? in
                    guard let index = state[keyPath: queue].firstIndex(where: { $0.id == id }) else { return nil }
                    return state[keyPath: queue].remove(at: index)
                }
                waiter?.continuation.resume(throwing: KilnError.cancelled("cancelled while waiting for a place to run"))
            }
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError.cancelled()
        }
    }

    /// PROCESSING_004 when every place and every queue slot is taken; Retry-After estimates
    /// when a place frees up for a job arriving now.
    private static func refusal(_ state: State, _ limits: ExecutionLimits) -> KilnError? {
        guard state.running >= limits.jobs, state.queue.count >= limits.queueDepth else { return nil }
        let rounds = Double(state.queue.count + 1) / Double(limits.jobs)
        let retryAfter = max(1, Int((state.averageSeconds * rounds).rounded(.up)))
        return .busy(retryAfter: retryAfter, running: state.running, waiting: state.queue.count)
    }
}

/// A place to run, held from admission to `finish`.
struct Admission: Sendable {
    let started: ContinuousClock.Instant
}

/// Memory reserved for a running job, held until `release`.
struct MemoryReservation: Sendable {
    let bytes: Int64
}
