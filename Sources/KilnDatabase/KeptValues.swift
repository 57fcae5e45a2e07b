import Foundation
import GRDB
import KilnCore

/// Values a server makes once and every node must then share (the secret that signs fetch
/// URLs): the first to ask makes it, everyone after reads the same.
public protocol KeptValueStore: Sendable {
    /// The value kept under `name`, made by `make` (and kept) when there is none yet. Two nodes
    /// asking at once both get the one that was kept.
    func value(_ name: String, making make: @escaping @Sendable () throws(KilnError) -> String) async throws(KilnError) -> String
}

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
