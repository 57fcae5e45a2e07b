import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// MP4s at the edges of the format, made here with the ffmpeg CLI (the public edge-case files of
/// GPAC's and Bento4's suites cannot be fetched in this workplace): fragmented, encrypted (CENC),
/// an initialization segment alone, a media segment alone, chunk offsets past the end, cut
/// short. Each is either processed or refused with a FILE_ or MEDIA_ code that says what to do,
/// never a PROCESSING_ code (which means a Kiln bug) nor FFmpeg's internals, and leaves nothing.
@Suite struct EdgeCaseMP4Tests {
    /// The files, made once per run in a scratch directory.
    static let files: Result<String, any Error> = Result {
        let directory = Fixtures.scratchDirectory("kiln-edge-mp4")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func ffmpeg(_ arguments: [String]) throws {
            try Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y"] + arguments)
        }
        let plain = directory + "/plain.mp4"
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", plain])
        let key = ["-encryption_scheme", "cenc-aes-ctr", "-encryption_key", "76a6c65c5ea762046bd749a2e632ccbb",
                   "-encryption_kid", "a7e61c373e219033c21091fa607bf3b8"]
        try ffmpeg(["-i", plain, "-c", "copy", "-movflags", "frag_keyframe+empty_moov", directory + "/fragmented.mp4"])
        try ffmpeg(["-i", plain, "-c", "copy"] + key + [directory + "/encrypted.mp4"])
        try ffmpeg(["-i", plain, "-c", "copy", "-movflags", "frag_keyframe+empty_moov"] + key + [directory + "/encrypted-fragmented.mp4"])
        // DASH: an initialization segment (moov, no samples) and a media segment (moof alone).
        try ffmpeg(["-i", plain, "-c", "copy", "-f", "dash", "-init_seg_name", "init-$RepresentationID$.mp4",
                    "-media_seg_name", "segment-$RepresentationID$-$Number$.m4s", directory + "/stream.mpd"])
        try FileManager.default.moveItem(atPath: directory + "/init-0.mp4", toPath: directory + "/init-only.mp4")
        try FileManager.default.moveItem(atPath: directory + "/segment-0-1.m4s", toPath: directory + "/segment-only.mp4")
        // Chunk offsets past the end of the file, and a file cut in half.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain)))
        if let stco = Self.find("stco", in: bytes) {
            // version/flags (4), entry count (4), then 32-bit offsets: push every one far out.
            let count = Int(bytes[stco + 8]) << 24 | Int(bytes[stco + 9]) << 16 | Int(bytes[stco + 10]) << 8 | Int(bytes[stco + 11])
            for entry in 0..<count { bytes[stco + 12 + entry * 4] = 0x7f }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/chunks-out-of-range.mp4"))
        let whole = try Data(contentsOf: URL(fileURLWithPath: plain))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: directory + "/cut-in-half.mp4"))
        return directory
    }

    /// Where a box's payload starts (after its 8-byte header), by a plain search for its type.
    static func find(_ type: String, in bytes: [UInt8]) -> Int? {
        let tag = Array(type.utf8)
        guard bytes.count > 8 else { return nil }
        for index in 4..<(bytes.count - 4) where Array(bytes[index..<(index + 4)]) == tag { return index + 4 }
        return nil
    }

    @Test(arguments: [
        ("plain.mp4", nil), ("fragmented.mp4", nil),
        ("encrypted.mp4", "MEDIA_006"), ("encrypted-fragmented.mp4", "MEDIA_006"),
        ("init-only.mp4", "MEDIA_006"), ("segment-only.mp4", "FILE_"),
        ("chunks-out-of-range.mp4", "FILE_005"), ("cut-in-half.mp4", "FILE_005"),
    ] as [(String, String?)])
    func eachEndsProcessedOrWithACodeThatSaysWhy(file: String, expected: String?) async throws {
        let directory = try await Tool.detached { try Self.files.get() }
        let harness = try PipelineHarness()
        let error = await harness.failure(directory + "/" + file)
        guard let expected else {
            #expect(error == nil, "\(file): \(String(describing: error))")
            return
        }
        let failure = try #require(error as? KilnError, "\(file) was processed")
        #expect(failure.code.rawValue.hasPrefix(expected), "\(file): \(failure.code.rawValue) \(failure.message)")
        #expect(!failure.message.contains("pix_fmt") && !failure.message.contains("buffer ("), "no FFmpeg internals: \(failure.message)")
        if expected == "MEDIA_006" {
            #expect(failure.message.contains("encrypted") || failure.message.contains("no pictures"), "\(failure.message)")
        }
    }

    /// `kiln probe` says a file is encrypted.
    @Test func probeSaysEncrypted() async throws {
        let directory = try await Tool.detached { try Self.files.get() }
        let harness = try PipelineHarness()
        let facts = try await harness.pipeline.probe(path: directory + "/encrypted.mp4")
        guard case .video(let video) = facts else { Issue.record("not a video: \(facts)"); return }
        #expect(video.video?.encrypted == true)
        let plain = try await harness.pipeline.probe(path: directory + "/plain.mp4")
        guard case .video(let clear) = plain else { return }
        #expect(clear.video?.encrypted == nil)
    }
}
