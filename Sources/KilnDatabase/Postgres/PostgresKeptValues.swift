import Foundation
import KilnCore
import PostgresNIO

public struct PostgresKeptValues: KeptValueStore {
    let database: PostgresDatabase
    public init(_ database: PostgresDatabase) { self.database = database }

    public func value(_ name: String, making make: @escaping @Sendable () throws(KilnError) -> String) async throws(KilnError) -> String {
        // Made here, kept only if no node kept one first; then whichever was kept is read.
        let made = try make()
        let logger = database.logger
        _ = try await database.query { client in
            try await client.query("INSERT INTO kiln_kept_values (name, value) VALUES (\(name), \(made)) ON CONFLICT DO NOTHING",
                                   logger: logger)
        }
        guard let kept = try await database.rows("SELECT value FROM kiln_kept_values WHERE name = \(name)", {
            try $0.decode(String.self)
        }).first else { throw KilnError.storageUnavailable("the kept value \(name) could not be read back") }
        return kept
    }
}
