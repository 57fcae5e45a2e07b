import Foundation
import KilnCore
import KilnDatabase

/// A fixed-window request budget per API key: `limit` requests per `window`, counted by the
/// state's `RateCounter` (in memory on one node, where a restart forgets the counts and errs on
/// the side of serving; in PostgreSQL, one count for every node).
struct RateLimiter: Sendable {
    struct Decision: Sendable {
        let allowed: Bool
        let limit: Int
        let remaining: Int
        /// Seconds until the window starts again.
        let reset: Int
    }

    let limit: Int
    let window: Int
    let counter: any RateCounter

    init(limit: Int, windowSeconds: Int = 60, counter: any RateCounter) {
        self.limit = limit
        window = windowSeconds
        self.counter = counter
    }

    func take(_ key: String, now: Date = Date()) async throws(KilnError) -> Decision {
        let count = try await counter.take(key, window: window, at: now)
        // Seconds until the window's end (windows run from the epoch, as the counter's do).
        let reset = window - Int(now.timeIntervalSince1970) % window
        return Decision(allowed: count <= limit, limit: limit, remaining: max(0, limit - count), reset: reset)
    }
}
