import ArgumentParser
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline

/// `kiln state copy --from DIR --to postgres://…`: an embedded server's keys, media records,
/// idempotency answers, webhook outbox and kept values moved into the shared database, before
/// its nodes start on it (they refuse to while the shared database has no key and the embedded
/// one has some). Safe to run again: rows already there are left as they are.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Move an embedded server's state.",
                                                    subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the embedded database's keys, media records, idempotency answers, webhook outbox and kept values into the shared database.")

        @Option(name: .long, help: "The data directory of the embedded server (its kiln.db).") var from: String
        @Option(name: .long, help: "The shared database, postgres://USER:PASSWORD@HOST[:PORT]/DB.") var to: String

        func run() async throws {
            try await Output.guarded("state copy") {
                guard FileManager.default.fileExists(atPath: from + "/" + KilnDatabase.fileName) else {
                    throw KilnError.notFound(from + "/" + KilnDatabase.fileName)
                }
                let embedded = try KilnDatabase(directory: from)
                let shared = try PostgresDatabase(url: to)
                let counts = try await shared.serving { try await StateCopy.copy(from: embedded, to: shared) }
                Output.line("copied into the shared database: \(counts)")
            }
        }
    }
}
