import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// What a platform would take once processed is processed, not refused, and the warning says how:
/// a slow video's frames repeated, a narrow image enlarged, a GIF over X's pixel budget scaled
/// down, a Bluesky photo kept at the 2 MB the lexicon allows now. Inputs made at test time.
@Suite struct FixNotRefuseTests {
    /// A 4 s, 15 fps screen recording (H.264 + AAC): below every Meta preset's 23 fps.
    static let slowClip: Result<String, Tool.Failure> = Result { () throws(Tool.Failure) in
        let path = Fixtures.scratchDirectory("kiln-15fps") + ".mp4"
        do {
            try Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15:duration=4",
                                      "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
                                      "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                                      "-shortest", path])
            return path
        } catch { throw Tool.Failure(description: "\(error)") }
    }

    @Test func aFifteenFPSRecordingIsRaisedToTheReelsSlowestRate() async throws {
        let clip = try Self.slowClip.get()
        let harness = try PipelineHarness()
        let told = try await harness.pipeline.preflight(IngestRequest(IngestInput(path: clip), targets: ["instagram-reel"]))
        #expect(told[0].error == nil, "\(told[0])")
        let item = try await harness.pipeline.ingest(path: clip, options: IngestOptions(preset: "instagram-reel"))
        #expect(item.warnings.contains { $0.hasPrefix("raised the frame rate from 15 to 23 fps (frames repeated)") },
                "\(item.warnings)")
        let video = try #require(item.renditions.first { $0.name == "video" }?.path)
        let probed = try await Tool.probe(video)
        let stream = try #require((probed["streams"] as? [[String: Any]])?.first { $0["codec_type"] as? String == "video" })
        #expect(stream["r_frame_rate"] as? String == "23/1")
        let seconds = Double((probed["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        #expect(abs(seconds - 4) < 0.2, "the same length: \(seconds) s")
        #expect(item.rules?.hasPrefix("instagram-reel@") == true, "the output check passed")
    }

    /// Meta scales an image under 320 px wide up itself: Kiln does it rather than refusing it.
    @Test func aNarrowImageIsEnlargedToInstagramsMinimumWidth() async throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let path = directory + "/narrow.jpg"
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=240x300", "-frames:v", "1", path])
        let harness = try PipelineHarness()
        let result = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: path),
                                                                     targets: ["instagram-feed", "threads", "default"]))
        for outcome in result.outcomes.prefix(2) {
            let item = try #require(outcome.items.first, "\(outcome.target): \(String(describing: outcome.error))")
            let display = try #require(item.renditions.first)
            #expect(display.width == 320 && display.height == 400, "\(outcome.target): \(display.width)x\(display.height)")
            #expect(item.warnings.contains("enlarged 240 px wide to \(outcome.target)'s 320 px minimum width"), "\(item.warnings)")
            let facts = try await Tool.probe(try #require(display.path))
            #expect((facts["streams"] as? [[String: Any]])?.first?["width"] as? Int == 320)
        }
        let kept = try #require(result.outcomes[2].items.first?.renditions.first)
        #expect(kept.width == 240, "a preset without a minimum never enlarges")
    }

    /// X's budget on its own numbers: a 1000x900 GIF of 340 frames (306 M pixels) is planned smaller.
    @Test func xsGIFBudgetPlansASmallerPicture() throws {
        let x = try PresetCatalog().preset(named: "x")
        let facts = ImageFacts(format: "gif", mime: "image/gif", sizeBytes: 10_000_000, width: 1000, height: 900,
                               orientation: 1, colorSpace: "srgb", bands: 3, bitDepth: 8, hasAlpha: false,
                               hasICCProfile: false, pages: 340, metadata: [])
        let spec = try #require(x.renditions(for: facts).first)
        #expect(spec.format == .gif)
        let g = RenditionGeometry.plan(sourceWidth: 1000, sourceHeight: 900, spec: spec, aspect: nil, fit: .reject)
        #expect(g.width * g.height * 340 <= 300_000_000 && g.width >= 980, "\(g.width)x\(g.height)")
        let under = ImageFacts(format: "gif", mime: "image/gif", sizeBytes: 10_000_000, width: 1000, height: 900,
                               orientation: 1, colorSpace: "srgb", bands: 3, bitDepth: 8, hasAlpha: false,
                               hasICCProfile: false, pages: 300, metadata: [])
        let whole = try #require(x.renditions(for: under).first)
        #expect(RenditionGeometry.plan(sourceWidth: 1000, sourceHeight: 900, spec: whole, aspect: nil, fit: .reject).width == 1000)
    }

    /// The same rule end to end, on a small GIF: X's preset replaced by name (as an operator would)
    /// with a budget the 400x300 GIF of 40 frames (4.8 M pixels) is over.
    @Test func aGIFOverThePixelBudgetIsScaledDownNotRefused() async throws {
        let gif = try await Tool.detached { try AnimatedGIFTests.gif.get() }
        var x = try PresetCatalog().preset(named: "x")
        x.image?.animation?.maxTotalPixels = 2_400_000
        var catalog = PresetCatalog()
        try catalog.add(json: JSONEncoder().encode([x]), source: "narrowed-x.json")
        let harness = try PipelineHarness(presets: catalog)
        let item = try await harness.pipeline.ingest(path: gif, options: IngestOptions(preset: "x"))
        let display = try #require(item.renditions.first)
        #expect(display.format == .gif)
        #expect(display.width * display.height * 40 <= 2_400_000 && display.width >= 270, "\(display.width)x\(display.height)")
        #expect(item.warnings.contains("scaled the GIF down to fit x's 2400000 pixels in all (width x height x frames)"),
                "\(item.warnings)")
        let frames = try await Tool.check("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
                                                "-of", "csv=p=0", try #require(display.path)])
        #expect(String(decoding: frames.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "40")
    }

    /// Bluesky's lexicon allows 2,000,000 bytes now: a noisy photo that encodes to about 1.3 MB is
    /// kept at its quality and size, not squeezed under the old 1 MB.
    @Test func aBlueskyPhotoOfOnePointFiveMBStaysAboveOneMB() async throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let path = directory + "/noisy.jpg"
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=2000x1500",
                                  "-vf", "noise=alls=40:allf=t", "-frames:v", "1", "-q:v", "2", path])
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: path, options: IngestOptions(preset: "bluesky"))
        let display = try #require(item.renditions.first)
        #expect(display.bytes > 1_000_000 && display.bytes <= 2_000_000, "\(display.bytes) bytes")
        #expect(display.width == 2000, "not shrunk")
        #expect(!item.warnings.contains { $0.hasPrefix("re-encoded display at quality") }, "\(item.warnings)")
    }
}
