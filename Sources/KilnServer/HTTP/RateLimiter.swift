import Foundation
import Synchronization

/// A fixed-window request budget per API key: `limit` requests per `window`. In memory: a
/// restart forgets the counts, which errs on the side of serving.
final class RateLimiter: Sendable {
    struct Decision: Sendable {
        let allowed: Bool
        let limit: Int
        let remaining: Int
        /// Seconds until the window starts again.
        let reset: Int
    }

    let limit: Int
    let window: Int
    private let windows = Mutex<[String: (start: Int, count: Int)]>([:])

    init(limit: Int, windowSeconds: Int = 60) {
        self.limit = limit
        window = windowSeconds
    }

    func take(_ key: String, now: Date = Date()) -> Decision {
        let second = Int(now.timeIntervalSince1970)
        let start = second - second % window
        let count = windows.withLock { windows -> Int in
            if windows.count > 100_000 { windows = windows.filter { $0.value.start == start } }
            var entry: (start: Int, count: Int) = windows[key].flatMap { $0.start == start ? $0 : nil } ?? (start, 0)
            entry.count += 1
            windows[key] = entry
            return entry.count
        }
        let reset = max(1, start + window - second)
        return Decision(allowed: count <= limit, limit: limit, remaining: max(0, limit - count), reset: reset)
    }
}
