import Foundation
import KilnCore
import KilnStorage
import KilnTestSupport
import Synchronization
import Testing

/// The S3 client against moto's server with signature checking on. The fault tests start
/// servers of their own, since they pause or kill them.
@Suite struct S3StoreTests {
    let moto: MotoS3

    init() async throws { moto = try await MotoS3.started() }

    /// Short timeouts for the fault tests (a frozen server); long ones where moto is only slow
    /// because the machine is busy.
    func configuration(moto: MotoS3? = nil, secret: String? = nil, bucket: String? = nil, timeout: Duration = .seconds(20),
                       observer: (@Sendable (Int, Int64) -> Void)? = nil) -> S3Configuration {
        let moto = moto ?? self.moto
        var configuration = S3Configuration(
            endpoint: URL(string: moto.endpoint)!, bucket: bucket ?? moto.bucket,
            credentials: .init(accessKeyID: moto.accessKeyID, secretAccessKey: secret ?? moto.secretAccessKey),
            region: "auto", multipartThreshold: 8 << 20, partSize: 5 << 20, parallelParts: 2,
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
            timeout: timeout)
        configuration.partObserver = observer
        return configuration
    }

    @Test func theBucketIsVerified() async throws {
        try await S3Client(configuration: configuration()).verify()
        await #expect(throws: KilnError.self) { try await S3Client(configuration: configuration(secret: "wrong")).verify() }
    }

    @Test func keysWithSpacesAndFoldersRoundTrip() async throws {
        // moto itself mis-verifies "+", "=", "(", unicode and "/" in queries (boto3 fails the
        // same way), so those are covered by the SigV4 unit tests and AWS's suite instead.
        let client = S3Client(configuration: configuration())
        let key = "odd keys/a b/photo 1.jpg"
        try await client.put(bytes: Array("x".utf8), key: key, contentType: "image/jpeg")
        #expect(try await client.head(key: key)?.size == 1)
        #expect(try await client.open(key: key, range: 0...0).collect() == Array("x".utf8))
        #expect(try await client.list(prefix: "odd keys").map(\.key) == [key])
    }

    @Test func largeFileGoesUpInEqualPartsAndComesBackIntact() async throws {
        let sizes = Mutex<[Int: Int64]>([:])
        let client = S3Client(configuration: configuration(observer: { number, size in
            sizes.withLock { $0[number] = size }
        }))
        let scratch = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(scratch) }
        let file = scratch + "/big.bin"
        let size = (20 << 20) + 12_345
        var bytes = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index / 4096) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))

        try await client.put(file: file, key: "multipart/big.bin", contentType: "application/octet-stream")
        let parts = sizes.withLock { $0 }.sorted { $0.key < $1.key }.map(\.value)
        #expect(parts == [5 << 20, 5 << 20, 5 << 20, 5 << 20, 12_345], "equal parts, then a smaller last one")
        let info = try #require(try await client.head(key: "multipart/big.bin"))
        #expect(info.size == Int64(size))
        #expect(info.etag?.hasSuffix("-5\"") == true || info.etag?.hasSuffix("-5") == true, "a multipart ETag: \(info.etag ?? "")")
        try await client.get(key: "multipart/big.bin", to: scratch + "/back.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch + "/back.bin")) == Data(bytes))
    }

    @Test func wrongSecretIsFILE_007AtStartUp() async throws {
        let client = S3Client(configuration: configuration(secret: "not-the-secret"))
        await #expect { try await client.verify() } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.code == .file007 && error.message.contains("credentials")
        }
    }

    @Test func missingBucketIsFILE_007AtStartUp() async throws {
        let client = S3Client(configuration: configuration(bucket: "no-such-bucket"))
        await #expect { try await client.verify() } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.code == .file007 && error.message.contains("no-such-bucket")
        }
    }

    @Test func hungServerMidMultipartIsFILE_006AndLeavesNoObject() async throws {
        let own = try MotoS3()
        defer { own.stop() }
        let pid = own.serverPID
        let paused = Mutex(false)
        let client = S3Client(configuration: configuration(moto: own, timeout: .seconds(3), observer: { _, _ in
            // Freeze the server once the first part is in: the rest time out.
            paused.withLock { if !$0 { kill(pid, SIGSTOP); $0 = true } }
        }))
        let scratch = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(scratch) }
        let file = scratch + "/big.bin"
        try Data(count: 21 << 20).write(to: URL(fileURLWithPath: file))
        await #expect {
            try await client.put(file: file, key: "faults/big.bin", contentType: "application/octet-stream")
        } throws: { ($0 as? KilnError)?.code == .file006 }
        kill(pid, SIGCONT)
        #expect(try await client.head(key: "faults/big.bin") == nil, "no object visible after the failure")
        // The abort was refused by the frozen server; it is remembered and done once it answers.
        await client.abortPending()
        #expect(try await client.openMultipartUploads().isEmpty, "no multipart upload left open")
    }

    @Test func partThatCannotBeReadAbortsTheUploadAndLeavesNoneOpen() async throws {
        let own = try MotoS3()
        defer { own.stop() }
        let scratch = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(scratch) }
        let file = scratch + "/big.bin"
        try Data(count: 21 << 20).write(to: URL(fileURLWithPath: file))
        // After the first part the file shrinks under the upload: a later part cannot be read.
        let client = S3Client(configuration: configuration(moto: own, observer: { _, _ in
            truncate(file, 6 << 20)
        }))
        await #expect {
            try await client.put(file: file, key: "faults/shrunk.bin", contentType: "application/octet-stream")
        } throws: { ($0 as? KilnError) != nil }
        #expect(try await client.head(key: "faults/shrunk.bin") == nil)
        #expect(try await client.openMultipartUploads().isEmpty, "the failed upload was aborted")
    }

    @Test func killedServerIsFILE_006() async throws {
        let scratch = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(scratch) }
        let file = scratch + "/big.bin"
        try Data(count: 21 << 20).write(to: URL(fileURLWithPath: file))
        let own = try MotoS3()
        defer { own.stop() }
        let pid = own.serverPID
        let client = S3Client(configuration: configuration(moto: own, observer: { _, _ in kill(pid, SIGKILL) }))
        await #expect {
            try await client.put(file: file, key: "faults/killed.bin", contentType: "application/octet-stream")
        } throws: { ($0 as? KilnError)?.code == .file006 }
    }
}

