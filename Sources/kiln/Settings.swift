import ArgumentParser
import Foundation
import KilnCore
import KilnPipeline

/// Options shared by the subcommands that run the pipeline. Each overrides its `KILN_`
/// variable; the result is one `KilnConfiguration`, validated before any work.
struct PipelineSettings: ParsableArguments {
    @Option(name: .long, help: "Preset name (env KILN_PRESET; default: default).")
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
}

extension KilnConfiguration.Storage: ExpressibleByArgument {}
extension Fit: ExpressibleByArgument {}
extension DeclaredType: ExpressibleByArgument {}
