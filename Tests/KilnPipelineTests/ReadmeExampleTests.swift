import Foundation
import KilnCore
import KilnPipeline
import KilnStorage
import KilnTestSupport
import Testing

/// The README's library example, compiled and run here, and kept equal to the README's text.
@Suite struct ReadmeExampleTests {
    /// Between the markers: the README's example, line for line.
    static func example(upload: (path: String, filename: String), root: String) async throws
        -> (item: MediaItem?, outcomes: [TargetOutcome])
    {
        var made: MediaItem?
        // README-BEGIN
        let pipeline = try Pipeline(store: try LocalStore(root: root))
        do {
            let item = try await pipeline.ingest(path: upload.path, name: upload.filename,
                                                 options: IngestOptions(preset: "instagram-feed", fit: .crop))
            print(item.id, item.renditions.map(\.path))
            made = item
        } catch {
            // error is a KilnError: error.code.rawValue == "FILE_005", error.entry.httpStatus == 422, …
            print(String(decoding: try Envelope<MediaItem>.failure(error).jsonData(), as: UTF8.self))
        }

        // One upload for several networks: read, hashed and decoded once; an outcome per target.
        let request = IngestRequest(IngestInput(path: upload.path, name: upload.filename),
                                    targets: ["x", "bluesky", "instagram-feed"])
        let previews = try await pipeline.preflight(request)  // from the headers; nothing stored
        let result = try await pipeline.ingest(request)
        for (told, outcome) in zip(previews, result.outcomes) {
            print(outcome.target, told.status, outcome.status, outcome.error?.code.rawValue ?? outcome.warnings.joined(separator: "; "))
        }
        // README-END
        return (made, result.outcomes)
    }

    @Test func theExampleRuns() async throws {
        let root = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(root) }
        let (item, outcomes) = try await Self.example(upload: (Fixtures.sample("panorama.jpg"), "panorama.jpg"), root: root)
        #expect(item?.renditions.first?.width == 955)
        #expect(outcomes.map(\.status) == [.accepted, .accepted, .rejected], "3:1 is too wide for Instagram without --fit crop")
        let bad = try await Self.example(upload: (Fixtures.sample("bad/truncated.jpg"), "t.jpg"), root: root)
        #expect(bad.item == nil && bad.outcomes.allSatisfy { $0.error?.code == .file005 })
    }

    @Test func theREADMEShowsTheExampleThatRuns() throws {
        let source = try String(contentsOfFile: Fixtures.root + "/Tests/KilnPipelineTests/ReadmeExampleTests.swift", encoding: .utf8)
        let readme = try String(contentsOfFile: Fixtures.root + "/README.md", encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex { $0.contains("// README-BEGIN") })
        let end = try #require(lines.firstIndex { $0.contains("// README-END") })
        let example = lines[(begin + 1)..<end].filter { !$0.contains("made = item") }
            .map { String($0.dropFirst(8)) }.joined(separator: "\n")
        #expect(readme.contains(example), "README.md shows the example as this test runs it:\n\(example)")
    }

    /// The README's imports are all in the library product another package depends on.
    @Test func theLibraryProductExportsWhatTheExampleImports() async throws {
        let readme = try String(contentsOfFile: Fixtures.root + "/README.md", encoding: .utf8)
        let imports = Set(readme.components(separatedBy: "\n").filter { $0.hasPrefix("import Kiln") }
            .map { String($0.dropFirst("import ".count)) })
        #expect(imports == ["KilnCore", "KilnPipeline", "KilnStorage"])
        // A scratch path of its own: the running `swift test` holds the package's build lock.
        let scratch = Fixtures.scratchDirectory("kiln-dump-package")
        defer { Fixtures.cleanUp(scratch) }
        let dump = try await Tool.check("swift", ["package", "--package-path", Fixtures.root, "--scratch-path", scratch,
                                            "dump-package"])
        let package = try #require(try JSONSerialization.jsonObject(with: dump.stdout) as? [String: Any])
        let products = package["products"] as? [[String: Any]] ?? []
        let library = try #require(products.first { $0["name"] as? String == "KilnPipeline" })
        #expect(imports.isSubset(of: Set(library["targets"] as? [String] ?? [])))
    }
}
