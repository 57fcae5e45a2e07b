import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import Logging
import Synchronization

// The PostgreSQL job queue's own cost (issue 12): how long a job waits between its enqueue
// and its claim by an idle worker (woken by NOTIFY), at 1 and 4 workers, and how many no-op
// jobs per second go through enqueue -> claim -> finish; printed beside the time of one image
// job, so the overhead reads as a share of real work. Each worker has its own queue (its own
// connections and LISTEN), as separate processes would.
//
//   kiln-queue-bench POSTGRES_URL IMAGE
// (benchmarks/run.sh starts a throwaway cluster and passes a 12 MP JPEG.)

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: kiln-queue-bench POSTGRES_URL IMAGE\n".utf8))
    exit(64)
}
let (url, image) = (arguments[1], arguments[2])
let quiet: Logger = {
    var logger = Logger(label: "kiln.queue")
    logger.logLevel = .warning
    return logger
}()

/// A worker: claims whenever woken (or each second), finishes each job at once, and notes
/// when each job was claimed.
final class Worker: Sendable {
    let queue: PostgresJobQueue
    let name: String
    let claimed = Mutex<[String: ContinuousClock.Instant]>([:])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    init(url: String, name: String) throws {
        queue = try PostgresJobQueue(url: url, logger: quiet)
        self.name = name
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        queue.onWork { [wake] in wake.yield() }
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.queue.run() }
            group.addTask {
                // A poll each second as the fallback, as kiln worker does.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    self.wake.yield()
                }
            }
            group.addTask {
                for await _ in self.wakes {
                    while let job = try? await self.queue.claim(worker: self.name, lease: .seconds(30)) {
                        self.claimed.withLock { $0[job.id] = .now }
                        _ = try? await self.queue.finish(job.id, worker: self.name, .succeeded(Data()))
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

/// Runs `body` with `count` workers taking jobs, and a producer queue of its own.
func withWorkers(_ count: Int, _ body: (PostgresJobQueue, [Worker]) async throws -> Void) async throws {
    let producer = try PostgresJobQueue(url: url, logger: quiet)
    let workers = try (0..<count).map { try Worker(url: url, name: "bench-\($0)") }
    let running = Task { await withTaskGroup(of: Void.self) { group in
        group.addTask { await producer.run() }
        for worker in workers { group.addTask { await worker.run() } }
    } }
    defer { running.cancel() }
    try await producer.migrate()
    for worker in workers { try await worker.queue.migrate() }
    // Let every LISTEN connect before timing (their first wake-up says so).
    try await Task.sleep(for: .milliseconds(500))
    try await body(producer, workers)
}

// One image job, for scale: a 12 MP JPEG through the default preset (two renditions), into a
// local store in a temp directory; median of 5.
let scratch = NSTemporaryDirectory() + "kiln-queue-bench-" + UUID().uuidString
defer { try? FileManager.default.removeItem(atPath: scratch) }
var configuration = try KilnConfiguration.fromEnvironment([:])
configuration.dataDirectory = scratch + "/data"
configuration.outDirectory = scratch + "/out"
let pipeline = try await configuration.makePipeline()
var imageTimes: [Double] = []
for run in 0..<6 {
    try? FileManager.default.removeItem(atPath: scratch + "/out")
    let start = ContinuousClock.now
    _ = try await pipeline.ingest(path: image, options: IngestOptions())
    if run > 0 { imageTimes.append(seconds(ContinuousClock.now - start)) }  // the first warms up
}
let imageJob = percentile(imageTimes, 0.5)
print("one image job (\((image as NSString).lastPathComponent), default preset): \(String(format: "%.1f", imageJob * 1000)) ms (median of 5)")

print("\nPostgreSQL queue: enqueue -> claim by an idle worker (NOTIFY), 200 jobs one after another")
print("| workers | p50 ms | p95 ms | p50 share of an image job |")
print("|---|---|---|---|")
for count in [1, 4] {
    try await withWorkers(count) { producer, workers in
        var latencies: [Double] = []
        for index in 0..<200 {
            let id = "lat-\(count)-\(index)"
            let start = ContinuousClock.now
            _ = try await producer.enqueue(NewJob(id: id, kind: "noop", payload: Data()))
            while true {
                if let claimed = workers.lazy.compactMap({ worker in worker.claimed.withLock { $0[id] } }).first {
                    latencies.append(seconds(claimed - start))
                    break
                }
                try await Task.sleep(for: .microseconds(200))
            }
        }
        let p50 = percentile(latencies, 0.5), p95 = percentile(latencies, 0.95)
        print(String(format: "| %d | %.2f | %.2f | %.2f%% |", count, p50 * 1000, p95 * 1000, p50 / imageJob * 100))
    }
}

print("\nPostgreSQL queue: no-op jobs through claim -> finish (2,000 queued first; first claim to last)")
print("| workers | jobs/s |")
print("|---|---|")
for count in [1, 4] {
    try await withWorkers(0) { producer, _ in
        for index in 0..<2_000 { _ = try await producer.enqueue(NewJob(id: "tp-\(count)-\(index)", kind: "noop", payload: Data())) }
    }
    try await withWorkers(count) { _, workers in
        func claims() -> [ContinuousClock.Instant] {
            workers.flatMap { worker in worker.claimed.withLock { $0.filter { $0.key.hasPrefix("tp-\(count)-") }.map(\.value) } }
        }
        while claims().count < 2_000 { try await Task.sleep(for: .milliseconds(5)) }
        let times = claims()
        guard let first = times.min(), let last = times.max() else { return }
        print(String(format: "| %d | %.0f |", count, 1_999 / seconds(last - first)))
    }
}
