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
    public let settings: ServerSettings
    public let metrics = ServerMetrics()
    let queue: PostgresJobQueue
    let pipeline: Pipeline
    let runner: JobRunner
    let metricsPort: Int?
    let logger: Logger

    /// FILE_007 without a shared queue or a store; the pipeline's own checks.
    public init(settings: ServerSettings, metricsPort: Int? = nil, logger: Logger = Logger(label: "kiln.worker"))
        async throws(KilnError)
    {
        guard let url = settings.queueURL else {
            throw KilnError.storageNotConfigured("kiln worker runs the jobs of a shared queue: give --queue postgres://…")
        }
        self.settings = settings
        self.metricsPort = metricsPort
        self.logger = logger
        queue = try PostgresJobQueue(url: url, logger: logger)
        pipeline = try await settings.engine.makePipeline()
        guard pipeline.store != nil else { throw KilnError.storageNotConfigured("kiln worker needs a store (--storage)") }
        runner = JobRunner(queue: queue, pipeline: pipeline, records: nil, metrics: metrics, settings: settings, logger: logger)
    }

    public func run() async throws {
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
