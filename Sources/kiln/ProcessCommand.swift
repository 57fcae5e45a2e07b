import ArgumentParser
import Foundation
import KilnCore
import KilnPipeline
import KilnStorage

/// `kiln process`: runs files through the pipeline and reports one envelope.
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process", abstract: "Validate and process files into renditions.",
        discussion: "Renditions go to DIR/<media-id>/. FILE may be - for standard input.")

    @OptionGroup var settings: PipelineSettings

    @Option(name: .long, help: "auto, image, video or carousel (all FILEs form one carousel).")
    var type: DeclaredType = .auto

    @Option(name: .long, help: "When the aspect ratio is out of range: reject, crop or pad.")
    var fit: Fit = .reject

    @Option(name: .long, help: "Output directory (env KILN_OUT; default: ./kiln-out).")
    var out: String?

    @Flag(name: .long, help: "Also store the original, byte for byte (not sanitized).")
    var keepOriginal = false

    @Option(name: .long, help: "Seconds a job may take to process (env KILN_TIMEOUT; default: 600).")
    var timeout: Double?

    @Option(name: .long, help: "Megabytes of memory a job may plan to use (env KILN_MEMORY_BUDGET_MB; default: 2048).")
    var memoryBudget: Int?

    @Flag(help: "Print one JSON envelope on stdout.") var json = false

    @Argument(help: "Files to process.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a number of seconds above 0") }
        if let memoryBudget, memoryBudget <= 0 { throw ValidationError("--memory-budget must be megabytes above 0") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be given once") }
    }

    func run() async throws {
        let seconds = timeout ?? Environment.value("KILN_TIMEOUT").flatMap(Double.init) ?? 600
        let megabytes = memoryBudget ?? Environment.value("KILN_MEMORY_BUDGET_MB").flatMap(Int.init) ?? 2048
        let options = IngestOptions(preset: settings.presetName, type: type, fit: fit, keepOriginal: keepOriginal,
                                    timeout: .milliseconds(Int64(seconds * 1000)),
                                    progress: json ? nil : Output.progressLine,
                                    memoryBudget: Int64(megabytes) << 20)
        let pipeline: Pipeline
        var inputs: [(path: String, name: String)] = []
        var spooled: [SpooledFile] = []
        do {
            let store = try await settings.store(localDirectory: out ?? Environment.value("KILN_OUT") ?? "./kiln-out")
            pipeline = try Pipeline(store: store, presets: try settings.catalog())
            // A stream's kind is unknown until sniffed: cut it at the largest limit of the preset.
            let preset = try pipeline.resolve(options.preset)
            let limit = max(preset.image?.maxBytes ?? 0, preset.video?.maxBytes ?? 0)
            for file in files {
                if file == "-" {
                    let temp = try Spooler.spool(from: .standardInput, directory: settings.dataDirectory + "/tmp",
                                                 limit: limit)
                    spooled.append(temp)
                    inputs.append((temp.path, "-"))
                } else {
                    inputs.append((file, file))
                }
            }
        } catch {
            return try report(failure: error as? KilnError ?? .internalError("\(error)"))
        }
        defer { withExtendedLifetime(spooled) {} }

        if type == .carousel {
            let result: (carousel: CarouselRecord, items: [MediaItem])
            do {
                result = try await pipeline.ingestCarousel(paths: inputs, options: options)
            } catch {
                return try report(failure: error)
            }
            return try report(ProcessReport(items: result.items.map(ItemOutcome.success), carousel: result.carousel))
        }
        var outcomes: [ItemOutcome] = []
        for input in inputs {
            do {
                outcomes.append(.success(try await pipeline.ingest(path: input.path, name: input.name, options: options)))
            } catch {
                outcomes.append(.failure(input.name, error))
            }
        }
        if outcomes.count == 1, let error = outcomes[0].error {
            return try report(failure: error)
        }
        try report(ProcessReport(items: outcomes))
    }

    private func report(_ report: ProcessReport) throws {
        if json {
            Output.printJSON(report.allSucceeded ? .success(report) : .partial(report))
        } else {
            for outcome in report.items {
                if let item = outcome.item {
                    let renditions = item.renditions.map {
                        "\($0.name) \($0.width)x\($0.height) \($0.format.rawValue) \(ByteCount.format($0.bytes))"
                    }
                    Output.line("ok    \(outcome.input) -> \(item.location ?? item.id) (\(renditions.joined(separator: "; ")))")
                    for warning in item.warnings { Output.line("      note: \(warning)") }
                } else if let error = outcome.error {
                    Output.line("fail  \(outcome.input): \(Output.describe(error))")
                }
            }
            if let carousel = report.carousel {
                Output.line("carousel \(carousel.id) -> \(carousel.location ?? carousel.id)")
            }
            let failed = report.items.filter { $0.error != nil }.count
            Output.line("\(report.items.count - failed) processed, \(failed) failed")
        }
        throw Output.exitCode(success: report.allSucceeded)
    }

    private func report(failure error: KilnError) throws {
        if json {
            Output.printJSON(Envelope<ProcessReport>.failure(error))
        } else {
            Output.line("fail  \(files.joined(separator: " ")): \(Output.describe(error))")
        }
        throw Output.exitCode(success: false)
    }
}
