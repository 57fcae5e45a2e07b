import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Synchronization
import Testing

/// The video path through the pipeline: the envelope's item, renditions, and every code.
@Suite struct VideoIngestTests {
    func clip(_ name: String) -> String { Fixtures.sample("video/" + name) }

    @Test func moovAtTheEndIsRemuxedWithPosterThumbAndPlaceholder() async throws {
        let harness = try PipelineHarness()
        let events = Mutex<[JobProgress]>([])
        let item = try await harness.pipeline.ingest(
            path: clip("h264-aac-moov-end.mp4"),
            options: IngestOptions(progress: { event in events.withLock { $0.append(event) } }))
        #expect(item.kind == .video && item.mime == "video/mp4")
        #expect(item.renditions.map(\.name) == ["video", "poster", "thumb"])
        #expect(item.renditions[0].format == .mp4 && item.renditions[0].width == 320)
        #expect(item.warnings.contains { $0.hasPrefix("remuxed") })
        #expect(item.source.video?.duration ?? 0 > 2.9)
        #expect(item.thumbhash?.isEmpty == false && item.dominantColor?.hasPrefix("#") == true)
        let seen = events.withLock { $0 }
        #expect(seen.first?.stage == .checked && seen.last?.stage == .done)
        #expect(seen.map(\.stage).contains(.storing))
        #expect(seen.filter { $0.stage == .processing }.last?.fraction == 1, "processing ends at 100%")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.overall <= $1.overall }, "overall progress never goes back")
        for rendition in item.renditions { #expect(FileManager.default.fileExists(atPath: rendition.path ?? "")) }
    }

    @Test func ninetyFiveSecondsUnderFacebookReelsIsMEDIA_005() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("video/long-95s.mp4", IngestOptions(preset: "facebook-reel"))
        #expect(error?.code == .media005)
        #expect(error?.details["max_duration"] == .double(90))
        #expect(error?.details["min_duration"] == .double(3))
    }

    /// A rule Kiln's encoder does not meet (a preset asking for Main profile, which x264 at
    /// `profile=high` never writes) is caught by reading the output back: PROCESSING_006 names
    /// the rendition, the rule, the value and the limit, and nothing is published.
    @Test func anOutputBreakingItsRuleIsNeverPublished() async throws {
        var catalog = PresetCatalog()
        try catalog.add(json: Data("""
            [{"name": "main-only", "summary": "H.264 Main only", "video": {"output": {"profiles": ["Main"]}},
              "renditions": [{"name": "thumb", "long_edge": 320}]}]
            """.utf8), source: "test")
        let harness = try PipelineHarness(presets: catalog)
        let error = await harness.failure("video/hevc10-rotated.mp4", IngestOptions(preset: "main-only"))
        #expect(error?.code == .processing006, "\(String(describing: error))")
        #expect(error?.details["rule"] == .string("profile") && error?.details["measured"] == .string("High"))
        #expect(error?.details["rendition"] == .string("video") && error?.details["limit"] == .string("Main"))
    }

    @Test func songDeclaredAsVideoIsMEDIA_001() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("video/audio.m4a", IngestOptions(type: .video))
        #expect(error?.code == .media001 && error?.details["actual"] == "audio")
        #expect(await harness.failure("video/audio.m4a")?.code == .file003, "without --type it is just unsupported")
    }

    @Test func videoContainerWithoutVideoIsMEDIA_006() async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure("video/audio-only.webm")?.code == .media006)
    }

    @Test(arguments: ["video/truncated.mp4", "video/truncated-no-moov.mp4"])
    func truncatedMP4IsFILE_005(name: String) async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure(name)?.code == .file005)
    }

    @Test func imageUnderAVideoOnlyPresetIsMEDIA_001() async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure("photo.jpg", IngestOptions(preset: "instagram-reel"))?.code == .media001)
        #expect(await harness.failure("video/no-audio.mp4", IngestOptions(type: .image))?.code == .media001)
    }

    @Test func frameRateAndSizeRulesFromAUserPreset() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"""
            [{"name": "fast", "summary": "", "video": {"min_frame_rate": 48}, "renditions": []},
             {"name": "big", "summary": "", "video": {"min_width": 640, "min_height": 360}, "renditions": []}]
            """#.utf8), source: "test")
        let harness = try PipelineHarness(presets: presets)
        // Too slow is fixed, not refused: frames repeated up to the preset's slowest rate.
        let slow = try await PipelineHarness(presets: presets).pipeline.ingest(path: Fixtures.sample("video/no-audio.mp4"),
                                                                                options: IngestOptions(preset: "fast"))
        #expect(slow.warnings.contains { $0.hasPrefix("raised the frame rate from") && $0.contains("to 48 fps") }, "\(slow.warnings)")
        let small = await harness.failure("video/no-audio.mp4", IngestOptions(preset: "big"))
        #expect(small?.code == .media003 && small?.details["min_width"] == .int(640))
    }

    @Test func aspectUnderStoryIsMEDIA_004AndPadMeetsIt() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("video/h264-aac-faststart.mp4", IngestOptions(preset: "instagram-story"))
        #expect(error?.code == .media004)
        let item = try await harness.pipeline.ingest(path: clip("h264-aac-faststart.mp4"),
                                                     options: IngestOptions(preset: "instagram-story", fit: .pad))
        #expect(item.renditions[0].width == 320 && item.renditions[0].height == 568)
        #expect(item.renditions[1].height == 568, "the poster is padded like the video")
    }

    @Test func oversizeVideoIsFILE_004FromStat() async throws {
        let harness = try PipelineHarness()
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let huge = try Fixtures.sparseCopy(of: clip("no-audio.mp4"), size: 600 << 20, in: directory)
        let error = await harness.failure(huge, IngestOptions(preset: "linkedin"))
        #expect(error?.code == .file004 && error?.details["limit_bytes"] == .int(500_000_000))
        #expect(error?.message.contains("videos") == true)
    }

    @Test func deadlineIsPROCESSING_003AndPublishesNothing() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("video/vp9-opus.webm", IngestOptions(timeout: .nanoseconds(1)))
        #expect(error?.code == .processing003)
    }

    @Test func cancellingTheCallersTaskStopsTheJob() async throws {
        let harness = try PipelineHarness()
        let pipeline = harness.pipeline
        let path = clip("vp9-opus.webm")
        let task = Task { () async throws -> MediaItem in
            // Cancelled before the job starts: the cancellation handler fires at once.
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pipeline.ingest(path: path)
        }
        await #expect {
            try await task.value
        } throws: { error in
            (error as? KilnError)?.code == .processing005
        }
        #expect(harness.publishedFiles.isEmpty)
    }
}
