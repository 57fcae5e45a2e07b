import Foundation
import KilnCore
import KilnImaging
import KilnPipeline
import KilnStorage
import KilnTestSupport
import Testing

@Suite struct IngestTests {
    @Test func photoBecomesRenditionsWithAManifest() async throws {
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: Fixtures.sample("photo.jpg"))
        #expect(item.sourceSha256 == (try FileDigest.sha256(path: Fixtures.sample("photo.jpg"))))
        #expect(item.id == MediaIdentity.id(sourceSHA256: item.sourceSha256,
                                            options: MediaIdentity.options(IngestOptions(), preset: Preset.builtIn[0])))
        #expect(item.kind == .image && item.mime == "image/jpeg" && item.preset == "default")
        #expect(item.source.image?.width == 1200 && item.source.image?.height == 800)
        #expect(item.renditions.map(\.name) == ["display", "thumb"])
        #expect(item.renditions[0].width == 1200 && item.renditions[1].width == 320 && item.renditions[1].height == 213)
        #expect(item.thumbhash?.isEmpty == false)
        #expect(item.dominantColor?.hasPrefix("#") == true)
        #expect(item.warnings.contains("stripped GPS metadata"))
        #expect(Set(harness.publishedFiles) == ["\(item.id)/display.jpg", "\(item.id)/thumb.jpg", "\(item.id)/manifest.json"])
        for rendition in item.renditions {
            #expect(rendition.path == harness.out + "/\(item.id)/\(rendition.name).jpg")
            #expect(rendition.file == "\(rendition.name).jpg")
            let path = try #require(rendition.path)
            let facts = try #require(try await harness.pipeline.probe(path: path).image)
            #expect(facts.metadata.isEmpty, "\(rendition.name) keeps no metadata: \(facts.metadata)")
            #expect(facts.width == rendition.width)
        }
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: harness.out + "/\(item.id)/manifest.json"))) as? [String: Any]
        #expect(manifest?["id"] as? String == item.id)
        #expect(manifest?["dominant_color"] as? String == item.dominantColor)
    }

    @Test func sameBytesUnderAnotherNameAreTheSameItem() async throws {
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: Fixtures.sample("small.jpg"))
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        try FileManager.default.copyItem(atPath: Fixtures.sample("small.jpg"), toPath: directory + "/copy.bin")
        let again = try await harness.pipeline.ingest(path: directory + "/copy.bin")
        #expect(again.id == item.id)
        #expect(harness.publishedFiles.filter { $0.hasSuffix("manifest.json") }.count == 1)
    }

    @Test func scriptPayloadAfterTheJPEGIsNotInAnyOutput() async throws {
        let harness = try PipelineHarness()
        let source = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("payload.jpg")))
        let payload = Data("kiln-payload".utf8)
        #expect(source.range(of: payload) != nil, "the sample carries the payload")
        let item = try await harness.pipeline.ingest(path: Fixtures.sample("payload.jpg"))
        #expect(item.renditions.count == 2)
        for file in harness.publishedFiles {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: harness.out + "/" + file))
            #expect(bytes.range(of: payload) == nil, "\(file) contains the payload")
        }
    }

    @Test func fitCropAndPadMeetInstagramFeed() async throws {
        let harness = try PipelineHarness()
        let cropped = try await harness.pipeline.ingest(
            path: Fixtures.sample("panorama.jpg"), options: IngestOptions(preset: "instagram-feed", fit: .crop))
        #expect(cropped.renditions[0].width == 955 && cropped.renditions[0].height == 500)
        #expect(cropped.warnings.contains { $0.contains("cropped") })
        let padded = try await harness.pipeline.ingest(
            path: Fixtures.sample("panorama.jpg"), options: IngestOptions(preset: "instagram-feed", fit: .pad))
        #expect(padded.renditions[0].width == 1080 && padded.renditions[0].height == 565)
        #expect(padded.warnings.contains { $0.contains("padded") })
    }

    @Test func byteLimitIsMetByLoweringQuality() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "tight", "summary": "", "image": {}, "renditions": [{"name": "display", "long_edge": 1200, "quality": 95, "max_bytes": 60000}]}]"#.utf8), source: "test")
        let harness = try PipelineHarness(presets: presets)
        let item = try await harness.pipeline.ingest(path: Fixtures.sample("photo.jpg"), options: IngestOptions(preset: "tight"))
        #expect(item.renditions[0].bytes <= 60000)
        #expect(item.warnings.contains { $0.hasPrefix("re-encoded display at quality") })
    }

    @Test func keepOriginalStoresItByteForByteMarkedUnsanitized() async throws {
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: Fixtures.sample("photo.jpg"), options: IngestOptions(keepOriginal: true))
        let original = try #require(item.original)
        #expect(original.sanitized == false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: try #require(original.path)))
            == Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
    }

    @Test func carouselOfTwoPublishesItemsAndAManifest() async throws {
        let harness = try PipelineHarness()
        let result = try await harness.pipeline.ingest(IngestRequest(
            carousel: [IngestInput(path: Fixtures.sample("photo.jpg"), name: "photo.jpg"),
                       IngestInput(path: Fixtures.sample("photo.webp"), name: "photo.webp")],
            options: IngestOptions(type: .carousel))).carousel()
        #expect(result.items.count == 2)
        #expect(result.carousel.items == result.items.map(\.id))
        #expect(harness.publishedFiles.contains("\(result.carousel.id)/manifest.json"))
    }

    @Test func allInputFormatsGoThroughThePipeline() async throws {
        let harness = try PipelineHarness()
        for file in ["photo.heic", "photo.avif", "photo.webp", "photo.jxl", "photo.gif", "photo.tiff", "rgba16.png",
                     "grey.png", "cmyk.jpg"] {
            let item = try await harness.pipeline.ingest(path: Fixtures.sample(file))
            #expect(item.renditions.count == 2, "\(file)")
        }
    }

    @Test func concurrentIngestsKeepTheirOwnErrors() async throws {
        // Four at a time, the rest queued: every job runs, none is refused.
        let harness = try PipelineHarness(limits: ExecutionLimits(jobs: 4, queueDepth: 64))
        let pipeline = harness.pipeline
        let cases: [(String, ErrorCode?)] = [("photo.jpg", nil), ("bad/truncated.jpg", .file005), ("bad/bomb.png", .media003),
                                             ("bad/text.txt", .file003), ("grey.png", nil), ("bad/truncated.png", .file005)]
        await withTaskGroup(of: (String, ErrorCode?, ErrorCode?).self) { group in
            for round in 0..<3 {
                for (file, expected) in cases {
                    group.addTask {
                        do {
                            _ = try await pipeline.ingest(path: Fixtures.sample(file), name: "\(round)-\(file)")
                            return (file, expected, nil)
                        } catch {
                            return (file, expected, (error as? KilnError)?.code)
                        }
                    }
                }
            }
            for await (file, expected, actual) in group { #expect(expected == actual, "\(file)") }
        }
    }
}

