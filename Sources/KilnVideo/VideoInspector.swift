import CFFmpeg
import KilnCore

/// Reads a written (or any) video back with the libav demuxer, trusting nothing the encoder
/// said: the header facts and the packets' measurement that `PublishCheck.video` holds to a
/// preset's rules. The output check and `kiln check` use it.
public enum VideoInspector {
    public static func inspect(path: String, format: MediaFormat, sizeBytes: Int64,
                               control: JobControl = JobControl(timeout: VideoProber.probeTimeout)) throws
        -> (facts: VideoFacts, measured: VideoMeasurement)
    {
        let facts = try VideoProber.facts(path: path, format: format, sizeBytes: sizeBytes, control: control)
        guard facts.video != nil else { throw KilnError.noVideoStream(mime: facts.mime) }
        return (facts, try VideoProcessor.measure(path: path, format: format, control: control))
    }
}
