import Foundation

/// A throwaway PostgreSQL cluster (Debian's `postgresql`: initdb in a temporary directory,
/// postgres on a free loopback port), started by Tests/Support/postgres_cluster.py and
/// removed by `stop()` or when the test process exits.
public final class PostgresCluster: Sendable {
    /// `postgres://kiln:…@127.0.0.1:PORT/kiln`
    public let url: String
    /// The postmaster's pid (to kill the server in fault tests).
    public let serverPID: Int32
    private let harness: Harness

    /// One cluster for every test in the process; each test works in a database of its own
    /// (`database(_:)`) or cleans what it made.
    public static let shared: Result<PostgresCluster, Harness.StartFailure> = {
        do { return .success(try PostgresCluster()) } catch let error as Harness.StartFailure { return .failure(error) } catch {
            return .failure(Harness.StartFailure(description: "\(error)"))
        }
    }()

    /// The shared cluster, started (the first time) on a thread of its own, not on the pool.
    public static func started() async throws -> PostgresCluster { try await Tool.detached { try shared.get() } }

    public init(timeout: Double = 90) throws {
        harness = try Harness(script: "postgres_cluster.py", timeout: timeout,
                              hint: "is Debian's postgresql installed? make test installs it")
        url = try harness.string("url")
        guard let pid = harness.info["pid"] as? Int else { throw Harness.StartFailure(description: "no pid") }
        serverPID = Int32(pid)
    }

    /// A new empty database in the cluster, and its URL.
    public func database(_ name: String = "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")) throws -> String {
        let run = try Tool.run("psql", ["-q", url, "-c", "CREATE DATABASE \(name)"])
        guard run.status == 0 else { throw Harness.StartFailure(description: "CREATE DATABASE failed: \(run.stderr)") }
        return String(url.dropLast("kiln".count)) + name
    }

    /// The same, from async code: psql runs on a thread of its own.
    public func database(_ name: String = "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")) async throws -> String {
        try await Tool.detached { try self.database(name) as String }
    }

    public func stop() { harness.stop() }

    /// Stops the cluster and waits until it is down.
    public func stopped() async throws { try await harness.stopped() }
}
