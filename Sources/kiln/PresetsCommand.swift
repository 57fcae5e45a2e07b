import ArgumentParser
import Foundation
import KilnCore

/// `kiln presets`: the presets a run would use (the built-in ones, and a `--presets` file's over
/// them), each with its origin and the day its rules were last read; or the built-in presets'
/// rules with their sources as Markdown (docs/platforms.md); or the presets' JSON, the form a
/// `--presets` file takes (it reads back as it is printed).
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets", abstract: "List the presets, where each comes from and when its rules were read.")

    @Flag(help: "Markdown reference page of the built-in presets (docs/platforms.md).") var markdown = false
    @Flag(help: "JSON array of the presets, as a --presets file takes it.") var json = false
    @Option(help: "JSON file of presets added to or replacing the built-in ones (env KILN_PRESETS).") var presets: String?

    func validate() throws {
        if markdown && json { throw ValidationError("choose one of --markdown and --json") }
    }

    func run() throws {
        if markdown {
            FileHandle.standardOutput.write(Data(Preset.platformsMarkdown().utf8))
            return
        }
        let file = presets ?? ProcessInfo.processInfo.environment["KILN_PRESETS"].flatMap { $0.isEmpty ? nil : $0 }
        let catalog: PresetCatalog
        do { catalog = try PresetCatalog(userFile: file) } catch {
            FileHandle.standardError.write(Data("kiln presets: \(Output.describe(error))\n".utf8))
            throw ExitCode(64)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(catalog.listing))
            Output.line("")
            return
        }
        for entry in catalog.listing {
            let read = entry.preset.rulesRead.map { "rules read \($0)" } ?? "Kiln's own"
            Output.line("\(entry.preset.name)  [\(entry.origin), \(read)]  \(entry.preset.summary)")
        }
    }
}
