import ArgumentParser
import Foundation
import KilnCore

/// Options shared by the subcommands that run the pipeline. Each has a `KILN_` variable.
struct PipelineSettings: ParsableArguments {
    @Option(name: .long, help: "Preset name (env KILN_PRESET; default: default).")
    var preset: String?

    @Option(name: .long, help: "JSON file of extra presets (env KILN_PRESETS).")
    var presets: String?

    @Option(name: .long, help: "Directory holding temp files and the embedded database (env KILN_DATA; default: ./kiln-data).")
    var data: String?

    var presetName: String { preset ?? Environment.value("KILN_PRESET") ?? "default" }
    var presetFile: String? { presets ?? Environment.value("KILN_PRESETS") }
    var dataDirectory: String { data ?? Environment.value("KILN_DATA") ?? "./kiln-data" }

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

extension Fit: ExpressibleByArgument {}
extension DeclaredType: ExpressibleByArgument {}
