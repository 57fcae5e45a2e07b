import Foundation
import KilnCore
import KilnVideo
import Testing

@Suite struct VideoProberTests {
    @Test func readsCodecsSizeRateAndAudio() throws {
        let facts = try Clips.facts("h264-aac-moov-end.mp4")
        let video = try #require(facts.video)
        #expect(video.codec == "h264" && video.pixelFormat == "yuv420p" && video.bitDepth == 8)
        #expect(video.width == 320 && video.height == 240 && video.rotation == 0)
        #expect(abs(video.frameRate - 30) < 0.01 && !video.variableFrameRate)
        #expect(video.frameCount == 90)
        #expect(abs(facts.duration - 3) < 0.1)
        let audio = try #require(facts.audio)
        #expect(audio.codec == "aac" && audio.sampleRate == 44100 && audio.channels == 1)
        #expect(video.hdr == nil && video.decodable)
    }

    @Test func readsTenBitHEVCAndItsRotation() throws {
        let video = try #require(try Clips.facts("hevc10-rotated.mp4").video)
        #expect(video.codec == "hevc" && video.bitDepth == 10 && video.pixelFormat == "yuv420p10le")
        #expect(video.rotation == 90 || video.rotation == 270)
        #expect(video.displayWidth == 240 && video.displayHeight == 320)
    }

    @Test func readsHLGTransfer() throws {
        let video = try #require(try Clips.facts("hlg-hdr.mp4").video)
        #expect(video.hdr == "hlg")
        #expect(video.colorTransfer == "arib-std-b67" && video.colorPrimaries == "bt2020")
    }

    @Test func webmAndNoAudio() throws {
        let webm = try Clips.facts("vp9-opus.webm")
        #expect(webm.video?.codec == "vp9" && webm.audio?.codec == "opus")
        #expect(try Clips.facts("no-audio.mp4").audio == nil)
    }

    @Test(arguments: ["truncated.mp4", "truncated-no-moov.mp4"])
    func truncatedFilesAreFILE_005FromTheHeader(name: String) {
        #expect { try Clips.facts(name) } throws: { ($0 as? KilnError)?.code == .file005 }
    }
}

@Suite struct MemoryProbeTests {
    @Test(arguments: ["h264-aac-moov-end.mp4", "hevc10-rotated.mp4", "vp9-opus.webm"])
    func probingFromMemoryMatchesProbingTheFile(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Clips.path(name)))
        let format = name.hasSuffix(".webm") ? MediaFormat.forMIME("video/webm")! : MediaFormat.forMIME("video/mp4")!
        let fromMemory = try data.withUnsafeBytes { try VideoProber.facts(bytes: $0, format: format) }
        #expect(fromMemory == (try Clips.facts(name)))
    }

    @Test func truncatedBytesInMemoryAreFILE_005() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Clips.path("truncated.mp4")))
        #expect {
            try data.withUnsafeBytes { try VideoProber.facts(bytes: $0, format: MediaFormat.forMIME("video/mp4")!) }
        } throws: { ($0 as? KilnError)?.code == .file005 }
    }
}
