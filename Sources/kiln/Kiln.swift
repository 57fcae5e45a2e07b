import ArgumentParser

/// `kiln`: subcommands only; the work is in KilnPipeline.
@main
struct Kiln: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Turns raw uploads into safe, publishable media.",
        subcommands: [ProcessCommand.self, ProbeCommand.self, BatchCommand.self, WatchCommand.self, ServeCommand.self, WorkerCommand.self, JobsCommand.self, KeysCommand.self, CodesCommand.self, CheckCommand.self, PresetsCommand.self,
                      StorageCommand.self, StateCommand.self])
}
