import ArgumentParser
import Foundation
import KilnCore

/// `kiln codes`: the error catalog as Markdown (docs/error-codes.md) or JSON.
struct CodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codes", abstract: "Print the error catalog.")

    @Flag(help: "Markdown reference page (the default).") var markdown = false
    @Flag(help: "JSON array of entries.") var json = false

    func validate() throws {
        if markdown && json { throw ValidationError("choose one of --markdown and --json") }
    }

    func run() throws {
        if json {
            FileHandle.standardOutput.write(try ErrorCatalog.json())
            Output.line("")
        } else {
            FileHandle.standardOutput.write(Data(ErrorCatalog.markdown().utf8))
        }
    }
}
