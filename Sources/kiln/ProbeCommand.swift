import ArgumentParser
import KilnCore
import KilnPipeline

/// `kiln probe`: what the pipeline sees in each file (sniffed type, header facts), without processing.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Show what Kiln sees in files.")

    @Flag(help: "Print one JSON envelope.") var json = false
    @Argument(help: "Files to probe.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE") }
    }

    func run() async throws {
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(store: nil)
        } catch {
            return try finish(.failure(error as? KilnError ?? .internalError("\(error)")), files: files)
        }
        var results: [ProbeOutcome] = []
        for file in files {
            do {
                results.append(ProbeOutcome(input: file, facts: try await pipeline.probe(path: file), error: nil))
            } catch {
                results.append(ProbeOutcome(input: file, facts: nil, error: error))
            }
        }
        if files.count == 1, let error = results[0].error {
            return try finish(.failure(error), files: files)
        }
        let success = results.allSatisfy { $0.error == nil }
        let report = ProbeReport(items: results)
        if json {
            Output.printJSON(success ? .success(report) : .partial(report))
        } else {
            for result in results {
                if let facts = result.facts {
                    Output.line("\(result.input): \(facts.mime), \(facts.displayWidth)x\(facts.displayHeight) as displayed "
                        + "(stored \(facts.width)x\(facts.height), orientation \(facts.orientation)), \(facts.colorSpace), "
                        + "\(facts.bands) bands, \(facts.bitDepth)-bit\(facts.hasAlpha ? ", alpha" : ""), "
                        + "\(ByteCount.format(facts.sizeBytes))")
                } else if let error = result.error {
                    Output.line("\(result.input): \(Output.describe(error))")
                }
            }
        }
        throw Output.exitCode(success: success)
    }

    private func finish(_ envelope: Envelope<ProbeReport>, files: [String]) throws {
        if json {
            Output.printJSON(envelope)
        } else if let error = envelope.error {
            Output.line("\(files.joined(separator: " ")): \(error.code.rawValue) \(error.message)")
        }
        throw Output.exitCode(success: envelope.success)
    }
}

struct ProbeReport: Encodable, Sendable {
    let items: [ProbeOutcome]
}

struct ProbeOutcome: Encodable, Sendable {
    let input: String
    let facts: ImageFacts?
    let error: KilnError?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encodeIfPresent(facts, forKey: .source)
        try c.encodeIfPresent(error.map(ErrorBody.init), forKey: .error)
    }

    enum CodingKeys: String, CodingKey { case input, source, error }
}
