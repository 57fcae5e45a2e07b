import Foundation
import KilnCore
import NIOHTTP1

/// Multipart uploads: equal parts (R2 requires it) sent with bounded parallelism, each part's
/// payload signed; any failure aborts the upload so no parts linger and no object appears.
extension S3Client {
    func putMultipart(file path: String, size: Int64, key: String, contentType: String) async throws(KilnError) {
        await abortPending()
        let plan = MultipartPlan(size: size, preferred: configuration.partSize)
        let uploadID: String = try await cataloged(key: key) {
            let body = try await send(.POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType)]).body
            guard let id = S3XML.value("InitiateMultipartUploadResult/UploadId", in: body) else {
                throw S3Failure.http(status: 500, code: "NoUploadId", message: "CreateMultipartUpload gave no UploadId")
            }
            return id
        }
        do {
            let etags = try await uploadParts(plan, file: path, key: key, uploadID: uploadID)
            try await cataloged(key: key) {
                let parts = etags.sorted { $0.key < $1.key }.map {
                    "<Part><PartNumber>\($0.key)</PartNumber><ETag>\(S3XML.escape($0.value))</ETag></Part>"
                }
                let xml = "<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>"
                let response = try await send(.POST, key: key, query: [("uploadId", uploadID)],
                                              headers: [("content-type", "application/xml")], body: .bytes(Array(xml.utf8)))
                // S3 may answer 200 with an error document when completion fails late.
                if let code = S3XML.value("Error/Code", in: response.body) {
                    throw S3Failure.http(status: 500, code: code, message: S3XML.value("Error/Message", in: response.body))
                }
            }
        } catch {
            await abort(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Uploads every part, at most `parallelParts` at once; returns part number -> ETag.
    private func uploadParts(_ plan: MultipartPlan, file path: String, key: String, uploadID: String)
        async throws(KilnError) -> [Int: String]
    {
        try await cataloged(key: key) {
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var etags: [Int: String] = [:]
                var pending = plan.parts[...]
                func startNext() {
                    guard let part = pending.popFirst() else { return }
                    group.addTask {
                        let chunks = FileChunks(path: path, offset: part.offset, length: part.length)
                        let response = try await self.send(
                            .PUT, key: key, query: [("partNumber", String(part.number)), ("uploadId", uploadID)],
                            body: .file(chunks, sha256: try await chunks.sha256()))
                        self.configuration.partObserver?(part.number, part.length)
                        return (part.number, response.headers.first(name: "etag") ?? "")
                    }
                }
                for _ in 0..<configuration.parallelParts { startNext() }
                while let (number, etag) = try await group.next() {
                    etags[number] = etag
                    startNext()
                }
                return etags
            }
        }
    }

    /// In a task of its own, so an upload cancelled by its job's deadline is still aborted. The
    /// store may be the thing that failed: an abort it refuses is remembered and tried again
    /// before the next multipart upload (`abortPending`), so parts do not hold storage forever.
    private func abort(key: String, uploadID: String) async {
        await Task.detached {
            do {
                _ = try await self.send(.DELETE, key: key, query: [("uploadId", uploadID)])
            } catch {
                self.unaborted.withLock { $0.append((key, uploadID)) }
            }
        }.value
    }

    /// Tries again the aborts that failed earlier; those that fail again stay remembered.
    public func abortPending() async {
        let pending = unaborted.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for upload in pending { await abort(key: upload.key, uploadID: upload.uploadID) }
    }

    /// Multipart uploads started and neither completed nor aborted (they hold storage until
    /// aborted): for operators, and for tests that check none is left behind.
    public func openMultipartUploads() async throws(KilnError) -> [(key: String, uploadID: String)] {
        try await cataloged(key: nil) {
            let body = try await send(.GET, key: nil, query: [("uploads", "")]).body
            var uploads: [(key: String, uploadID: String)] = []
            var key: String?
            for leaf in S3XML.leaves(body) {
                switch leaf.path {
                case "ListMultipartUploadsResult/Upload/Key": key = leaf.text
                case "ListMultipartUploadsResult/Upload/UploadId": if let key { uploads.append((key, leaf.text)) }
                default: break
                }
            }
            return uploads
        }
    }
}
