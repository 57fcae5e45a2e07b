import Crypto
import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `kiln worker` process (the debug binary), its output read as it comes.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    private let output = ServeProcess.Output()

    init(queue: String, data: String, arguments: [String], environment: [String: String]) throws {
        try ServeProcess.spawn(process, ["worker", "--queue", queue, "--data", data] + arguments,
                               environment: environment, into: output)
    }

    var log: String { output.withLock { $0 } }
    var name: String { "\(ProcessInfo.processInfo.hostName)-\(process.processIdentifier)" }

    /// A test that failed half-way leaves no worker behind.
    deinit { if process.isRunning { process.terminate() } }

    /// Waits (bounded, on a thread of its own) until the worker says it takes jobs.
    func ready() async throws {
        let process = process
        try await Tool.detached { [self] in
            let deadline = Date().addingTimeInterval(60)
            while !log.contains("is taking jobs") {
                guard process.isRunning, Date() < deadline else { throw Tool.Failure(description: "the worker did not start: \(self.log)") }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }
}

/// Beyond one machine (SPEC §8): one `kiln serve --queue postgres://…` (the API tier) and two
/// `kiln worker` processes on a throwaway PostgreSQL cluster, sharing a bucket (moto). A worker
/// killed with SIGKILL mid-transcode loses nothing and duplicates nothing: its job is run again
/// by the other one once its lease expires.
@Suite(.serialized) struct ScaleOutTests {
    /// A new database in the test cluster, a bucket, the slow preset, and a scratch folder.
    struct Setup {
        let queue: String
        let moto: MotoS3
        let root = Fixtures.scratchDirectory("kiln-scale")
        let presets: String

        init(moto: MotoS3) async throws {
            queue = try await PostgresCluster.started().database() + "?sslmode=disable"
            self.moto = moto
            presets = try SlowTranscode.presets(in: root)
        }

        func server() async throws -> ServeProcess {
            try await ServeProcess(data: root + "/api", arguments: ["--storage", "r2", "--presets", presets, "--queue", queue,
                                                              "--upload-min-chunk", "1024"],
                             environment: moto.environment)
        }

        /// The bucket, to look at what the processes left in it.
        func bucket() throws -> S3Client {
            guard let endpoint = URL(string: moto.endpoint) else { throw Tool.Failure(description: "bad endpoint \(moto.endpoint)") }
            return S3Client(configuration: S3Configuration(
                endpoint: endpoint, bucket: moto.bucket,
                credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
        }

        func worker(_ name: String, _ arguments: [String]) throws -> WorkerProcess {
            try WorkerProcess(queue: queue, data: root + "/" + name, arguments: ["--storage", "r2", "--presets", presets] + arguments,
                              environment: moto.environment)
        }
    }

    /// Two `kiln serve` processes on one PostgreSQL and one bucket, and two workers, the client
    /// alternating between the nodes: a key made once works on both, the rate limit counts both
    /// together, an Idempotency-Key replay on the other node gets the first answer, a video's
    /// webhook is sent once though both run the outbox, and a tus upload goes on on the other
    /// node after the one that took its first chunk is killed (SIGKILL).
    @Test func twoAPINodesAreInterchangeable() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        let setup = try await Setup(moto: moto)
        defer { Fixtures.cleanUp(setup.root) }
        let hooks = try WebhookTests.Receiver(secrets: ["nodes"])
        let arguments = ["--storage", "r2", "--queue", setup.queue, "--webhook", hooks.url, "--webhook-secret", "nodes",
                         "--rate-limit", "30", "--upload-min-chunk", "1024"]
        let a = try await ServeProcess(data: setup.root + "/a", arguments: arguments, environment: moto.environment)
        // The first key is in the shared database: the second node makes none and uses it.
        let b = try await ServeProcess(data: setup.root + "/b", key: a.writeKey, arguments: arguments, environment: moto.environment)

        // A key made once, by `kiln keys` on the shared database, works on both nodes.
        let made = try await Tool.check(ServeProcess.binary, ["keys", "create", "--name", "ops", "--scope", "media:write",
                                                        "--database", setup.queue])
        let key = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        for node in [a, b] {
            #expect(try await node.request(.GET, "/v1/media/" + String(repeating: "0", count: 64), key: key).status == 404)
        }

        // The rate limit (30 a minute) counts a key's requests on both nodes together. A count that
        // straddles a minute's edge starts again in the next window: counted again with a new key.
        var served = 0
        for _ in 0..<3 {
            let counted = try await Tool.check(ServeProcess.binary, ["keys", "create", "--name", "counted", "--scope", "media:read",
                                                               "--database", setup.queue])
            let countedKey = String(decoding: counted.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let minute = Int(Date().timeIntervalSince1970) / 60
            served = 0
            for index in 0..<40 {
                let status = try await (index.isMultiple(of: 2) ? a : b)
                    .request(.GET, "/v1/media/" + String(repeating: "0", count: 64), key: countedKey).status
                if status == 429 { break }
                served += 1
            }
            if Int(Date().timeIntervalSince1970) / 60 == minute { break }
        }
        #expect(served == 30, "requests served across both nodes before the limit: \(served)")

        // An Idempotency-Key replayed on the other node gets the first answer.
        let once = try await a.upload(Fixtures.sample("orient-2.jpg"), key: key, headers: [("Idempotency-Key", "two-nodes")])
        let again = try await b.upload(Fixtures.sample("orient-2.jpg"), key: key, headers: [("Idempotency-Key", "two-nodes")])
        #expect(once.status == 201 && again.status == 201 && again.headers.first(name: "Idempotent-Replayed") == "true")
        #expect(again.data["id"] as? String == once.data["id"] as? String)

        // A video's job, run by one of two workers: its event is delivered once, though both nodes claim the outbox.
        let workers = try (0..<2).map { try setup.worker("worker\($0)", ["--jobs", "1"]) }
        for worker in workers { try await worker.ready() }
        let queued = try await b.upload(Fixtures.sample("video/h264-aac-faststart.mp4"), key: key)
        let job = try #require((queued.data["job"] as? [String: Any])?["id"] as? String)
        // Read on the other node than the one that took it.
        var status = ""
        let deadline = ContinuousClock.now + .seconds(120)
        while !["succeeded", "failed", "cancelled"].contains(status), ContinuousClock.now < deadline {
            status = try await a.request(.GET, "/v1/jobs/\(job)?wait=true", key: key).data["status"] as? String ?? ""
        }
        #expect(status == "succeeded", "\(workers.map { $0.log.suffix(1_000) })")
        _ = try await hooks.delivered("job.succeeded")
        try await Tool.detached {
            let deadline = Date().addingTimeInterval(60)
            while true {
                let rows = try Tool.check("psql", ["-tA", setup.queue, "-c",
                                                   "SELECT status FROM kiln_webhook_deliveries WHERE event_id = 'evt_\(job)'"])
                if String(decoding: rows.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "delivered" { return }
                guard Date() < deadline else { throw Tool.Failure(description: "the delivery was not recorded delivered") }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        #expect(hooks.posts.filter { $0["event_id"] as? String == "evt_\(job)" }.count == 1, "\(hooks.posts)")

        // A tus upload: its first chunk on A, which is then killed; the rest on B.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("photo.jpg"))))
        let created = try await a.tus(.POST, "/v1/uploads", key: key, headers: [
            ("Upload-Length", String(bytes.count)),
            ("Upload-Metadata", ResumableUploadTests.metadata(["filename": "photo.jpg", "preset": "default"])),
        ])
        let location = try #require(created.headers.first(name: "Location"))
        let half = bytes.count / 2
        let first = try await a.tus(.PATCH, location, key: key, headers: [("Upload-Offset", "0")], body: Array(bytes[..<half]),
                                    contentType: "application/offset+octet-stream")
        #expect(first.status == 204)
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        let head = try await b.tus(.HEAD, location, key: key)
        #expect(head.headers.first(name: "Upload-Offset") == String(half))
        let rest = try await b.tus(.PATCH, location, key: key, headers: [("Upload-Offset", String(half))], body: Array(bytes[half...]),
                                   contentType: "application/offset+octet-stream")
        if rest.status != 204 {
            let client = try setup.bucket()
            let chunks = try await client.list(prefix: ".kiln-upload-").map { "\($0.key) \($0.size)" }
            var firstBytes: [UInt8] = []
            if let first = try await client.list(prefix: ".kiln-upload-").first {
                firstBytes = try await client.open(key: first.key, range: 0...15).collect()
            }
            Issue.record("chunks \(chunks), first bytes \(firstBytes), sent \(Array(bytes.prefix(16)))")
        }
        #expect(rest.status == 204, "\(rest.json)")
        let item = try await b.request(.GET, try #require(rest.headers.first(name: "Kiln-Location")), key: key)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(item.status == 200 && item.data["source_sha256"] as? String == digest)
    }

    @Test func aWorkerKilledMidTranscodeLosesNothingAndDuplicatesNothing() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        let setup = try await Setup(moto: moto)
        let (queue, root) = (setup.queue, setup.root)
        defer { Fixtures.cleanUp(root) }
        let server = try await setup.server()

        // Three videos (three media ids), each a transcode of seconds, queued before any
        // worker runs: both workers take one at once when they start.
        let videos = try (1...3).map { try SlowTranscode.make(variant: $0) }
        defer { for path in videos { try? FileManager.default.removeItem(atPath: path) } }
        let jobs = try await withThrowingTaskGroup(of: String.self) { group in
            for path in videos {
                group.addTask {
                    let answer = try await server.upload(path, query: "?preset=slow")
                    #expect(answer.status == 202, "\(answer.data)")
                    return try #require((answer.data["job"] as? [String: Any])?["id"] as? String)
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let workers = try (0..<2).map { try setup.worker("worker\($0)", ["--jobs", "1", "--lease", "3"]) }
        for worker in workers { try await worker.ready() }
        // The first worker is killed while it runs a job. It is frozen (SIGSTOP) first and the
        // job checked again: seen running late, it might have recorded its end in between.
        let victim = workers[0].name
        let pid = workers[0].process.processIdentifier
        try await Tool.detached {
            let deadline = Date().addingTimeInterval(90)
            func running() throws -> Bool {
                let rows = try Tool.check("psql", ["-tA", queue, "-c", "SELECT count(*) FROM kiln_jobs WHERE status = 'running' AND worker = '\(victim)'"])
                return String(decoding: rows.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            }
            while true {
                if try running() {
                    kill(pid, SIGSTOP)
                    if try running() { return }
                    kill(pid, SIGCONT)
                }
                guard Date() < deadline else {
                    let table = try Tool.check("psql", [queue, "-c", "SELECT id, status, worker, attempts, convert_from(error, 'UTF8') FROM kiln_jobs"])
                    throw Tool.Failure(description: """
                        \(victim) never ran a job: \(String(decoding: table.stdout, as: UTF8.self))
                        \(workers[0].log.suffix(1_500))\n---\n\(workers[1].log.suffix(1_500))\n---\n\(server.log.suffix(1_500))
                        """)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        kill(pid, SIGKILL)

        var ended: [[String: Any]] = []
        for job in jobs {
            ended.append(try await server.poll(job) { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String ?? "") })
        }
        for job in ended { #expect(job["status"] as? String == "succeeded", "\(job)\n\(workers[1].log.suffix(2_000))") }
        // The killed worker's job ran again on the other (attempt 2); the others ran once.
        #expect(ended.map { $0["attempts"] as? Int ?? 0 }.sorted() == [1, 1, 2], "\(ended)")
        // Three items, each readable through the API tier from the bucket; one rendition each.
        let ids = ended.compactMap { ($0["media"] as? [String: Any])?["id"] as? String }
        #expect(Set(ids).count == 3)
        for id in ids {
            let item = try await server.request(.GET, "/v1/media/\(id)", key: server.writeKey)
            #expect(item.status == 200)
        }
        let client = try setup.bucket()
        let objects = try await client.list(prefix: "").map(\.key)
        for id in ids { #expect(objects.filter { $0.hasPrefix(id + "/") && $0.hasSuffix(".mp4") }.count == 1, "\(objects)") }
        // The handed-off inputs go once their jobs' ends are recorded (just after); the API tier kept no copy.
        try await Self.handedOffInputsGo(client, prefix: StoreKey.incomingPrefix)
        #expect(Fixtures.files(under: root + "/api/jobs").isEmpty)

        // SIGTERM drains the live worker and the server: both exit 0.
        kill(workers[1].process.processIdentifier, SIGTERM)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
        #expect(try await Loopback.exit(of: workers[1].process) == 0, "\(workers[1].log.suffix(2_000))")
    }

    @Test func aCancelReachesATranscodeOnAWorkerAndSIGTERMDrainsIt() async throws {
        let moto = try await MotoS3.started()
        let setup = try await Setup(moto: moto)
        defer { Fixtures.cleanUp(setup.root) }
        let server = try await setup.server()
        let port = try Loopback.freePort()
        let worker = try setup.worker("worker", ["--jobs", "1", "--metrics-port", String(port)])
        try await worker.ready()
        let answer = try await server.upload(try SlowTranscode.video.get(), query: "?preset=slow")
        let job = try #require((answer.data["job"] as? [String: Any])?["id"] as? String)
        _ = try await server.poll(job) { $0["status"] as? String == "running" }
        // Asked on the API tier; the worker on "another machine" stops its transcode.
        let cancel = try await server.request(.DELETE, "/v1/jobs/\(job)", key: server.writeKey)
        #expect(cancel.status == 202 || cancel.status == 200, "\(cancel.json)")
        let ended = try await server.poll(job) { ["succeeded", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(ended["status"] as? String == "cancelled", "\(ended)")
        #expect((ended["error"] as? [String: Any])?["code"] as? String == "PROCESSING_005")
        #expect(worker.process.isRunning, "the worker goes on")
        // Its handed-off input is gone; the worker's metrics count what happened.
        let client = try setup.bucket()
        try await Self.handedOffInputsGo(client, prefix: StoreKey.incomingPrefix + job + "/")
        let metrics = try await Tool.detached { () throws -> String in
            let connection = try RawConnection(port: port)
            connection.send(Array("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            return connection.receive()
        }
        for line in ["kiln_jobs_claimed_total 1", "kiln_jobs_ended_total{outcome=\"cancelled\"} 1",
                     "kiln_jobs{state=\"cancelled\"} 1", "kiln_jobs_dead_letters 0", "kiln_queue_oldest_job_age_seconds 0"] {
            #expect(metrics.contains(line), "\(line) in \(metrics.suffix(2_000))")
        }
        // SIGTERM while a transcode runs: the worker stops claiming, finishes it (its lease
        // renewed and its end recorded through the queue's pool, which outlives the signal),
        // then exits 0.
        let video = try SlowTranscode.make(variant: 9)
        defer { try? FileManager.default.removeItem(atPath: video) }
        let second = try await server.upload(video, query: "?preset=slow")
        let draining = try #require((second.data["job"] as? [String: Any])?["id"] as? String)
        _ = try await server.poll(draining) { $0["status"] as? String == "running" }
        kill(worker.process.processIdentifier, SIGTERM)
        #expect(try await Loopback.exit(of: worker.process, seconds: 120) == 0, "\(worker.log.suffix(2_000))")
        let drained = try await server.request(.GET, "/v1/jobs/\(draining)", key: server.writeKey).data
        #expect(drained["status"] as? String == "succeeded" && drained["attempts"] as? Int == 1, "\(drained)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test func theAPITierIsNotReadyWithoutItsQueue() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let root = Fixtures.scratchDirectory("kiln-scale-ready")
        defer { Fixtures.cleanUp(root) }
        let server = try await ServeProcess(data: root, arguments: ["--queue", cluster.url + "?sslmode=disable", "--ready-cache", "0"])
        #expect(try await server.request(.GET, "/ready").status == 200)
        try await cluster.stopped()
        let answer = try await server.request(.GET, "/ready")
        #expect(answer.status == 503 && answer.code == "FILE_006", "\(answer.json)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    /// Waits (bounded) until no handed-off input under `prefix` is left in the bucket: a worker
    /// deletes them right after recording the job's end (never before: a crash in between
    /// would leave a job without its files).
    static func handedOffInputsGo(_ client: S3Client, prefix: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            // Listed without the slash: moto refuses a signed listing whose prefix holds one.
            let left = try await client.list(prefix: ".kiln-incoming").map(\.key).filter { $0.hasPrefix(prefix) }
            if left.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                Issue.record("handed-off inputs left: \(left)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
