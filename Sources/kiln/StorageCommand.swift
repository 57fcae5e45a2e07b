import ArgumentParser
import Foundation
import KilnCore
import KilnPipeline
import KilnStorage

/// `kiln storage`: check the configured store, or put a file in it (operations and benchmarks).
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Check or use the configured R2/S3 store.",
        subcommands: [Check.self, Put.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify KILN_R2_* settings: the endpoint answers, the bucket exists, the key is accepted.")

        func run() async throws {
            do {
                let configuration = try KilnConfiguration.fromEnvironment().bucket()
                try await S3Client(configuration: configuration).verify()
                Output.line("ok: bucket \(configuration.bucket) at \(configuration.endpoint)")
            } catch {
                Output.line(Output.describe(error))
                throw ExitCode(1)
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload FILE under KEY (streamed; multipart above 64 MiB).")

        @Argument(help: "Local file.") var file: String
        @Argument(help: "Object key.") var key: String

        func run() async throws {
            do {
                let configuration = try KilnConfiguration.fromEnvironment().bucket()
                let client = S3Client(configuration: configuration)
                try await client.put(file: file, key: key, contentType: OutputFormat.mime(forFile: file))
                Output.line("ok: \(key)")
            } catch {
                Output.line(Output.describe(error))
                throw ExitCode(1)
            }
        }
    }
}
