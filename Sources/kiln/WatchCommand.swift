import ArgumentParser
import Foundation
import KilnCore
import KilnJobs
import KilnPipeline

/// `kiln watch`: processes files as they land in a folder (SPEC §6).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Process files as they land in a folder.",
        discussion: """
            A file is taken once its size and time stay the same for --settle seconds, then moved to \
            INBOX/processed/ or INBOX/failed/ (with NAME.error.json). Renditions go to DIR/<media-id>/. \
            One JSON envelope per file on stdout. SIGTERM or SIGINT: stop taking files, finish those \
            in flight, exit 0 (a second signal puts them back in the inbox at once).
            """)

    @OptionGroup var settings: PipelineSettings

    @Argument(help: "The folder to watch.")
    var inbox: String

    @Option(name: .long, help: "Output directory.")
    var out: String

    @Option(name: .long, help: "Files processed at once (default: one per core).")
    var jobs: Int?

    @Option(name: .long, help: "Seconds a file must stay unchanged before it is taken (default: 2).")
    var settle: Double = 2

    @Option(name: .long, help: "Scan every SECONDS instead of using inotify (network shares).")
    var poll: Double?

    @Option(name: .long, help: "auto, image or video.")
    var type: DeclaredType = .auto

    @Option(name: .long, help: "When the aspect ratio is out of range: reject, crop or pad.")
    var fit: Fit = .reject

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more") }
        if !(settle >= 0) || poll.map({ !($0 > 0) }) == true { throw ValidationError("--settle and --poll take seconds") }
        if type == .carousel { throw ValidationError("a watched folder takes each file on its own") }
    }

    private func prepare() async throws(KilnError) -> FolderWatch {
        var configuration = try settings.configuration()
        configuration.outDirectory = out
        if settings.data == nil, ProcessInfo.processInfo.environment["KILN_DATA"] == nil {
            configuration.dataDirectory = out + "/.kiln"
        }
        let jobs = jobs ?? ExecutionLimits.cores
        configuration.jobs = jobs
        configuration.queueDepth = jobs
        let pipeline = try await configuration.makePipeline()
        var options = FolderWatch.Options(ingest: configuration.ingestOptions, jobs: jobs)
        options.ingest.type = type
        options.ingest.fit = fit
        options.settle = .milliseconds(Int64(settle * 1000))
        options.poll = poll.map { .milliseconds(Int64($0 * 1000)) }
        return try FolderWatch(inbox: inbox, pipeline: pipeline, options: options)
    }

    func run() async throws {
        let watch: FolderWatch
        do {
            watch = try await prepare()
        } catch {
            Output.printJSON(Envelope<MediaItem>.failure(error))
            throw ExitCode(1)
        }
        let work = Task {
            try await watch.run { report in
                let line = WatchLine(input: report.name, outcome: report.outcome, movedTo: report.movedTo, item: report.item)
                let envelope = report.error.map { Envelope.failure($0, data: line) } ?? .success(line)
                if let data = try? envelope.jsonLine() { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
            }
        }
        let signals = BatchCommand.trap([SIGINT, SIGTERM]) { count in
            if count == 1 { watch.stop() } else { work.cancel() }
        }
        defer { for source in signals { source.cancel() } }
        if case .failure(let error) = await work.result {
            Output.printJSON(Envelope<MediaItem>.failure(error as? KilnError ?? .internalError("\(error)")))
            throw ExitCode(1)
        }
    }
}

/// One watched file as a JSON line.
struct WatchLine: Encodable, Sendable {
    let input: String
    let outcome: BatchOutcome
    let movedTo: String?
    let item: MediaItem?

    enum CodingKeys: String, CodingKey {
        case input, outcome, item
        case movedTo = "moved_to"
    }
}
