import KilnCore
import KilnStorage

/// identify: the input's SHA-256 (already known for a received stream; one read of a local
/// file otherwise, after the cheap checks passed) and the media id it makes with the options.
extension Step {
    /// hash: once per input, whatever the number of targets.
    static let hash = Step(name: "hash") { context, _ in
        if context.sourceSHA256 == nil { context.sourceSHA256 = try FileDigest.sha256(path: context.path) }
    }

    static let identify = Step(name: "identify") { context, environment in
        try hash.run(&context, environment)
        let source = try context.required(context.sourceSHA256, "source hash")
        let options = MediaIdentity.options(context.options, preset: context.preset)
        context.processingOptions = options
        context.id = MediaIdentity.id(sourceSHA256: source, options: options)
    }
}
