import Foundation
import KilnCore
@testable import KilnImaging
import KilnTestSupport
@testable import KilnVideo
import Testing

@Suite struct VideoProcessorTests {
    struct Result {
        let output: VideoProcessor.Output
        let video: VideoFacts
        let boxes: [String]
        let poster: ImageFacts
    }

    func process(_ name: String, rules: VideoRules = VideoRules(), fit: Fit = .reject,
                 control: JobControl = JobControl(timeout: nil)) throws -> Result {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let facts = try Clips.facts(name)
        let format = name.hasSuffix(".webm") ? MediaFormat.forMIME("video/webm")! : MediaFormat.forMIME("video/mp4")!
        let output = try VideoProcessor.process(
            path: Clips.path(name), format: format, facts: facts, rules: rules, fit: fit,
            videoPath: directory + "/video.mp4", posterPath: directory + "/poster.jpg", control: control)
        let size = Int64((try FileManager.default.attributesOfItem(atPath: directory + "/video.mp4")[.size] as? Int) ?? 0)
        let video = try VideoProber.facts(path: directory + "/video.mp4", format: MediaFormat.forMIME("video/mp4")!, sizeBytes: size)
        let poster = try ImageProber.facts(path: directory + "/poster.jpg", format: MediaFormat.forMIME("image/jpeg")!, sizeBytes: 1)
        return Result(output: output, video: video, boxes: try MP4Boxes.topLevel(directory + "/video.mp4"), poster: poster)
    }

    func moovFirst(_ boxes: [String]) -> Bool {
        guard let moov = boxes.firstIndex(of: "moov"), let mdat = boxes.firstIndex(of: "mdat") else { return false }
        return moov < mdat
    }

    @Test func h264WithMoovAtTheEndIsRemuxedWithMoovFirst() throws {
        #expect(try MP4Boxes.topLevel(Clips.path("h264-aac-moov-end.mp4")).last == "moov")
        let result = try process("h264-aac-moov-end.mp4")
        #expect(result.output.mode == .remux)
        #expect(moovFirst(result.boxes))
        #expect(result.video.video?.codec == "h264" && result.video.audio?.codec == "aac")
        #expect(result.video.video?.frameCount == 90)
        #expect(result.poster.width == 320 && result.poster.height == 240)
    }

    @Test func rotatedTenBitHEVCBecomesUprightEightBitH264() throws {
        let result = try process("hevc10-rotated.mp4")
        #expect(result.output.mode == .transcode)
        let video = try #require(result.video.video)
        #expect(video.codec == "h264" && video.pixelFormat == "yuv420p" && video.bitDepth == 8)
        #expect(video.rotation == 0, "the rotation is applied to the pixels, not kept in a matrix")
        #expect(video.width == 240 && video.height == 320)
        #expect(result.poster.width == 240 && result.poster.height == 320)
        #expect(result.output.warnings.contains("transcoded HEVC to H.264"))
        #expect(moovFirst(result.boxes))
    }

    @Test func vp9OpusWebMBecomesH264AACInMP4() throws {
        let result = try process("vp9-opus.webm")
        #expect(result.video.container.contains("mp4"))
        #expect(result.video.video?.codec == "h264")
        let audio = try #require(result.video.audio)
        #expect(audio.codec == "aac" && audio.sampleRate == 48000)
        #expect(result.output.warnings.contains("re-encoded opus audio to AAC"))
    }

    @Test func hlgIsToneMappedToSDRBT709() throws {
        let result = try process("hlg-hdr.mp4")
        let video = try #require(result.video.video)
        #expect(video.hdr == nil)
        #expect(video.colorTransfer == "bt709" && video.colorPrimaries == "bt709")
        #expect(result.output.warnings.contains("tone-mapped HLG HDR to SDR BT.709"))
    }

    @Test func videoWithoutAudioStaysWithoutAudio() throws {
        let result = try process("no-audio.mp4")
        #expect(result.video.audio == nil && result.video.video?.codec == "h264")
    }

    @Test func scalingToThePresetBoxAndPadding() throws {
        let small = VideoRules(output: VideoOutputSpec(maxWidth: 160, maxHeight: 160))
        let scaled = try process("h264-aac-faststart.mp4", rules: small)
        #expect(scaled.output.mode == .transcode)
        #expect(scaled.video.video?.width == 160 && scaled.video.video?.height == 120)
        let story = VideoRules(aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0),
                               output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920))
        let padded = try process("h264-aac-faststart.mp4", rules: story, fit: .pad)
        #expect(padded.video.video?.width == 320 && padded.video.video?.height == 568)
    }

    @Test func aPassedDeadlineIsPROCESSING_003() {
        #expect {
            try process("vp9-opus.webm", control: JobControl(timeout: .nanoseconds(1)))
        } throws: { ($0 as? KilnError)?.code == .processing003 }
    }

    @Test func cancellingStopsTheJobWithPROCESSING_005() {
        let control = JobControl(timeout: nil)
        control.cancel()
        #expect {
            try process("vp9-opus.webm", control: control)
        } throws: { error in
            (error as? KilnError)?.code == .processing005
        }
    }
}