/// libvips keeps one error buffer for the whole process: concurrent failures must still each
/// report their own decoder's message.
@Suite struct ErrorIsolationTests {
    @Test func concurrentFailuresKeepTheirOwnMessages() async throws {
        let harness = try PipelineHarness(limits: ExecutionLimits(jobs: 4, queueDepth: 64))
        let pipeline = harness.pipeline
        let cases = [("bad/truncated.jpg", "jpeg"), ("bad/truncated.png", "png")]
        let results = await withTaskGroup(of: (String, KilnError?).self) { group in
            for round in 0..<8 {
                for (file, format) in cases {
                    group.addTask {
                        do {
                            _ = try await pipeline.ingest(path: Fixtures.sample(file), name: "\(round)-\(file)")
                            return (format, nil)
                        } catch {
                            return (format, error as? KilnError)
                        }
                    }
                }
            }
            var all: [(String, KilnError?)] = []
            for await result in group { all.append(result) }
            return all
        }
        for (format, error) in results {
            #expect(error?.code == .file005, "\(format): \(error?.message ?? "")")
            let message = error?.message.lowercased() ?? ""
            let other = format == "jpeg" ? "png" : "jpeg"
            #expect(!message.contains(other == "jpeg" ? "vipsjpeg" : "png"), "a \(format) failure reported: \(message)")
        }
    }
}
