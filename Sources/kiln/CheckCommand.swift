import ArgumentParser
import KilnCore
import KilnPipeline

/// `kiln check FILE --preset P`: holds any file to a preset's platform rules, the same check every
/// rendition passes before it is published, and prints each rule, the measured value, the limit
/// and the verdict. Exit 0 when every rule passes, 1 otherwise.
///
/// `kiln check FILE --preset a,b,c` is the preflight: what each target would make of the file
/// (accepted as it is, changed and how, or rejected and why), from its headers. Exit 0 when no
/// target would refuse it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check files against a preset's platform rules, or preflight them for several targets (nothing is written).")

    @Option(help: "The preset whose rules apply; several (a,b,c) for a preflight.") var preset: String = "default"
    @Option(help: "A preflight's fit when the aspect ratio is out of range: reject, crop, pad or blur.") var fit: Fit = .reject
    @Option(help: "A preflight's focus for a crop: auto, center, or x,y (0-1).") var focus: Focus = .auto
    @Option(help: "A preflight's fit when a video is too long: reject or trim.") var fitDuration: DurationFit = .reject
    @Option(help: "A JSON file of extra presets.") var presets: String?
    @Option(help: "Each target's account limits, as JSON: {\"tiktok\": {\"max_duration_seconds\": 180}}.") var limits: String?
    @Flag(help: "Print one JSON envelope.") var json = false
    @Argument(help: "Files to check.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE") }
    }

    func run() async throws {
        var reports: [RuleReport] = []
        var previews: [PreflightItem] = []
        var failure: KilnError?
        do {
            var configuration = try KilnConfiguration.fromEnvironment()
            if let presets { configuration.presetsFile = presets }
            let pipeline = try Pipeline(store: nil, presets: try configuration.presetCatalog(), limits: .sequential)
            let account = try limits.map(AccountLimits.parse) ?? [:]
            if preset.contains(",") {
                var options = IngestOptions()
                options.fit = fit
                options.focus = focus
                options.fitDuration = fitDuration
                options.limits = account
                for file in files {
                    let request = IngestRequest(IngestInput(path: file), targets: IngestRequest.targets(preset), options: options)
                    previews.append(PreflightItem(input: file, targets: try await pipeline.preflight(request)))
                }
            } else {
                for file in files { reports.append(try await pipeline.checkRules(path: file, preset: preset, limits: account)) }
            }
        } catch let error as KilnError {
            failure = error
        }
        if let failure {
            if json { Output.printJSON(Envelope<CheckReport>.failure(failure)) } else { Output.line(Output.describe(failure)) }
            throw Output.exitCode(success: false)
        }
        if preset.contains(",") {
            let passed = previews.allSatisfy { $0.targets.allSatisfy { $0.error == nil } }
            if json {
                let report = PreflightReport(items: previews)
                Output.printJSON(passed ? .success(report) : .partial(report))
            } else {
                for item in previews { Output.line(Self.table(item)) }
            }
            throw Output.exitCode(success: passed)
        }
        let passed = reports.allSatisfy(\.passed)
        if json {
            let report = CheckReport(items: reports)
            Output.printJSON(passed ? .success(report) : .partial(report))
        } else {
            for report in reports { Output.line(Self.table(report)) }
        }
        throw Output.exitCode(success: passed)
    }

    /// Rule, measured value, limit and verdict, one rule a line.
    static func table(_ report: RuleReport) -> String {
        let rows = report.verdicts.map { [$0.subject + " " + $0.rule.rawValue, $0.measured, $0.limit, $0.passed ? "pass" : $0.required ? "FAIL" : "advice"] }
        let header = ["rule", "measured", "limit", "verdict"]
        let widths = (0..<4).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        let verdict = report.passed ? "passes every rule" : "breaks \(report.verdicts.filter(\.fails).count) rule(s)"
        return (["\(report.input) (\(report.mime)) against \(report.rules): \(verdict)", line(header)] + rows.map(line))
            .joined(separator: "\n")
    }

    /// One target a line: what it would do with the file.
    static func table(_ item: PreflightItem) -> String {
        var lines = ["\(item.input):"]
        for target in item.targets {
            let said = if let error = target.error {
                "\(error.code.rawValue) \(error.message)"
            } else {
                target.changes.isEmpty ? "as it is" : target.changes.joined(separator: "; ")
            }
            lines.append("  \(target.target.padding(toLength: 16, withPad: " ", startingAt: 0)) \(target.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(said)")
        }
        return lines.joined(separator: "\n")
    }
}

struct CheckReport: Encodable, Sendable {
    let items: [RuleReport]
}

/// A preflight of files (`--preset a,b,c`): each file's previews, one per target.
struct PreflightReport: Encodable, Sendable {
    let items: [PreflightItem]
}

struct PreflightItem: Encodable, Sendable {
    let input: String
    let targets: [TargetPreview]
}
