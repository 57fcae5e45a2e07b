import Foundation
import KilnCore
import Logging
import ServiceLifecycle

/// Keeps resumable uploads in order: at start, files left without their row go; then every
/// `interval`, uploads past their expiry go, and uploads whose bytes are all in but whose
/// processing never ended (a crash or a stop in between, the store down) are processed.
/// An upload a request is on is left for the next round.
struct UploadSweeper: Service {
    /// Where complete uploads are processed: the same step as a last chunk's.
    let completion: UploadCompletion
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                do { try await completion.area.removeOrphans() } catch { logger.warning("uploads: \(error)") }
                while true {
                    await sweep()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down: nothing to finish (a sweep cut short is done again at the next start).
        }
    }

    func sweep() async {
        let area = completion.area
        do {
            for id in try await area.records.expired(at: Date()) {
                try? await area.holding(id, offset: 0) { try await area.remove(id) }
            }
            for record in try await area.records.awaitingProcessing() where record.expiresAt > Date() {
                do {
                    _ = try await area.holding(record.id, offset: record.offset) {
                        // Read again under the hold: a request may have processed it meanwhile.
                        guard let current = try await area.records.get(record.id) else { return }
                        let result = try await completion.process(current, requestID: RequestID.make())
                        logger.info("upload \(record.id) processed after its last chunk: \(result.status)")
                    }
                } catch {
                    logger.warning("upload \(record.id) is complete but could not be processed yet: \(error)")
                }
            }
        } catch {
            logger.warning("uploads: \(error)")
        }
    }
}
