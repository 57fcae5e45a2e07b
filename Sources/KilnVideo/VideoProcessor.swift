import CFFmpeg
import KilnCore
import KilnImaging

/// The video engine: remux or transcode per the plan, then a poster frame, with progress,
/// a deadline and cancellation. Every failure is a catalog error.
public enum VideoProcessor {
    /// What was written.
    public struct Output: Sendable, Equatable {
        /// What happened to the video stream (copied or re-encoded) and to the audio.
        public let mode: VideoPlan.Mode
        public let audio: VideoPlan.Audio
        public let width: Int
        public let height: Int
        public let posterWidth: Int
        public let posterHeight: Int
        public let warnings: [String]
        /// Seconds of packets read: how long the video turned out, whatever its header said.
        public let secondsRead: Double
        /// Where the crop's window went as it followed the subject.
        public let framing: CropPath?
    }

    /// What decides the file a plan makes: the plan less its words, and the encoder's settings.
    /// Targets whose encodes are equal share one file (a stream copied, or encoded, once).
    public struct Encode: Equatable, Sendable {
        let plan: VideoPlan
        let preset: String
        let crf: Int

        public init(_ plan: VideoPlan, output: VideoOutputSpec) {
            (self.plan, preset, crf) = (plan.unworded, output.preset, output.crf)
        }
    }

    /// Progress: frames encoded so far and the expected total (0 for a remux, which has no frames to count).
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    /// Makes `videoPath` (MP4) and `posterPath` (JPEG) from the video at `path`: measures its
    /// packets (unless `measured` is given), plans, and makes the plan.
    /// - Parameters:
    ///   - control: the job's deadline and cancel switch (PROCESSING_003, PROCESSING_005).
    ///   - threads: codec threads for this job (0: FFmpeg's choice, every core).
    public static func process(path: String, format: MediaFormat, facts: VideoFacts, rules: VideoRules, fit: Fit,
                               fitDuration: DurationFit = .reject, preset: String = "the preset",
                               measured: VideoMeasurement? = nil, videoPath: String,
                               posterPath: String, control: JobControl = JobControl(timeout: nil),
                               threads: Int = 0, progress: Progress? = nil) throws -> Output {
        let measured = try measured ?? measure(path: path, format: format, control: control)
        let plan = try VideoPlan.make(facts: facts, measured: measured, rules: rules, fit: fit, fitDuration: fitDuration,
                                      preset: preset)
        return try make(plan, path: path, format: format, facts: facts, rules: rules, videoPath: videoPath,
                        posterPath: posterPath, control: control, threads: threads, progress: progress)
    }

    /// Makes the files `plan` describes. Reading stops a second past `rules`' maximum duration
    /// (or the plan's cut), whatever the header said.
    public static func make(_ plan: VideoPlan, path: String, format: MediaFormat, facts: VideoFacts, rules: VideoRules,
                            videoPath: String, posterPath: String, control: JobControl = JobControl(timeout: nil),
                            threads: Int = 0, progress: Progress? = nil) throws -> Output {
        let interrupt = Interrupt(control)
        let total = expectedFrames(facts, plan: plan)
        let duration = min(facts.duration, plan.trim ?? facts.duration)
        do {
            let input = try Demuxer(path: path, format: format.decoder, interrupt: interrupt)
            // A header can understate the duration: the packets themselves are held to the limit.
            input.durationLimit = readLimit(plan, rules)
            var last = 0
            // A looped GIF reads its file again for each play after the first.
            let again = { () throws(AVFailure) -> Demuxer in
                let replay = try Demuxer(path: path, format: format.decoder, interrupt: interrupt)
                replay.durationLimit = input.durationLimit
                return replay
            }
            let transcoder = try Transcoder(input: input, again: again, plan: plan, output: rules.output,
                                            outputPath: videoPath, interrupt: interrupt, threads: threads) { done in
                // About a hundred callbacks over a job, not one per frame.
                if done - last >= max(1, total / 100) {
                    last = done
                    progress?(min(done, total), total)
                }
            }
            try transcoder.run()
            progress?(total, total)
            var made = plan
            made.framing = transcoder.framing
            // A container whose index is at its start (WebM, fragmented MP4) can be cut short
            // and still read to an early, clean end: compare with the duration it declares.
            if duration > 1, input.secondsRead < duration * 0.9 - 0.5 {
                throw KilnError.corrupt("the video ends at \(ByteCount.decimal(input.secondsRead, places: 2)) s of the \(ByteCount.decimal(facts.duration, places: 2)) s it declares (truncated upload?)")
            }
            let posterInput = try Demuxer(path: path, format: format.decoder, interrupt: interrupt)
            let picture = try PosterGrabber.best(input: posterInput, plan: made, rotation: facts.video?.rotation ?? 0,
                                                 at: posterTimes(duration), threads: threads)
            try RawImageWriter.writeRGB(picture.pixels, width: picture.width, height: picture.height, format: .jpeg,
                                        quality: 85, to: posterPath)
            return Output(mode: plan.mode, audio: plan.audio, width: plan.geometry.width, height: plan.geometry.height,
                          posterWidth: picture.width, posterHeight: picture.height,
                          warnings: plan.warnings(followed: made.framing), secondsRead: input.secondsRead, framing: made.framing)
        } catch let failure as AVFailure {
            if failure.operation == Demuxer.durationLimitOperation { throw tooLong(facts, rules) }
            throw classify(failure, control: control)
        }
    }

