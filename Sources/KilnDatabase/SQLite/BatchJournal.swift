import Foundation
import GRDB
import KilnCore

/// What `kiln batch` has done with each input, kept beside its output (`<out>/.kiln/journal.sqlite`)
/// so a run that was interrupted (Ctrl-C, SIGKILL, a crash) resumes: inputs that ended are
/// skipped, inputs that were in flight are done again, inputs that changed since are redone.
/// An input is known by its path below the source directory, its size and its modification
/// time; its content is covered by the media id (bytes and options), so a redone input whose
/// item is already stored comes back as that item, and no rendition is written twice.
public final class BatchJournal: Sendable {
    public enum Status: String, Sendable, Codable {
        /// Taken by a run that has not recorded its end (in flight, or the run was killed).
        case running
        /// Processed: an item (new or already stored).
        case done
        /// Refused with a code for the input's own fault (FILE_ or MEDIA_).
        case rejected
        /// Failed for Kiln's fault (storage, timeout, a bug): tried again by the next run.
        case failed
    }

    public struct Entry: Sendable, Equatable {
        public let path: String
        public let size: Int64
        public let modified: Int64
        public let status: Status
        public let mediaID: String?
        public let code: String?
        public let attempts: Int
        /// For an input made for several targets: how each ended.
        public let targets: [TargetOutcome.Brief]?
    }

    private let pool: DatabasePool
    public let path: String

    public init(directory: String) throws(KilnError) {
        path = directory + "/journal.sqlite"
        pool = try DatabasePool.opening(path, migrator: Self.migrator)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "inputs") { table in
                table.column("path", .text).primaryKey()
                table.column("size", .integer).notNull()
                table.column("modified", .integer).notNull()
                table.column("status", .text).notNull()
                table.column("media_id", .text)
                table.column("code", .text)
                table.column("seconds", .double)
                table.column("updated_at", .double).notNull()
            }
        }
        // How many times an input was taken: a watcher quarantines one that keeps failing
        // (or keeps killing the process).
        migrator.registerMigration("v2") { db in
            try db.alter(table: "inputs") { table in table.add(column: "attempts", .integer).notNull().defaults(to: 0) }
        }
        // Per-target outcomes (JSON), for an input made for several targets.
        migrator.registerMigration("v3") { db in
            try db.alter(table: "inputs") { table in table.add(column: "targets", .text) }
        }
        return migrator
    }

    public func entry(_ path: String) async throws(KilnError) -> Entry? {
        try await pool.reading { db in
            try Row.fetchOne(db, sql: "SELECT * FROM inputs WHERE path = ?", arguments: [path]).map(Self.entry)
        }
    }

    public func entries() async throws(KilnError) -> [Entry] {
        try await pool.reading { db in try Row.fetchAll(db, sql: "SELECT * FROM inputs ORDER BY path").map(Self.entry) }
    }

    /// Records that a run took the input (before any work on it); the attempts count goes on
    /// while the same input (size and time) is taken again without having ended. Returns the
    /// attempts so far.
    @discardableResult
    public func begin(path: String, size: Int64, modified: Int64) async throws(KilnError) -> Int {
        try await pool.writing { db in
            try db.execute(sql: """
                INSERT INTO inputs (path, size, modified, status, attempts, updated_at) VALUES (?, ?, ?, 'running', 1, ?)
                ON CONFLICT(path) DO UPDATE SET status = 'running', media_id = NULL, code = NULL, seconds = NULL, targets = NULL,
                    attempts = CASE WHEN size = excluded.size AND modified = excluded.modified
                        AND status IN ('running', 'failed') THEN attempts + 1 ELSE 1 END,
                    size = excluded.size, modified = excluded.modified, updated_at = excluded.updated_at
                """, arguments: [path, size, modified, Date().timeIntervalSince1970])
            return try Int.fetchOne(db, sql: "SELECT attempts FROM inputs WHERE path = ?", arguments: [path]) ?? 1
        }
    }

    /// Takes back the attempt of an input that was stopped (shutdown), not failed: it does not
    /// count toward setting the input aside.
    public func giveBack(path: String) async throws(KilnError) {
        try await pool.writing { db in
            try db.execute(sql: "UPDATE inputs SET status = 'failed', attempts = MAX(0, attempts - 1) WHERE path = ?",
                           arguments: [path])
        }
    }

    /// Records how the input ended (and, made for several targets, how each of them did).
    public func finish(path: String, status: Status, mediaID: String?, code: String?, seconds: Double,
                       targets: [TargetOutcome.Brief]? = nil) async throws(KilnError)
    {
        let targets = targets.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        try await pool.writing { db in
            try db.execute(sql: """
                UPDATE inputs SET status = ?, media_id = ?, code = ?, seconds = ?, targets = ?, updated_at = ? WHERE path = ?
                """, arguments: [status.rawValue, mediaID, code, seconds, targets, Date().timeIntervalSince1970, path])
        }
    }

    private static func entry(_ row: Row) -> Entry {
        Entry(path: row["path"], size: row["size"], modified: row["modified"],
              status: Status(rawValue: row["status"]) ?? .running, mediaID: row["media_id"], code: row["code"],
              attempts: row["attempts"],
              targets: (row["targets"] as String?).flatMap { try? JSONDecoder().decode([TargetOutcome.Brief].self, from: Data($0.utf8)) })
    }
}
