import Foundation
import KilnCore
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// One PostgreSQL database for everything Kiln shares beyond one machine (SPEC §8): the job
/// queue and the stores of keys, media records, idempotency answers, resumable uploads and the
/// webhook outbox. One connection pool; one schema, migrated under an advisory lock so any
/// number of processes may start at once.
///
/// `run()` keeps the pool up until cancelled; `serving(_:)` runs it, migrates, and runs the
/// work. Times come from the database's clock (`statement_timestamp()`), never a process's;
/// tests give a clock of their own, which they move.
public final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// A test's clock in place of the database's (nil in use).
    private let testClock: (@Sendable () -> Date)?
    private let poolStarted = Atomic<Bool>(false)

    /// `url`: `postgres://user:password@host:port/database` (`?sslmode=disable|prefer|require|verify-full`;
    /// default `prefer`). FILE_007 when it cannot be read.
    public init(url: String, logger: Logger = Logger(label: "kiln.database"), now testClock: (@Sendable () -> Date)? = nil)
        throws(KilnError)
    {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.testClock = testClock
        self.logger = logger
    }

    /// Whether `url` names a PostgreSQL database (else it is a directory for SQLite).
    public static func names(_ url: String) -> Bool { url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") }

    static func configuration(_ url: String) throws(KilnError) -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
        else {
            throw KilnError.storageNotConfigured("the database URL must be postgres://USER:PASSWORD@HOST[:PORT]/DATABASE")
        }
        let database = parts.path.hasPrefix("/") && parts.path.count > 1 ? String(parts.path.dropFirst()) : nil
        let mode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        var lax = TLSConfiguration.makeClientConfiguration()
        lax.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(lax)
        case "require": tls = .require(lax)
        case "verify-full", "verify-ca": tls = .require(.makeClientConfiguration())
        default: throw KilnError.storageNotConfigured("sslmode=\(mode) is not one of disable, prefer, require, verify-full")
        }
        var configuration = PostgresClient.Configuration(host: host, port: parts.port ?? 5432, username: user,
                                                         password: parts.password, database: database, tls: tls)
        configuration.options.minimumConnections = 1
        configuration.options.maximumConnections = 16
        return configuration
    }

    // MARK: Service

    /// The pool, until cancelled. Detached: the pool's own run() stops at a graceful shutdown it
    /// can see (a task local of swift-service-lifecycle), and running jobs still need it then;
    /// its owner cancels it once the work that uses it is done.
    public func run() async {
        let pool = Task.detached { [self] in
            poolStarted.store(true, ordering: .releasing)
            await client.run()
        }
        await withTaskCancellationHandler {
            await pool.value
        } onCancel: {
            pool.cancel()
        }
    }

    /// Runs `body` with the database up: the pool running (with `alongside`, e.g. a queue's
    /// LISTEN), the schema migrated within `limit`; cancels them once `body` is done.
    public func serving<T: Sendable>(migrateWithin limit: Duration = .seconds(30),
                                     alongside: (@Sendable () async -> Void)? = nil,
                                     _ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.run()
                return nil
            }
            if let alongside {
                group.addTask {
                    await alongside()
                    return nil
                }
            }
            defer { group.cancelAll() }
            try await migrate(within: limit)
            return try await body()
        }
    }

    // MARK: Schema

    /// Each version's statements, applied once, in order: the queue's, then the stores'.
    static var migrations: [[String]] { PostgresSchema.migrations }

    /// The schema's version once migrated (one per entry of `migrations`).
    public static var schemaVersion: Int { migrations.count }

    /// Brings the schema up to date. Safe from several processes at once: the first takes the
    /// lock and migrates, the others wait for it, then find nothing to do. FILE_006 when the
    /// database cannot be reached within `limit` (the pool keeps retrying and logs why).
    public func migrate(within limit: Duration = .seconds(30)) async throws(KilnError) {
        try await within(limit) { () throws(KilnError) in try await self.applyMigrations() }
    }

    /// FILE_006 unless the database answers within `limit` (readiness probes).
    public func checkAvailable(within limit: Duration = .seconds(5)) async throws(KilnError) {
        try await within(limit) { () throws(KilnError) in
            try await self.query { client in _ = try await client.query("SELECT 1", logger: self.logger) }
        }
    }

    /// `work`, or FILE_006 past `limit`: the pool waits for a connection as long as it is asked
    /// to (and logs why it has none), a caller should not.
    private func within(_ limit: Duration, _ work: @escaping @Sendable () async throws(KilnError) -> Void)
        async throws(KilnError)
    {
        let outcome: Result<Void, KilnError>? = await withTaskGroup(of: Result<Void, KilnError>?.self) { group in
            group.addTask {
                do throws(KilnError) { return .success(try await work()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
        guard let outcome else {
            throw KilnError.storageUnavailable("the database did not answer within \(limit) (the log says why)")
        }
        try outcome.get()
    }

    private func applyMigrations() async throws(KilnError) {
        // Queries wait for the pool anyway; asking before it runs only logs a warning.
        while !poolStarted.load(ordering: .acquiring), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
        try await query { client in
            try await client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(4815162342)", logger: self.logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS kiln_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)
                    """, logger: self.logger)
                var applied: Set<Int> = []
                for try await version in try await connection.query("SELECT version FROM kiln_migrations", logger: self.logger)
                    .decode(Int.self) { applied.insert(version) }
                for (index, statements) in Self.migrations.enumerated() where !applied.contains(index + 1) {
                    for statement in statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                    try await connection.query("INSERT INTO kiln_migrations VALUES (\(index + 1), \(Date()))", logger: self.logger)
                }
            }
        }
    }

    // MARK: Queries

    /// Runs `body`; a database failure is FILE_006 (retryable), with the server's own words.
    func query<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws(KilnError) -> T {
        do {
            return try await body(client)
        } catch let error as KilnError {
            throw error
        } catch let error as PostgresTransactionError where error.closureError is KilnError && error.rollbackError == nil {
            // A refusal the transaction's own work made (rolled back), not the database's failure.
            throw error.closureError as? KilnError ?? KilnError.storageUnavailable("the database")
        } catch {
            throw KilnError.storageUnavailable("the database: \(Self.describe(error))")
        }
    }

    /// The rows `query` answers, each made into a value by `decode`.
    func rows<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T)
        async throws(KilnError) -> [T]
    {
        let logger = logger
        return try await self.query { client in
            var values: [T] = []
            for try await row in try await client.query(query, logger: logger) { values.append(try decode(row)) }
            return values
        }
    }

    /// The database's clock `seconds` from now, as SQL: one clock for every process. Every
    /// value in it is Kiln's own (a lease, a backoff, a test's time), never a client's.
    func clock(_ seconds: Double = 0) -> String {
        let now = testClock.map { "'\($0().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))'::timestamptz" }
        return "(\(now ?? "statement_timestamp()") + make_interval(secs => \(String(format: "%.6f", seconds))))"
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError {
            return describe(inner)
        }
        if let error = error as? PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            return error.serverInfo?[.sqlState].map { "\(message) (SQLSTATE \($0))" } ?? message
        }
        return "\(error)"
    }
}

/// Rows a query answered.
enum PostgresRows {
    /// Whether `rows` has a row (an UPDATE … RETURNING that changed one).
    static func any(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }
}
