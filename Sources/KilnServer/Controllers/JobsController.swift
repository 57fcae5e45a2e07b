import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import KilnStorage
import NIOCore
import NIOHTTPTypes

/// Jobs (poll, wait, cancel) and the webhook delivery log.
struct JobsController: Controller {
    let queue: any JobQueue
    /// Stops a job running in this process at once.
    let runner: JobRunner
    let outbox: any OutboxStore
    let present: @Sendable (MediaItem) -> MediaItem
    /// The longest `?wait=true` holds a request.
    let waitLimit: Duration

    var routes: [Route] {
        [
            Route(.get, "/v1/jobs/{id}", .read, job),
            Route(.delete, "/v1/jobs/{id}", .write, cancel),
            Route(.get, "/v1/webhooks/deliveries", .read, webhookDeliveries),
        ]
    }

    func job(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        var record = try await ownedJob(context)
        let id = record.id
        let wait = request.uri.queryParameters.get("wait")
        guard wait == nil || wait == "true" || wait == "false" else {
            throw KilnError.invalidRequest("wait must be true or false", fields: ["wait": "true|false"])
        }
        if wait == "true" {
            let deadline = ContinuousClock.now + waitLimit
            while !record.status.isFinished, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                record = try await queue.job(id) ?? record
            }
        }
        return Reply.success(JobView(record, present: present), requestID: context.requestID)
    }

    func cancel(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let id = try await ownedJob(context).id
        let reason = "the job was cancelled through the API"
        guard let record = try await queue.cancel(id, reason: JobRunner.encode(KilnError.cancelled(reason))) else {
            throw KilnError.notFoundResource("job \(id)")
        }
        runner.cancel(id, reason: reason)
        return Reply.success(JobView(record, present: present), requestID: context.requestID)
    }

    /// The route's job when the caller's tenant queued it; API_002 otherwise, as for no job.
    private func ownedJob(_ context: KilnRequestContext) async throws(KilnError) -> JobRecord {
        let id = context.parameters.get("id") ?? ""
        guard let record = try await queue.job(id), let owner = JobPayload.owner(of: record), owner == context.key?.tenant
        else { throw KilnError.notFoundResource("job \(id)") }
        return record
    }

    // MARK: Webhooks

    /// The delivery log of the caller's tenant's endpoints, newest first (`?limit=`, 1-500, default 100).
    func webhookDeliveries(_ request: Request, _ context: KilnRequestContext) async throws -> Response {
        let limit = request.uri.queryParameters.get("limit").map { Int($0) } ?? 100
        guard let limit, (1...500).contains(limit) else {
            throw KilnError.invalidRequest("limit must be 1-500", fields: ["limit": "1-500"])
        }
        let deliveries = try await outbox.log(tenant: context.key?.tenant ?? "", limit: limit)
        return Reply.success(["deliveries": deliveries.map(DeliveryView.init)], requestID: context.requestID)
    }
}
