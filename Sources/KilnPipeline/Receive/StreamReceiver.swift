import Crypto
import Foundation
import KilnCore
import KilnSniff
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Receives an upload (any async sequence of byte chunks) into a temp file: the first bytes are
/// sniffed before anything is written, so a format Kiln refuses is refused at once and the size
/// limit is that of the kind the content is; the bytes are counted and hashed as they are
/// written, and receiving stops as soon as the count crosses the limit. Whatever happens, the
/// temp file is gone unless a `SpooledFile` is handed back (and then it goes with that).
struct StreamReceiver {
    let directory: String
    let sniffer: ContentSniffer

    func receive<Bytes: AsyncSequence>(_ stream: Bytes, name: String, presets: [Preset], declared: DeclaredType,
                                       control: JobControl) async throws(KilnError) -> ReceivedUpload
        where Bytes.Element: RandomAccessCollection, Bytes.Element.Element == UInt8
    {
        var iterator = stream.makeAsyncIterator()
        var pending: [UInt8] = []
        pending.reserveCapacity(BlockFile.blockSize)
        var ended = false
        // The head first: enough to sniff.
        while pending.count < ContentSniffer.headerBytes, !ended {
            if let chunk = try await Self.next(&iterator, control) { pending.append(contentsOf: chunk) } else { ended = true }
        }
        guard !pending.isEmpty else {
            throw KilnError.uploadFailed("the upload is empty (0 bytes); send a non-empty file")
        }
        let (mime, format, limit) = try admit(head: pending, presets: presets, declared: declared)

        let path = try ReceivedUpload.createFile(in: directory)
        // From here the file belongs to the upload, which removes it when it goes.
        let upload = ReceivedUpload(path: path, name: name, mime: mime)
        let writer = try BlockFile(writing: path)
        var written: Int64 = 0
        var hasher = SHA256()
        var size = Int64(pending.count)
        hasher.update(data: pending)
        try IntakeLimits.check(file: size, within: limit, kind: format.kind)
        while !ended, let chunk = try await Self.next(&iterator, control) {
            size += Int64(chunk.count)
            try IntakeLimits.check(file: size, within: limit, kind: format.kind)
            if chunk.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
                hasher.update(data: Array(chunk))
            }
            pending.append(contentsOf: chunk)
            if pending.count >= BlockFile.blockSize {
                try await writer.write(pending, at: written)
                written += Int64(pending.count)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try await writer.write(pending, at: written)
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        upload.finish(size: size, sha256: digest)
        return upload
    }

    /// What the first bytes are (sniffed from at most `ContentSniffer.headerBytes`), whether
    /// Kiln takes it as `declared` (FILE_003, MEDIA_001), and the largest size limit any of the
    /// targets has for its kind (each target holds it to its own later).
    func admit(head: [UInt8], presets: [Preset], declared: DeclaredType) throws(KilnError)
        -> (mime: String, format: MediaFormat, limit: Int64)
    {
        let mime = head.withUnsafeBytes { sniffer.mimeType(of: UnsafeRawBufferPointer(rebasing: $0.prefix(ContentSniffer.headerBytes))) }
        let format = try Sniffing.accept(mime: mime, declared: declared)
        return (mime, format, try IntakeLimits(presets).file(format.kind))
    }

    /// Takes a file already whole on disk (a completed resumable upload) as an upload without
    /// copying it: its head sniffed and its size held to its kind's limit before anything else is
    /// read, then hashed by reading it once, then linked into the work session under a second
    /// name. The caller's name stays until the caller removes it, so a crash while the upload is
    /// processed loses nothing.
    func adopt(file source: String, name: String, presets: [Preset], declared: DeclaredType,
               control: JobControl) async throws(KilnError) -> ReceivedUpload
    {
        let receiver = self
        let (mime, size, digest) = try await Blocking.run { () throws(KilnError) -> (String, Int64, String) in
            let descriptor = Glibc.open(source, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw KilnError.notFound(source) }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else {
                throw KilnError.storageUnavailable("cannot read \(source): \(String(cString: strerror(errno)))")
            }
            let size = Int64(status.st_size)
            var block = [UInt8](repeating: 0, count: BlockFile.blockSize)
            var hasher = SHA256()
            var mime: String?
            while true {
                try control.checkpoint()
                let count = block.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                guard count >= 0 else { throw KilnError.storageUnavailable("cannot read \(source): \(String(cString: strerror(errno)))") }
                if count == 0 { break }
                if mime == nil {
                    // The head first: a format Kiln refuses, or a file over its kind's limit, is
                    // refused before the rest is read.
                    let admitted = try receiver.admit(head: Array(block.prefix(count)), presets: presets, declared: declared)
                    try IntakeLimits.check(file: size, within: admitted.limit, kind: admitted.format.kind)
                    mime = admitted.mime
                }
                block.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            }
            guard let mime else { throw KilnError.uploadFailed("the upload is empty (0 bytes); send a non-empty file") }
            return (mime, size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
        }
        let path = try ReceivedUpload.createFile(in: directory)
        let upload = ReceivedUpload(path: path, name: name, mime: mime)
        // The empty placeholder makes the name unique; the link takes its place.
        guard unlink(path) == 0, link(source, path) == 0 else {
            throw KilnError.storageUnavailable("cannot link \(source) as \(path): \(String(cString: strerror(errno)))")
        }
        upload.finish(size: size, sha256: digest)
        return upload
    }

    /// The next chunk, or nil at the end; a stream that fails is an interrupted upload (FILE_001).
    static func next<Iterator: AsyncIteratorProtocol>(_ iterator: inout Iterator, _ control: JobControl)
        async throws(KilnError) -> Iterator.Element?
    {
        try control.checkpoint()
        do throws(any Error) {
            return try await iterator.next()
        } catch let error as KilnError {
            throw error
        } catch {
            if let stop = control.stopError() { throw stop }
            throw KilnError.uploadFailed("the upload was interrupted (\(error)); send it again")
        }
    }
}

/// An upload received into a temp file: its size, SHA-256 and sniffed type. The file is
/// removed when the last reference to this goes away, unless `keep(at:)` moved it out.
public final class ReceivedUpload: Sendable {
    public let path: String
    /// The client's name for it (reported back, never trusted for the type).
    public let name: String
    public let mime: String
    private let facts = Mutex<(size: Int64, sha256: String)>((0, ""))
    private let kept = Atomic<Bool>(false)

    init(path: String, name: String, mime: String) {
        self.path = path
        self.name = name
        self.mime = mime
    }

    deinit { if !kept.load(ordering: .acquiring) { unlink(path) } }

    /// The kind the sniffed type is (an upload is only received when Kiln takes its format).
    public var kind: MediaKind { MediaFormat.forMIME(mime)?.kind ?? .image }

    /// Moves the file to `destination` (same file system: a rename, so it is there whole or not
    /// at all) and hands it over to the caller, who removes it: for work that must outlive this
    /// process, such as a job that is run after a restart.
    /// The file is synced, then the directory it now sits in: a job's input accepted with a 202
    /// outlives a power cut.
    public func keep(at destination: String, sync: DiskSync = .system) throws(KilnError) {
        let directory = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        guard rename(path, destination) == 0 else {
            throw KilnError.storageUnavailable("cannot move the upload to \(destination): \(String(cString: strerror(errno)))")
        }
        kept.store(true, ordering: .releasing)
        try sync.file(destination)
        try sync.directory(directory)
    }

    public var size: Int64 { facts.withLock { $0.size } }
    public var sha256: String { facts.withLock { $0.sha256 } }

    func finish(size: Int64, sha256: String) { facts.withLock { $0 = (size, sha256) } }

    /// A new empty file, readable only by this user, in this process's `WorkSession` under
    /// `root` (what a killed process received is removed by the next one).
    public static func createFile(in root: String) throws(KilnError) -> String {
        let directory = try WorkSession.directory(under: root)
        let path = directory + "/upload-" + UUID().uuidString.lowercased()
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw KilnError.storageUnavailable("cannot create a temp file in \(directory): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return path
    }
}
