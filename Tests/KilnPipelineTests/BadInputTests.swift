import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Synchronization
import Testing

/// Every bad input gets its catalog code, a message that says what to do, and leaves nothing behind.
@Suite struct BadInputTests {
    @Test func emptyFileIsFILE_001() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("bad/empty.jpg")
        #expect(error?.code == .file001)
        #expect(error?.message.contains("empty") == true)
    }

    @Test func missingPathIsFILE_002() async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure("no-such-file.jpg")?.code == .file002)
        #expect(await harness.failure("bad")?.code == .file002, "a directory is not a file")
    }

    @Test(arguments: ["bad/text.txt", "bad/doc.pdf", "bad/image.svg", "make-samples.sh"])
    func nonImagesAreFILE_003(sample: String) async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure(sample)
        #expect(error?.code == .file003)
        #expect(error?.details["mime"] != nil)
    }

    @Test func oversizeImageIsFILE_004WithoutReadingIt() async throws {
        let harness = try PipelineHarness()
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        // 60 MiB, sparse: a JPEG header then holes. Reading it whole would still "work"; the
        // size check must come first and say so.
        let huge = try Fixtures.sparseCopy(of: Fixtures.sample("photo.jpg"), size: 60 << 20, in: directory)
        let error = await harness.failure(huge)
        #expect(error?.code == .file004)
        #expect(error?.details["limit_bytes"] == .int(50 << 20))
        #expect(error?.details["size_bytes"] == .int(60 << 20))
        #expect(error?.message == "File size exceeded: 60 MB is over the 50 MB limit for images")
    }

    @Test(arguments: ["bad/truncated.jpg", "bad/truncated.png", "bad/corrupt.jpg"])
    func truncatedOrCorruptIsFILE_005(sample: String) async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure(sample)?.code == .file005)
    }

    @Test func pixelBombIsMEDIA_003BeforeDecode() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("bad/bomb.png")
        #expect(error?.code == .media003)
        #expect(error?.details["pixels"] == .int(625_000_000))
        #expect(error?.details["max_pixels"] == .int(100_000_000))
    }

    @Test func panoramaUnderInstagramFeedIsMEDIA_004() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("panorama.jpg", IngestOptions(preset: "instagram-feed"))
        #expect(error?.code == .media004)
        #expect(error?.details["min_aspect"] == .double(0.8))
        #expect(error?.details["max_aspect"] == .double(1.91))
        #expect(error?.details["aspect"] == .double(3.0))
        #expect(error?.message.contains("--fit crop") == true)
    }

    /// Instagram enlarges a narrow picture itself (so Kiln does, `FixNotRefuseTests`); a preset
    /// that sets a smallest input still refuses below it.
    @Test func tooSmallForAPresetsSmallestInputIsMEDIA_003() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "wide", "summary": "", "image": {"min_width": 320}, "renditions": [{"name": "display", "long_edge": 1080}]}]"#.utf8),
                        source: "test")
        let harness = try PipelineHarness(presets: presets)
        let error = await harness.failure("small.jpg", IngestOptions(preset: "wide"))
        #expect(error?.code == .media003)
        #expect(error?.details["min_width"] == .int(320))
        #expect(error?.details["width"] == .int(200))
    }

    @Test func declaringAnImageAsVideoIsMEDIA_001() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("photo.jpg", IngestOptions(type: .video))
        #expect(error?.code == .media001)
        #expect(error?.details["declared"] == "video")
        #expect(error?.details["actual"] == "image")
    }

    @Test func unknownPresetIsAPI_001() async throws {
        let harness = try PipelineHarness()
        #expect(await harness.failure("photo.jpg", IngestOptions(preset: "myspace"))?.code == .api001)
    }

    @Test(arguments: [1, 11])
    func carouselsOutsideTwoToTenAreMEDIA_002(count: Int) async throws {
        let harness = try PipelineHarness()
        let paths = Array(repeating: IngestInput(path: Fixtures.sample("small.jpg"), name: "small.jpg"), count: count)
        await #expect {
            try await harness.pipeline.ingest(IngestRequest(carousel: paths)).carousel()
        } throws: { error in
            (error as? KilnError)?.code == .media002 && (error as? KilnError)?.details["max_items"] == .int(10)
        }
        #expect(harness.publishedFiles.isEmpty)
    }

    @Test func carouselWithOneBadItemPublishesNothing() async throws {
        let harness = try PipelineHarness()
        let paths = [IngestInput(path: Fixtures.sample("photo.jpg"), name: "photo.jpg"),
                     IngestInput(path: Fixtures.sample("bad/truncated.jpg"), name: "truncated.jpg")]
        await #expect {
            try await harness.pipeline.ingest(IngestRequest(carousel: paths)).carousel()
        } throws: { ($0 as? KilnError)?.code == .file005 }
        #expect(harness.publishedFiles.isEmpty)
        #expect(Fixtures.files(under: harness.out + "/.staging").isEmpty)
    }

    /// `receive(file:)` (a completed resumable upload): the same checks as a stream, the file
    /// linked into the work session when taken (never copied) and left alone either way.
    @Test func aFileOnDiskIsTakenWithoutACopyOrLeftWhereItWasWhenRefused() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "tiny", "summary": "", "image": {"max_bytes": 20000}, "renditions": [{"name": "d", "long_edge": 64}]}]"#.utf8),
                        source: "test")
        let harness = try PipelineHarness(presets: presets)
        let scratch = Fixtures.scratchDirectory("kiln-receive-file")
        defer { Fixtures.cleanUp(scratch) }
        func place(_ sample: String) throws -> String {
            let path = scratch + "/" + UUID().uuidString + "-" + (sample as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: Fixtures.sample(sample), toPath: path)
            return path
        }
        let photo = try place("photo.jpg")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: photo))
        let digest = String(decoding: try await Tool.check("sha256sum", [photo]).stdout.prefix(64), as: UTF8.self)
        let upload = try await harness.pipeline.receive(file: photo, name: "photo.jpg")
        #expect(upload.mime == "image/jpeg" && upload.size == Int64(bytes.count))
        #expect(upload.sha256 == digest)
        // A second name for the same bytes (not a copy); the caller's name stays.
        let inode = { (path: String) in try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int }
        #expect(try inode(photo) == inode(upload.path) && upload.path != photo)
        let item = try await harness.pipeline.ingest(IngestRequest(IngestInput(upload: upload))).item()
        #expect(item.sourceSha256 == digest)
        #expect(FileManager.default.fileExists(atPath: photo))

        for (sample, options, code) in [("bad/doc.pdf", IngestOptions(), ErrorCode.file003),
                                        ("photo.jpg", IngestOptions(preset: "tiny"), .file004),
                                        ("video/no-audio.mp4", IngestOptions(type: .image), .media001)] {
            let path = try place(sample)
            await #expect("\(sample)") {
                _ = try await harness.pipeline.receive(file: path, name: sample, options: options)
            } throws: { ($0 as? KilnError)?.code == code }
            #expect(FileManager.default.fileExists(atPath: path), "a refused file stays where it was")
            try FileManager.default.removeItem(atPath: path)
        }
        #expect(Fixtures.files(under: harness.pipeline.temporaryDirectory).count <= 1, "only the taken upload's file, if any")
    }

    @Test func oversizeStreamStopsAtTheLimitOfItsKindAndLeavesNoTempFile() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "tiny", "summary": "", "image": {"max_bytes": 20000}, "renditions": [{"name": "d", "long_edge": 64}]}]"#.utf8),
                        source: "test")
        let harness = try PipelineHarness(presets: presets)
        let photo = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let pulled = Mutex(0)
        // Chunks of 4 KiB, counted as the receiver pulls them; far more than the limit is on offer.
        let chunks = AsyncStream<[UInt8]> { continuation in
            for start in stride(from: 0, to: photo.count, by: 4096) {
                continuation.yield(Array(photo[start..<min(photo.count, start + 4096)]))
            }
            continuation.finish()
        }.map { chunk in
            pulled.withLock { $0 += 1 }
            return chunk
        }
        #expect(photo.count > 100_000)
        await #expect {
            try await harness.pipeline.ingest(stream: chunks, name: "big.jpg", options: IngestOptions(preset: "tiny"))
        } throws: { error in
            let error = error as? KilnError
            return error?.code == .file004 && error?.details["limit_bytes"] == .int(20000)
                && error?.message.contains("images") == true
        }
        #expect(pulled.withLock { $0 } <= 6, "reading stopped at the limit, not at the end")
        #expect(Fixtures.files(under: harness.pipeline.temporaryDirectory).isEmpty, "no temp file left")
        #expect(harness.publishedFiles.isEmpty)
    }

    @Test func emptyStreamIsFILE_001AndUnsupportedStreamIsFILE_003() async throws {
        let harness = try PipelineHarness()
        await #expect {
            try await harness.pipeline.ingest(stream: AsyncStream<[UInt8]> { $0.finish() }, name: "empty")
        } throws: { ($0 as? KilnError)?.code == .file001 }
        let text = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array("just some text, not an image at all\n".utf8))
            continuation.finish()
        }
        await #expect {
            try await harness.pipeline.ingest(stream: text, name: "notes.jpg")
        } throws: { ($0 as? KilnError)?.code == .file003 }
        #expect(Fixtures.files(under: harness.pipeline.temporaryDirectory).isEmpty)
    }

    @Test func interruptedStreamIsFILE_001AndLeavesNoTempFile() async throws {
        struct Cut: Error {}
        let harness = try PipelineHarness()
        let photo = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
            continuation.yield(Array(photo[0..<8192]))
            continuation.finish(throwing: Cut())
        }
        await #expect {
            try await harness.pipeline.ingest(stream: chunks, name: "cut.jpg")
        } throws: { ($0 as? KilnError)?.code == .file001 }
        #expect(Fixtures.files(under: harness.pipeline.temporaryDirectory).isEmpty)
    }
}

