import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// Files that phones and editors really produce, against every video preset: each output is read
/// back by ffprobe (streams, packets, and H.264 NAL units through ffmpeg's `trace_headers`), never
/// by Kiln, and held to the preset's sourced rules. One case at a time: each transcode already
/// uses every core.
@Suite(.serialized) struct PlatformMatrixTests {
    enum Input: String, CaseIterable, Sendable {
        case highBitRate, openGOP, longGOP, anamorphic, highAudioBitRate, fps6002, fps15, tenBit, interlaced, vfr, surround

        /// ffmpeg arguments after the two lavfi inputs (video 0, audio 1).
        var arguments: [String] {
            let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            let aac = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"]
            switch self {
            case .highBitRate:
                return ["-vf", "noise=alls=100:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-b:v", "40M", "-minrate", "40M", "-maxrate", "40M", "-bufsize", "20M"] + aac
            // B-frames make x264's open GOP (ultrafast has none).
            case .openGOP: return ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                                   "-x264-params", "open-gop=1:keyint=60"] + aac
            case .longGOP: return x264 + ["-g", "600", "-keyint_min", "600", "-sc_threshold", "0"] + aac
            case .anamorphic: return ["-vf", "scale=1440:1080,setsar=4/3"] + x264 + aac
            case .highAudioBitRate: return x264 + ["-c:a", "aac", "-b:a", "320k", "-ar", "48000", "-ac", "2"]
            case .fps6002: return ["-r", "60.02"] + x264 + aac
            // A screen recording's 15 fps: below every Meta and TikTok preset's slowest, raised to it.
            case .fps15: return x264 + aac
            case .tenBit: return ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"] + aac
            case .interlaced: return x264 + ["-flags", "+ildct+ilme", "-top", "1"] + aac
            case .vfr:
                // Every third frame of a 60 fps source dropped, in an uneven pattern: about 40 fps, varying.
                return ["-vf", "select='not(eq(mod(n\\,3)\\,2))*not(eq(mod(n\\,7)\\,3))'", "-fps_mode", "vfr"] + x264 + aac
            case .surround: return x264 + ["-c:a", "aac", "-b:a", "256k", "-ar", "48000", "-ac", "6"]
            }
        }

