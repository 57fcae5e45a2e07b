import Foundation
import KilnCore

/// How much work a pipeline runs at once: jobs, the queue in front of them, threads per job and
/// the memory all running jobs may plan to use together.
///
/// libvips and FFmpeg each size their thread pools to the cores by default; with several jobs at
/// once that oversubscribes the machine. Here jobs x threads per job fit the cores.
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
    ///   - threadsPerJob: default: the cores shared out between the jobs (at least one).
    ///   - memoryBudget: default: half the machine's memory, at least 2 GiB.
    public init(jobs: Int? = nil, queueDepth: Int? = nil, threadsPerJob: Int? = nil, memoryBudget: Int64? = nil) {
        let jobs = max(1, jobs ?? Self.cores)
        self.jobs = jobs
        self.queueDepth = max(0, queueDepth ?? jobs * 4)
        self.threadsPerJob = max(1, threadsPerJob ?? Self.cores / jobs)
        self.memoryBudget = memoryBudget ?? max(2 << 30, Int64(ProcessInfo.processInfo.physicalMemory / 2))
    }

    /// One job at a time with every core: a command-line run over files one after another.
    public static var sequential: ExecutionLimits { ExecutionLimits(jobs: 1, queueDepth: 0) }
}
