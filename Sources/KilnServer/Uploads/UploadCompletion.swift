import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue

/// A resumable upload whose bytes are all in, handed to the ingest service as `POST /v1/media`
/// hands its file, and the answer kept as the upload's result. The tus handler ends an upload's
/// last chunk here, and `UploadSweeper` finishes here what a crash or a stop left undone; no
/// HTTP request is involved.
struct UploadCompletion: Sendable {
    let area: UploadArea
    let ingest: IngestService
    let answers: IngestAnswers
    let base: IngestOptions

    /// Sends a complete upload through the service (once: a stored result is answered again)
    /// and keeps the answer. A refusal of the media is the upload's result; a failure that may
    /// pass (storage unavailable, the server busy) is thrown and tried again by `UploadSweeper`.
    func process(_ record: UploadRecord, requestID: String) async throws -> UploadResult {
        if let result = record.result { return result }
        var form = try UploadForm(metadata: record.metadata, base: base, presets: ingest.pipeline.presets)
        form.tenant = record.tenant
        let options = form.options
        let name = record.metadata["filename"] ?? record.metadata["name"] ?? "upload"
        let control = options.makeControl()
        let result: UploadResult
        do {
            // The upload's bytes stay until the result is recorded: a crash before is processed again.
            let (path, done) = try await area.bytes.file(record.id, length: record.offset)
            defer { done() }
            let received = try await ingest.pipeline.receive(file: path, name: name, options: options,
                                                             targets: form.names, control: control)
            let answer = try await ingest.submit(IngestSubmission(inputs: [IngestInput(upload: received)], carousel: false, options: form.upload,
                                                                  tenant: record.tenant, keyID: record.keyID,
                                                                  requestID: requestID, control: control))
            let outcome = try answers.outcome(answer, requestID: requestID)
            result = UploadResult(status: outcome.status.code, body: outcome.body, location: outcome.location)
        } catch where Task.isCancelled || (error as? KilnError).map({ $0.code == .file006 || $0.code == .processing004 }) == true {
            // Not the media's fault: processed again later.
            throw error
        } catch {
            let failure = error as? KilnError ?? KilnError.internalError("processing the upload failed unexpectedly")
            result = UploadResult(status: failure.entry.httpStatus,
                                  body: Data(Reply.envelopeBytes(failure, requestID: requestID).readableBytesView), location: nil)
        }
        try await area.records.finish(record.id, result)
        // What the bytes became is recorded: they are done with.
        await area.bytes.remove(record.id)
        return result
    }
}
