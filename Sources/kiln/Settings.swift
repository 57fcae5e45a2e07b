import ArgumentParser
import Foundation
import KilnCore
import KilnStorage

/// Options shared by the subcommands that run the pipeline. Each has a `KILN_` variable.
struct PipelineSettings: ParsableArguments {
    @Option(name: .long, help: "Preset name (env KILN_PRESET; default: default).")
    var preset: String?

    @Option(name: .long, help: "JSON file of extra presets (env KILN_PRESETS).")
    var presets: String?

    @Option(name: .long, help: "Directory holding temp files and the embedded database (env KILN_DATA; default: ./kiln-data).")
    var data: String?

    @Option(name: .long, help: "Where renditions go: local or r2 (env KILN_STORAGE; default: local). R2 reads KILN_R2_ENDPOINT, KILN_R2_BUCKET, KILN_R2_ACCESS_KEY_ID, KILN_R2_SECRET_ACCESS_KEY and optional KILN_R2_PUBLIC_URL.")
    var storage: StorageKind?

    var presetName: String { preset ?? Environment.value("KILN_PRESET") ?? "default" }
    var presetFile: String? { presets ?? Environment.value("KILN_PRESETS") }
    var dataDirectory: String { data ?? Environment.value("KILN_DATA") ?? "./kiln-data" }

    /// The store to publish to: a local directory, or the configured R2 bucket (checked now,
    /// so bad credentials or a missing bucket fail at start with FILE_007).
    func store(localDirectory: String) async throws(KilnError) -> any MediaStore {
        let kind: StorageKind
        if let storage { kind = storage } else { kind = try StorageKind.fromEnvironment() }
        switch kind {
        case .local:
            return try LocalStore(root: localDirectory)
        case .r2:
            let configuration = try S3Configuration.fromEnvironment(ProcessInfo.processInfo.environment)
            let client = S3Client(configuration: configuration)
            try await client.verify()
            return try ObjectMediaStore(objects: client, stagingRoot: dataDirectory + "/staging",
                                        locationPrefix: "s3://\(configuration.bucket)")
        }
    }

    func catalog() throws(KilnError) -> PresetCatalog {
        do { return try PresetCatalog(userFile: presetFile) } catch let error as KilnError { throw error } catch {
            throw KilnError.internalError("\(error)")
        }
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// Where renditions are published.
enum StorageKind: String, ExpressibleByArgument, CaseIterable {
    case local, r2

    static func fromEnvironment() throws(KilnError) -> StorageKind {
        guard let value = Environment.value("KILN_STORAGE") else { return .local }
        guard let kind = StorageKind(rawValue: value) else {
            throw KilnError.storageNotConfigured("KILN_STORAGE must be local or r2, not \"\(value)\"")
        }
        return kind
    }
}

extension Fit: ExpressibleByArgument {}
extension DeclaredType: ExpressibleByArgument {}
