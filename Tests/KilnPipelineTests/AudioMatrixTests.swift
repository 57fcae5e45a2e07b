import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// Every video codec against every audio Kiln meets, under `default` and `instagram-reel`:
/// each output is read back by independent tools (ffprobe's streams and packets, and an MP4
/// box walk) and the item's warnings must say exactly what the output shows. One case at a
/// time: each transcode already uses every core, and 48 at once would starve the other suites.
@Suite(.serialized) struct AudioMatrixTests {
    enum Video: String, CaseIterable, Sendable {
        case h264, hevc10, vp9

        var encoder: [String] {
            switch self {
            case .h264: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            case .hevc10: ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params",
                           "log-level=error", "-tag:v", "hvc1"]
            case .vp9: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
            }
        }
    }

    enum Audio: String, CaseIterable, Sendable {
        case none, aacStereo48k, aac51, aac96k, mp3, opus, ac3, pcm24bit96k51

        var encoder: [String] {
            switch self {
            case .none: ["-an"]
            case .aacStereo48k: ["-c:a", "aac", "-ar", "48000", "-ac", "2"]
            case .aac51: ["-c:a", "aac", "-ar", "48000", "-ac", "6"]
            case .aac96k: ["-c:a", "aac", "-ar", "96000", "-ac", "2"]
            case .mp3: ["-c:a", "libmp3lame", "-ar", "44100", "-ac", "2"]
            case .opus: ["-c:a", "libopus", "-ar", "48000", "-ac", "2"]
            case .ac3: ["-c:a", "ac3", "-ar", "48000", "-ac", "6"]
            case .pcm24bit96k51: ["-c:a", "pcm_s24le", "-ar", "96000", "-ac", "6"]
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let video: Video
        let audio: Audio
        let preset: String
        var testDescription: String { "\(video.rawValue) + \(audio.rawValue) under \(preset)" }

        /// PCM goes in MOV (as cameras write it); VP9 in MOV is not allowed, so that one is MKV.
        var file: String {
            let container = audio != .pcm24bit96k51 ? "mp4" : video == .vp9 ? "mkv" : "mov"
            return "\(video.rawValue)-\(audio.rawValue).\(container)"
        }
    }

    static let cases: [Case] = Video.allCases.flatMap { video in
        Audio.allCases.flatMap { audio in ["default", "instagram-reel"].map { Case(video: video, audio: audio, preset: $0) } }
    }

    /// The clips, made once per test run with the ffmpeg CLI (3.5 s: reels need at least 3).
    static let clips: Result<String, Tool.Failure> = {
        let directory = Fixtures.scratchDirectory("kiln-audio-matrix")
        do {
            for video in Video.allCases {
                for audio in Audio.allCases {
                    let file = Case(video: video, audio: audio, preset: "").file
                    try Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y",
                                              "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3.5",
                                              "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3.5"]
                                   + video.encoder + audio.encoder + ["-shortest", directory + "/" + file])
                }
            }
            return .success(directory)
        } catch let failure as Tool.Failure {
            return .failure(failure)
        } catch {
            return .failure(Tool.Failure(description: "\(error)"))
        }
    }()

    @Test(arguments: cases)
    func outputMeetsThePresetAndTheWarningsSayWhatHappened(_ test: Case) async throws {
        let input = try await Tool.detached { try Self.clips.get() } + "/" + test.file
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: input, options: IngestOptions(preset: test.preset))
        let output = try #require(item.renditions.first { $0.name == "video" }?.path)
        let warnings = item.warnings

        // The container: moov before mdat, no edit list anywhere.
        let top = try MP4Boxes.topLevel(output)
        let moov = try #require(top.firstIndex(of: "moov")), mdat = try #require(top.firstIndex(of: "mdat"))
        #expect(moov < mdat, "moov first: \(top)")
        #expect(!(try MP4Boxes.insideMoov(output)).contains("elst"), "no edit lists")

        // The streams, as ffprobe reads them.
        let before = try await Self.streams(input), after = try await Self.streams(output)
        let videoIn = try #require(before.video), videoOut = try #require(after.video)
        #expect(videoOut["codec_name"] as? String == "h264" && videoOut["pix_fmt"] as? String == "yuv420p")
        let videoCopied = try await Tool.packetSizes(input, "v") == (try await Tool.packetSizes(output, "v"))
        #expect(videoCopied == (test.video == .h264), "only H.264 8-bit 4:2:0 is copied")
        if videoCopied {
            #expect(warnings.contains { $0.hasPrefix("remuxed") })
            #expect(!warnings.contains { $0.hasPrefix("transcoded") })
        } else {
            let codec = (videoIn["codec_name"] as? String ?? "").uppercased()
            #expect(warnings.contains("transcoded \(codec) to H.264"), "\(warnings)")
            #expect(!warnings.contains { $0.hasPrefix("remuxed") })
        }

        guard let audioIn = before.audio else {
            #expect(after.audio == nil, "no audio appears")
            #expect(!warnings.contains { $0.contains("audio") })
            return
        }
        let audioOut = try #require(after.audio, "the audio is kept")
        let (codecIn, rateIn, channelsIn) = Self.audioFacts(audioIn)
        let (codecOut, rateOut, channelsOut) = Self.audioFacts(audioOut)
        #expect(codecOut == "aac" && rateOut <= 48000 && channelsOut <= 2, "Meta's audio rules: \(audioOut)")
        let audioCopied = try await Tool.packetSizes(input, "a") == (try await Tool.packetSizes(output, "a"))
        #expect(audioCopied == (codecIn == "aac" && rateIn <= 48000 && channelsIn <= 2))
        // Each audio warning is there exactly when the output shows that change.
        #expect(warnings.contains("re-encoded \(codecIn) audio to AAC") == (codecIn != "aac"), "\(warnings)")
        #expect(warnings.contains("resampled audio from \(rateIn) to \(rateOut) Hz") == (rateIn != rateOut), "\(warnings)")
        #expect(warnings.contains("downmixed \(channelsIn) audio channels to stereo") == (channelsIn != channelsOut),
                "\(warnings)")
        if audioCopied { #expect(!warnings.contains { $0.contains("audio") }, "\(warnings)") }
    }

    static func streams(_ path: String) async throws -> (video: [String: Any]?, audio: [String: Any]?) {
        let streams = try await Tool.probe(path)["streams"] as? [[String: Any]] ?? []
        return (streams.first { $0["codec_type"] as? String == "video" }, streams.first { $0["codec_type"] as? String == "audio" })
    }

    static func audioFacts(_ stream: [String: Any]) -> (codec: String, rate: Int, channels: Int) {
        (stream["codec_name"] as? String ?? "", Int(stream["sample_rate"] as? String ?? "") ?? 0, stream["channels"] as? Int ?? 0)
    }
}
