import Foundation
import KilnCore

/// One input of a request: a local file read in place, or an upload already received (its
/// hash known from receiving it).
public struct IngestInput: Sendable {
    let path: String
    let name: String
    /// The received upload the file is, when it is one (its type, size and digest known).
    public let upload: ReceivedUpload?
    /// The whole file's size when `path` holds only its first bytes (a preflight).
    let size: Int64?

    /// - Parameter name: the name to report (defaults to `path`), e.g. an upload's file name.
    public init(path: String, name: String? = nil) {
        self.path = path
        self.name = name ?? path
        upload = nil
        size = nil
    }

    public init(upload: ReceivedUpload) {
        path = upload.path
        name = upload.name
        self.upload = upload
        size = nil
    }

    /// The first bytes of a file of `size` bytes, at `path`: for `Pipeline.preflight`, which reads
    /// headers only (the size limits are held to `size`).
    public init(head path: String, name: String, size: Int64) {
        self.path = path
        self.name = name
        upload = nil
        self.size = size
    }
}

/// Everything one ingest asks: the inputs (one item, or the items of one carousel), the targets
/// (presets) to make them for, the options they share, and the job's control. Every front end
/// builds one and reads an `IngestResult`.
public struct IngestRequest: Sendable {
    public let inputs: [IngestInput]
    /// Several inputs are one carousel; a carousel may also hold one input (refused by a preset
    /// whose range starts higher).
    public let isCarousel: Bool
    /// Preset names, in the order the outcomes come back; duplicates dropped.
    public let targets: [String]
    /// Type, fit, tenant, timeout, memory budget and progress; its `preset` is ignored.
    public var options: IngestOptions
    /// The job's control, to cancel it or follow it from elsewhere; made from `options` when nil.
    public var control: JobControl?

    /// One input made for each of `targets` (default: `options.preset`).
    public init(_ input: IngestInput, targets: [String]? = nil, options: IngestOptions = IngestOptions(),
                control: JobControl? = nil) {
        self.init(inputs: [input], isCarousel: false, targets: targets, options: options, control: control)
    }

    /// The inputs made into one carousel for each of `targets` (default: `options.preset`).
    public init(carousel inputs: [IngestInput], targets: [String]? = nil, options: IngestOptions = IngestOptions(),
                control: JobControl? = nil) {
        self.init(inputs: inputs, isCarousel: true, targets: targets, options: options, control: control)
    }

    private init(inputs: [IngestInput], isCarousel: Bool, targets: [String]?, options: IngestOptions,
                 control: JobControl?) {
        self.inputs = inputs
        self.isCarousel = isCarousel
        var seen = Set<String>()
        self.targets = (targets ?? [options.preset]).filter { seen.insert($0).inserted }
        self.options = options
        self.control = control
    }

    /// Target names from a comma-separated list ("instagram-feed,x, bluesky"), empty names dropped.
    public static func targets(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// What a request came to: one outcome per target, in the request's order.
public struct IngestResult: Sendable {
    public let outcomes: [TargetOutcome]
    /// How many times an image's pixels were decoded from its file: one per input for all its
    /// targets when it has several renditions to make, whatever the number of targets.
    public let decodes: Int
    /// How many video files were made (a stream copy or an encode): one for every set of targets
    /// whose plans and encoder settings are the same.
    public let encodes: Int

    /// The first target's outcome (a request for one target), its error thrown.
    public func made() throws(KilnError) -> TargetOutcome {
        guard let outcome = outcomes.first else { throw KilnError.internalError("a request with no target") }
        if let error = outcome.error { throw error }
        return outcome
    }

    /// The first target's item (a request for one target, one input), or its error.
    public func item() throws(KilnError) -> MediaItem {
        guard let item = try made().items.first else { throw KilnError.internalError("an outcome with no item") }
        return item
    }

    /// The first target's carousel and its items (a carousel request for one target), or its error.
    public func carousel() throws(KilnError) -> (carousel: CarouselRecord, items: [MediaItem]) {
        let outcome = try made()
        guard let carousel = outcome.carousel else { throw KilnError.internalError("an outcome with no carousel") }
        return (carousel, outcome.items)
    }
}
