import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// One upload, several targets: received, sniffed, probed and hashed once, an image decoded once,
/// and one outcome per target, a refused target losing no other.
@Suite struct TargetsTests {
    static let fourImageTargets = ["instagram-feed", "x", "linkedin", "bluesky"]

    @Test func fourImageTargetsFromOneDecode() async throws {
        let harness = try PipelineHarness()
        let result = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("photo.jpg")),
                                                                     targets: Self.fourImageTargets))
        #expect(result.outcomes.map(\.target) == Self.fourImageTargets)
        #expect(result.decodes == 1, "eight renditions for four targets from one decode")
        #expect(result.outcomes.allSatisfy { $0.status == .changed }, "metadata was stripped: \(result.outcomes.map(\.status))")
        let items = result.outcomes.compactMap(\.items.first)
        #expect(Set(items.map(\.id)).count == 4 && Set(items.map(\.sourceSha256)).count == 1)
        for (outcome, item) in zip(result.outcomes, items) {
            let preset = try harness.pipeline.resolve(outcome.target)
            #expect(item.preset == outcome.target && item.rules?.hasPrefix(outcome.target + "@") == true)
            for (rendition, spec) in zip(item.renditions, preset.renditions) {
                #expect(rendition.width <= spec.maxWidth && rendition.height <= spec.maxHeight)
                if let limit = spec.maxBytes { #expect(rendition.bytes <= limit) }
                #expect(harness.publishedFiles.contains("\(item.id)/\(rendition.file)"))
            }
        }
        // Each is the item its preset alone makes: the same id, and every rendition the size its
        // plan gives from the source (a derived one is not a pixel short).
        let alone = try await PipelineHarness().pipeline.ingest(path: Fixtures.sample("photo.jpg"),
                                                                options: IngestOptions(preset: "bluesky"))
        #expect(alone.id == items[3].id)
        #expect(alone.renditions.map(\.width) == items[3].renditions.map(\.width))
        guard case .image(let facts) = alone.source else { throw KilnError.internalError("no image facts") }
        for (outcome, item) in zip(result.outcomes, items) {
            let preset = try harness.pipeline.resolve(outcome.target)
            for (rendition, spec) in zip(item.renditions, preset.renditions) {
                let plan = RenditionGeometry.plan(sourceWidth: facts.displayWidth, sourceHeight: facts.displayHeight,
                                                  spec: spec, aspect: preset.image?.aspect, fit: .reject)
                #expect(rendition.width == plan.width && rendition.height == plan.height, "\(outcome.target) \(spec.name)")
            }
        }
        // Made once, linked to each: X's and LinkedIn's displays are one file, every thumb another.
        #expect(items[1].renditions[0].sha256 == items[2].renditions[0].sha256)
        #expect(Set(items.map { $0.renditions[1].sha256 }).count == 1)
        #expect(Fixtures.files(under: harness.out + "/.staging").isEmpty, "the shared renditions are gone")
        // Asked again: every target's item is found stored, nothing is decoded.
        let again = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("photo.jpg")),
                                                                    targets: Self.fourImageTargets))
        #expect(again.decodes == 0 && again.outcomes.allSatisfy { $0.items.first?.reused == true })
        #expect(again.outcomes.compactMap(\.items.first?.id) == items.map(\.id))
    }

    @Test func aRefusedTargetLosesNoOther() async throws {
        let harness = try PipelineHarness()
        // 3:1 is outside Instagram's 4:5 to 1.91:1 and fits X and Bluesky as it is.
        let result = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("panorama.jpg")),
                                                                     targets: ["x", "instagram-feed", "bluesky"]))
        #expect(result.outcomes.map(\.status) == [.accepted, .rejected, .accepted])
        #expect(result.outcomes[1].error?.code == .media004 && result.outcomes[1].failedItem == nil)
        #expect(TargetOutcome.tally(result.outcomes) == .some)
        let published = Set(harness.publishedFiles.compactMap { $0.split(separator: "/").first.map(String.init) })
        #expect(published == Set(result.outcomes.compactMap(\.items.first?.id)))
        // Crop asked: Instagram's is then changed, and says how.
        var options = IngestOptions()
        options.fit = .crop
        let cropped = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("panorama.jpg")),
                                                                      targets: ["instagram-feed"], options: options))
        #expect(cropped.outcomes[0].status == .changed)
        #expect(cropped.outcomes[0].warnings.contains { $0.contains("cropped") })
    }

    @Test func aCarouselNamesTheItemATargetRefused() async throws {
        let harness = try PipelineHarness()
        let inputs = [IngestInput(path: Fixtures.sample("photo.jpg"), name: "photo.jpg"),
                      IngestInput(path: Fixtures.sample("panorama.jpg"), name: "panorama.jpg"),
                      IngestInput(path: Fixtures.sample("photo.webp"), name: "photo.webp")]
        let result = try await harness.pipeline.ingest(IngestRequest(carousel: inputs, targets: ["instagram-feed", "x", "pinterest"]))
        let (instagram, x, pinterest) = (result.outcomes[0], result.outcomes[1], result.outcomes[2])
        #expect(instagram.status == .rejected && instagram.error?.code == .media004)
        #expect(instagram.failedItem == TargetOutcome.FailedItem(index: 1, name: "panorama.jpg"))
        #expect(x.error == nil && x.carousel?.items == x.items.map(\.id) && x.items.count == 3)
        #expect(pinterest.error == nil && pinterest.carousel != nil)
        #expect(result.decodes == 3, "each input decoded once for its two targets")
        // Nothing of Instagram's carousel is published: only X's and Pinterest's items and carousels.
        let published = Set(harness.publishedFiles.compactMap { $0.split(separator: "/").first.map(String.init) })
        let made = [x, pinterest].flatMap { $0.items.map(\.id) + [$0.carousel?.id ?? ""] }
        #expect(published == Set(made))
        #expect(Fixtures.files(under: harness.out + "/.staging").isEmpty)

        // A count one target does not take: that target alone is refused, with no item named.
        let five = Array(repeating: IngestInput(path: Fixtures.sample("photo.jpg"), name: "photo.jpg"), count: 5)
        let counted = try await harness.pipeline.ingest(IngestRequest(carousel: five, targets: ["x", "instagram-feed"]))
        #expect(counted.outcomes[0].error?.code == .media002 && counted.outcomes[0].failedItem == nil)
        #expect(counted.outcomes[1].error == nil && counted.outcomes[1].items.count == 5)
    }

    @Test func whatNoTargetCanOutliveIsThrownOrRefusesThemAll() async throws {
        let harness = try PipelineHarness()
        await #expect {
            try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("photo.jpg")), targets: ["x", "nope"]))
        } throws: { ($0 as? KilnError)?.code == .api001 }
        // The input itself is bad: every target refused with the same code.
        let result = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: Fixtures.sample("bad/truncated.jpg")),
                                                                     targets: ["x", "bluesky"]))
        #expect(result.outcomes.allSatisfy { $0.error?.code == .file005 })
        #expect(TargetOutcome.tally(result.outcomes) == .none)
        #expect(harness.publishedFiles.isEmpty)
    }

    @Test func oneVideoForSeveralTargets() async throws {
        let harness = try PipelineHarness()
        let result = try await harness.pipeline.ingest(IngestRequest(
            IngestInput(path: Fixtures.sample("video/h264-aac-faststart.mp4")), targets: ["default", "youtube-shorts", "x"]))
        // 4:3 is wider than a Short may be.
        #expect(result.outcomes.map { $0.error?.code } == [nil, .media004, nil])
        for outcome in [result.outcomes[0], result.outcomes[2]] {
            let item = try #require(outcome.items.first)
            #expect(item.kind == .video && item.renditions.contains { $0.name == "video" })
            #expect(item.rules?.hasPrefix(outcome.target + "@") == true)
        }
        #expect(result.decodes == 0)
    }

    @Test func targetsWhosePlansMatchShareOneEncode() async throws {
        // 5 s of 640x360 H.264 and AAC, padded: to the 9:16 native frame of reels and stories (their
        // plans match), and kept 16:9 for Pinterest, which has no frame of its own.
        let clip = Fixtures.scratchDirectory("kiln-shared-encode") + ".mp4"
        defer { try? FileManager.default.removeItem(atPath: clip) }
        try await Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=5",
                                  "-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-c:v", "libx264", "-preset", "ultrafast",
                                  "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip])
        let harness = try PipelineHarness()
        var options = IngestOptions()
        options.fit = .pad
        let targets = ["instagram-reel", "instagram-story", "pinterest"]
        let result = try await harness.pipeline.ingest(IngestRequest(IngestInput(path: clip), targets: targets, options: options))
        #expect(result.outcomes.allSatisfy { $0.error == nil }, "\(result.outcomes.map { $0.error?.message })")
        let videos = result.outcomes.map { $0.items.first?.renditions.first { $0.name == "video" }?.sha256 }
        // The reel and the story plan the same encode: made once, linked to both. Pinterest's is its own.
        #expect(videos[0] != nil && videos[0] == videos[1] && videos[2] != videos[0])
        #expect(result.encodes == 2, "one shared, one of its own")
        #expect(result.outcomes.map { $0.items.first?.id }.compactMap { $0 }.count == 3)
        #expect(Fixtures.files(under: harness.out + "/.staging").isEmpty)
        // Each keeps its own words: a warning names its own preset, never the other's.
        for outcome in result.outcomes {
            let others = targets.filter { $0 != outcome.target }
            #expect(!outcome.warnings.contains { warning in others.contains { warning.contains("\($0)'s") } })
        }
    }
}
