import KilnCore
import KilnStorage

/// identify: the input's SHA-256 (already known for a received stream; one read of a local
/// file otherwise, after the cheap checks passed) and the media id it makes with the options.
extension Step {
    static let identify = Step(name: "identify") { context, _ in
        let source: String
        if let known = context.sourceSHA256 {
            source = known
        } else {
            source = try FileDigest.sha256(path: context.path)
            context.sourceSHA256 = source
        }
        let options = MediaIdentity.options(context.options, preset: context.preset)
        context.processingOptions = options
        context.id = MediaIdentity.id(sourceSHA256: source, options: options)
    }
}
