import Foundation
import GRDB
import KilnCore

/// The embedded store, in `KilnDatabase`.
public struct SQLiteKeptValues: KeptValueStore {
    let database: KilnDatabase
    public init(_ database: KilnDatabase) { self.database = database }

    public func value(_ name: String, making make: @escaping @Sendable () throws(KilnError) -> String) async throws(KilnError) -> String {
        try await database.write { db in
            if let kept = try String.fetchOne(db, sql: "SELECT value FROM kept_values WHERE name = ?", arguments: [name]) {
                return kept
            }
            let made = try make()
            try db.execute(sql: "INSERT INTO kept_values (name, value) VALUES (?, ?)", arguments: [name, made])
            return made
        }
    }

    static func migrate(_ db: Database) throws {
        try db.create(table: "kept_values") { table in
            table.column("name", .text).primaryKey()
            table.column("value", .text).notNull()
        }
    }
}
