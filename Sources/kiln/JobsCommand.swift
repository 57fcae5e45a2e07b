import ArgumentParser
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline

/// `kiln jobs stats|dead|requeue`: the job queue as an operator sees it, on the embedded
/// database (`--data`) or the shared PostgreSQL queue (`--queue`). Dead letters are jobs that
/// used up their attempts (see `JobStatus`); `requeue` offers one again once its cause is fixed.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Look at the job queue; list and requeue dead letters.",
        subcommands: [Stats.self, Dead.self, Requeue.self])

    struct Location: ParsableArguments {
        @Option(name: .long, help: "The shared queue, postgres://… (env KILN_QUEUE_URL); without it, the embedded database.")
        var queue: String?

        @Option(name: .long, help: "Directory holding the embedded database (env KILN_DATA; default: ./kiln-data).")
        var data: String?

        /// Runs `body` with the queue (a PostgreSQL one is connected and migrated for the time of it).
        func with<T: Sendable>(_ body: @Sendable (any JobQueue) async throws -> T) async throws -> T {
            let environment = ProcessInfo.processInfo.environment
            guard let url = queue ?? environment["KILN_QUEUE_URL"] else {
                let directory = data ?? environment["KILN_DATA"] ?? KilnConfiguration().dataDirectory
                return try await body(SQLiteJobQueue(try KilnDatabase(directory: directory)))
            }
            let shared = try PostgresJobQueue(url: url)
            return try await shared.serving { try await body(shared) }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs per state, dead letters, the oldest queued job's age.")
        @OptionGroup var location: Location

        func run() async throws {
            try await Output.guarded("jobs stats") {
                let stats = try await location.with { try await $0.stats() }
                for status in JobStatus.allCases { print("\(status.rawValue)\t\(stats.counts[status] ?? 0)") }
                print("dead letters\t\(stats.deadLetters)")
                let age = stats.oldestQueuedAt.map { String(format: "%.0f s", max(0, Date().timeIntervalSince($0))) } ?? "-"
                print("oldest queued\t\(age)")
            }
        }
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first, with their errors.")
        @Option(name: .long, help: "At most this many (default: 50).") var limit = 50
        @OptionGroup var location: Location

        func run() async throws {
            try await Output.guarded("jobs dead") {
                let limit = limit
                for job in try await location.with({ try await $0.deadLetters(limit: limit) }) {
                    let error = job.error.flatMap { try? JSONDecoder().decode(KilnError.self, from: $0) }
                    let reason = error.map { "\($0.code.rawValue) \($0.message)" } ?? "-"
                    print("\(job.id)\t\(job.kind)\tattempts \(job.attempts)\t\(job.updatedAt.formatted(.iso8601))\t\(reason)")
                }
            }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Offer a dead letter again, with fresh attempts.")
        @Argument(help: "The job's id (from `kiln jobs dead`).") var id: String
        @OptionGroup var location: Location

        func run() async throws {
            try await Output.guarded("jobs requeue") {
                let id = id
                guard try await location.with({ try await $0.requeue(id) }) != nil else {
                    throw KilnError.notFoundResource("dead letter \(id)")
                }
                print("requeued \(id)")
            }
        }
    }
}
