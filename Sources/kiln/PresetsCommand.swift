import ArgumentParser
import Foundation
import KilnCore

/// `kiln presets`: the built-in presets' platform rules with their sources, as Markdown
/// (docs/platforms.md) or as the presets' JSON (the form a `--presets` file takes).
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presets",
                                                    abstract: "Print the built-in presets and where their rules come from.")

    @Flag(help: "Markdown reference page (the default).") var markdown = false
    @Flag(help: "JSON array of the presets.") var json = false

    func validate() throws {
        if markdown && json { throw ValidationError("choose one of --markdown and --json") }
    }

    func run() throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(Preset.builtIn))
            Output.line("")
        } else {
            FileHandle.standardOutput.write(Data(Preset.platformsMarkdown().utf8))
        }
    }
}
