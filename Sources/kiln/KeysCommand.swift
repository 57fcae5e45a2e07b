import ArgumentParser
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline

/// `kiln keys create|list|revoke`: API keys in the embedded database. Safe beside a running
/// server (SQLite WAL; the server reads keys on every request, so a revocation holds at once).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    struct Location: ParsableArguments {
        @Option(name: .long, help: "Directory holding the embedded database (env KILN_DATA; default: ./kiln-data).")
        var data: String?

        func open() throws -> KilnDatabase {
            let directory = data ?? ProcessInfo.processInfo.environment["KILN_DATA"] ?? KilnConfiguration().dataDirectory
            return try KilnDatabase(directory: directory)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key and print it once (only its hash is kept).")
        @Option(name: .long, help: "A name to know the key by.") var name: String
        @Option(name: .long, help: "media:read or media:write (write includes read).") var scope: Scope
        @OptionGroup var location: Location

        func run() async throws {
            let (key, secret) = try await APIKeys(try location.open()).create(name: name, scope: scope)
            print(secret)
            FileHandle.standardError.write(Data("key \(key.id) (\(key.name), \(key.scope.rawValue)); the secret above is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var location: Location

        func run() async throws {
            for key in try await APIKeys(try location.open()).list() {
                let state = key.revokedAt == nil ? "active" : "revoked"
                print("\(key.id)\t\(key.scope.rawValue)\t\(state)\t\(key.createdAt.formatted(.iso8601))\t\(key.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")
        @Argument(help: "The key's id (from `kiln keys list`).") var id: String
        @OptionGroup var location: Location

        func run() async throws {
            guard try await APIKeys(try location.open()).revoke(id) else {
                FileHandle.standardError.write(Data("kiln keys revoke: API_002: no key \(id)\n".utf8))
                throw ExitCode(1)
            }
            print("revoked \(id)")
        }
    }
}

extension Scope: ExpressibleByArgument {}
