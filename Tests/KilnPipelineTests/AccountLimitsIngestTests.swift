import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// Per-account limits through the engine: a creator's shorter maximum refuses (or, asked to,
/// trims: `TrimTests`), a narrowed size is met, the narrowed rules are part of the item's id, and
/// the preflight says which limits it was told.
@Suite struct AccountLimitsIngestTests {
    /// X's limits follow the account's tier (TikTok's each creator's): the account's maximum refuses.
    @Test func anAccountsShorterMaximumRefusesWhatThePlatformWouldTake() async throws {
        let harness = try PipelineHarness()
        let long = IngestInput(path: Fixtures.sample("video/long-95s.mp4"))
        var options = IngestOptions()
        options.limits = ["x": AccountLimits(maxDurationSeconds: 60)]
        let told = try await harness.pipeline.preflight(IngestRequest(long, targets: ["x", "linkedin"], options: options))
        #expect(told[0].status == .rejected && told[0].error?.code == .media005, "\(told[0])")
        #expect(told[0].error?.details["max_duration"] == .double(60))
        #expect(told[0].limits == AccountLimits(maxDurationSeconds: 60), "the preflight says what it was told")
        #expect(told[1].error == nil && told[1].limits == nil, "linkedin is held to its own")
        let plain = try await harness.pipeline.preflight(IngestRequest(long, targets: ["x"]))
        #expect(plain[0].error == nil, "x's own 20 minutes take it")
        options.preset = "x"
        let error = await harness.failure("video/long-95s.mp4", options)
        #expect(error?.code == .media005 && error?.details["max_duration"] == .double(60))
    }

    @Test func aNarrowedSizeIsMetAndIsAnotherItem() async throws {
        let harness = try PipelineHarness()
        let photo = Fixtures.sample("photo.jpg")
        let own = try await harness.pipeline.ingest(path: photo, options: IngestOptions(preset: "bluesky"))
        var narrow = IngestOptions(preset: "bluesky")
        narrow.limits = ["bluesky": AccountLimits(maxBytes: 60_000, maxWidth: 800)]
        let item = try await harness.pipeline.ingest(path: photo, options: narrow)
        let display = try #require(item.renditions.first)
        #expect(display.bytes <= 60_000 && display.width <= 800, "\(display.bytes) bytes, \(display.width) wide")
        #expect(item.id != own.id, "the account's rules are part of the id")
        #expect(item.rules != own.rules, "the manifest names the narrowed rules")
        let again = try await harness.pipeline.ingest(path: photo, options: narrow)
        #expect(again.id == item.id, "the same limits find the same item")
    }

    @Test func aWiderLimitOrAStrayTargetIsTheRequestsAPI_001() async throws {
        let harness = try PipelineHarness()
        var wider = IngestOptions(preset: "x")
        wider.limits = ["x": AccountLimits(maxDurationSeconds: 7500)]
        let error = await harness.failure("video/h264-aac-faststart.mp4", wider)
        #expect(error?.code == .api001 && error?.message.contains("wider than x's 1200 s") == true, "\(String(describing: error))")
        var stray = IngestOptions(preset: "x")
        stray.limits = ["tiktok": AccountLimits(maxDurationSeconds: 60)]
        #expect(await harness.failure("photo.jpg", stray)?.code == .api001)
    }
}
