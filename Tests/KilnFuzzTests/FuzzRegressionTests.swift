import Foundation
import KilnFuzz
import KilnTestSupport
import Testing

/// Every seed and every past crash of each fuzz target still runs to the end.
@Suite struct FuzzRegressionTests {
    static let root = Fixtures.root + "/Tests/Fixtures/fuzz"

    @Test(arguments: FuzzTargets.names)
    func corpusReplaysCleanly(target: String) throws {
        let folder = Self.root + "/" + target
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(!files.isEmpty, "\(target) has seeds")
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
            data.withUnsafeBytes { FuzzTargets.run(target, $0) }
        }
    }
}
