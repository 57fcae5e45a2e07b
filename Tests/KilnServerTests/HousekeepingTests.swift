import Foundation
import KilnDatabase
import KilnTestSupport
import Testing

/// What is kept for a while goes on a schedule: an Idempotency-Key's answer and an ended job.
@Suite struct HousekeepingTests {
    @Test func idempotencyAnswersAndEndedJobsArePrunedOnSchedule() async throws {
        let server = try await TestServer.start {
            $0.idempotencyRetention = .zero
            $0.jobRetention = .zero
            $0.housekeeping = .milliseconds(100)
        }
        defer { Task { await server.stop() } }
        let video = try await server.upload(Fixtures.sample("video/no-audio.mp4"))
        let job = try #require((video.data["job"] as? [String: Any])?["id"] as? String)
        #expect(try await server.finishedJob(job).data["status"] as? String == "succeeded")
        #expect(try await server.upload(Fixtures.sample("grey.png"), headers: [("Idempotency-Key", "pic")]).status == 201)
        // Observed, bounded: the job (once its event is handed on) goes, and the key's answer:
        // the same request with it then runs again instead of being replayed.
        let deadline = ContinuousClock.now + .seconds(60)
        var jobGone = false
        var answerGone = false
        while !(jobGone && answerGone), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            jobGone = try await server.request(.GET, "/v1/jobs/\(job)", key: server.readKey).status == 404
            let again = try await server.upload(Fixtures.sample("grey.png"), headers: [("Idempotency-Key", "pic")])
            answerGone = answerGone || again.headers.first(name: "Idempotent-Replayed") == nil
        }
        #expect(jobGone, "the ended job was pruned")
        #expect(answerGone, "the idempotency answer was pruned: the same key runs the request again")
    }
}
