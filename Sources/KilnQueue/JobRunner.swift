import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import Logging
import ServiceLifecycle
import Synchronization
import Tracing

/// Runs queued jobs (videos, carousels holding one) with the engine: claims up to the engine's
/// job count at once under a lease it renews with the job's progress, and records the outcome.
/// The received files stay under `<data>/jobs/<id>/` until the job is finished, so a job
/// accepted before a crash is run again after the restart (`release` at start gives back what
/// the last life of this worker held). On graceful shutdown it stops claiming and lets running
/// jobs finish; if they are cancelled instead, they go back to the queue.
public final class JobRunner: Service, Sendable {
    let queue: any JobQueue
    /// Runs a job's files through the engine and records what they made as the tenant's.
    let ingest: IngestService
    var pipeline: Pipeline { ingest.pipeline }
    let metrics: KilnMetrics
    let settings: RunnerSettings
    let logger: Logger
    private let wakeUp = Atomic<Bool>(true)
    private let running = Atomic<Int>(0)
    /// The controls of the jobs running here, for cancels asked through this server's API.
    private let controls = Mutex<[String: JobControl]>([:])

    public init(queue: any JobQueue, ingest: IngestService, metrics: KilnMetrics, settings: RunnerSettings, logger: Logger) {
        self.queue = queue
        self.ingest = ingest
        self.metrics = metrics
        self.settings = settings
        self.logger = logger
        // Work added by another process (a shared queue's notification): look now.
        queue.onWork { [weak self] in self?.wake() }
    }

    /// Stops a job running here at once (other workers see the request at their next heartbeat).
    public func cancel(_ id: String, reason: String) {
        controls.withLock { $0[id] }?.cancel(reason: reason)
    }

    /// A job was added: look now rather than at the next poll.
    public func wake() { wakeUp.store(true, ordering: .releasing) }

