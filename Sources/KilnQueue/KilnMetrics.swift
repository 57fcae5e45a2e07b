import CoreMetrics
import Foundation
import KilnDatabase
import Metrics
import NIOCore
import Prometheus

/// Kiln's metrics, through swift-metrics into a Prometheus registry of their own (one per
/// server, worker or watcher, so tests can run several in one process without a global
/// bootstrap); `kiln serve` shows them at `/metrics`, `kiln worker` and `kiln watch` through
/// `MetricsEndpoint`.
public final class KilnMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let seconds: [Duration] = [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
                                   .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
                                   .seconds(30), .seconds(60), .seconds(300)]
        factory.defaultDurationHistogramBuckets = seconds
        self.factory = factory
    }

    /// One answered request: counted by route, method and status, timed by route.
    public func request(route: String, method: String, status: Int, duration: Duration, errorCode: String?) {
        Counter(label: "kiln_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
            .increment()
        Timer(label: "kiln_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordInterval(duration)
        if let errorCode {
            Counter(label: "kiln_errors_total", dimensions: [("code", errorCode)], factory: factory).increment()
        }
    }

    /// Time spent in one pipeline stage: receive, checks, process, store.
    public func stage(_ name: String, _ duration: Duration) {
        Timer(label: "kiln_stage_duration_seconds", dimensions: [("stage", name)], factory: factory).recordInterval(duration)
    }

    /// Time a job waited between being accepted and being started.
    public func queueWait(_ duration: Duration) {
        Timer(label: "kiln_queue_wait_seconds", factory: factory).recordInterval(duration)
    }

    /// One webhook attempt: delivered (2xx), retried later, or failed (given up).
    public func webhookAttempt(_ outcome: String) {
        Counter(label: "kiln_webhook_attempts_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    public func bytesIn(_ count: Int) { Counter(label: "kiln_bytes_in_total", factory: factory).increment(by: count) }
    public func bytesOut(_ count: Int) { Counter(label: "kiln_bytes_out_total", factory: factory).increment(by: count) }

    /// Gauges read when scraped: the engine's own queue (work waiting for a place in this
    /// process), and the job queue (shared by every worker when it is PostgreSQL).
    public func gauges(running: Int, waiting: Int, queue: QueueStats?, now: Date = Date()) {
        Gauge(label: "kiln_engine_jobs_running", factory: factory).record(running)
        Gauge(label: "kiln_engine_queue_depth", factory: factory).record(waiting)
        guard let queue else { return }
        for (state, count) in queue.counts {
            Gauge(label: "kiln_jobs", dimensions: [("state", state.rawValue)], factory: factory).record(count)
        }
        Gauge(label: "kiln_jobs_dead_letters", factory: factory).record(queue.deadLetters)
        Gauge(label: "kiln_queue_oldest_job_age_seconds", factory: factory)
            .record(queue.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    /// A job this process claimed from the queue.
    public func jobClaimed() { Counter(label: "kiln_jobs_claimed_total", factory: factory).increment() }

    /// How a job this process ran ended: succeeded, failed, retried (failed, offered again
    /// later) or cancelled.
    public func jobEnded(_ outcome: String) {
        Counter(label: "kiln_jobs_ended_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A running job whose lease this process lost (it stalled past the lease, or the
    /// database was unreachable): another worker may run it now.
    public func leaseLost() { Counter(label: "kiln_jobs_lease_lost_total", factory: factory).increment() }

    /// A file a watched folder (or batch) finished: counted by outcome and code, timed.
    public func fileEnded(outcome: String, code: String?, duration: Duration) {
        Counter(label: "kiln_files_total", dimensions: [("outcome", outcome)], factory: factory).increment()
        Timer(label: "kiln_file_duration_seconds", factory: factory).recordInterval(duration)
        if let code { Counter(label: "kiln_errors_total", dimensions: [("code", code)], factory: factory).increment() }
    }

    /// The Prometheus text form.
    public func render() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }
}

extension Timer {
    func recordInterval(_ duration: Duration) { recordNanoseconds(TimeAmount(duration).nanoseconds) }
}
