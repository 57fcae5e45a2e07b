import ArgumentParser
import Foundation
import KilnCore
import KilnPipeline

/// Options shared by the subcommands that run the pipeline. Each overrides its `KILN_`
/// variable; the result is one `KilnConfiguration`, validated before any work.
struct PipelineSettings: ParsableArguments {
    @Option(name: .long, help: "Preset name, or several as targets: a,b,c (env KILN_PRESET; default: default).")
    var preset: String?

    @Option(name: .long, help: "JSON file of extra presets (env KILN_PRESETS).")
    var presets: String?

    @Option(name: .long, help: "Directory holding temp files and the embedded database (env KILN_DATA; default: ./kiln-data).")
    var data: String?

    @Option(name: .long, help: "Where renditions go: local or r2 (env KILN_STORAGE; default: local). R2 reads KILN_R2_ENDPOINT, KILN_R2_BUCKET, KILN_R2_ACCESS_KEY_ID, KILN_R2_SECRET_ACCESS_KEY and optional KILN_R2_PUBLIC_URL.")
    var storage: KilnConfiguration.Storage?

    @Option(name: .long, help: "Seconds one job may take, from start to stored (env KILN_TIMEOUT; default: 600).")
    var timeout: Double?

    @Option(name: .long, help: "Megabytes of memory one job may plan to use (env KILN_MEMORY_BUDGET_MB; default: 2048).")
    var memoryBudget: Int?

    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a number of seconds above 0") }
        if let memoryBudget, memoryBudget <= 0 { throw ValidationError("--memory-budget must be megabytes above 0") }
    }

    /// The environment's settings with these options over them.
    func configuration() throws(KilnError) -> KilnConfiguration {
        var configuration = try KilnConfiguration.fromEnvironment()
        if let preset { configuration.preset = preset }
        if let presets { configuration.presetsFile = presets }
        if let data { configuration.dataDirectory = data }
        if let storage {
            configuration.storage = storage
            if storage == .r2 { configuration.r2 = try configuration.bucket() }
        }
        if let timeout { configuration.timeout = .milliseconds(Int64(timeout * 1000)) }
        if let memoryBudget { configuration.jobMemoryBudget = Int64(memoryBudget) << 20 }
        return configuration
    }

    /// For `batch` and `watch`: renditions in `out` (local storage), temp files and the engine's
    /// data in `out/.kiln` unless --data or KILN_DATA says otherwise, `jobs` at once (default one
    /// per core) with as many waiting, so the front end never meets PROCESSING_004.
    func configuration(out: String, jobs: Int?) throws(KilnError) -> KilnConfiguration {
        var configuration = try configuration()
        configuration.outDirectory = out
        if data == nil, ProcessInfo.processInfo.environment["KILN_DATA"] == nil {
            configuration.dataDirectory = out + "/.kiln"
        }
        configuration.jobs = jobs ?? ExecutionLimits.cores
        configuration.queueDepth = configuration.jobs
        return configuration
    }
}

/// The options `batch` and `watch` share: where renditions go, how many files at once, and how
/// each file is taken (on its own: never a carousel).
struct FolderOptions: ParsableArguments {
    @Option(name: .long, help: "Output directory.")
    var out: String

    @Option(name: .long, help: "Files processed at once (default: one per core).")
    var jobs: Int?

    @Option(name: .long, help: "auto, image or video.")
    var type: DeclaredType = .auto

    @Option(name: .long, help: "When the aspect ratio is out of range: reject, crop, pad, or blur (fit the picture over a blurred fill).")
    var fit: Fit = .reject

    @Option(name: .long, help: "Where a crop keeps the subject: auto, center, or x,y (0-1 of the picture from its top left).")
    var focus: Focus = .auto

    @Option(name: .long, help: "When a video is longer than the preset allows: reject, or trim (cut at its maximum).")
    var fitDuration: DurationFit = .reject

    @Option(name: .long, help: "Each target's account limits, as JSON: {\"tiktok\": {\"max_duration_seconds\": 180}}.")
    var limits: String?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more") }
        if type == .carousel { throw ValidationError("each file is taken on its own: --type auto, image or video") }
    }

    /// The configuration (see `PipelineSettings.configuration(out:jobs:)`) and the ingest
    /// options with --type and --fit.
    func configuration(_ settings: PipelineSettings) throws(KilnError) -> (KilnConfiguration, IngestOptions) {
        let configuration = try settings.configuration(out: out, jobs: jobs)
        var options = configuration.ingestOptions
        options.type = type
        options.fit = fit
        options.focus = focus
        options.fitDuration = fitDuration
        if let limits { options.limits = try AccountLimits.parse(limits) }
        return (configuration, options)
    }
}

extension KilnConfiguration.Storage: ExpressibleByArgument {}
extension Fit: ExpressibleByArgument {}
extension DurationFit: ExpressibleByArgument {}
extension DeclaredType: ExpressibleByArgument {}
extension Focus: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
