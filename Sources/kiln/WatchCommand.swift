import ArgumentParser
import Foundation
import KilnCore
import KilnJobs
import KilnPipeline
import KilnServer
import Synchronization

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

    @OptionGroup var folder: FolderOptions

    @Option(name: .long, help: "Seconds a file must stay unchanged before it is taken (default: 2).")
    var settle: Double = 2

    @Option(name: .long, help: "Scan every SECONDS instead of using inotify (network shares).")
    var poll: Double?

    @Option(name: .long, help: "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics.")
    var metricsPort: Int?

    func validate() throws {
        if !(settle >= 0) || poll.map({ !($0 > 0) }) == true { throw ValidationError("--settle and --poll take seconds") }
    }

    private func prepare() async throws(KilnError) -> FolderWatch {
        let (configuration, ingest) = try folder.configuration(settings)
        let pipeline = try await configuration.makePipeline()
        var options = FolderWatch.Options(ingest: ingest, jobs: configuration.jobs ?? ExecutionLimits.cores)
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
        let metrics = ServerMetrics()
        // A metrics port that cannot be served (taken, not allowed) stops the watch: an operator
        // asked for it, so running blind would hide the problem.
        let metricsFailed = Flag()
        let endpoint = metricsPort.map { port in
            Task {
                do {
                    try await MetricsEndpoint(port: port, metrics: metrics).run()
                } catch where !Task.isCancelled {
                    FileHandle.standardError.write(Data("kiln watch: cannot serve metrics on port \(port): \(error)\n".utf8))
                    metricsFailed.set()
                    watch.stop()
                }
            }
        }
        defer { endpoint?.cancel() }
        let work = Task {
            try await watch.run { report in
                metrics.fileEnded(outcome: report.outcome.rawValue, code: report.error?.code.rawValue,
                                  duration: .milliseconds(Int64(report.seconds * 1000)))
                let line = WatchLine(input: report.name, outcome: report.outcome, movedTo: report.movedTo, item: report.item)
                let envelope = report.error.map { Envelope.failure($0, data: line) } ?? .success(line)
                Output.printLine(envelope)
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
        if metricsFailed.isSet { throw ExitCode(1) }
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        var isSet: Bool { value.load(ordering: .acquiring) }
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
