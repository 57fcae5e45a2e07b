import Foundation
import KilnCore
import KilnDatabase
import Logging
import ServiceLifecycle

/// Forgets what is kept only for a while, once at start and then every `settings.housekeeping`:
/// `Idempotency-Key` answers after `idempotencyRetention`, ended jobs (their events handed on)
/// after `jobRetention`, and the webhook delivery log after `WebhookDeliverer.logWindow`.
struct Housekeeping: Service {
    let server: KilnServer
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    await sweep(at: Date())
                    try await Task.sleep(for: server.settings.housekeeping)
                }
            }
        } catch is CancellationError {
            // Shutting down: the next start sweeps again.
        }
    }

    func sweep(at now: Date) async {
        let settings = server.settings
        do { try await server.idempotency.prune(before: now.addingTimeInterval(-JobControl.seconds(settings.idempotencyRetention))) } catch {
            logger.warning("housekeeping: idempotency answers: \(error)")
        }
        do {
            let pruned = try await server.queue.prune(endedLongerThan: settings.jobRetention)
            if pruned > 0 { logger.info("housekeeping: forgot \(pruned) ended jobs") }
        } catch {
            logger.warning("housekeeping: jobs: \(error)")
        }
        do { try await server.state.outbox.prune(before: now.addingTimeInterval(-WebhookDeliverer.logWindow)) } catch {
            logger.warning("housekeeping: webhook log: \(error)")
        }
        do { try await server.state.rates.prune(before: now) } catch {
            logger.warning("housekeeping: rate windows: \(error)")
        }
    }
}
