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
            let configuration = try KilnConfiguration.fromEnvironment()
            pipeline = try Pipeline(store: nil, presets: try configuration.presetCatalog(), limits: .sequential)
        } catch {
            return try finish(.failure(error as? KilnError ?? .internalError("\(error)")), files: files)
        }
        var results: [ProbeOutcome] = []
        for file in files {
            do throws(KilnError) {
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
                    Output.line("\(result.input): \(Self.describe(facts))")
                } else if let error = result.error {
                    Output.line("\(result.input): \(Output.describe(error))")
                }
            }
        }
        throw Output.exitCode(success: success)
    }

    static func describe(_ facts: MediaFacts) -> String {
        switch facts {
        case .image(let f):
            return "\(f.mime), \(f.displayWidth)x\(f.displayHeight) as displayed (stored \(f.width)x\(f.height), "
                + "orientation \(f.orientation)), \(f.colorSpace), \(f.bands) bands, \(f.bitDepth)-bit"
                + "\(f.hasAlpha ? ", alpha" : ""), \(ByteCount.format(f.sizeBytes))"
        case .video(let f):
            var text = "\(f.mime), \(ByteCount.decimal(f.duration, places: 2)) s, \(ByteCount.format(f.sizeBytes))"
            if let v = f.video {
                text += "; video \(v.codec) \(v.pixelFormat) \(v.displayWidth)x\(v.displayHeight) as displayed"
                    + " (rotation \(v.rotation)), \(ByteCount.decimal(v.frameRate, places: 2)) fps"
                    + (v.variableFrameRate ? " (variable)" : "") + (v.hdr.map { ", HDR \($0)" } ?? "")
            }
            if let a = f.audio { text += "; audio \(a.codec) \(a.channelLayout) \(a.sampleRate) Hz" }
            return text
        }
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
    let facts: MediaFacts?
    let error: KilnError?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encodeIfPresent(facts, forKey: .source)
        try c.encodeIfPresent(error.map(ErrorBody.init), forKey: .error)
    }

    enum CodingKeys: String, CodingKey { case input, source, error }
}
