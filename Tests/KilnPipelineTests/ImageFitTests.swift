import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// A byte limit is met by a bounded quality search, then a smaller size when quality alone
/// cannot: noisy phone-sized photos (the worst case for JPEG) come out under Bluesky's
/// 1,000,000 bytes and Instagram's 8,000,000, with a warning that says what was given up.
@Suite(.serialized) struct ImageFitTests {
    /// 12, 24 and 48 MP of noise over a test pattern, made with the ffmpeg CLI.
    static let photos: Result<[String], Tool.Failure> = {
        let directory = Fixtures.scratchDirectory("kiln-image-fit")
        do {
            // All 4:3, so each publishes 2000x1500 (a 3:2 photo's 2000x1333 can fit at full quality).
            return .success(try [(4000, 3000), (5660, 4245), (8000, 6000)].map { width, height in
                let path = "\(directory)/noisy-\(width * height / 1_000_000)mp.jpg"
                // Noise at the published size (2000 px wide), enlarged without smoothing: shrinking the
                // photo does not average it away, so quality alone cannot reach 1,000,000 bytes.
                try Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                          "testsrc2=size=2000x\(height * 2000 / width):rate=1", "-vf",
                                          "noise=alls=100:allf=u,scale=\(width):\(height):flags=neighbor",
                                          "-frames:v", "1", "-q:v", "10", path])
                return path
            })
        } catch let failure as Tool.Failure {
            return .failure(failure)
        } catch {
            return .failure(Tool.Failure(description: "\(error)"))
        }
    }()

    @Test(arguments: ["bluesky", "instagram-feed"])
    func noisyPhotosFitThePlatformsByteLimit(_ preset: String) async throws {
        let photos = try await Tool.detached { try Self.photos.get() }
        let harness = try PipelineHarness()
        let limit = try #require(try harness.pipeline.resolve(preset).renditions.first?.maxBytes)
        for photo in photos {
            let item = try await harness.pipeline.ingest(path: photo, options: IngestOptions(preset: preset))
            let display = try #require(item.renditions.first { $0.name == "display" })
            let size = (try FileManager.default.attributesOfItem(atPath: try #require(display.path))[.size] as? Int) ?? .max
            #expect(size <= limit && Int64(display.bytes) <= limit, "\(photo): \(size) bytes over \(limit)")
            if preset == "bluesky", let lowered = item.warnings.first(where: { $0.hasPrefix("re-encoded display at quality ") }) {
                #expect(lowered.hasSuffix("to fit bluesky's 2 MB limit"), "\(item.warnings)")
            }
            #expect(item.rules?.hasPrefix(preset + "@") == true)
        }
    }

    /// Where no quality reaches the limit, the picture is made smaller (bytes go roughly with
    /// pixels), in a bounded number of rounds, and the warning names both.
    @Test func aLimitQualityCannotReachShrinksThePicture() async throws {
        let photo = try await Tool.detached { try Self.photos.get() }[0]
        var catalog = PresetCatalog()
        try catalog.add(json: Data("""
            [{"name": "tight", "summary": "150,000 bytes at 2000 px", "image": {},
              "renditions": [{"name": "display", "long_edge": 2000, "max_bytes": 150000}]}]
            """.utf8), source: "test")
        let harness = try PipelineHarness(presets: catalog)
        let item = try await harness.pipeline.ingest(path: photo, options: IngestOptions(preset: "tight"))
        let display = try #require(item.renditions.first { $0.name == "display" })
        #expect(display.bytes <= 150_000 && display.width < 2000, "\(display.bytes) bytes at \(display.width) px")
        #expect(item.warnings.contains { $0.hasPrefix("re-encoded display at quality ")
                && $0.contains("(asked 85) and \(display.width)x\(display.height) (planned 2000x1500)") && $0.hasSuffix("to fit tight's 150 kB limit") }, "\(item.warnings)")
    }
}
