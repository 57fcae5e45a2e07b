import Foundation
import GRDB
@testable import KilnDatabase
import KilnTestSupport
import Testing

/// A database from before tenants (schema v5) opened by this version: each key becomes a tenant
/// of its own, and its media and resumable uploads go with it.
@Suite struct TenantMigrationTests {
    @Test func keysAndTheirRecordsBecomeOneTenantEach() async throws {
        let directory = Fixtures.scratchDirectory("kiln-tenant-migration")
        defer { Fixtures.cleanUp(directory) }
        do {
            let pool = try DatabasePool(path: directory + "/" + KilnDatabase.fileName)
            try KilnDatabase.migrator.migrate(pool, upTo: "v5 webhooks")
            try await pool.write { db in
                for key in ["keyaaaaaaa", "keybbbbbbb"] {
                    try db.execute(sql: "INSERT INTO api_keys (id, name, scopes, hash, created_at) VALUES (?, ?, 'media:write', 'h', 0)",
                                   arguments: [key, key])
                }
                try db.execute(sql: "INSERT INTO media (id, kind, key_id, bytes, created_at) VALUES ('m1', 'image', 'keyaaaaaaa', 10, 0)")
                try db.execute(sql: "INSERT INTO media (id, kind, key_id, bytes, created_at) VALUES ('m2', 'video', 'keybbbbbbb', 20, 0)")
                try db.execute(sql: """
                    INSERT INTO uploads (id, key_id, length, "offset", metadata, created_at, expires_at)
                    VALUES ('u1', 'keyaaaaaaa', 5, 0, '{}', 0, 9999999999)
                    """)
            }
        }
        let database = try KilnDatabase(directory: directory)
        let keys = try await SQLiteKeyStore(database).list()
        #expect(keys.map(\.tenant) == ["keyaaaaaaa", "keybbbbbbb"], "each key its own tenant, named by its id")
        let records = SQLiteMediaRecords(database)
        #expect(try await records.tenant(of: "m1") == "keyaaaaaaa")
        #expect(try await records.tenant(of: "m2") == "keybbbbbbb")
        #expect(try await SQLiteUploadStore(database).get("u1")?.tenant == "keyaaaaaaa")
        // A migrated item is released by its own tenant only.
        #expect(try await records.release(id: "m1", tenant: "keybbbbbbb").isEmpty)
        #expect(try await records.tenant(of: "m1") == "keyaaaaaaa")
        _ = try await records.release(id: "m1", tenant: "keyaaaaaaa")
        #expect(try await records.tenant(of: "m1") == nil)
    }

    /// The database holds key hashes and webhook secrets: only its owner reads it.
    @Test func theDatabaseFilesAreTheOwnersAlone() async throws {
        let directory = Fixtures.scratchDirectory("kiln-db-mode")
        defer { Fixtures.cleanUp(directory) }
        let database = try KilnDatabase(directory: directory)
        _ = try await SQLiteKeyStore(database).create(name: "k", scope: .read)
        for suffix in ["", "-wal", "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: database.path + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "kiln.sqlite\(suffix): \(String(mode ?? 0, radix: 8))")
        }
        // One made before by an older Kiln (0644) is tightened when opened.
        chmod(database.path, 0o644)
        _ = try KilnDatabase(directory: directory)
        #expect(try FileManager.default.attributesOfItem(atPath: database.path)[.posixPermissions] as? Int == 0o600)
    }
}
