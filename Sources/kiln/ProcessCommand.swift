import ArgumentParser
import Foundation
import KilnCore
import KilnPipeline
import KilnQueue
import KilnStorage

/// `kiln process`: runs files through the pipeline and reports one envelope.
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process", abstract: "Validate and process files into renditions.",
        discussion: "Renditions go to DIR/<media-id>/. FILE may be - for standard input.")

    @OptionGroup var settings: PipelineSettings

    @Option(name: .long, help: "auto, image, video or carousel (all FILEs form one carousel).")
    var type: DeclaredType = .auto

    @Option(name: .long, help: "When the aspect ratio is out of range: reject, crop, pad, or blur (fit the picture over a blurred fill).")
    var fit: Fit = .reject

    @Option(name: .long, help: "Where a crop keeps the subject: auto, center, or x,y (0-1 of the picture from its top left).")
    var focus: Focus = .auto

    @Option(name: .long, help: "When a video is longer than the preset allows: reject, or trim (cut at its maximum).")
    var fitDuration: DurationFit = .reject

    @Option(name: .long, help: "Each target's account limits, as JSON: {\"tiktok\": {\"max_duration_seconds\": 180}}.")
    var limits: String?

    @Option(name: .long, help: "Output directory (env KILN_OUT; default: ./kiln-out).")
    var out: String?

    @Flag(name: .long, help: "Also store the original, byte for byte (not sanitized).")
    var keepOriginal = false

    @Flag(help: "Print one JSON envelope on stdout.") var json = false

    @Argument(help: "Files to process.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be given once") }
    }

    func run() async throws {
        let pipeline: Pipeline
        var options: IngestOptions
        let targets: [String]?
        do {
            var configuration = try settings.configuration()
            configuration.outDirectory = out ?? configuration.outDirectory ?? "./kiln-out"
            // Files go one after another, each with every core.
            configuration.jobs = 1
            configuration.queueDepth = 1
            configuration.threadsPerJob = nil
            pipeline = try await configuration.makePipeline()
            options = configuration.ingestOptions
            targets = configuration.namesTargets ? configuration.targets : nil
            if let limits { options.limits = try AccountLimits.parse(limits) }
        } catch {
            return try report(failure: error)
        }
        options.type = type
        options.fit = fit
        options.focus = focus
        options.fitDuration = fitDuration
        options.keepOriginal = keepOriginal
        options.progress = json ? nil : Output.progressLine

        // Standard input is received first (sniffed, held to its kind's limit, hashed as read).
        var stdin: Result<ReceivedUpload, KilnError>?
        if files.contains("-") {
            do throws(KilnError) {
                stdin = .success(try await pipeline.receive(stream: StandardInput.chunks(), name: "-", options: options,
                                                            targets: targets))
            } catch {
                stdin = .failure(error)
            }
        }

        func input(_ file: String) throws(KilnError) -> IngestInput {
            guard file == "-" else { return IngestInput(path: file) }
            guard let stdin else { throw KilnError.internalError("standard input was not read") }
            return IngestInput(upload: try stdin.get())
        }

        // The options as every front end hands them to the ingest service (which makes all at once here).
        let service = IngestService(pipeline: pipeline, base: options)
        var upload = UploadOptions(base: options)
        upload.targets = targets
        if type == .carousel {
            let made: ProcessReport
            do throws(KilnError) {
                let inputs = try files.map { file throws(KilnError) in try input(file) }
                let result = try await service.make(IngestSubmission(inputs: inputs, carousel: true, options: upload))
                if targets != nil {
                    made = ProcessReport(targets: result.outcomes)
                } else {
                    let (carousel, items) = try result.carousel()
                    made = ProcessReport(items: items.map(ItemOutcome.success), carousel: carousel)
                }
            } catch {
                return try report(failure: error)
            }
            return try report(made)
        }
        var outcomes: [ItemOutcome] = []
        for file in files {
            do throws(KilnError) {
                let result = try await service.make(IngestSubmission(inputs: [try input(file)], options: upload))
                outcomes.append(targets == nil ? .success(try result.item()) : .targets(file, result.outcomes))
            } catch {
                outcomes.append(.failure(file, error))
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
            func show(_ item: MediaItem, _ label: String) {
                let renditions = item.renditions.map {
                    "\($0.name) \($0.width)x\($0.height) \($0.format.rawValue) \(ByteCount.format($0.bytes))"
                }
                let reused = item.reused ? " [already stored]" : ""
                Output.line("ok    \(label) -> \(item.location ?? item.id)\(reused) (\(renditions.joined(separator: "; ")))")
                for warning in item.warnings { Output.line("      note: \(warning)") }
            }
            func show(_ outcome: TargetOutcome, _ label: String) {
                if let error = outcome.error {
                    let place = outcome.failedItem.map { " (item \($0.index), \($0.name))" } ?? ""
                    Output.line("fail  \(label) [\(outcome.target)]\(place): \(Output.describe(error))")
                } else if let carousel = outcome.carousel {
                    Output.line("\(outcome.status.rawValue) \(label) [\(outcome.target)] carousel \(carousel.id) -> \(carousel.location ?? carousel.id)")
                    for item in outcome.items { show(item, "  \(item.input ?? item.id)") }
                } else if let item = outcome.items.first {
                    show(item, "\(label) [\(outcome.target)] \(outcome.status.rawValue)")
                }
            }
            for outcome in report.items {
                if let item = outcome.item {
                    show(item, outcome.input)
                } else if let error = outcome.error {
                    Output.line("fail  \(outcome.input): \(Output.describe(error))")
                }
                for target in outcome.targets ?? [] { show(target, outcome.input) }
            }
            for target in report.targets ?? [] { show(target, "carousel") }
            if let carousel = report.carousel {
                Output.line("carousel \(carousel.id) -> \(carousel.location ?? carousel.id)")
            }
            let outcomes = report.items.flatMap { $0.targets ?? [] } + (report.targets ?? [])
            let failed = report.items.filter { $0.error != nil }.count + outcomes.filter { $0.error != nil }.count
            let total = report.items.filter { $0.targets == nil }.count + outcomes.count
            Output.line("\(total - failed) processed, \(failed) failed")
        }
        throw Output.exitCode(success: report.allSucceeded)
    }

    private func report(failure error: any Error) throws {
        let error = error as? KilnError ?? .internalError("\(error)")
        if json {
            Output.printJSON(Envelope<ProcessReport>.failure(error))
        } else {
            Output.line("fail  \(files.joined(separator: " ")): \(Output.describe(error))")
        }
        throw Output.exitCode(success: false)
    }
}
