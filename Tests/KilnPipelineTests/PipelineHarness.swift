import Foundation
import KilnCore
import KilnPipeline
import KilnStorage
import KilnTestSupport
import Testing

/// A pipeline writing into its own scratch directory.
struct PipelineHarness: ~Copyable {
    let out: String
    let pipeline: Pipeline

    init(presets: PresetCatalog = PresetCatalog(), limits: ExecutionLimits = ExecutionLimits()) throws {
        out = Fixtures.scratchDirectory("kiln-out")
        pipeline = try Pipeline(store: try LocalStore(root: out), presets: presets, limits: limits,
                                temporaryDirectory: out + "-tmp")
    }

    deinit {
        Fixtures.cleanUp(out)
        Fixtures.cleanUp(pipeline.temporaryDirectory)
    }

    /// Published files (the staging area excluded).
    var publishedFiles: [String] { Fixtures.files(under: out).filter { !$0.hasPrefix(".staging/") } }

    /// Runs `sample` and returns the catalog error it fails with, checking nothing was left behind.
    func failure(_ sample: String, _ options: IngestOptions = IngestOptions()) async -> KilnError? {
        do {
            _ = try await pipeline.ingest(path: sample.hasPrefix("/") ? sample : Fixtures.sample(sample), options: options)
            return nil
        } catch {
            #expect(publishedFiles.isEmpty, "no output after a failure: \(publishedFiles)")
            #expect(Fixtures.files(under: out + "/.staging").isEmpty, "no staging left behind")
            return error
        }
    }
}
