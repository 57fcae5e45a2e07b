import Foundation
import KilnCore
import Synchronization

/// Requests per key in fixed windows (of `window` seconds from the epoch): the counter the
/// rate limit reads. In memory for one node; in PostgreSQL, one count for every node.
public protocol RateCounter: Sendable {
    /// Counts one request of `key` in the window holding `time`; the count in that window so far.
    func take(_ key: String, window: Int, at time: Date) async throws(KilnError) -> Int
    /// Forgets windows that ended before `time`.
    func prune(before time: Date) async throws(KilnError)
}

extension RateCounter {
    /// Where the window holding `time` starts, in epoch seconds.
    static func windowStart(_ time: Date, _ window: Int) -> Int {
        let second = Int(time.timeIntervalSince1970)
        return second - second % max(1, window)
    }
}

/// The counter of one node, in memory (the embedded default: nothing to share).
public final class MemoryRateCounter: RateCounter {
    private let windows = Mutex<[String: (start: Int, window: Int, count: Int)]>([:])

    public init() {}

    public func take(_ key: String, window: Int, at time: Date) async throws(KilnError) -> Int {
        let start = Self.windowStart(time, window)
        return windows.withLock { windows in
            // Bounded: past many keys, only the current windows are kept.
            if windows.count > 100_000 { windows = windows.filter { $0.value.start + $0.value.window > start } }
            var entry: (start: Int, window: Int, count: Int) = windows[key].flatMap { $0.start == start ? $0 : nil }
                ?? (start, window, 0)
            entry.count += 1
            windows[key] = entry
            return entry.count
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let second = Int(time.timeIntervalSince1970)
        windows.withLock { windows in windows = windows.filter { $0.value.start + $0.value.window > second } }
    }
}
