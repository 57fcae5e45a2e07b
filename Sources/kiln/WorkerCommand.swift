import ArgumentParser
import Foundation
import KilnCore
import KilnQueue
import KilnServer
import Logging
import ServiceLifecycle

/// `kiln worker`: runs jobs from a shared PostgreSQL queue (SPEC §8), under
/// swift-service-lifecycle. SIGTERM or SIGINT stops claiming, lets running jobs finish (at most
/// `--shutdown-grace` seconds), then exits 0.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run jobs from a shared queue (kiln serve --queue) on this machine.")

    @OptionGroup var settings: PipelineSettings

    @Option(name: .long, help: "The shared job queue, postgres://USER:PASSWORD@HOST[:PORT]/DB (env KILN_QUEUE_URL).")
    var queue: String?

    @Option(name: .long, help: "Where the API servers keep their state, when not in the queue's database (their --database; env KILN_DATABASE_URL): what a job makes is recorded there as its tenant's.")
    var database: String?

    @Option(name: .long, help: "Jobs run at once (env KILN_JOBS; default: one per core).")
    var jobs: Int?

    @Option(name: .long, help: "Seconds a claimed job is held without a heartbeat; a worker that dies loses its jobs after this (default: 30).")
    var lease: Double = 30

    @Option(name: .long, help: "Seconds running jobs may take after SIGTERM (default: 30).")
    var shutdownGrace: Double = 30

    @Option(name: .long, help: "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics.")
    var metricsPort: Int?

    func validate() throws {
        if !(lease >= 1) || !(shutdownGrace >= 0) { throw ValidationError("--lease takes 1 second or more, --shutdown-grace 0 or more") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more") }
    }

    func run() async throws {
        let logger = Telemetry.logger("kiln.worker")
        do {
            let tracing = try Telemetry.start(service: "kiln-worker")
            var engine = try settings.configuration()
            if let jobs { engine.jobs = jobs }
            let environment = ProcessInfo.processInfo.environment
            var settings = KilnWorker.Settings(engine: engine, queueURL: queue ?? environment["KILN_QUEUE_URL"],
                                               workerName: ServerSettings.processWorkerName)
            settings.databaseURL = database ?? environment["KILN_DATABASE_URL"]
            settings.lease = .milliseconds(Int64(lease * 1000))
            let worker = try await KilnWorker(settings: settings, metricsPort: metricsPort, logger: logger)
            // Services stop in reverse order: the trace exporter flushes last.
            var group = ServiceGroupConfiguration(services: (tracing.map { [$0] } ?? []) + [worker],
                                                  gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
            group.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownGrace * 1000))
            try await ServiceGroup(configuration: group).run()
        } catch let error as KilnError {
            FileHandle.standardError.write(Data("kiln worker: \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
