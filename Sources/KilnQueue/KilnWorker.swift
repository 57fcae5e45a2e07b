import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import Logging
import ServiceLifecycle

/// `kiln worker` (SPEC §8): runs the jobs of a shared (PostgreSQL) queue, enqueued by `kiln
/// serve --queue` on any machine, with the pipeline, into the shared store; no HTTP API. On
/// graceful shutdown it stops claiming and lets running jobs finish (past the grace they are
/// cancelled, and offered again when their leases expire). Prometheus metrics on
/// `metricsPort`: jobs claimed and ended by outcome, lease losses, the queue's depth and the
/// age of its oldest job.
public final class KilnWorker: Service, Sendable {
    /// What `kiln worker` is told: the engine, the shared queue, where the tenants' records
    /// live, and how it takes jobs.
    public struct Settings: Sendable {
        public var engine: KilnConfiguration
        /// The shared job queue (`postgres://…`).
        public var queueURL: String?
        /// Where the API nodes keep their state (`--database`); nil: the queue's database, as
        /// for `kiln serve`. What a job makes is recorded there as its tenant's.
        public var databaseURL: String?
        public var lease: Duration = .seconds(30)
        public var workerName: String

        public init(engine: KilnConfiguration, queueURL: String?, workerName: String) {
            self.engine = engine
            self.queueURL = queueURL
            self.workerName = workerName
        }
    }

    public let settings: Settings
    public let metrics = KilnMetrics()
    let queue: PostgresJobQueue
    /// The state's own database, when it is not the queue's.
    let stateDatabase: PostgresDatabase?
    let pipeline: Pipeline
    let runner: JobRunner
    let metricsPort: Int?
    let logger: Logger

    /// FILE_007 without a shared queue or a store; the pipeline's own checks.
    public init(settings: Settings, metricsPort: Int? = nil, logger: Logger = Logger(label: "kiln.worker"))
        async throws(KilnError)
    {
        guard let url = settings.queueURL else {
            throw KilnError.storageNotConfigured("kiln worker runs the jobs of a shared queue: give --queue postgres://…")
        }
        self.settings = settings
        self.metricsPort = metricsPort
        self.logger = logger
        queue = try PostgresJobQueue(url: url, logger: logger)
        stateDatabase = try settings.databaseURL.flatMap { state throws(KilnError) in
            state == url ? nil : try PostgresDatabase(url: state, logger: logger)
        }
        pipeline = try await settings.engine.makePipeline()
        guard pipeline.store != nil else { throw KilnError.storageNotConfigured("kiln worker needs a store (--storage)") }
        let state = SharedState.postgres(stateDatabase ?? queue.database)
        let base = settings.engine.ingestOptions
        let ingest = IngestService(pipeline: pipeline, queue: queue, records: state.records, base: base,
                                   dataDirectory: settings.engine.dataDirectory, shared: true)
        runner = JobRunner(queue: queue, ingest: ingest, metrics: metrics,
                           settings: RunnerSettings(workerName: settings.workerName, lease: settings.lease,
                                                    dataDirectory: settings.engine.dataDirectory, timeout: base.timeout),
                           logger: logger)
    }

    public func run() async throws {
        guard let stateDatabase else { return try await work() }
        try await stateDatabase.serving(migrateWithin: .seconds(30)) { try await self.work() }
    }

    private func work() async throws {
        try await queue.serving {
            logger.info("worker \(settings.workerName) is taking jobs", metadata: ["jobs": "\(pipeline.places.limits.jobs)"])
            try await withThrowingTaskGroup(of: Void.self) { work in
                work.addTask { try await self.runner.run() }
                if let port = metricsPort {
                    // The metrics stay up while running jobs drain: the endpoint runs detached
                    // from the shutdown signal and is stopped (cancelled) once the runner is done.
                    // A port that cannot be served stops the worker: its operator asked for it.
                    let endpoint = Task.detached { [metrics, queue, pipeline, logger] in
                        try await MetricsEndpoint(port: port, metrics: metrics, logger: logger) {
                            let engine = pipeline.places.stats
                            metrics.gauges(running: engine.running, waiting: engine.waiting, queue: try? await queue.stats())
                        }.run()
                    }
                    work.addTask {
                        try await withTaskCancellationHandler { try await endpoint.value } onCancel: { endpoint.cancel() }
                    }
                }
                try await work.next()
                work.cancelAll()
            }
            logger.info("worker \(settings.workerName) stopped")
        }
    }
}
