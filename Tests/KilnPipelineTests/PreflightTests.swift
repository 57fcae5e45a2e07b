import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// Preflight: what each target would make of a file, from its headers, agreeing with what the
/// upload then gets; nothing stored, and a stream read only as far as the answer needs.
@Suite struct PreflightTests {
    static let targets = ["instagram-feed", "x", "linkedin", "bluesky", "pinterest"]

    @Test(arguments: ["photo.jpg", "panorama.jpg", "small.jpg", "photo.webp", "orient-6.jpg", "cmyk.jpg", "photo.heic"])
    func thePreflightTellsWhatTheUploadGets(_ sample: String) async throws {
        let harness = try PipelineHarness()
        let request = IngestRequest(IngestInput(path: Fixtures.sample(sample)), targets: Self.targets)
        let previews = try await harness.pipeline.preflight(request)
        #expect(harness.publishedFiles.isEmpty, "a preflight stores nothing")
        let outcomes = try await harness.pipeline.ingest(request).outcomes
        for (preview, outcome) in zip(previews, outcomes) {
            #expect(preview.target == outcome.target)
            #expect(preview.status == outcome.status, "\(sample) for \(preview.target): told \(preview.changes), got \(outcome.warnings)")
            #expect(preview.error?.code == outcome.error?.code)
            // What it said it would change, the upload says it changed.
            let said = Set(outcome.warnings)
            for change in preview.changes where !change.hasPrefix("resized") && !change.hasPrefix("re-encoded") {
                #expect(said.contains(change), "\(sample) for \(preview.target): \(change) not in \(said)")
            }
        }
    }

    @Test func aVideoIsToldFromItsHeader() async throws {
        let harness = try PipelineHarness()
        let long = try await harness.pipeline.preflight(IngestRequest(
            IngestInput(path: Fixtures.sample("video/long-95s.mp4")), targets: ["facebook-reel", "youtube-shorts", "default"]))
        #expect(long[0].status == .rejected && long[0].error?.code == .media005, "95 s is over Facebook's 90 s")
        #expect(long[0].error?.message.contains("90") == true)
        let clip = try await harness.pipeline.preflight(IngestRequest(
            IngestInput(path: Fixtures.sample("video/vp9-opus.webm")), targets: ["default", "youtube-shorts"]))
        #expect(clip[0].status == .changed)
        #expect(clip[0].changes.contains { $0.contains("H.264") } && clip[0].changes.contains { $0.contains("AAC") }, "\(clip[0].changes)")
        #expect(!clip[0].unchecked.isEmpty, "key frames are read from packets, after the upload")
        #expect(harness.publishedFiles.isEmpty)
    }

    /// Chunks of `size` bytes of a file, as an upload arrives, counting what was taken.
    final class Chunks: AsyncSequence, @unchecked Sendable {
        typealias Element = [UInt8]
        let bytes: [UInt8]
        let size: Int
        var taken = 0

        init(_ path: String, size: Int) throws {
            bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            self.size = size
        }

        struct AsyncIterator: AsyncIteratorProtocol {
            let chunks: Chunks
            mutating func next() async -> [UInt8]? {
                guard chunks.taken < chunks.bytes.count else { return nil }
                let end = Swift.min(chunks.bytes.count, chunks.taken + chunks.size)
                defer { chunks.taken = end }
                return Array(chunks.bytes[chunks.taken..<end])
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
    }

    @Test func aStreamIsReadOnlyAsFarAsTheAnswerNeeds() async throws {
        let harness = try PipelineHarness()
        // A JPEG's header is in its first bytes: the rest is never taken from the stream.
        let photo = try Chunks(Fixtures.sample("panorama.jpg"), size: 8 << 10)
        let told = try await harness.pipeline.preflight(stream: photo, name: "panorama.jpg", size: Int64(photo.bytes.count),
                                                        targets: ["x", "instagram-feed"])
        #expect(told.previews.map(\.status) == [.accepted, .rejected])
        #expect(!told.ended && told.bytesRead < Int64(photo.bytes.count) && photo.taken < photo.bytes.count)
        // Its whole size is held to the limits, not the part read.
        let over = try await harness.pipeline.preflight(stream: try Chunks(Fixtures.sample("photo.jpg"), size: 8 << 10),
                                                        name: "photo.jpg", size: 60 << 20, targets: ["x"])
        #expect(over.previews[0].error?.code == .file004 && !over.ended)
        await #expect {
            try await harness.pipeline.preflight(stream: try Chunks(Fixtures.sample("photo.jpg"), size: 8 << 10), name: "photo.jpg",
                                                 size: 60 << 30, targets: ["x"])
        } throws: { ($0 as? KilnError)?.code == .file004 }
        let tooBig = try await harness.pipeline.preflight(stream: try Chunks(Fixtures.sample("photo.jpg"), size: 8 << 10),
                                                          name: "photo.jpg", size: 30 << 20, targets: ["x", "bluesky"])
        #expect(tooBig.previews.allSatisfy { $0.status == .changed }, "\(tooBig.previews)")
        // A video with its moov at the end is read to there; with the moov first, not.
        let late = try Chunks(Fixtures.sample("video/h264-aac-moov-end.mp4"), size: 8 << 10)
        let lateTold = try await harness.pipeline.preflight(stream: late, name: "late.mp4", size: Int64(late.bytes.count),
                                                            targets: ["default"])
        #expect(lateTold.previews[0].error == nil && lateTold.ended, "\(lateTold.previews)")
        let early = try Chunks(Fixtures.sample("video/h264-aac-faststart.mp4"), size: 8 << 10)
        let earlyTold = try await harness.pipeline.preflight(stream: early, name: "early.mp4", size: Int64(early.bytes.count),
                                                             targets: ["default"])
        #expect(earlyTold.previews[0].error == nil && !earlyTold.ended && early.taken < early.bytes.count)
        #expect(earlyTold.previews[0].changes == lateTold.previews[0].changes)
        // A size unknown: read whole.
        let whole = try Chunks(Fixtures.sample("panorama.jpg"), size: 8 << 10)
        let wholeTold = try await harness.pipeline.preflight(stream: whole, name: "p.jpg", size: nil, targets: ["x"])
        #expect(wholeTold.ended && whole.taken == whole.bytes.count)
        #expect(Fixtures.files(under: harness.pipeline.temporaryDirectory).filter { !$0.hasSuffix("/") }.isEmpty
                    || Fixtures.files(under: harness.pipeline.temporaryDirectory).allSatisfy { !$0.contains("upload-") },
                "no temp file is left")
    }
}
