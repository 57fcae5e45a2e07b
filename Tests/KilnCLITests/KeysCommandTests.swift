import Foundation
import KilnDatabase
import KilnTestSupport
import Testing

/// `kiln keys`: keys in tenants; a key's own webhook set, rotated without a gap, retired and
/// cleared, as the server reads it at each delivery.
@Suite struct KeysCommandTests {
    static func kiln(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let run = try await Tool.run(BatchCommandTests.binary, ["keys"] + arguments)
        return (run.status, String(decoding: run.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), run.stderr)
    }

    @Test func keysAreMadeInTenantsAndListedWithThem() async throws {
        let data = Fixtures.scratchDirectory("kiln-keys-tenants")
        defer { Fixtures.cleanUp(data) }
        let location = ["--data", data]
        let acme = try await Self.kiln(["create", "--name", "acme app", "--scope", "media:write", "--tenant", "acme"] + location)
        #expect(acme.status == 0 && acme.stderr.contains("tenant acme"), "\(acme)")
        let admin = try await Self.kiln(["create", "--name", "tool", "--scope", "admin"] + location)
        #expect(admin.status == 0)
        let adminID = try #require(admin.stdout.split(separator: "_").dropFirst().first.map(String.init))
        #expect(admin.stderr.contains("tenant \(adminID)"), "a key without a tenant gets its own: \(admin.stderr)")
        let bad = try await Self.kiln(["create", "--name", "x", "--scope", "media:read", "--tenant", "no spaces"] + location)
        #expect(bad.status != 0 && bad.stderr.contains("API_001"), "\(bad)")

        let listed = try await Self.kiln(["list", "--tenant", "acme"] + location)
        let rows = listed.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 1 && rows.first?[1] == "media:write" && rows.first?[2] == "acme" && rows.first?.last == "acme app",
                "\(listed)")
        #expect(try await Self.kiln(["list"] + location).stdout.split(separator: "\n").count == 2)
    }

    @Test func aKeysWebhookIsSetRotatedRetiredAndCleared() async throws {
        let data = Fixtures.scratchDirectory("kiln-keys")
        defer { Fixtures.cleanUp(data) }
        let location = ["--data", data]
        let created = try await Self.kiln(["create", "--name", "publisher", "--scope", "media:write"] + location)
        let id = try #require(created.stdout.split(separator: "_").dropFirst().first.map(String.init))
        let keys = SQLiteKeyStore(try KilnDatabase(directory: data))

        let set = try await Self.kiln(["webhook", id, "--url", "https://hooks.example.com/kiln"] + location)
        #expect(set.status == 0 && set.stdout.hasPrefix("whsec_") && set.stdout.count == 38, "\(set)")
        #expect(try await keys.webhook(id) == .init(url: "https://hooks.example.com/kiln", secrets: [set.stdout]))

        // Rotation: the new secret signs beside the old one, then the old one is retired.
        let rotated = try await Self.kiln(["webhook", id, "--rotate"] + location)
        #expect(rotated.status == 0 && rotated.stdout != set.stdout)
        #expect(try await keys.webhook(id)?.secrets == [set.stdout, rotated.stdout])
        #expect(try await Self.kiln(["webhook", id, "--retire"] + location).status == 0)
        #expect(try await keys.webhook(id)?.secrets == [rotated.stdout])

        #expect(try await Self.kiln(["webhook", id, "--clear"] + location).status == 0)
        #expect(try await keys.webhook(id) == nil)

        // Refusals: a URL that is not http(s), no such key, no action.
        let ftp = try await Self.kiln(["webhook", id, "--url", "ftp://example.com/x"] + location)
        #expect(ftp.status != 0 && ftp.stderr.contains("API_001"), "\(ftp)")
        let unknown = try await Self.kiln(["webhook", "nosuchkey0", "--url", "https://example.com/x"] + location)
        #expect(unknown.status == 1 && unknown.stderr.contains("API_002"))
        #expect(try await Self.kiln(["webhook", id] + location).status != 0)
    }
}
