import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// `fit_duration=trim`: a video longer than its target allows is cut at the target's maximum
/// (a little short of it), with a warning; refused as before without it.
@Suite struct TrimTests {
    @Test func aTooLongVideoIsCutWhenAsked() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "five", "summary": "", "video": {"max_duration": 5}, "renditions": []}]"#.utf8),
                        source: "test")
        let harness = try PipelineHarness(presets: presets)
        // 8 s with a key frame every second and AAC: a stream the preset copies as it is.
        let clip = Fixtures.scratchDirectory("kiln-trim") + ".mp4"
        defer { try? FileManager.default.removeItem(atPath: clip) }
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi",
                                  "-i", "sine=frequency=440:sample_rate=48000", "-t", "8", "-c:v", "libx264", "-preset", "ultrafast",
                                  "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", clip])
        let refused = await harness.failure(clip, IngestOptions(preset: "five"))
        #expect(refused?.code == .media005 && refused?.message.contains("fit_duration=trim") == true)

        var options = IngestOptions(preset: "five")
        options.fitDuration = .trim
        let item = try await harness.pipeline.ingest(path: clip, options: options)
        #expect(item.warnings.contains { $0.hasPrefix("trimmed 8") && $0.contains("fit_duration=trim") }, "\(item.warnings)")
        #expect(item.warnings.contains { $0.hasPrefix("remuxed") }, "the cut keeps the stream copied: \(item.warnings)")
        #expect(item.options.fitDuration == .trim)
        let video = try #require(item.renditions.first { $0.name == "video" }?.path)
        let format = try #require(try await Tool.probe(video)["format"] as? [String: Any])
        let seconds = try #require(Double(format["duration"] as? String ?? ""))
        #expect(seconds <= 5 && seconds > 4.5, "cut at \(seconds) s")
        // Every stream ends by the cut; the copy's packets are the input's first ones.
        let kept = try await Tool.packetSizes(video, "v")
        #expect(kept == Array(try await Tool.packetSizes(clip, "v").prefix(kept.count)))

        // A transcode is cut as well, and a preflight says so.
        let long = Fixtures.sample("video/long-95s.mp4")
        // The account's own maximum (a per-account limit) is the one trimmed to.
        var feed = IngestOptions(preset: "instagram-feed")
        feed.fitDuration = .trim
        feed.limits = ["instagram-feed": AccountLimits(maxDurationSeconds: 60)]
        let told = try await harness.pipeline.preflight(IngestRequest(IngestInput(path: long), targets: ["instagram-feed"], options: feed))
        #expect(told[0].status == .changed && told[0].changes.contains { $0.hasPrefix("trimmed 95") })
        let cut = try await harness.pipeline.ingest(path: long, options: feed)
        let cutPath = try #require(cut.renditions.first { $0.name == "video" }?.path)
        let cutSeconds = Double((try await Tool.probe(cutPath)["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        #expect(cutSeconds <= 60 && cutSeconds > 59, "cut at \(cutSeconds) s")
        #expect(cut.id != (try? await harness.pipeline.ingest(path: long, options: IngestOptions(preset: "x")).id))
    }
}