/// Our upright poster against the frame the ffmpeg CLI shows (it applies the display matrix
/// itself): the same picture, not merely the same size.
@Suite struct RotationMatchesTheReferenceTests {
    @Test func posterOfARotatedClipMatchesFFmpegsOwnRotation() throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let name = "hevc10-rotated.mp4"
        let facts = try Clips.facts(name)
        _ = try VideoProcessor.process(path: Clips.path(name), format: MediaFormat.forMIME("video/mp4")!, facts: facts,
                                       rules: VideoRules(), fit: .reject, videoPath: directory + "/v.mp4",
                                       posterPath: directory + "/poster.jpg")
        let ours = try Pixels(path: directory + "/poster.jpg", loader: "jpegload")
        // Kiln's poster is the best of the key frames at or before a few points: the same picture
        // as ffmpeg shows at one of them (ffmpeg applies the display matrix itself).
        var closest = Int.max
        for (index, time) in VideoProcessor.posterTimes(facts.duration).enumerated() {
            let reference = directory + "/reference-\(index).png"
            let ffmpeg = Process()
            ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            ffmpeg.arguments = ["-hide_banner", "-loglevel", "error", "-noaccurate_seek", "-ss", String(time),
                                "-i", Clips.path(name), "-frames:v", "1", "-pix_fmt", "rgb24", reference]
            try ffmpeg.run()
            ffmpeg.waitUntilExit()
            try #require(ffmpeg.terminationStatus == 0, "ffmpeg is a test reference: apt-get install ffmpeg")
            let theirs = try Pixels(path: reference, loader: "pngload")
            #expect(ours.width == theirs.width && ours.height == theirs.height)
            var total = 0
            var samples = 0
            for gy in 1..<8 {
                for gx in 1..<8 {
                    let a = ours.rgb(x: ours.width * gx / 8, y: ours.height * gy / 8)
                    let b = theirs.rgb(x: theirs.width * gx / 8, y: theirs.height * gy / 8)
                    total += abs(a.0 - b.0) + abs(a.1 - b.1) + abs(a.2 - b.2)
                    samples += 3
                }
            }
            closest = min(closest, total / samples)
        }
        #expect(closest < 25, "mean difference \(closest) per channel from the nearest candidate")
    }
}

@Suite struct FrameRateTests {
    @Test func variableFrameRateIsMadeConstantWhenThePresetNeedsIt() throws {
        let facts = try Clips.facts("vfr.mp4")
        let video = try #require(facts.video)
        #expect(video.variableFrameRate)
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let output = try VideoProcessor.process(
            path: Clips.path("vfr.mp4"), format: MediaFormat.forMIME("video/mp4")!, facts: facts,
            rules: VideoRules(constantFrameRate: true), fit: .reject, videoPath: directory + "/v.mp4",
            posterPath: directory + "/p.jpg")
        #expect(output.mode == .transcode)
        #expect(output.warnings.contains { $0.hasPrefix("made the variable frame rate constant at 20 fps") })
        let result = try Clips.facts(atPath: directory + "/v.mp4")
        #expect(result.video?.variableFrameRate == false)
        #expect(abs((result.video?.frameRate ?? 0) - 20) < 0.1)
    }

    @Test func variableFrameRateIsKeptWhenThePresetDoesNotCare() throws {
        let facts = try Clips.facts("vfr.mp4")
        let plan = try VideoPlan.make(facts: facts, measured: try Clips.measured("vfr.mp4"), rules: VideoRules(),
                                      fit: .reject, preset: "default")
        #expect(plan.mode == .remux && plan.frameRate == nil)
    }

    @Test func frameRateAboveTheMaximumIsCapped() throws {
        let facts = try Clips.facts("h264-aac-faststart.mp4")
        let plan = try VideoPlan.make(facts: facts, measured: try Clips.measured("h264-aac-faststart.mp4"),
                                      rules: VideoRules(maxFrameRate: 24), fit: .reject, preset: "default")
        #expect(plan.mode == .transcode && plan.frameRate == 24)
        #expect(plan.warnings.contains("reduced the frame rate from 30 to 24 fps"))
    }
}

@Suite struct DecodedDurationTests {
    /// A header that understates the duration does not buy unbounded work: the packets read
    /// are held to the preset's maximum (here 1 s for a 3 s clip whose facts claim 0.5 s).
    @Test func packetsPastTheMaximumStopTheJobAsMEDIA_005() throws {
        var facts = try Clips.facts("vp9-opus.webm")
        facts.duration = 0.5
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        #expect {
            try VideoProcessor.process(path: Clips.path("vp9-opus.webm"), format: MediaFormat.forMIME("video/webm")!,
                                       facts: facts, rules: VideoRules(maxDuration: 0), fit: .reject,
                                       videoPath: directory + "/v.mp4", posterPath: directory + "/p.jpg")
        } throws: { ($0 as? KilnError)?.code == .media005 }
        #expect(!FileManager.default.fileExists(atPath: directory + "/v.mp4"), "no partial video")
    }
}
