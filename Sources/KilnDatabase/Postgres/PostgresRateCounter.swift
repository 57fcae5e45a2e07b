import Foundation
import KilnCore
import PostgresNIO

/// One count per key and window for every node: a request is one upsert, so the limit holds
/// exactly across nodes (no tolerance beyond the window's own edge), at one round trip.
public struct PostgresRateCounter: RateCounter {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func take(_ key: String, window: Int, at time: Date) async throws(KilnError) -> Int {
        let start = Self.windowStart(time, window)
        let logger = database.logger
        return try await database.query { client in
            for try await count in try await client.query("""
                INSERT INTO kiln_rate_windows (key_id, window_start, window_seconds, count) VALUES (\(key), \(start), \(window), 1)
                ON CONFLICT (key_id, window_start) DO UPDATE SET count = kiln_rate_windows.count + 1
                RETURNING count
                """, logger: logger).decode(Int.self) { return count }
            throw KilnError.storageUnavailable("the rate counter returned no count")
        }
    }

    public func prune(before time: Date) async throws(KilnError) {
        let logger = database.logger
        let second = Int(time.timeIntervalSince1970)
        try await database.query { client in
            _ = try await client.query("DELETE FROM kiln_rate_windows WHERE window_start + window_seconds <= \(second)", logger: logger)
        }
    }
}
