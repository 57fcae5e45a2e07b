import ArgumentParser
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnServer

/// `kiln keys create|list|revoke`: API keys in the embedded database. Safe beside a running
/// server (SQLite WAL; the server reads keys on every request, so a revocation holds at once).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self, Webhook.self])

    struct Location: ParsableArguments {
        @Option(name: .long, help: "Directory holding the embedded database (env KILN_DATA; default: ./kiln-data).")
        var data: String?

        @Option(name: .long, help: "The shared database the API nodes keep their keys in, postgres://USER:PASSWORD@HOST[:PORT]/DB (env KILN_DATABASE_URL; default: the embedded database in --data).")
        var database: String?

        /// Runs `body` with the key store: the shared database's (migrated first), else the embedded one.
        func withKeys<T: Sendable>(_ body: @Sendable (any KeyStore) async throws -> T) async throws -> T {
            let environment = ProcessInfo.processInfo.environment
            if let url = database ?? environment["KILN_DATABASE_URL"] {
                let shared = try PostgresDatabase(url: url)
                return try await shared.serving { try await body(PostgresKeyStore(shared)) }
            }
            let directory = data ?? environment["KILN_DATA"] ?? KilnConfiguration().dataDirectory
            return try await body(SQLiteKeyStore(try KilnDatabase(directory: directory)))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key and print it once (only its hash is kept).")
        @Option(name: .long, help: "A name to know the key by.") var name: String
        @Option(name: .long, help: "media:read, media:write or admin (each includes the ones before; admin also manages keys over HTTP).")
        var scope: Scope
        @Option(name: .long, help: "The tenant the key joins: its keys share media, jobs, uploads and deliveries, which no other tenant sees (default: a tenant of its own).")
        var tenant: String?
        @OptionGroup var location: Location

        func run() async throws {
            let (key, secret) = try await location.withKeys { keys in
                try await keys.create(name: name, scope: scope, tenant: tenant)
            }
            print(secret)
            FileHandle.standardError.write(Data("key \(key.id) (\(key.name), \(key.scope.rawValue), tenant \(key.tenant)); the secret above is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets): id, scope, tenant, state, created, name.")
        @Option(name: .long, help: "Only this tenant's keys.") var tenant: String?
        @OptionGroup var location: Location

        func run() async throws {
            for key in try await location.withKeys({ keys in try await keys.list(tenant: tenant) }) {
                let state = key.revokedAt == nil ? "active" : "revoked"
                print("\(key.id)\t\(key.scope.rawValue)\t\(key.tenant)\t\(state)\t\(key.createdAt.formatted(.iso8601))\t\(key.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")
        @Argument(help: "The key's id (from `kiln keys list`).") var id: String
        @OptionGroup var location: Location

        func run() async throws {
            guard try await location.withKeys({ keys in try await keys.revoke(id) }) else {
                FileHandle.standardError.write(Data("kiln keys revoke: API_002: no key \(id)\n".utf8))
                throw ExitCode(1)
            }
            print("revoked \(id)")
        }
    }

    /// A key's own webhook: its events (jobs it queued, media it deleted) are posted there too,
    /// signed with its secrets. Read by the server at each delivery: no restart needed.
    struct Webhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set, rotate or clear a key's webhook.",
            discussion: "--url sets the URL with a new secret (printed once). To rotate without downtime: "
                + "--rotate adds a new secret (both sign every event); move the receiver to it; then --retire drops the older ones.")
        @Argument(help: "The key's id (from `kiln keys list`).") var id: String
        @Option(name: .long, help: "Where to post the key's events (http or https).") var url: String?
        @Option(name: .long, help: "Use this secret instead of a generated one (with --url or --rotate).") var secret: String?
        @Flag(name: .long, help: "Add a new secret beside the current ones.") var rotate = false
        @Flag(name: .long, help: "Keep only the newest secret.") var retire = false
        @Flag(name: .long, help: "Remove the key's webhook.") var clear = false
        @Flag(name: .long, help: "Allow a URL on a loopback, private or link-local address (the server must run with --webhook-allow-private to send there).")
        var allowPrivate = false
        @OptionGroup var location: Location

        func run() async throws {
            let (url, secret, rotate, retire, clear, allowPrivate, id) = (url, secret, rotate, retire, clear, allowPrivate, id)
            let (next, printed) = try await location.withKeys { keys in
                let current = try await keys.webhook(id)
                var printed: String?
                let next: APIKeys.Webhook?
                switch (url, rotate, retire, clear) {
                case (let url?, false, false, false):
                    try WebhookSettings.check(url: url, keyEndpoint: true, allowPrivate: allowPrivate)
                    printed = secret ?? WebhookSettings.newSecret()
                    next = APIKeys.Webhook(url: url, secrets: [printed ?? ""])
                case (nil, true, false, false):
                    guard let current else { throw ValidationError("key \(id) has no webhook; set one with --url") }
                    printed = secret ?? WebhookSettings.newSecret()
                    next = APIKeys.Webhook(url: current.url, secrets: current.secrets + [printed ?? ""])
                case (nil, false, true, false):
                    guard let current, let newest = current.secrets.last else { throw ValidationError("key \(id) has no webhook") }
                    next = APIKeys.Webhook(url: current.url, secrets: [newest])
                case (nil, false, false, true):
                    next = nil
                default:
                    throw ValidationError("give one of --url, --rotate, --retire, --clear")
                }
                guard try await keys.setWebhook(id, next) else {
                    FileHandle.standardError.write(Data("kiln keys webhook: API_002: no key \(id)\n".utf8))
                    throw ExitCode(1)
                }
                return (next, printed)
            }
            if let printed { print(printed) }
            let state = next.map { "\($0.url), \($0.secrets.count) secret(s) signing" } ?? "none"
            FileHandle.standardError.write(Data("key \(id) webhook: \(state)\n".utf8))
        }
    }
}

extension Scope: ExpressibleByArgument {}
