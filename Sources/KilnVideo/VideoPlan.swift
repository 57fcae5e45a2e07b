import KilnCore

/// What will be done to a validated video, decided from its header facts and the preset
/// before any frame is decoded: remux (stream copy) when it already meets the preset,
/// otherwise transcode to H.264 8-bit 4:2:0 + AAC, and how.
public struct VideoPlan: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, Codable { case remux, transcode }

    public enum Audio: Sendable, Equatable {
        case none
        case copy
        case transcode(sampleRate: Int, channels: Int, bitRate: Int)
    }

    public let mode: Mode
    public let audio: Audio
    /// Output picture size and how it is reached (within, crop, pad), as displayed.
    public let geometry: RenditionGeometry
    /// Clockwise quarter turns applied when transcoding (a remux keeps the display matrix).
    public let rotation: Int
    /// "hlg" or "pq" when the picture is tone-mapped to SDR BT.709.
    public let toneMap: String?
    /// The constant output frame rate when it changes (VFR made constant, or capped).
    public let frameRate: Double?
    /// Interlaced input is deinterlaced (yadif) while transcoding.
    public let deinterlace: Bool
    /// libx264's VBV cap (maxrate) when the platform caps the bitrate or the file size, bits/s.
    public let maxRate: Int?
    /// Seconds between key frames when re-encoding; every one an IDR (closed GOP).
    public let keyframeInterval: Double
    /// Where the output ends when a video too long for the preset is cut (`fit_duration=trim`).
    public let trim: Double?
    /// How many times the input plays: an animated GIF shorter than the preset's minimum is
    /// looped up to it, as the GIF itself would loop (1 for everything else).
    public let loops: Int
    /// What differs from the input, in words for the envelope; each names the rule behind it.
    public let warnings: [String]
    let displayWidth: Int
    let displayHeight: Int
    /// Where the crop's window went as it followed the subject: known once the video is made
    /// (the poster is cut by it).
    var framing: CropPath? = nil

    /// Whether the crop follows the subject (`fit=crop`, `focus=auto`): its window is moved frame
    /// by frame as the video is transcoded (`SubjectFollower`).
    public var follows: Bool { geometry.mode == .crop && geometry.focus == .auto }

    /// Decides from the header facts and the packets' measurement: a stream is copied only when
    /// it meets every rule of the preset, and only a stream that breaks one is redone.
    public static func make(facts: VideoFacts, measured: VideoMeasurement, rules: VideoRules, fit: Fit,
                            fitDuration: DurationFit = .reject, focus: Focus = .auto, preset: String) throws -> VideoPlan {
        guard let video = facts.video else { throw KilnError.noVideoStream(mime: facts.mime) }
        // Cut a little short of the maximum: the last frames' own durations end past the cut.
        let trim = fitDuration == .trim && facts.duration > rules.maxDuration
            ? max(rules.minDuration, rules.maxDuration - trimMargin) : nil
        let kept = keptFraction(trim: trim, duration: facts.duration)
        let loops = loopsToReach(rules.minDuration, facts: facts)
        let output = rules.output
        let box = RenditionSpec(name: "video", maxWidth: output.maxWidth, maxHeight: output.maxHeight)
        // An explicit fit makes the platform's own frame; without one, any shape it takes is kept.
        let frame = fit == .reject ? rules.aspect : rules.nativeAspect.map { AspectRange(min: $0, max: $0) } ?? rules.aspect
        let geometry = RenditionGeometry.plan(sourceWidth: video.displayWidth, sourceHeight: video.displayHeight,
                                              spec: box, aspect: frame, fit: fit, focus: focus).evenSized
        let verdicts = PublishCheck.video(facts, measured, rules: rules)
        var reasons: [String] = []
        if video.codec != "h264" { reasons.append("transcoded \(video.codec.uppercased()) to H.264") }
        if video.pixelFormat != "yuv420p" && video.pixelFormat != "yuvj420p" {
            reasons.append("converted \(video.pixelFormat) (\(video.bitDepth)-bit) to 8-bit yuv420p")
        }
        let toneMap = video.hdr
        if let toneMap { reasons.append("tone-mapped \(toneMap.uppercased()) HDR to SDR BT.709") }
        if video.interlaced { reasons.append("deinterlaced") }
        // What only a recommendation asks: done when the video is re-encoded for a required rule,
        // never a reason to re-encode on its own.
        var advice: [String] = []
        switch geometry.mode {
        case .crop:
            let size = "\(geometry.width)x\(geometry.height)"
            switch geometry.focus {
            case .auto: reasons.append(reframed(video.displayWidth, video.displayHeight, geometry, shots: nil))
            case .point: reasons.append("cropped to \(size) around the focus \(geometry.focus) (--fit crop)")
            case .center: reasons.append("cropped to \(size) (--fit crop)")
            }
        case .pad: reasons.append("padded to \(geometry.width)x\(geometry.height) (--fit pad)")
        case .blur: reasons.append("fitted in \(geometry.width)x\(geometry.height) over a blurred fill (--fit blur)")
        case .within:
            if geometry.width != video.displayWidth || geometry.height != video.displayHeight {
                let scaled = "scaled \(video.displayWidth)x\(video.displayHeight) to \(geometry.width)x\(geometry.height)"
                if rules.requires(.videoBox) { reasons.append(scaled) } else { advice.append(scaled + " (recommended)") }
            }
        }
        var frameRate: Double?
        if video.frameRate < rules.minFrameRate - 0.01 {
            // A slow screen recording or an animated GIF: frames repeated up to the platform's slowest.
            frameRate = rules.minFrameRate
            reasons.append("raised the frame rate from \(ByteCount.decimal(video.frameRate, places: 2)) to \(ByteCount.decimal(rules.minFrameRate, places: 2)) fps (frames repeated)")
        } else if video.frameRate > rules.maxFrameRate + 0.01 {
            frameRate = rules.maxFrameRate
            reasons.append("reduced the frame rate from \(ByteCount.decimal(video.frameRate, places: 2)) to \(ByteCount.decimal(rules.maxFrameRate, places: 2)) fps")
        } else if video.variableFrameRate && rules.constantFrameRate {
            frameRate = min(rules.maxFrameRate, max(1, video.frameRate.rounded()))
            reasons.append("made the variable frame rate constant at \(ByteCount.decimal(frameRate ?? 0, places: 2)) fps")
        }
        // Rules the reasons above do not already name: each failing one is a reason of its own.
        // A stream of another codec is re-encoded anyway: H.264's own rules do not apply to it.
        let named: Set<PublishRule> = video.codec == "h264" ? [.videoCodec, .pixelFormat, .scan, .videoBox, .frameRate, .aspect]
            : [.videoCodec, .pixelFormat, .scan, .videoBox, .frameRate, .aspect, .profile, .level, .closedGOP]
        for verdict in verdicts where !verdict.passed && verdict.rule.scope == .video && !named.contains(verdict.rule) {
            if verdict.required {
                reasons.append("\(verdict.describe(preset: preset)): re-encoded")
            } else {
                advice.append("\(verdict.describe(preset: preset)) (recommended): met while re-encoding")
            }
        }
        // A copy's size is the input's give or take its index: 2% short of the limit is the most
        // a remux may start from, or the written file could pass it.
        if let limit = output.maxBytes, Double(facts.sizeBytes) * kept > Double(limit) * 0.98 {
            reasons.append("file size \(ByteCount.metric(Int64(Double(facts.sizeBytes) * kept))) over \(preset)'s \(ByteCount.metric(limit)): re-encoded within it")
        }
        // The video and the audio are decided apart: a video that meets the preset is copied
        // even when its audio must be re-encoded.
        let (audio, audioReasons) = audioPlan(facts.audio, verdicts: verdicts, output: output, preset: preset)
        let transcodeVideo = !reasons.isEmpty
        let mode: Mode = transcodeVideo ? .transcode : .remux
        var warnings = reasons + (transcodeVideo ? advice : [])
        if transcodeVideo, video.rotation != 0 { warnings.append("rotated \(video.rotation)° upright") }
        if mode == .remux {
            warnings.append(audio == .copy || audio == .none
                ? "remuxed without re-encoding (moov first, no edit lists)" : "remuxed the video without re-encoding")
        }
        warnings += audioReasons
        if loops > 1 {
            warnings.append("looped the \(ByteCount.decimal(facts.duration, places: 2)) s GIF \(loops) times to reach \(preset)'s "
                + "\(ByteCount.decimal(rules.minDuration, places: 2)) s minimum")
        }
        if let trim {
            warnings.append("trimmed \(ByteCount.decimal(facts.duration, places: 2)) s to \(ByteCount.decimal(trim, places: 2)) s "
                + "to fit \(preset)'s \(ByteCount.decimal(rules.maxDuration, places: 2)) s (fit_duration=trim)")
        }
        return VideoPlan(mode: mode, audio: audio, geometry: geometry, rotation: transcodeVideo ? video.rotation : 0,
                         toneMap: toneMap, frameRate: frameRate, deinterlace: video.interlaced,
                         maxRate: encodeCap(output: output, duration: trim ?? facts.duration, audio: audio),
                         keyframeInterval: output.encodeKeyframeInterval, trim: trim, loops: loops, warnings: warnings,
                         displayWidth: video.displayWidth, displayHeight: video.displayHeight)
    }

    /// The plan told from the header alone, for a preflight: the packets are not read, so the
    /// bitrate is the header's (or the average) and the key frames are assumed to meet the rules;
    /// `unchecked` names what that assumes.
    public static func preview(facts: VideoFacts, rules: VideoRules, fit: Fit, fitDuration: DurationFit = .reject,
                               focus: Focus = .auto, preset: String) throws
        -> (plan: VideoPlan, unchecked: [String])
    {
        let average = facts.duration > 0 ? Int(Double(facts.sizeBytes) * 8 / facts.duration) : 0
        let rate = facts.bitRate ?? average
        let assumed = VideoMeasurement(videoBitRate: rate, peakBitRate: rate, keyframes: 1, idrKeyframes: 1,
                                       maxKeyframeInterval: 0, audioBitRate: nil, moovFirst: nil, editLists: nil)
        let output = rules.output
        var unchecked: [String] = []
        if output.closedGOP { unchecked.append("closed GOP (every key frame IDR)") }
        unchecked.append("key frames at most \(ByteCount.decimal(output.maxKeyframeInterval, places: 2)) s apart")
        if output.maxBitRate != nil { unchecked.append("peak video bitrate") }
        if output.maxAudioBitRate != nil { unchecked.append("audio bitrate") }
        return (try make(facts: facts, measured: assumed, rules: rules, fit: fit, fitDuration: fitDuration, focus: focus,
                         preset: preset),
                unchecked)
    }

    /// The plan without its words (which name the preset): two targets whose plans are equal
    /// this way, with the same encoder settings, make the same file (`VideoProcessor.Encode`).
    var unworded: VideoPlan {
        VideoPlan(mode: mode, audio: audio, geometry: geometry, rotation: rotation, toneMap: toneMap, frameRate: frameRate,
                  deinterlace: deinterlace, maxRate: maxRate, keyframeInterval: keyframeInterval, trim: trim, loops: loops,
                  warnings: [],
                  displayWidth: displayWidth, displayHeight: displayHeight, framing: framing)
    }

    /// The plays of an animated GIF shorter than `minimum` that reach it (1 for anything else).
    public static func loopsToReach(_ minimum: Double, facts: VideoFacts) -> Int {
        guard facts.container == MediaFormat.animatedGIF.decoder, facts.duration > 0, facts.duration < minimum else { return 1 }
        return Int((minimum / facts.duration).rounded(.up))
    }

    /// How much of a video of `duration` seconds a cut at `trim` keeps (all without one).
    static func keptFraction(trim: Double?, duration: Double) -> Double {
        trim.map { min(1, $0 / max(duration, 0.001)) } ?? 1
    }

    /// How far short of a preset's maximum duration a trimmed video is cut.
    static let trimMargin = 0.25

    /// Above this a file-size cap is left to CRF: H.264 High at level 4.2 allows 62.5 Mbps.
    static let sizeCapCeiling = 50_000_000

    /// The VBV maxrate: under the bitrate cap with headroom for the peak window, and low enough
    /// that the file fits the size limit (with 5% for the container and the audio's drift).
    static func encodeCap(output: VideoOutputSpec, duration: Double, audio: Audio) -> Int? {
        var cap = output.maxBitRate.map { Int(Double($0) * VideoOutputSpec.bitRateHeadroom) }
        if let bytes = output.maxBytes, duration > 0 {
            let audioBits = if case .transcode(_, _, let rate) = audio { rate } else { output.audioBitRate }
            let fit = Int(Double(bytes) * 8 * 0.95 / duration) - audioBits
            // A size limit that allows more than a CRF encode at this size ever spends does not
            // bind; as a VBV cap it would only raise the level x264 declares (6.2 at 15 Gbps).
            if fit < sizeCapCeiling { cap = min(cap ?? fit, max(100_000, fit)) }
        }
        return cap
    }

    /// AAC-LC within every audio rule is copied; anything else is re-encoded to meet them.
    private static func audioPlan(_ audio: AudioStreamFacts?, verdicts: [RuleVerdict], output: VideoOutputSpec,
                                  preset: String) -> (Audio, [String]) {
        guard let audio else { return (.none, []) }
        let rate = output.sampleRate ?? (audio.sampleRate > output.maxSampleRate ? output.maxSampleRate : max(8000, audio.sampleRate))
        let channels = output.channels ?? min(output.maxChannels, max(1, audio.channels))
        // Only a required rule makes the audio re-encoded; a re-encode then follows the advice too.
        let failing = verdicts.filter { $0.fails && $0.rule.scope == .audio }
        if failing.isEmpty { return (.copy, []) }
        var reasons: [String] = []
        if audio.codec != "aac" { reasons.append("re-encoded \(audio.codec) audio to AAC") }
        if rate != audio.sampleRate { reasons.append("resampled audio from \(audio.sampleRate) to \(rate) Hz") }
        if channels < audio.channels { reasons.append("downmixed \(audio.channels) audio channels to \(channels == 1 ? "mono" : "stereo")") }
        if channels > audio.channels { reasons.append("made mono audio stereo") }
        let named: Set<PublishRule> = audio.codec == "aac" ? [.audioCodec, .sampleRate, .channels]
            : [.audioCodec, .sampleRate, .channels, .audioProfile]
        for verdict in failing where !named.contains(verdict.rule) {
            reasons.append("\(verdict.describe(preset: preset)): re-encoded")
        }
        return (.transcode(sampleRate: rate, channels: channels, bitRate: output.encodeAudioBitRate(channels: channels)),
                reasons)
    }

    /// What a crop that follows the subject says: "reframed 16:9 to 9:16 following the subject,
    /// 2 shots (302x540, --fit crop)"; the shots are counted once the video is made.
    static func reframed(_ displayWidth: Int, _ displayHeight: Int, _ geometry: RenditionGeometry, shots: Int?) -> String {
        "reframed \(CropPath.shapeName(width: displayWidth, height: displayHeight)) to "
            + "\(CropPath.shapeName(width: geometry.width, height: geometry.height)) following the subject"
            + (shots.map { ", \($0) shot\($0 == 1 ? "" : "s")" } ?? "") + " (\(geometry.width)x\(geometry.height), --fit crop)"
    }

    /// The warnings once the video is made: a followed crop's with its shots counted.
    func warnings(followed path: CropPath?) -> [String] {
        guard let path else { return warnings }
        let told = Self.reframed(displayWidth, displayHeight, geometry, shots: nil)
        return warnings.map { $0 == told ? Self.reframed(displayWidth, displayHeight, geometry, shots: path.shots.count) : $0 }
    }

    /// The part of a `displayWidth` x `displayHeight` picture a crop to `geometry` keeps, even
    /// everywhere (4:2:0 chroma).
    static func cropWindow(_ geometry: RenditionGeometry, displayWidth: Int, displayHeight: Int)
        -> (x: Int, y: Int, width: Int, height: Int)
    {
        let window = geometry.cropWindow(sourceWidth: displayWidth, sourceHeight: displayHeight)
        return (window.x & ~1, window.y & ~1, window.width & ~1, window.height & ~1)
    }

    /// The filter that turns a picture `rotation` degrees clockwise (nil for none).
    static func turn(_ rotation: Int) -> String? {
        switch rotation {
        case 90: "transpose=clock"
        case 180: "hflip,vflip"
        case 270: "transpose=cclock"
        default: nil
        }
    }

    /// The libavfilter chain from decoded frames to the output picture in `pixelFormat`.
    /// `rotation` is the turn to apply (the poster of a remux still needs the display matrix's).
    func filters(pixelFormat: String, rotation: Int, includeFrameRate: Bool = true) -> String {
        var chain: [String] = []
        if deinterlace { chain.append("yadif") }
        if let turn = Self.turn(rotation) { chain.append(turn) }
        if toneMap != nil {
            chain.append("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
                + "zscale=t=bt709:m=bt709:r=tv")
        }
        let (w, h) = (geometry.width, geometry.height)
        switch geometry.mode {
        case .within:
            chain.append("scale=\(w):\(h):flags=bicubic")
        case .crop where follows:
            // Each frame was cut to its window before the graph (`FrameCrop`).
            chain.append("scale=\(w):\(h):flags=bicubic")
        case .crop:
            // The window around the focus point, or the centre.
            let (x, y, cropW, cropH) = Self.cropWindow(geometry, displayWidth: displayWidth, displayHeight: displayHeight)
            chain.append("crop=\(cropW):\(cropH):\(x):\(y),scale=\(w):\(h):flags=bicubic")
        case .pad:
            chain.append("scale=\(w):\(h):force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic,"
                + "pad=\(w):\(h):(ow-iw)/2:(oh-ih)/2:color=black")
        case .blur:
            // The fill is made at an eighth of the size (cheap to blur), darkened, and scaled up
            // under the fitted picture.
            let (sw, sh) = (max(2, (w / 8) & ~1), max(2, (h / 8) & ~1))
            chain.append("split[kiln_fill][kiln_picture];"
                + "[kiln_fill]scale=\(sw):\(sh):force_original_aspect_ratio=increase:flags=fast_bilinear,crop=\(sw):\(sh),"
                + "gblur=sigma=\(max(1, min(sw, sh) / 10)),lutyuv=y=16+(val-16)*0.75,"
                + "scale=\(w):\(h):flags=bilinear[kiln_bars];"
                + "[kiln_picture]scale=\(w):\(h):force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic[kiln_fit];"
                + "[kiln_bars][kiln_fit]overlay=(W-w)/2:(H-h)/2")
        }
        chain.append("setsar=1")
        if includeFrameRate, let frameRate { chain.append("fps=\(ByteCount.decimal(frameRate, places: 3))") }
        chain.append("format=\(pixelFormat)")
        return chain.joined(separator: ",")
    }
}