    /// Holds an output made for another target's rules (a shared encode, read to the longest
    /// limit among them) to `rules`: MEDIA_005 when its packets ran past this one's limit.
    public static func hold(_ output: Output, plan: VideoPlan, facts: VideoFacts, rules: VideoRules) throws(KilnError)
        -> Output
    {
        if output.secondsRead > readLimit(plan, rules) { throw tooLong(facts, rules) }
        return Output(mode: output.mode, audio: output.audio, width: output.width, height: output.height,
                      posterWidth: output.posterWidth, posterHeight: output.posterHeight,
                      warnings: plan.warnings(followed: output.framing), secondsRead: output.secondsRead,
                      framing: output.framing)
    }

    private static func readLimit(_ plan: VideoPlan, _ rules: VideoRules) -> Double { (plan.trim ?? rules.maxDuration) + 1 }

    private static func tooLong(_ facts: VideoFacts, _ rules: VideoRules) -> KilnError {
        KilnError.duration(facts.duration, min: rules.minDuration, max: rules.maxDuration)
            .with(detail: "decoded_duration_over", .double(rules.maxDuration + 1))
    }

    /// The input's packets measured (bitrates, GOP structure): what the plan needs beyond the
    /// header. One measurement serves every target's plan.
    public static func measure(path: String, format: MediaFormat, control: JobControl) throws -> VideoMeasurement {
        do {
            let demuxer = try Demuxer(path: path, format: format.decoder, interrupt: Interrupt(control))
            return try StreamMeter.measure(demuxer, path: path)
        } catch {
            throw classify(error, control: control)
        }
    }

    /// Where the poster's candidates are: a few points through the video (the first frame of a
    /// video under a second), each the key frame at or before it.
    static func posterTimes(_ duration: Double) -> [Double] {
        guard duration >= 1 else { return [0] }
        return [0.1, 0.3, 0.5, 0.7].map { duration * $0 }
    }

    static func expectedFrames(_ facts: VideoFacts, plan: VideoPlan) -> Int {
        let kept = VideoPlan.keptFraction(trim: plan.trim, duration: facts.duration) * Double(plan.loops)
        guard let rate = plan.frameRate else { return max(1, Int(Double(facts.video?.frameCount ?? 1) * kept)) }
        return max(1, Int((facts.duration * kept * rate).rounded()))
    }

    /// Where FFmpeg's failures map to catalog codes: a stop is the job's (timeout or
    /// cancellation), reading or decoding the input is the file's fault, the rest is the engine's.
    static func classify(_ failure: AVFailure, control: JobControl) -> KilnError {
        if failure.wasInterrupted || control.isStopped, let stop = control.stopError() { return stop }
        let inputSide = ["av_read_frame", "avcodec_send_packet", "avcodec_receive_frame", "avformat_open_input",
                         "avformat_find_stream_info"]
        if inputSide.contains(failure.operation) || failure.code == kiln_averror_invaliddata() {
            return .corrupt("\(failure.message) while reading the video (\(failure.operation))")
        }
        var error = KilnError.videoProcessing("\(failure.operation): \(failure.message)")
        error.details["ffmpeg_error"] = .string(failure.message)
        error.details["operation"] = .string(failure.operation)
        return error
    }
}
