import Foundation
import KilnCore
import KilnStorage

/// Everything a Kiln process is set up with, read once from `KILN_*` environment variables,
/// overridden by a front end's options, and checked by `validate()` before any work: the
/// store, directories, presets, limits, timeouts and concurrency. Every subcommand builds its
/// pipeline from one of these.
///
/// ```swift
/// var configuration = try KilnConfiguration.fromEnvironment()
/// configuration.jobs = 2                       // an option given on the command line
/// let pipeline = try await configuration.makePipeline()
/// ```
public struct KilnConfiguration: Sendable {
    /// Where renditions are published.
    public enum Storage: String, Sendable, CaseIterable {
        /// A directory (`outDirectory`, else `<data>/media`).
        case local
        /// An R2/S3 bucket, from the `KILN_R2_*` variables.
        case r2
    }

    /// `KILN_STORAGE`, default `local`.
    public var storage: Storage = .local
    /// `KILN_OUT`: the local store's directory; nil for `<dataDirectory>/media`.
    public var outDirectory: String?
    /// `KILN_DATA`, default `./kiln-data`: temp files, staging, the embedded database.
    public var dataDirectory = "./kiln-data"
    /// `KILN_PRESET`, default `default`: the preset used when a request names none. The CLI takes
    /// a comma-separated list of targets here (`instagram-feed,x,bluesky`).
    public var preset = "default"

    /// The presets `preset` names, in order.
    public var targets: [String] { IngestRequest.targets(preset) }
    /// Whether `preset` is a list of targets (even of one, `x,`): the answers are then one outcome per target.
    public var namesTargets: Bool { preset.contains(",") }
    /// `KILN_PRESETS`: a JSON file of presets added to (or overriding) the built-in ones.
    public var presetsFile: String?
    /// `KILN_TIMEOUT` (seconds), default 600: one job, from its start to its last byte stored.
    public var timeout: Duration = IngestOptions.defaultTimeout
    /// `KILN_MEMORY_BUDGET_MB`, default 2048: the most one job may plan to use (MEDIA_003 past it).
    public var jobMemoryBudget: Int64 = IngestOptions.defaultMemoryBudget
    /// `KILN_MEMORY_LIMIT_MB`: what all running jobs may plan to use together; default half the
    /// machine's memory, at least 2 GiB, never below `jobMemoryBudget`.
    public var memoryBudget: Int64?
    /// `KILN_JOBS`: jobs at once; default one per core.
    public var jobs: Int?
    /// `KILN_QUEUE`: jobs waiting at most before PROCESSING_004; default four per job.
    public var queueDepth: Int?
    /// `KILN_THREADS`: libvips and FFmpeg threads per job; default the cores shared by the jobs.
    public var threadsPerJob: Int?
    /// The `KILN_R2_*` settings, read when `storage` is `r2`.
    public var r2: S3Configuration?

    public init() {}

    /// The settings in `environment` (default: this process's). API_001 names a variable whose
    /// value cannot be read; FILE_007 a storage setting that is missing or wrong.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KilnError) -> KilnConfiguration
    {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func number(_ name: String) throws(KilnError) -> Double? {
            guard let text = value(name) else { return nil }
            guard let number = Double(text), number > 0, number.isFinite else {
                throw KilnError.invalidRequest("\(name) must be a number above 0, not \"\(text)\"",
                                               fields: [name: "a number above 0"])
            }
            return number
        }
        func count(_ name: String, minimum: Int) throws(KilnError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let count = Int(text), count >= minimum else {
                throw KilnError.invalidRequest("\(name) must be a whole number of at least \(minimum), not \"\(text)\"",
                                               fields: [name: "a whole number of at least \(minimum)"])
            }
            return count
        }
        var configuration = KilnConfiguration()
        if let text = value("KILN_STORAGE") {
            guard let storage = Storage(rawValue: text) else {
                throw KilnError.storageNotConfigured("KILN_STORAGE must be local or r2, not \"\(text)\"")
            }
            configuration.storage = storage
        }
        configuration.outDirectory = value("KILN_OUT")
        configuration.dataDirectory = value("KILN_DATA") ?? configuration.dataDirectory
        configuration.preset = value("KILN_PRESET") ?? configuration.preset
        configuration.presetsFile = value("KILN_PRESETS")
        if let seconds = try number("KILN_TIMEOUT") { configuration.timeout = .milliseconds(Int64(seconds * 1000)) }
        if let megabytes = try number("KILN_MEMORY_BUDGET_MB") { configuration.jobMemoryBudget = Int64(megabytes) << 20 }
        if let megabytes = try number("KILN_MEMORY_LIMIT_MB") { configuration.memoryBudget = Int64(megabytes) << 20 }
        configuration.jobs = try count("KILN_JOBS", minimum: 1)
        configuration.queueDepth = try count("KILN_QUEUE", minimum: 0)
        configuration.threadsPerJob = try count("KILN_THREADS", minimum: 1)
        if configuration.storage == .r2 { configuration.r2 = try S3Configuration.fromEnvironment(environment) }
        return configuration
    }

