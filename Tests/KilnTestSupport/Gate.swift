import Dispatch
import Synchronization

/// A gate a job's progress callback waits at (on its worker thread) until the test opens it.
public final class Gate: Sendable {
    private let opened = DispatchSemaphore(value: 0)
    private let reached = AsyncStream<Void>.makeStream()
    private let armed = Atomic<Bool>(true)

    public init() {}

    /// Blocks the first caller until `open`; tells the test it got there.
    public func hold() {
        guard armed.exchange(false, ordering: .relaxed) else { return }
        reached.continuation.yield()
        opened.wait()
    }

    public func waitUntilReached() async { for await _ in reached.stream { return } }
    public func open() { opened.signal() }
}

/// Yields until `condition` holds (bounded): for states no event announces.
public func eventually(seconds: Int = 20, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw CancellationError() }
        await Task.yield()
    }
}