@Suite struct S3ConfigurationTests {
    @Test func missingSettingsAreFILE_007NamingThem() {
        #expect {
            try S3Configuration.fromEnvironment(["KILN_R2_ENDPOINT": "https://x.r2.cloudflarestorage.com"])
        } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.code == .file007 && error.message.contains("KILN_R2_BUCKET")
                && error.message.contains("KILN_R2_SECRET_ACCESS_KEY") && !error.message.contains("KILN_R2_ENDPOINT,")
        }
        #expect {
            try S3Configuration.fromEnvironment(["KILN_R2_ENDPOINT": "not a url", "KILN_R2_BUCKET": "b",
                                                 "KILN_R2_ACCESS_KEY_ID": "k", "KILN_R2_SECRET_ACCESS_KEY": "s"])
        } throws: { ($0 as? KilnError)?.code == .file007 }
    }

    @Test func r2DefaultsAndVirtualHostAddressing() throws {
        let configuration = try S3Configuration.fromEnvironment([
            "KILN_R2_ENDPOINT": "https://acct.r2.cloudflarestorage.com", "KILN_R2_BUCKET": "media",
            "KILN_R2_ACCESS_KEY_ID": "k", "KILN_R2_SECRET_ACCESS_KEY": "s", "KILN_R2_ADDRESSING": "virtual",
        ])
        #expect(configuration.region == "auto")
        let url = S3Client(configuration: configuration).presignedURL(key: "id/display.jpg", expires: 60)
        #expect(url.hasPrefix("https://media.acct.r2.cloudflarestorage.com/id/display.jpg?"))
        var path = configuration
        path.addressing = .path
        #expect(S3Client(configuration: path).presignedURL(key: "id/a b.jpg", expires: 60)
            .hasPrefix("https://acct.r2.cloudflarestorage.com/media/id/a%20b.jpg?"))
    }

    @Test func multipartPlanKeepsPartsEqualAndUnderTenThousand() {
        let plan = MultipartPlan(size: (20 << 20) + 1, preferred: 1 << 20)
        #expect(plan.partSize == 5 << 20, "raised to R2's 5 MiB minimum")
        #expect(plan.parts.count == 5 && plan.parts.last?.length == 1)
        let huge = MultipartPlan(size: 200 * (1 << 30), preferred: 8 << 20)
        #expect(huge.parts.count <= 10_000)
        #expect(Set(huge.parts.dropLast().map(\.length)).count == 1)
        #expect(huge.parts.map(\.length).reduce(0, +) == 200 * (1 << 30))
    }
}
