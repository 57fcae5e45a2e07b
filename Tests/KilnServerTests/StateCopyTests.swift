import Foundation
import KilnDatabase
import KilnTestSupport
import Testing

/// An embedded server grown to shared state: started on a PostgreSQL database with no keys while
/// its embedded one has some, it refuses and names `kiln state copy`; after the copy (run twice:
/// it adds nothing the second time) the old key, its media and the fetch URLs it was given work.
@Suite(.serialized) struct StateCopyTests {
    static let binary = Fixtures.root + "/.build/debug/kiln"

    @Test func anUpgradeToSharedStateKeepsEveryKey() async throws {
        let data = Fixtures.scratchDirectory("kiln-upgrade")
        defer { Fixtures.cleanUp(data) }
        let url = try await PostgresCluster.started().database() + "?sslmode=disable"

        // The embedded server, as it ran before the upgrade: a key, an upload, a fetch URL.
        let before = try await ServeProcess(data: data)
        let uploaded = try await before.upload(Fixtures.sample("photo.jpg"))
        let id = try #require(uploaded.data["id"] as? String, "\(uploaded.json)")
        let minted = try await before.request(.POST, "/v1/media/\(id)/urls", key: before.writeKey)
        let link = try #require((minted.data["urls"] as? [[String: Any]])?.first?["url"] as? String)
        let fetchPath = String(link[try #require(link.range(of: "/fetch/")).lowerBound...])
        before.signal(SIGTERM)
        #expect(try await before.waitForExit() == 0)

        // On the shared database, with nothing copied: it refuses, and says how to go on.
        let refused = try await Tool.run(Self.binary, ["serve", "--data", data, "--port", "0", "--database", url])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("kiln state copy --from \(data)") || String(decoding: refused.stdout, as: UTF8.self)
            .contains("kiln state copy --from \(data)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("sslmode"), "the database URL (and its password) is not printed")

        // The copy, twice: the second adds nothing.
        let copied = try await Tool.run(Self.binary, ["state", "copy", "--from", data, "--to", url])
        let said = String(decoding: copied.stdout, as: UTF8.self)
        #expect(copied.status == 0 && said.contains("keys: 1 added of 1") && said.contains("media records: 1 added of 1")
            && said.contains("kept values: 1 added of 1"), "\(said) \(copied.stderr)")
        let again = String(decoding: try await Tool.run(Self.binary, ["state", "copy", "--from", data, "--to", url]).stdout, as: UTF8.self)
        #expect(again.contains("keys: 0 added of 1") && again.contains("media records: 0 added of 1"), "\(again)")

        // The upgraded server: the old key reads its media, and the fetch URL given before still opens.
        let after = try await ServeProcess(data: data, key: before.writeKey, arguments: ["--database", url])
        #expect(try await after.request(.GET, "/v1/media/\(id)", key: before.writeKey).status == 200)
        #expect(try await after.request(.GET, fetchPath).status == 200, "the URL secret came along")
        after.signal(SIGTERM)
        #expect(try await after.waitForExit() == 0)
        #expect(try await Tool.run(Self.binary, ["state", "copy", "--from", data + "/nothing", "--to", url]).status != 0)
    }
}