        /// 4.2 s (Pinterest takes 4 s and more) of 540x960 (Facebook reels' smallest); the long GOP
        /// runs past Facebook's 5 s key-frame interval.
        var source: String {
            let seconds = self == .longGOP ? "6.5" : "4.2"
            let rate = self == .vfr ? "60" : self == .fps15 ? "15" : "30"
            let audio = self == .highAudioBitRate || self == .highBitRate ? "anoisesrc=color=pink:sample_rate=48000:duration=\(seconds)"
                : "sine=frequency=440:sample_rate=48000:duration=\(seconds)"
            return "testsrc2=size=540x960:rate=\(rate):duration=\(seconds)|\(audio)"
        }
    }

    static let presets = ["default", "instagram-feed", "instagram-reel", "instagram-story", "facebook", "facebook-reel", "threads", "x",
                          "linkedin", "tiktok", "youtube-shorts", "pinterest", "bluesky"]

    struct Case: Sendable, CustomTestStringConvertible {
        let input: Input
        let preset: String
        var testDescription: String { "\(input.rawValue) under \(preset)" }
    }

    static let cases: [Case] = Input.allCases.flatMap { input in presets.map { Case(input: input, preset: $0) } }

    /// The inputs, made once per run with the ffmpeg CLI.
    static let clips: Result<String, Tool.Failure> = {
        let directory = Fixtures.scratchDirectory("kiln-platform-matrix")
        do {
            for input in Input.allCases {
                let parts = input.source.split(separator: "|").map(String.init)
                try Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", parts[0],
                                          "-f", "lavfi", "-i", parts[1]]
                               + input.arguments + ["-shortest", directory + "/" + input.rawValue + ".mp4"])
            }
            return .success(directory)
        } catch let failure as Tool.Failure {
            return .failure(failure)
        } catch {
            return .failure(Tool.Failure(description: "\(error)"))
        }
    }()

    @Test func theInputsBreakWhatTheyAreMeantTo() async throws {
        let directory = try await Tool.detached { try Self.clips.get() }
        let high = try Probed(directory + "/highBitRate.mp4")
        #expect(high.videoBitRate > 30_000_000, "\(high.videoBitRate)")
        let open = try Probed(directory + "/openGOP.mp4")
        #expect(open.idrSlices < open.keyTimes.count, "open GOP: \(open.idrSlices) IDR of \(open.keyTimes.count) key frames")
        #expect(try Probed(directory + "/longGOP.mp4").longestGOP > 5)
        #expect(try Probed(directory + "/anamorphic.mp4").video["sample_aspect_ratio"] as? String == "4:3")
        #expect((try Probed(directory + "/highAudioBitRate.mp4").audioBitRate ?? 0) > 200_000)
        #expect(try Probed(directory + "/interlaced.mp4").video["field_order"] as? String != "progressive")
        #expect(try Probed(directory + "/surround.mp4").audio?["channels"] as? Int == 6)
    }

    @Test(arguments: cases)
    func everyOutputMeetsThePresetsSourcedRules(_ test: Case) async throws {
        let input = try await Tool.detached { try Self.clips.get() } + "/" + test.input.rawValue + ".mp4"
        let harness = try PipelineHarness()
        let item = try await harness.pipeline.ingest(path: input, options: IngestOptions(preset: test.preset, fit: .pad))
        let preset = try harness.pipeline.resolve(test.preset)
        let rules = try #require(preset.video)
        let out = rules.output
        let path = try #require(item.renditions.first { $0.name == "video" }?.path)
        #expect(item.rules?.hasPrefix(test.preset + "@") == true, "the manifest names the rules it passed")
        let probed = try await Tool.detached { try Probed(path) }
        let video = probed.video

        // The container.
        let top = try MP4Boxes.topLevel(path)
        #expect((top.firstIndex(of: "moov") ?? .max) < (top.firstIndex(of: "mdat") ?? -1), "moov first: \(top)")
        #expect(!(try MP4Boxes.insideMoov(path)).contains("elst"), "no edit lists")
        if let limit = out.maxBytes { #expect(probed.size <= limit, "file \(probed.size) over \(limit)") }
        #expect(probed.duration >= rules.minDuration - 0.1 && probed.duration <= rules.maxDuration + 0.1)

        // The video stream. A recommendation (YouTube's encoding settings) is met only when the
        // video was re-encoded anyway: held to it then, never a reason to re-encode.
        let transcoded = item.warnings.allSatisfy { !$0.hasPrefix("remuxed") }
        func holds(_ rule: PublishRule) -> Bool { rules.requires(rule) || transcoded }
        #expect(video["codec_name"] as? String == "h264")
        if holds(.profile) { #expect(out.profiles.contains(video["profile"] as? String ?? ""), "profile \(video["profile"] ?? "")") }
        #expect((video["level"] as? Int ?? 99) <= out.maxLevel)
        #expect(video["pix_fmt"] as? String == "yuv420p")
        #expect(["progressive", "unknown", nil].contains(video["field_order"] as? String), "\(video["field_order"] ?? "")")
        #expect(["1:1", "0:1", nil].contains(video["sample_aspect_ratio"] as? String), "\(video["sample_aspect_ratio"] ?? "")")
        let width = video["width"] as? Int ?? 0, height = video["height"] as? Int ?? 0
        if holds(.videoBox) { #expect(width <= out.maxWidth && height <= out.maxHeight, "\(width)x\(height)") }
        if let aspect = rules.aspect { #expect(aspect.contains(Double(width) / Double(height)), "\(width)x\(height)") }
        let fps = probed.frameRate
        #expect(fps >= rules.minFrameRate - 0.01 && fps <= rules.maxFrameRate + 0.01, "\(fps) fps")
        if holds(.closedGOP) { #expect(probed.idrSlices >= probed.keyTimes.count && !probed.keyTimes.isEmpty, "closed GOP") }
        if holds(.keyframeInterval) {
            #expect(probed.longestGOP <= out.maxKeyframeInterval + 1 / max(1, fps) + 0.01, "GOP \(probed.longestGOP) s")
        }
        if let cap = out.maxBitRate {
            #expect(probed.videoBitRate <= cap && probed.peakBitRate <= cap, "\(probed.videoBitRate) / \(probed.peakBitRate)")
        }

        // The audio.
        let audio = try #require(probed.audio, "the audio is kept")
        #expect(audio["codec_name"] as? String == "aac" && audio["profile"] as? String == "LC")
        let rate = Int(audio["sample_rate"] as? String ?? "") ?? 0, channels = audio["channels"] as? Int ?? 0
        let audioTranscoded = transcoded || item.warnings.contains { $0.contains("audio") }
        if rules.requires(.sampleRate) || audioTranscoded {
            #expect(out.sampleRate.map { rate == $0 } ?? (rate <= out.maxSampleRate), "\(rate) Hz")
        }
        if rules.requires(.channels) || audioTranscoded {
            #expect(out.channels.map { channels == $0 } ?? (1...out.maxChannels).contains(channels), "\(channels) channels")
        }
        if let cap = out.maxAudioBitRate { #expect((probed.audioBitRate ?? .max) <= cap, "\(probed.audioBitRate ?? 0)") }

        // The warnings name the rule behind a change the platform asked for.
        if test.input == .highBitRate, test.preset == "instagram-reel" {
            #expect(item.warnings.contains { $0.hasPrefix("video bitrate (average)") && $0.contains("instagram-reel's 25 Mbps") },
                    "\(item.warnings)")
        }
        if test.input == .fps15, test.preset == "instagram-reel" {
            #expect(item.warnings.contains("raised the frame rate from 15 to 23 fps (frames repeated)"), "\(item.warnings)")
        }
        if test.input == .openGOP, test.preset == "x" {
            #expect(item.warnings.contains { $0.hasPrefix("closed GOP") && $0.hasSuffix("re-encoded") }, "\(item.warnings)")
        }
        if test.input == .anamorphic, test.preset == "x" {
            #expect(item.warnings.contains("sample aspect ratio 4:3 breaks x's 1:1: re-encoded"), "\(item.warnings)")
        }
    }
}

/// What ffprobe (and ffmpeg's `trace_headers`) read from a file.
struct Probed: @unchecked Sendable {  // ffprobe's JSON, read once and never changed
    let video: [String: Any]
    let audio: [String: Any]?
    let size: Int64
    let duration: Double
    let frameRate: Double
    let keyTimes: [Double]
    let idrSlices: Int
    let videoBitRate: Int
    let peakBitRate: Int
    let audioBitRate: Int?

    init(_ path: String) throws {
        let probe = try Tool.probe(path)
        let streams = probe["streams"] as? [[String: Any]] ?? []
        guard let video = streams.first(where: { $0["codec_type"] as? String == "video" }) else {
            throw Tool.Failure(description: "no video stream in \(path)")
        }
        self.video = video
        audio = streams.first { $0["codec_type"] as? String == "audio" }
        let format = probe["format"] as? [String: Any] ?? [:]
        size = Int64(format["size"] as? String ?? "") ?? 0
        duration = Double(format["duration"] as? String ?? "") ?? 0
        let rate = (video["avg_frame_rate"] as? String ?? "0/1").split(separator: "/").compactMap { Double($0) }
        frameRate = rate.count == 2 && rate[1] > 0 ? rate[0] / rate[1] : 0
        let packets = try Self.packets(path, "v")
        keyTimes = packets.filter(\.key).map(\.time).sorted()
        let span = max(0.001, (packets.map { $0.time + $0.duration }.max() ?? 0) - (packets.map(\.time).min() ?? 0))
        let bytes = packets.reduce(0) { $0 + $1.size }
        videoBitRate = Int(Double(bytes * 8) / span)
        // The most bits in any 2 s, by decode order on the decode times.
        let byTime = packets.sorted { $0.dts < $1.dts }
        var peak = 0, start = 0, inWindow = 0
        for packet in byTime {
            inWindow += packet.size
            while byTime[start].dts <= packet.dts - VideoOutputSpec.peakWindow {
                inWindow -= byTime[start].size
                start += 1
            }
            peak = max(peak, inWindow)
        }
        peakBitRate = span <= VideoOutputSpec.peakWindow ? videoBitRate : Int(Double(peak * 8) / VideoOutputSpec.peakWindow)
        let end = span + (packets.map(\.time).min() ?? 0)
        longestGOPValue = zip(keyTimes, keyTimes.dropFirst() + [end]).map { $1 - $0 }.max() ?? end
        if audio != nil {
            let sound = try Self.packets(path, "a")
            let audioSpan = max(0.001, (sound.map { $0.time + $0.duration }.max() ?? 0) - (sound.map(\.time).min() ?? 0))
            audioBitRate = Int(Double(sound.reduce(0) { $0 + $1.size } * 8) / audioSpan)
        } else {
            audioBitRate = nil
        }
        let trace = try Tool.check("ffmpeg", ["-hide_banner", "-i", path, "-map", "0:v:0", "-c", "copy", "-bsf:v",
                                              "trace_headers", "-f", "null", "-"])
        idrSlices = trace.stderr.split(separator: "\n").filter { $0.contains("nal_unit_type") && $0.hasSuffix("= 5") }.count
    }

    private let longestGOPValue: Double
    /// The longest stretch between key frames, the last one to the end included.
    var longestGOP: Double { longestGOPValue }

    private static func packets(_ path: String, _ kind: String) throws
        -> [(time: Double, dts: Double, duration: Double, size: Int, key: Bool)]
    {
        let run = try Tool.check("ffprobe", ["-v", "error", "-select_streams", "\(kind):0", "-show_entries",
                                             "packet=pts_time,dts_time,duration_time,size,flags", "-of", "csv=p=0", path])
        return String(decoding: run.stdout, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let pts = Double(f[0]), let size = Int(f[3]) else { return nil }
            return (pts, Double(f[1]) ?? pts, Double(f[2]) ?? 0, size, f[4].hasPrefix("K"))
        }
    }
}
