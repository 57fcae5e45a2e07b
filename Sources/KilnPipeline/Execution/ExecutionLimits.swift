import Foundation
import KilnCore

/// How much work a pipeline runs at once: jobs, the queue in front of them, threads per job and
/// the memory all running jobs may plan to use together.
///
/// Threads per job default to the cores, as libvips and FFmpeg do on their own: a lone job (a
/// server between bursts, `kiln process`) then uses the whole machine. With every place taken
/// that oversubscribes the cores, which cost nothing measurable: on 2 cores, 12 MP uploads
/// through `kiln serve` ran 5.7/s at one at a time (3.5/s with the cores shared out between
/// the jobs) and 7.0/s at eight at once (6.8/s); benchmarks/serve_bench.py measures it.
public struct ExecutionLimits: Sendable, Equatable {
    /// Jobs running at once.
    public var jobs: Int
    /// Jobs waiting for a place; past it a job is refused with PROCESSING_004.
    public var queueDepth: Int
    /// libvips and FFmpeg threads per job.
    public var threadsPerJob: Int
    /// The sum of running jobs' memory estimates (`MemoryEstimate`) is held under this: a job
    /// that would pass it waits for others to finish.
    public var memoryBudget: Int64

    /// Cores this process may use.
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// - Parameters:
    ///   - jobs: default: one per core.
    ///   - queueDepth: default: four per running job.
    ///   - threadsPerJob: default: the cores.
    ///   - memoryBudget: default: half the machine's memory, at least 2 GiB.
    public init(jobs: Int? = nil, queueDepth: Int? = nil, threadsPerJob: Int? = nil, memoryBudget: Int64? = nil) {
        let jobs = max(1, jobs ?? Self.cores)
        self.jobs = jobs
        self.queueDepth = max(0, queueDepth ?? jobs * 4)
        self.threadsPerJob = max(1, threadsPerJob ?? Self.cores)
        self.memoryBudget = memoryBudget ?? max(2 << 30, Int64(ProcessInfo.processInfo.physicalMemory / 2))
    }

    /// One job at a time with every core: a command-line run over files one after another.
    public static var sequential: ExecutionLimits { ExecutionLimits(jobs: 1, queueDepth: 0) }
}