    public func run() async throws {
        let released = try await queue.release(worker: settings.workerName)
        if released > 0 { logger.info("requeued \(released) job(s) left running by the last run") }
        let slots = max(1, pipeline.places.limits.jobs)
        await withDiscardingTaskGroup { group in
            var lastLook = ContinuousClock.now
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let due = wakeUp.exchange(false, ordering: .acquiringAndReleasing)
                    || ContinuousClock.now - lastLook > .seconds(1)
                if due, running.load(ordering: .acquiring) < slots {
                    lastLook = ContinuousClock.now
                    do {
                        if let job = try await queue.claim(worker: settings.workerName, lease: settings.lease) {
                            metrics.jobClaimed()
                            running.add(1, ordering: .acquiringAndReleasing)
                            wake()
                            group.addTask {
                                await self.process(job)
                                self.running.subtract(1, ordering: .acquiringAndReleasing)
                                self.wake()
                            }
                            continue
                        }
                    } catch {
                        logger.error("claiming a job failed: \(error)")
                    }
                }
                // Polling the flag is cheap; the database is asked only when woken or each second.
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Runs one claimed job to its end, renewing its lease meanwhile.
    func process(_ job: JobRecord) async {
        metrics.queueWait(.seconds(max(0, Date().timeIntervalSince(job.createdAt))))
        let payload: JobPayload
        do {
            payload = try JSONDecoder().decode(JobPayload.self, from: job.payload)
        } catch {
            await finish(job, .failed(Self.encode(KilnError.internalError("the job's record cannot be read")), retry: false))
            return
        }
        let progress = LatestProgress()
        let stages = StageClock(metrics: metrics)
        let control = JobControl(timeout: settings.timeout) { update in
            progress.value.withLock { $0 = update }
            stages.reached(update.stage)
        }
        controls.withLock { $0[job.id] = control }
        defer { controls.withLock { $0[job.id] = nil } }
        let outcome: JobOutcome? = await withTaskGroup(of: Void.self) { group in
            // The lease: renewed each second (at most a third of its length) with the latest
            // progress, which pollers read; a cancel asked through the API, or a lost lease,
            // stops the work.
            group.addTask {
                let beat = min(self.settings.lease / 3, .seconds(1))
                while !Task.isCancelled {
                    try? await Task.sleep(for: beat)
                    if Task.isCancelled { return }
                    let now = progress.value.withLock { $0 }
                    let answer = try? await self.queue.renew(job.id, worker: self.settings.workerName,
                                                             lease: self.settings.lease, stage: now.stage.rawValue,
                                                             progress: now.overall)
                    switch answer {
                    case .cancelRequested: control.cancel(reason: "the job was cancelled through the API")
                    case .lost:
                        self.metrics.leaseLost()
                        control.cancel(reason: "the job's lease was lost")
                    default: break
                    }
                }
            }
            defer { group.cancelAll() }
            // A span in the upload's trace, whichever process runs the job.
            return await withSpan("job \(job.kind)", context: TraceCarrier.context(payload.trace), ofKind: .consumer) { span in
                span.attributes["kiln.job.id"] = job.id
                let outcome = await run(payload, job: job.id, control: control)
                // In the span: the line carries the trace's id.
                logger.info("job \(job.id) ran", metadata: ["request_id": "\(payload.requestID ?? "-")"])
                return outcome
            }
        }
        guard let outcome else { return }  // shut down: the job stays claimed and is given back at the next start
        if await finish(job, outcome) {
            try? FileManager.default.removeItem(atPath: IngestService.directory(for: job.id, data: settings.dataDirectory))
            // Handed-off inputs are no longer needed by anyone.
            for key in payload.inputs.compactMap(\.key) { try? await pipeline.store?.handOff.delete(key: key) }
        }
    }

    /// The job's files as local paths: kept here, or fetched from the store into this process's
    /// work session (`fetched`, removed by the caller; a killed process's is swept at the next start).
    private func localInputs(_ payload: JobPayload, fetched: String) async throws(KilnError) -> [IngestInput] {
        var inputs: [IngestInput] = []
        for (index, input) in payload.inputs.enumerated() {
            if let path = input.path {
                inputs.append(IngestInput(path: path, name: input.name))
                continue
            }
            guard let key = input.key, let store = pipeline.store else {
                throw KilnError.uploadFailed("the job's file \(index) is neither here nor in the store")
            }
            let path = fetched + "/\(index)"
            do {
                try FileManager.default.createDirectory(atPath: fetched, withIntermediateDirectories: true)
            } catch {
                throw KilnError.storageUnavailable("cannot create \(fetched): \(error.localizedDescription)")
            }
            try await store.handOff.get(key: key, to: path)
            inputs.append(IngestInput(path: path, name: input.name))
        }
        return inputs
    }

    /// The job's work; nil when the server is shutting down and the job should run again later.
    private func run(_ payload: JobPayload, job: String, control: JobControl) async -> JobOutcome? {
        let work = settings.dataDirectory + "/tmp/jobs"
        let fetched = ((try? WorkSession.directory(under: work)) ?? work) + "/" + job
        defer { try? FileManager.default.removeItem(atPath: fetched) }
        do throws(KilnError) {
            let inputs = try await localInputs(payload, fetched: fetched)
            let result = try await ingest.make(IngestSubmission(inputs: inputs, carousel: payload.carousel, options: payload.options,
                                                                tenant: payload.owner, keyID: payload.keyID,
                                                                requestID: payload.requestID, control: control))
            // None made for any target: the job failed, with the first target's error and every target's outcome.
            if case .targets(let outcomes) = result, TargetOutcome.tally(outcomes) == .none, let first = outcomes.first?.error {
                throw first.with(detail: "targets", Self.json(outcomes.map { $0.presented(\.stored) }))
            }
            return .succeeded(Self.encode(result.map(\.stored)))
        } catch {
            if Task.isCancelled, error.code == .processing005 { return nil }
            if error.code == .processing005 { return .cancelled(Self.encode(error)) }
            // With the request that brought the file.
            if error.isKilnsOwnFault || error.mayShowInternals {
                logger.error("job \(job) failed: \(error.code.rawValue) \(error.message)",
                             metadata: ["request_id": "\(payload.requestID ?? "-")", "code": "\(error.code.rawValue)"])
            }
            return .failed(Self.encode(error), retry: error.entry.retryable && error.code != .processing003)
        }
    }

    @discardableResult
    private func finish(_ job: JobRecord, _ outcome: JobOutcome) async -> Bool {
        do {
            let recorded = try await queue.finish(job.id, worker: settings.workerName, outcome)
            if recorded {
                switch outcome {
                case .succeeded: metrics.jobEnded("succeeded")
                case .failed(_, let retry): metrics.jobEnded(retry && job.attempts < JobPolicy.maxAttempts ? "retried" : "failed")
                case .cancelled: metrics.jobEnded("cancelled")
                }
            }
            return recorded
        } catch {
            logger.error("recording the end of job \(job.id) failed: \(error)")
            return false
        }
    }

    public static func encode(_ value: some Encodable) -> Data { (try? JSONEncoder().encode(value)) ?? Data("{}".utf8) }

    public static func json(_ value: some Encodable) -> JSONValue { .encoding(value) }
}

/// How a runner takes jobs: the name it claims them under, how long a claim holds without a
/// renewal, where jobs' files are kept, and the longest a job may run.
public struct RunnerSettings: Sendable {
    public var workerName: String
    public var lease: Duration
    public var dataDirectory: String
    public var timeout: Duration?

    public init(workerName: String, lease: Duration, dataDirectory: String, timeout: Duration?) {
        self.workerName = workerName
        self.lease = lease
        self.dataDirectory = dataDirectory
        self.timeout = timeout
    }
}

final class LatestProgress: Sendable {
    let value = Mutex<JobProgress>(JobProgress(stage: .received, fraction: 1))
}

/// Times the pipeline's stages from its progress events: checks (received to checked),
/// process (checked and processing, to storing), store (to done). The receive stage is timed
/// by the upload route.
public final class StageClock: Sendable {
    private let metrics: KilnMetrics
    private let state = Mutex<(stage: JobStage, since: ContinuousClock.Instant)>((.received, .now))

    public init(metrics: KilnMetrics, start: JobStage = .received) {
        self.metrics = metrics
        state.withLock { $0 = (start, .now) }
    }

    /// The stage the time spent in `stage` counts toward.
    private static func name(_ stage: JobStage) -> String? {
        switch stage {
        case .received: "checks"
        case .checked, .processing: "process"
        case .storing: "store"
        case .done: nil
        }
    }

    public func reached(_ stage: JobStage) {
        let finished: (String, Duration)? = state.withLock { state in
            let now = ContinuousClock.now
            guard Self.name(stage) != Self.name(state.stage) else {
                // "received" again is the end of the upload: the checks start now.
                if stage == .received { state.since = now }
                state.stage = stage
                return nil
            }
            defer { state = (stage, now) }
            return Self.name(state.stage).map { ($0, now - state.since) }
        }
        if let (name, duration) = finished { metrics.stage(name, duration) }
    }
}