/// Per-job limits that stop libvips mid-computation.
@Suite struct ImageTimeoutTests {
    @Test func slowImagePastItsDeadlineIsPROCESSING_003() async throws {
        let harness = try PipelineHarness()
        // 81 MP of 1-bit PNG: under the pixel limit, but seconds of decoding in a debug build.
        let error = await harness.failure("bad/slow-81mp.png", IngestOptions(timeout: .milliseconds(100)))
        #expect(error?.code == .processing003)
        #expect(error?.details["timeout_seconds"] == .double(0.1))
    }

    @Test func cancellingTheCallersTaskStopsAnImageJob() async throws {
        let harness = try PipelineHarness()
        let pipeline = harness.pipeline
        let path = Fixtures.sample("bad/slow-81mp.png")
        let task = Task { () async throws -> MediaItem in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pipeline.ingest(path: path)
        }
        await #expect { try await task.value } throws: { error in
            (error as? KilnError)?.code == .processing005
        }
        #expect(harness.publishedFiles.isEmpty)
    }
}

@Suite struct FrameLimitTests {
    @Test func gifDeclaringTooManyFramesIsMEDIA_006() async throws {
        var presets = PresetCatalog()
        try presets.add(json: Data(#"[{"name": "few", "summary": "", "image": {"max_frames": 100}, "renditions": [{"name": "d", "long_edge": 64}]}]"#.utf8),
                        source: "test")
        let harness = try PipelineHarness(presets: presets)
        let error = await harness.failure("hostile/corpus/gif-5000-frames.gif", IngestOptions(preset: "few"))
        #expect(error?.code == .media006)
        #expect(error?.details["max_frames"] == .int(100))
        // libnsgif stops counting at 4097 frames; the header still says far more than 100.
        if case .int(let frames)? = error?.details["frame_count"] { #expect(frames > 4000) } else { Issue.record("no frame_count") }
    }
}

/// The per-job memory budget, checked against an estimate from the header before decoding.
@Suite struct MemoryBudgetTests {
    @Test func imageOverTheBudgetIsMEDIA_003BeforeDecoding() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("photo.jpg", IngestOptions(memoryBudget: 1 << 20))
        #expect(error?.code == .media003)
        #expect(error?.details["memory_budget_bytes"] == .int(1 << 20))
        if case .int(let needed)? = error?.details["estimated_memory_bytes"] { #expect(needed > 1 << 20) }
        else { Issue.record("no estimate in the details") }
    }

    @Test func videoOverTheBudgetIsMEDIA_003() async throws {
        let harness = try PipelineHarness()
        let error = await harness.failure("video/hlg-hdr.mp4", IngestOptions(memoryBudget: 4 << 20))
        #expect(error?.code == .media003 && error?.message.contains("budget") == true, "\(String(describing: error))")
    }

    @Test func theDefaultBudgetLeavesRoomForTheLimits() {
        // The largest image the default preset admits (100 MP, 16-bit RGBA, very wide) and a 4K
        // HDR video both fit the default budget: the budget stops outliers, not legal inputs.
        let wide = ImageFacts(format: "tiff", mime: "image/tiff", sizeBytes: 1, width: 100_000, height: 1000,
                              orientation: 1, colorSpace: "rgb16", bands: 4, bitDepth: 16, hasAlpha: true,
                              hasICCProfile: false, pages: 1, metadata: [])
        #expect(MemoryEstimate.image(wide, renditions: Preset.builtIn[0].renditions) < IngestOptions.defaultMemoryBudget)
        let stream = VideoStreamFacts(codec: "hevc", profile: nil, pixelFormat: "yuv420p10le", bitDepth: 10, width: 3840,
                                      height: 2160, rotation: 0, frameRate: 60, variableFrameRate: false, frameCount: 100,
                                      colorTransfer: "smpte2084", colorPrimaries: "bt2020", hdr: "pq", interlaced: false,
                                      decodable: true)
        let hdr = VideoFacts(container: "mov", mime: "video/mp4", sizeBytes: 1, duration: 10, bitRate: nil,
                             video: stream, audio: nil)
        let sdr = VideoFacts(container: "mov", mime: "video/mp4", sizeBytes: 1, duration: 10, bitRate: nil,
                             video: { var s = stream; s.hdr = nil; return s }(), audio: nil)
        #expect(MemoryEstimate.video(hdr, output: VideoOutputSpec()) < IngestOptions.defaultMemoryBudget)
        #expect(MemoryEstimate.video(hdr, output: VideoOutputSpec()) > MemoryEstimate.video(sdr, output: VideoOutputSpec()),
                "tone mapping holds float frames")
    }
}
