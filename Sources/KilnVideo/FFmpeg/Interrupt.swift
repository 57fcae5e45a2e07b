import CFFmpeg
import KilnCore

/// Stops FFmpeg's blocking calls (opening, reading, writing) when the job is past its deadline
/// or cancelled: FFmpeg polls `AVIOInterruptCB`, and the loops poll `checkpoint()`.
final class Interrupt: Sendable {
    let control: JobControl

    init(_ control: JobControl) { self.control = control }

    /// The callback record for a format context; valid while this object lives (the demuxer
    /// or muxer holding it keeps a strong reference).
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(callback: { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<Interrupt>.fromOpaque(opaque).takeUnretainedValue().control.isStopped ? 1 : 0
        }, opaque: Unmanaged.passUnretained(self).toOpaque())
    }

    /// Throws when the job should stop; called between packets.
    func checkpoint() throws(AVFailure) {
        if control.isStopped { throw AVFailure("interrupted", code: kiln_averror_exit()) }
    }
}
