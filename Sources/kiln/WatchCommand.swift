import ArgumentParser
import Foundation
import KilnCore
import KilnFolders
import KilnPipeline
import KilnQueue
import KilnServer
import Logging
import ServiceLifecycle
import UnixSignals

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

    private func prepare(logger: Logger) async throws(KilnError) -> FolderWatch {
        let (configuration, ingest) = try folder.configuration(settings)
        let pipeline = try await configuration.makePipeline()
        var options = FolderWatch.Options(ingest: ingest, jobs: configuration.jobs ?? ExecutionLimits.cores)
        options.targets = configuration.namesTargets ? configuration.targets : nil
        options.settle = .milliseconds(Int64(settle * 1000))
        options.poll = poll.map { .milliseconds(Int64($0 * 1000)) }
        return try FolderWatch(inbox: inbox, pipeline: pipeline, options: options, logger: logger)
    }

    /// The watch (and the metrics endpoint) as services of one ServiceGroup: the first SIGTERM
    /// or SIGINT drains; logs go to stderr through swift-log, the envelopes to stdout.
    func run() async throws {
        var logger = Logger(label: "kiln.watch")
        logger.logLevel = .info
        let watch: FolderWatch
        do {
            watch = try await prepare(logger: logger)
        } catch {
            Output.printJSON(Envelope<MediaItem>.failure(error))
            throw ExitCode(1)
        }
        let metrics = KilnMetrics()
        let service = WatchService(watch: watch) { report in
            metrics.fileEnded(outcome: report.outcome.rawValue, code: report.error?.code.rawValue,
                              duration: .milliseconds(Int64(report.seconds * 1000)))
            let line = WatchLine(input: report.name, outcome: report.outcome, movedTo: report.movedTo, item: report.item,
                                 targets: report.targets)
            Output.printLine(report.error.map { Envelope.failure($0, data: line) } ?? .success(line))
        }
        // The watch is last: it is shut down first, and the metrics stay up while it drains. A
        // metrics port that cannot be served (taken, not allowed) stops the watch gracefully:
        // the operator asked for it, so running blind would hide the problem.
        let endpoint = metricsPort.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: MetricsEndpoint(port: $0, metrics: metrics, logger: logger),
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroupConfiguration(
            services: (endpoint.map { [$0] } ?? []) + [.init(service: service)],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.error("kiln watch stopped: \(error)")
            Output.printJSON(Envelope<MediaItem>.failure(error as? KilnError ?? .internalError("\(error)")))
            throw ExitCode(1)
        }
    }
}

/// `FolderWatch` as a service: graceful shutdown stops taking files and lets those in flight
/// finish; a second SIGTERM or SIGINT (or the group's cancellation) cancels them, and they go
/// back to the inbox at once.
struct WatchService: Service {
    let watch: FolderWatch
    let report: @Sendable (FolderWatch.Report) -> Void

    func run() async throws {
        let (watch, report) = (watch, report)
        let work = Task { try await watch.run(report: report) }
        // ServiceGroup acts on the first signal only; the second one is heard here. (Not with
        // signal(2)/SIG_IGN: that would undo the handler the group's dispatch sources rely on.)
        let second = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint).dropFirst() {
                work.cancel()
                return
            }
        }
        defer { second.cancel() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await work.value
            } onGracefulShutdown: {
                watch.stop()
            }
        } onCancel: {
            work.cancel()
        }
    }
}

/// One watched file as a JSON line.
struct WatchLine: Encodable, Sendable {
    let input: String
    let outcome: BatchOutcome
    let movedTo: String?
    let item: MediaItem?
    let targets: [TargetOutcome]?

    enum CodingKeys: String, CodingKey {
        case input, outcome, item, targets
        case movedTo = "moved_to"
    }
}
