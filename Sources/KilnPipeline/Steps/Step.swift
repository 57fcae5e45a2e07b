import KilnCore
import KilnSniff

/// One stage of the pipeline. Steps return early when they do not apply.
struct Step: Sendable {
    let name: String
    let run: @Sendable (inout IngestContext, PipelineEnvironment) throws -> Void
}

/// What steps share: the sniffer and the store.
struct PipelineEnvironment: Sendable {
    let sniffer: ContentSniffer
    let store: (any MediaStore)?

    /// The store, or FILE_007 when this pipeline was made without one (probe only).
    func requireStore() throws(KilnError) -> any MediaStore {
        guard let store else { throw KilnError.storageNotConfigured("this pipeline has no store; pass one to Pipeline(store:)") }
        return store
    }
}
