import Foundation
import KilnCore
import KilnPipeline
import KilnServer
import KilnStorage
import KilnVideo

/// The fuzz targets: each takes arbitrary bytes and must return (any catalog error is fine)
/// without crashing, hanging or leaking. libFuzzer drives them through `kiln-fuzz`; the
/// regression tests replay Tests/Fixtures/fuzz/<target>/ through them.
public enum FuzzTargets {
    public static let names = ["checks", "video-probe", "presets", "sigv4", "multipart", "byte-range", "tus-metadata",
                               "upload-form", "checksum", "fetch-url", "webhook-url"]

    /// Runs the target called `name` on `bytes`.
    public static func run(_ name: String, _ bytes: UnsafeRawBufferPointer) {
        switch name {
        case "checks": checks(bytes)
        case "video-probe": videoProbe(bytes)
        case "presets": presets(bytes)
        case "sigv4": sigV4(bytes)
        case "multipart": multipart(bytes)
        case "byte-range": byteRange(bytes)
        case "tus-metadata": _ = ParserProbes.tusMetadata(String(decoding: bytes, as: UTF8.self))
        case "upload-form": _ = ParserProbes.uploadForm(String(decoding: bytes, as: UTF8.self))
        case "checksum": checksum(bytes)
        case "fetch-url": fetchURL(bytes)
        case "webhook-url": webhookURL(bytes)
        default: preconditionFailure("unknown fuzz target \(name); one of \(names.joined(separator: ", "))")
        }
    }

    /// Sniff and validate (libmagic, the libvips header read or the FFmpeg probe, the preset's
    /// rules) of a file holding `bytes`.
    static func checks(_ bytes: UnsafeRawBufferPointer) {
        guard FileManager.default.createFile(atPath: scratchFile, contents: Data(bytes)) else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await pipeline.check(path: scratchFile, options: IngestOptions(timeout: .seconds(5)))
            done.signal()
        }
        done.wait()
    }

    /// The FFmpeg probe reading from memory through a custom AVIOContext, as MP4 and as WebM.
    static func videoProbe(_ bytes: UnsafeRawBufferPointer) {
        for mime in ["video/mp4", "video/webm"] {
            guard let format = MediaFormat.forMIME(mime) else { continue }
            _ = try? VideoProber.facts(bytes: bytes, format: format)
        }
    }

    /// A user preset file.
    static func presets(_ bytes: UnsafeRawBufferPointer) {
        var catalog = PresetCatalog()
        try? catalog.add(json: Data(bytes), source: "fuzz")
    }

    /// SigV4 canonicalization of arbitrary method, path, query and headers (split on NUL).
    static func sigV4(_ bytes: UnsafeRawBufferPointer) {
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false)
            .map(String.init)
        func part(_ index: Int) -> String { index < parts.count ? parts[index] : "" }
        let query = part(2).split(separator: "&").map { item -> (String, String) in
            let pair = item.split(separator: "=", maxSplits: 1)
            return (String(pair.first ?? ""), pair.count > 1 ? String(pair[1]) : "")
        }
        let headers = part(3).split(separator: "\n").map { line -> (String, String) in
            let pair = line.split(separator: ":", maxSplits: 1)
            return (String(pair.first ?? ""), pair.count > 1 ? String(pair[1]) : "")
        }
        let uri = SigV4.canonicalURI(part(1))
        // Only unreserved characters, "/" and "%XX" may come out.
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%")
        precondition(uri.allSatisfy { allowed.contains($0) }, "canonical URI leaked a reserved character: \(uri)")
        _ = signer.authorization(method: part(0), path: part(1), query: query, headers: headers,
                                 payloadHash: SigV4.unsignedPayload, date: Date(timeIntervalSince1970: 0))
        _ = signer.presignedQuery(method: part(0), path: part(1), query: query, host: part(4), date: Date(), expires: 60)
    }

    /// A multipart body read by the server's reader, in pieces of a size the first byte picks.
    static func multipart(_ bytes: UnsafeRawBufferPointer) {
        let all = Array(bytes)
        let chunk = Int(all.first ?? 7) % 64 + 1
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = await ParserProbes.multipart(Array(all.dropFirst()), chunk: chunk)
            done.signal()
        }
        done.wait()
    }

    /// A Range header (after the first 8 bytes, the file's size).
    static func byteRange(_ bytes: UnsafeRawBufferPointer) {
        let head = bytes.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let size = head & 0xFFFF_FFFF_FFFF
        _ = ParserProbes.byteRange(String(decoding: bytes.dropFirst(8), as: UTF8.self), size: size)
    }

    /// An Upload-Checksum header, then NUL, then the chunk it is over.
    static func checksum(_ bytes: UnsafeRawBufferPointer) {
        let all = Array(bytes)
        let split = all.firstIndex(of: 0) ?? all.count
        _ = ParserProbes.checksum(String(decoding: all[..<split], as: UTF8.self), body: Array(all.dropFirst(split + 1)))
    }

    /// A fetch URL's query, id, rendition and tenant, split on NUL.
    static func fetchURL(_ bytes: UnsafeRawBufferPointer) {
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        func part(_ index: Int) -> String { index < parts.count ? parts[index] : "" }
        _ = ParserProbes.fetchURL(query: part(0), id: part(1), rendition: part(2), tenant: part(3))
    }

    /// A webhook URL, then NUL, then the addresses its name resolves to (4 or 16 bytes each, by a length byte).
    static func webhookURL(_ bytes: UnsafeRawBufferPointer) {
        let all = Array(bytes)
        let split = all.firstIndex(of: 0) ?? all.count
        var rest = Array(all.dropFirst(split + 1))[...]
        var addresses: [[UInt8]] = []
        while let length = rest.first {
            let size = length % 2 == 0 ? 4 : 16
            rest = rest.dropFirst()
            guard rest.count >= size else { break }
            addresses.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        _ = ParserProbes.webhookURL(String(decoding: all[..<split], as: UTF8.self), addresses: addresses)
    }

    private static let scratchFile = NSTemporaryDirectory() + "kiln-fuzz-\(getpid()).bin"
    // Built once: the fuzzer calls a target millions of times. A failure here is a broken setup.
    private static let pipeline: Pipeline = {
        do { return try Pipeline(store: nil) } catch { preconditionFailure("cannot set up the pipeline: \(error)") }
    }()
    private static let signer = SigV4(credentials: .init(accessKeyID: "AKID", secretAccessKey: "secret"), region: "auto")
}