    /// Checks the values together; API_001 (or FILE_007 for storage) names the first wrong one.
    public func validate() throws(KilnError) { _ = try validatedPresets() }

    /// `validate()`, giving back the preset catalog it read (the user's file is read once).
    private func validatedPresets() throws(KilnError) -> PresetCatalog {
        func positive(_ value: Int?, _ name: String) throws(KilnError) {
            if let value, value <= 0 {
                throw KilnError.invalidRequest("\(name) must be above 0, not \(value)", fields: [name: "above 0"])
            }
        }
        try positive(jobs, "jobs")
        try positive(threadsPerJob, "threads")
        if let queueDepth, queueDepth < 0 {
            throw KilnError.invalidRequest("the queue must be 0 or more, not \(queueDepth)", fields: ["queue": "0 or more"])
        }
        guard timeout > .zero else {
            throw KilnError.invalidRequest("the timeout must be above 0 s", fields: ["timeout": "above 0"])
        }
        guard jobMemoryBudget > 0 else {
            throw KilnError.invalidRequest("the memory budget per job must be above 0", fields: ["memory_budget": "above 0"])
        }
        if let memoryBudget, memoryBudget < jobMemoryBudget {
            throw KilnError.invalidRequest(
                "the memory limit for all jobs (\(ByteCount.format(memoryBudget))) is below the budget of one job (\(ByteCount.format(jobMemoryBudget)))",
                fields: ["memory_limit": "at least the per-job budget"])
        }
        if storage == .r2, r2 == nil {
            throw KilnError.storageNotConfigured("R2 storage needs the KILN_R2_* settings")
        }
        let catalog = try presetCatalog()
        guard !targets.isEmpty else { throw KilnError.invalidRequest("--preset names no preset") }
        for name in targets { _ = try catalog.preset(named: name) }
        return catalog
    }

    /// The R2 settings, read from the environment when `storage` did not ask for them.
    public func bucket(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KilnError) -> S3Configuration
    {
        if let r2 { return r2 }
        return try S3Configuration.fromEnvironment(environment)
    }

    /// The execution limits these settings give.
    public var limits: ExecutionLimits {
        var limits = ExecutionLimits(jobs: jobs, queueDepth: queueDepth, threadsPerJob: threadsPerJob, memoryBudget: memoryBudget)
        limits.memoryBudget = max(limits.memoryBudget, jobMemoryBudget)
        return limits
    }

    /// The local store's directory.
    public var localRoot: String { outDirectory ?? dataDirectory + "/media" }

    /// Ingest options with these defaults; a request changes what it names.
    public var ingestOptions: IngestOptions {
        IngestOptions(preset: targets.first ?? preset, timeout: timeout, memoryBudget: jobMemoryBudget)
    }

    /// The built-in presets plus the user's file.
    public func presetCatalog() throws(KilnError) -> PresetCatalog {
        do { return try PresetCatalog(userFile: presetsFile) } catch let error as KilnError { throw error } catch {
            throw KilnError.internalError("\(error)")
        }
    }

    /// The configured store; an R2 bucket is checked now (endpoint, credentials, bucket), so a
    /// wrong setting fails at start with FILE_007.
    public func makeStore() async throws(KilnError) -> any MediaStore {
        switch storage {
        case .local:
            return try LocalStore(root: localRoot)
        case .r2:
            guard let r2 else { throw KilnError.storageNotConfigured("R2 storage needs the KILN_R2_* settings") }
            let client = S3Client(configuration: r2)
            try await client.verify()
            return try ObjectMediaStore(objects: client, stagingRoot: dataDirectory + "/staging",
                                        locationPrefix: "s3://\(r2.bucket)")
        }
    }

    /// A validated pipeline with the configured store, presets and limits.
    public func makePipeline() async throws(KilnError) -> Pipeline {
        let presets = try validatedPresets()
        let store = try await makeStore()
        do {
            return try Pipeline(store: store, presets: presets, limits: limits, temporaryDirectory: dataDirectory + "/tmp")
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError.internalError("\(error)")
        }
    }
}
