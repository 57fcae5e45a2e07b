import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import KilnStorage
import KilnTestSupport
import Testing

/// The ingest service: an image made at once and recorded as its tenant's; a video kept and
/// queued, its job row holding the upload's options; the same video and options queued once.
@Suite struct IngestServiceTests {
    /// A service over an embedded database, a local store and scratch directories.
    final class Setup: @unchecked Sendable {
        let root: String
        let database: KilnDatabase
        let pipeline: Pipeline
        let service: IngestService

        init() throws {
            root = Fixtures.scratchDirectory("kiln-ingest-service")
            database = try KilnDatabase(directory: root + "/data")
            pipeline = try Pipeline(store: try LocalStore(root: root + "/media"), temporaryDirectory: root + "/tmp")
            service = IngestService(pipeline: pipeline, queue: SQLiteJobQueue(database), records: SQLiteMediaRecords(database),
                                    base: IngestOptions(), dataDirectory: root + "/data", shared: false)
        }

        deinit { Fixtures.cleanUp(root) }

        /// `sample` received as an upload (from a copy: receiving takes the file over).
        func upload(_ sample: String, options: UploadOptions) async throws -> ReceivedUpload {
            let copy = root + "/in-" + UUID().uuidString + "-" + (sample as NSString).lastPathComponent
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.sample(sample), toPath: copy)
            return try await pipeline.receive(file: copy, name: sample,
                                              options: options.ingestOptions(base: IngestOptions(), tenant: nil),
                                              targets: options.names)
        }

        func submission(_ uploads: [ReceivedUpload], _ options: UploadOptions, tenant: String = "t1") -> IngestSubmission {
            IngestSubmission(inputs: uploads.map(IngestInput.init(upload:)), carousel: false, options: options, tenant: tenant, keyID: "key-1",
                             requestID: "req-test", control: JobControl(timeout: .seconds(120)))
        }
    }

    @Test func anImageIsMadeNowAndRecordedAsItsTenants() async throws {
        let setup = try Setup()
        var options = UploadOptions(base: IngestOptions())
        options.preset = "x"
        let answer = try await setup.service.submit(setup.submission([try await setup.upload("photo.jpg", options: options)], options))
        guard case .made(.item(let item)) = answer else { Issue.record("not made at once: \(answer)"); return }
        #expect(item.preset == "x")
        #expect(item.options.tenant == "t1")
        #expect(try await SQLiteMediaRecords(setup.database).tenant(of: item.id) == "t1")
    }

    @Test func targetsAnswerOneOutcomeEach() async throws {
        let setup = try Setup()
        var options = UploadOptions(base: IngestOptions())
        options.targets = ["x", "bluesky"]
        let answer = try await setup.service.submit(setup.submission([try await setup.upload("photo.jpg", options: options)], options))
        guard case .made(.targets(let outcomes)) = answer else { Issue.record("no outcomes: \(answer)"); return }
        #expect(outcomes.map(\.target) == ["x", "bluesky"])
        for outcome in outcomes {
            let id = try #require(outcome.items.first?.id)
            #expect(try await SQLiteMediaRecords(setup.database).tenant(of: id) == "t1")
        }
    }

    @Test func aVideoIsQueuedWithItsOptionsAndQueuedOnceWhileUnfinished() async throws {
        let setup = try Setup()
        var options = UploadOptions(base: IngestOptions())
        options.preset = "instagram-reel"
        options.fitDuration = .trim
        options.limits = ["instagram-reel": AccountLimits(maxDurationSeconds: 30)]
        let sample = "video/h264-aac-moov-end.mp4"
        let first = try await setup.service.submit(setup.submission([try await setup.upload(sample, options: options)], options))
        guard case .queued(let job) = first else { Issue.record("a video is not made at once: \(first)"); return }
        #expect(job.status == .queued)
        let payload = try JSONDecoder().decode(JobPayload.self, from: job.payload)
        #expect(payload.options == options)
        #expect(payload.owner == "t1")
        #expect(payload.requestID == "req-test")
        let kept = try #require(payload.inputs.first?.path)
        #expect(FileManager.default.fileExists(atPath: kept), "the job's file is kept until it runs")
        #expect(kept.hasPrefix(IngestService.directory(for: job.id, data: setup.root + "/data")))

        // The same bytes and options again: the first job answers, and this copy is not kept.
        let again = try await setup.service.submit(setup.submission([try await setup.upload(sample, options: options)], options))
        guard case .queued(let same) = again else { Issue.record("not queued: \(again)"); return }
        #expect(same.id == job.id)
        // Other options make another job.
        var other = options
        other.fitDuration = .reject
        let third = try await setup.service.submit(setup.submission([try await setup.upload(sample, options: other)], other))
        guard case .queued(let another) = third else { Issue.record("not queued: \(third)"); return }
        #expect(another.id != job.id)
    }
}
