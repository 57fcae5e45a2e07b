import CFFmpeg
import KilnCore

/// Reads a written (or any) video back with the libav demuxer, trusting nothing the encoder
/// said: the header facts and the packets' measurement that `PublishCheck.video` holds to a
/// preset's rules. The output check and `kiln check` use it.
public enum VideoInspector {
    /// One open of the file: its header facts, then its packets measured.
    public static func inspect(path: String, format: MediaFormat, sizeBytes: Int64,
                               control: JobControl = JobControl(timeout: VideoProber.probeTimeout)) throws
        -> (facts: VideoFacts, measured: VideoMeasurement)
    {
        let demuxer = try VideoProber.opened(path: path, format: format, sizeBytes: sizeBytes, control: control)
        let facts = VideoProber.facts(of: demuxer, mime: format.mime, sizeBytes: sizeBytes)
        guard facts.video != nil else { throw KilnError.noVideoStream(mime: facts.mime) }
        do {
            return (facts, try StreamMeter.measure(demuxer, path: path))
        } catch {
            throw VideoProcessor.classify(error, control: control)
        }
    }
}
