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
        let gif = try await Tool.detached { try Self.gif.get() }
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
            let probed = try await Tool.probe(video)
            let stream = try #require((probed["streams"] as? [[String: Any]])?.first)
            #expect(stream["codec_name"] as? String == "h264" && stream["r_frame_rate"] as? String == "23/1")
            let seconds = Double((probed["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
            #expect(abs(seconds - 4) < 0.2, "the animation's whole length: \(seconds) s")
            #expect(item.rules?.hasPrefix(outcome.target + "@") == true, "the MP4 passed the output check")
        }
        // X shows GIFs: kept one, every frame, within X's GIF limits.
        let kept = try #require(result.outcomes[2].items.first)
        #expect(kept.kind == .image && kept.warnings.contains("kept the animation (40 frames) as a GIF"), "\(kept.warnings)")
        let display = try #require(kept.renditions.first)
        #expect(display.format == .gif && display.width == 400 && display.height == 300 && display.bytes <= 15_000_000)
        let frames = try await Tool.check("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
                                                "-of", "csv=p=0", try #require(display.path)])
        #expect(String(decoding: frames.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "40")
        #expect(kept.renditions.last?.format == .jpeg, "the thumb is a still")
        // More frames than X takes: refused for X alone.
        let long = Fixtures.scratchDirectory("kiln-gif-long") + ".gif"
        defer { try? FileManager.default.removeItem(atPath: long) }
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=36", long])
        let tooMany = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: long), targets: ["x", "threads"]))
        #expect(tooMany.outcomes[0].error?.code == KilnError.frameCount(360, max: 350).code, "\(tooMany.outcomes[0])")
        #expect(tooMany.outcomes[1].error == nil, "Threads takes it as a video")
        // A GIF of one frame is a still everywhere.
        let still = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("photo.gif")),
                                                                    targets: ["instagram-feed"], options: IngestOptions(fit: .crop)))
        #expect(still.outcomes[0].items.first?.kind == .image, "\(still.outcomes[0])")
    }

    @Test func aGIFShorterThanTheMinimumLoopsUpToIt() async throws {
        let short = Fixtures.scratchDirectory("kiln-gif-short") + ".gif"
        defer { try? FileManager.default.removeItem(atPath: short) }
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1.2", short])
        let harness = try PipelineHarness()
        // Instagram's feed asks for 3 s: 1.2 s plays three times (3.6 s), as the GIF would loop.
        let request = IngestRequest(IngestInput(path: short, name: "short.gif"), targets: ["instagram-feed"])
        let told = try await harness.pipeline.preflight(request)
        #expect(told[0].changes.contains { $0.hasPrefix("looped the 1.2 s GIF 3 times") }, "\(told[0])")
        let item = try await harness.pipeline.ingest(request).item()
        #expect(item.warnings.contains { $0.hasPrefix("looped the 1.2 s GIF 3 times") }, "\(item.warnings)")
        let video = try #require(item.renditions.first { $0.name == "video" }?.path)
        let probed = try await Tool.probe(video)
        let seconds = Double((probed["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        #expect(abs(seconds - 3.6) < 0.2, "three plays: \(seconds) s")
        #expect(item.rules?.hasPrefix("instagram-feed@") == true, "the MP4 passed the output check")
        // Frames in order across the plays: three times the first play's pictures, none out of time.
        let times = try await Tool.check("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time",
                                               "-of", "csv=p=0", video])
        let stamps = String(decoding: times.stdout, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        #expect(stamps.count > 60 && zip(stamps, stamps.dropFirst()).allSatisfy { $0 < $1 }, "\(stamps.count) frames")
    }
}
