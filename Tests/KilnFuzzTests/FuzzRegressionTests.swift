import Foundation
import KilnFuzz
import KilnTestSupport
import Testing

/// Every seed and every past crash of each fuzz target still runs to the end.
@Suite struct FuzzRegressionTests {
    static let root = Fixtures.root + "/Tests/Fixtures/fuzz"

    /// Replayed on a thread of its own, as libFuzzer's: a target that waits for async work
    /// (the pipeline's checks, the multipart reader) must not hold a thread of the pool it needs.
    @Test(arguments: FuzzTargets.names)
    func corpusReplaysCleanly(target: String) async throws {
        let folder = Self.root + "/" + target
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(!files.isEmpty, "\(target) has seeds")
        try await Tool.detached {
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
                data.withUnsafeBytes { FuzzTargets.run(target, $0) }
            }
        }
    }
}
