import KilnCore
import KilnImaging
import KilnVideo

/// The state one item carries through the steps. Each step reads what earlier steps set.
struct IngestContext: Sendable {
    /// Where the bytes are (a local file, read in place, or a spooled upload).
    let path: String
    /// The name reported back (the path given, or the upload's file name).
    let input: String
    let options: IngestOptions
    let preset: Preset

    /// Set by receive.
    var sizeBytes: Int64 = 0
    /// Set by sniff.
    var mime = ""
    var format: MediaFormat?
    /// Set by validate.
    var facts: MediaFacts?
    /// Set by process.
    var staging: Staging?
    var renditionFiles: [(spec: RenditionSpec, file: String, width: Int, height: Int)] = []
    var placeholder: (thumbhash: String, dominantColor: String)?
    var warnings: [String] = []
    /// Set by stage.
    var item: MediaItem?
    /// The job's deadline and cancel switch, for FFmpeg and libvips alike.
    let control: JobControl

    init(path: String, input: String, options: IngestOptions, preset: Preset, control: JobControl? = nil) {
        self.path = path
        self.control = control ?? JobControl(timeout: options.timeout)
        self.input = input
        self.options = options
        self.preset = preset
    }

    /// A value a step needs from an earlier one; its absence is a bug in the step order.
    func required<T>(_ value: T?, _ name: String) throws(KilnError) -> T {
        guard let value else { throw KilnError.internalError("pipeline step order: \(name) was not set") }
        return value
    }
}

/// One job's stop switch: cancels FFmpeg work (interrupt callback) and libvips work (kill
/// flag), and carries the deadline libvips checks.
final class JobControl: Sendable {
    let video = VideoCancellation()
    let images: ImageDeadline

    init(timeout: Duration?) { images = ImageDeadline(timeout: timeout) }

    func cancel() {
        video.cancel()
        images.cancel()
    }
}
