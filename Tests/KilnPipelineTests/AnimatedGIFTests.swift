import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// An animated GIF for platforms that do not show GIFs as they are (Instagram, Threads,
/// Facebook): published as an MP4 under the preset's video rules; a still GIF stays an image.
@Suite struct AnimatedGIFTests {
    /// 4 s of 400x300 at 10 frames a second, made once with the ffmpeg CLI.
    static let gif: Result<String, Tool.Failure> = Result { () throws(Tool.Failure) in
        let path = Fixtures.scratchDirectory("kiln-gif") + ".gif"
        do {
            try Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=400x300:rate=10:duration=4",
                                      "-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse", path])
            return path
        } catch { throw Tool.Failure(description: "\(error)") }
    }

    @Test func anAnimatedGIFBecomesAnMP4WhereGIFsDoNotAnimate() async throws {
        let gif = try Self.gif.get()
        let harness = try PipelineHarness()
        let request = IngestRequest(IngestInput(path: gif, name: "anim.gif"), targets: ["instagram-feed", "threads", "x"])
        let told = try await harness.pipeline.preflight(request)
        #expect(told[0].changes.contains("transcoded GIF to H.264"), "\(told[0].changes)")
        let result = try await harness.pipeline.ingest(request)
        for outcome in result.outcomes.prefix(2) {
            let item = try #require(outcome.items.first, "\(outcome.target): \(String(describing: outcome.error))")
            #expect(item.kind == .video && item.mime == "image/gif")
            #expect(item.warnings.contains { $0.hasPrefix("raised the frame rate from 10 to 23") }, "\(item.warnings)")
            let video = try #require(item.renditions.first { $0.name == "video" }?.path)
            let probed = try Tool.probe(video)
            let stream = try #require((probed["streams"] as? [[String: Any]])?.first)
            #expect(stream["codec_name"] as? String == "h264" && stream["r_frame_rate"] as? String == "23/1")
            let seconds = Double((probed["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
            #expect(abs(seconds - 4) < 0.2, "the animation's whole length: \(seconds) s")
            #expect(item.rules?.hasPrefix(outcome.target + "@") == true, "the MP4 passed the output check")
        }
        // X shows GIFs: there it is an image.
        #expect(result.outcomes[2].items.first?.kind == .image)
        // A GIF of one frame is a still everywhere.
        let still = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("photo.gif")),
                                                                    targets: ["instagram-feed"], options: IngestOptions(fit: .crop)))
        #expect(still.outcomes[0].items.first?.kind == .image, "\(still.outcomes[0])")
    }
}
