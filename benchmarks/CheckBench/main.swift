import Foundation
import KilnCore
import KilnPipeline
import KilnStorage

// The output check's cost beside the work it checks (SPEC §10: < 3%): each input is processed
// under a platform preset (the check included, as always), then the same check is run alone on
// what was written (`Pipeline.checkRules`: sniff, read back, measure, hold to the rules), in one
// process so neither pays for process start or library loading.
//
//   kiln-check-bench PRESET FILE [PRESET FILE ...]
// (benchmarks/run.sh passes a 12 MP JPEG under instagram-feed and a 10 s 1080p HEVC under
// instagram-reel.)

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, arguments.count % 2 == 0 else {
    FileHandle.standardError.write(Data("usage: kiln-check-bench PRESET FILE [PRESET FILE ...]\n".utf8))
    exit(64)
}
let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 5

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

print("\noutput check: its cost against the processing of what it checks (median of \(runs); target < 3%)")
print("  \("input".padding(toLength: 24, withPad: " ", startingAt: 0))\("preset".padding(toLength: 16, withPad: " ", startingAt: 0))"
      + "   process ms    check ms   share")
var met = true
for pair in stride(from: 0, to: arguments.count, by: 2) {
    let (preset, file) = (arguments[pair], arguments[pair + 1])
    var process: [Double] = [], check: [Double] = []
    var rendition = ""
    for _ in 0..<runs {
        let root = NSTemporaryDirectory() + "kiln-check-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pipeline = try Pipeline(store: try LocalStore(root: root))
        let clock = ContinuousClock()
        var item: MediaItem?
        process.append(seconds(try await clock.measure {
            item = try await pipeline.ingest(path: file, options: IngestOptions(preset: preset))
        }))
        guard let published = item?.renditions.first(where: { $0.name == "video" }) ?? item?.renditions.first,
              let path = published.path else { fatalError("no rendition of \(file)") }
        rendition = published.name
        var report: RuleReport?
        check.append(seconds(try await clock.measure { report = try await pipeline.checkRules(path: path, preset: preset) }))
        if report?.passed != true { fatalError("\(path) does not pass \(preset): \(report.map { "\($0.verdicts)" } ?? "")") }
    }
    let share = median(check) / median(process)
    met = met && share < 0.03
    let name = "\((file as NSString).lastPathComponent) (\(rendition))"
    print("  \(name.padding(toLength: 24, withPad: " ", startingAt: 0))\(preset.padding(toLength: 16, withPad: " ", startingAt: 0))"
          + String(format: "%13.0f %11.1f %6.1f%%", median(process) * 1000, median(check) * 1000, share * 100))
}
print("  target < 3%: \(met ? "met" : "NOT met")")
