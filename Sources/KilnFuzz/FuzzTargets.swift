import Foundation
import KilnCore
import KilnPipeline
import KilnStorage
import KilnVideo

/// The fuzz targets: each takes arbitrary bytes and must return (any catalog error is fine)
/// without crashing, hanging or leaking. libFuzzer drives them through `kiln-fuzz`; the
/// regression tests replay Tests/Fixtures/fuzz/<target>/ through them.
public enum FuzzTargets {
    public static let names = ["checks", "video-probe", "presets", "sigv4"]

    /// Runs the target called `name` on `bytes`.
    public static func run(_ name: String, _ bytes: UnsafeRawBufferPointer) {
        switch name {
        case "checks": checks(bytes)
        case "video-probe": videoProbe(bytes)
        case "presets": presets(bytes)
        case "sigv4": sigV4(bytes)
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

    private static let scratchFile = NSTemporaryDirectory() + "kiln-fuzz-\(getpid()).bin"
    // Built once: the fuzzer calls a target millions of times. A failure here is a broken setup.
    private static let pipeline: Pipeline = {
        do { return try Pipeline(store: nil) } catch { preconditionFailure("cannot set up the pipeline: \(error)") }
    }()
    private static let signer = SigV4(credentials: .init(accessKeyID: "AKID", secretAccessKey: "secret"), region: "auto")
}
