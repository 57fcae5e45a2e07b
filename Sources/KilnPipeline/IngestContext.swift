import KilnCore
import KilnImaging
import KilnVideo
import Tracing

/// The state one item carries through the steps. Each step reads what earlier steps set.
struct IngestContext: Sendable {
    /// Where the bytes are (a local file, read in place, or a spooled upload).
    let path: String
    /// The name reported back (the path given, or the upload's file name).
    let input: String
    let options: IngestOptions
    /// The target: one context per input and target, made from the input's shared context.
    var preset: Preset
    /// The job's deadline, cancel switch and progress, for every step and engine.
    let control: JobControl
    /// The trace the request is part of: each step is a span in it. The steps run on job
    /// threads, where the task's own context is not.
    var trace: ServiceContext?
    /// libvips and FFmpeg threads this job may use.
    let threads: Int

    /// An item of a carousel (its kind is held to the target's carousel kinds).
    var carouselItem = false

    /// Set by receive, or carried from receiving an upload with its type and hash (a file's
    /// hash comes from identify). A preflight's is the whole file's, not the head's it reads.
    var sizeBytes: Int64 = 0
    var sourceSHA256: String?
    /// Set by sniff.
    var mime = ""
    var format: MediaFormat?
    /// Set by validate: the header facts and the memory the work is estimated to need.
    var facts: MediaFacts?
    var memoryEstimate: Int64 = 0
    /// The renditions made once, from one decode, for every target of the input, when it has
    /// several to make.
    var shared: SharedRenditions?
    /// Renditions decoded from the file itself (none when `shared` serves them).
    var decodes = 0
    /// A video's measurement and the encodes its targets share, when it has several targets.
    var video: SharedVideo?
    /// Video files this target made itself (none when it linked a shared one).
    var encodes = 0
    /// Set by identify.
    var id: String?
    var processingOptions: ProcessingOptions?
    /// Set by process.
    var staging: Staging?
    var renditionFiles: [(spec: RenditionSpec, file: String, width: Int, height: Int)] = []
    var placeholder: (thumbhash: String, dominantColor: String)?
    var warnings: [String] = []
    /// The crop path a video followed, for the manifest.
    var framing: CropPath?
    /// Set by check: the rules every rendition passed, `preset@digest`.
    var rulesPassed: String?
    /// Set by stage.
    var item: MediaItem?

    init(path: String, input: String, options: IngestOptions, preset: Preset, control: JobControl, threads: Int = 0) {
        self.path = path
        self.input = input
        self.options = options
        self.preset = preset
        self.control = control
        self.threads = threads
    }

    /// A value a step needs from an earlier one; its absence is a bug in the step order.
    func required<T>(_ value: T?, _ name: String) throws(KilnError) -> T {
        guard let value else { throw KilnError.internalError("pipeline step order: \(name) was not set") }
        return value
    }

    /// Reports progress within the processing stage.
    func processing(_ fraction: Double) { control.report(.processing, fraction) }
}
