/// Every error Kiln raises, built in one place so messages and details stay consistent.
extension KilnError {
    /// FILE_004 from a request's declared length, before any of it is read.
    public static func requestTooLarge(size: Int64, limit: Int64) -> KilnError {
        KilnError(.file004,
                  "File size exceeded: the request's \(ByteCount.format(size)) is over the \(ByteCount.format(limit)) this server takes in one request; send a smaller file",
                  details: ["limit_bytes": .int(Int(limit)), "size_bytes": .int(Int(size))])
    }

    public static func emptyFile(_ path: String) -> KilnError {
        KilnError(.file001, "Upload failed: \(path) is empty (0 bytes); send a non-empty file",
                  details: ["size_bytes": 0])
    }

    public static func uploadFailed(_ reason: String) -> KilnError {
        KilnError(.file001, "Upload failed: \(reason)")
    }

    /// FILE_002: a watched inbox holds a symbolic link, not a file; links are not followed.
    public static func symbolicLink(_ name: String) -> KilnError {
        KilnError(.file002, "File not found: \(name) is a symbolic link, which kiln watch does not follow; copy or move the file itself into the inbox",
                  details: ["path": .string(name), "reason": "symbolic_link"])
    }

    public static func notFound(_ path: String) -> KilnError {
        KilnError(.file002, "File not found: \(path); check the path and that it is a readable file",
                  details: ["path": .string(path)])
    }

    public static func unsupportedFormat(mime: String) -> KilnError {
        KilnError(.file003,
                  "Unsupported file format: the content is \(mime); send JPEG, PNG, WebP, AVIF, HEIC, JPEG XL, GIF or TIFF images, or MP4, MOV, WebM, MKV or AVI videos",
                  details: ["mime": .string(mime), "allowed": .array(MediaFormat.all.map { .string($0.mime) })])
    }

    public static func tooLarge(size: Int64, limit: Int64, kind: MediaKind) -> KilnError {
        KilnError(.file004,
                  "File size exceeded: \(ByteCount.format(size)) is over the \(ByteCount.format(limit)) limit for \(kind.plural)",
                  details: ["limit_bytes": .int(Int(limit)), "size_bytes": .int(Int(size))])
    }

    public static func corrupt(_ reason: String) -> KilnError {
        KilnError(.file005, "File corrupt or truncated: \(reason); re-export the file and try again",
                  details: ["reason": .string(reason)])
    }

    public static func storageUnavailable(_ reason: String) -> KilnError {
        KilnError(.file006, "Storage unavailable: \(reason); retry later",
                  details: ["reason": .string(reason)])
    }

    public static func storageNotConfigured(_ reason: String) -> KilnError {
        KilnError(.file007, "Storage not configured: \(reason)", details: ["reason": .string(reason)])
    }

    public static func typeMismatch(declared: MediaKind, actual: String, mime: String) -> KilnError {
        KilnError(.media001,
                  "Media type mismatch: declared \(declared.rawValue), but the content is \(actual) (\(mime)); use --type auto or send a \(declared.rawValue)",
                  details: ["declared": .string(declared.rawValue), "actual": .string(actual), "mime": .string(mime)])
    }

    public static func presetRejects(kind: MediaKind, preset: String) -> KilnError {
        KilnError(.media001, "Media type mismatch: preset \(preset) takes no \(kind.plural); choose another preset",
                  details: ["actual": .string(kind.rawValue), "preset": .string(preset)])
    }

    public static func carouselCount(_ count: Int, range: ClosedRange<Int>?, preset: String) -> KilnError {
        guard let range else {
            return KilnError(.media002, "Invalid carousel: preset \(preset) does not take carousels; send items one by one",
                             details: ["count": .int(count), "preset": .string(preset)])
        }
        return KilnError(.media002,
                         "Invalid carousel: \(count) item(s), preset \(preset) takes \(range.lowerBound) to \(range.upperBound)",
                         details: ["count": .int(count), "min_items": .int(range.lowerBound),
                                   "max_items": .int(range.upperBound), "preset": .string(preset)])
    }

    public static func carouselKind(_ kind: MediaKind, preset: String) -> KilnError {
        KilnError(.media002, "Invalid carousel: preset \(preset) does not take \(kind.plural) in a carousel",
                  details: ["kind": .string(kind.rawValue), "preset": .string(preset)])
    }

    public static func tooManyPixels(width: Int, height: Int, limit: Int) -> KilnError {
        let megapixels = Double(width) * Double(height) / 1_000_000
        return KilnError(.media003,
                         "Dimensions out of range: \(width)x\(height) is \(ByteCount.decimal(megapixels)) MP, over the \(ByteCount.decimal(Double(limit) / 1_000_000)) MP limit; downscale the image",
                         details: ["width": .int(width), "height": .int(height),
                                   "pixels": .int(width * height), "max_pixels": .int(limit)])
    }

    public static func tooSmall(width: Int, height: Int, minWidth: Int, minHeight: Int) -> KilnError {
        KilnError(.media003,
                  "Dimensions out of range: \(width)x\(height) is below the minimum \(minWidth)x\(minHeight); use a larger original",
                  details: ["width": .int(width), "height": .int(height),
                            "min_width": .int(minWidth), "min_height": .int(minHeight)])
    }

    public static func aspect(width: Int, height: Int, allowed: AspectRange) -> KilnError {
        let ratio = Double(width) / Double(height)
        return KilnError(.media004,
                         "Aspect ratio out of range: \(ByteCount.decimal(ratio, places: 3)):1 (\(width)x\(height)) is outside \(allowed); crop it, or use --fit crop or --fit pad",
                         details: ["aspect": .double(ratio), "min_aspect": .double(allowed.min),
                                   "max_aspect": .double(allowed.max), "width": .int(width), "height": .int(height)])
    }

    public static func duration(_ seconds: Double, min: Double, max: Double) -> KilnError {
        KilnError(.media005,
                  "Duration out of range: \(ByteCount.decimal(seconds, places: 2)) s is outside \(ByteCount.decimal(min, places: 2))-\(ByteCount.decimal(max, places: 2)) s; trim the video to fit\(seconds > max ? ", or send fit_duration=trim (--fit-duration trim) to cut it at \(ByteCount.decimal(max, places: 2)) s" : "")",
                  details: ["duration": .double(seconds), "min_duration": .double(min), "max_duration": .double(max)])
    }

    public static func videoSize(width: Int, height: Int, rules: VideoRules) -> KilnError {
        KilnError(.media003,
                  "Dimensions out of range: \(width)x\(height) is outside \(rules.minWidth)x\(rules.minHeight) to a long edge of \(rules.maxLongEdge) and a short edge of \(rules.maxShortEdge)",
                  details: ["width": .int(width), "height": .int(height), "min_width": .int(rules.minWidth),
                            "min_height": .int(rules.minHeight), "max_long_edge": .int(rules.maxLongEdge),
                            "max_short_edge": .int(rules.maxShortEdge)])
    }

    public static func noVideoStream(mime: String) -> KilnError {
        KilnError(.media006, "Unsupported stream: the file (\(mime)) has no video stream; send a video",
                  details: ["reason": "no video stream"])
    }

    public static func unsupportedCodec(_ codec: String) -> KilnError {
        KilnError(.media006, "Unsupported stream: the \(codec) codec cannot be decoded; export as H.264 or HEVC",
                  details: ["reason": "codec", "codec": .string(codec)])
    }

    /// MEDIA_006: the samples are encrypted (CENC/DRM); no key, no pictures.
    public static func encryptedVideo() -> KilnError {
        KilnError(.media006, "Unsupported stream: the video is encrypted (DRM), so it cannot be decoded; upload the unencrypted original",
                  details: ["reason": "encrypted"])
    }

    /// MEDIA_006: the video stream has nothing to decode (no samples, or no picture format in
    /// its header): an init segment without its media segments, or an empty track.
    public static func noPictures(codec: String) -> KilnError {
        KilnError(.media006,
                  "Unsupported stream: the \(codec) stream has no pictures to decode (an initialization segment without its media segments, or an empty track); upload the whole video file",
                  details: ["reason": "no_samples", "codec": .string(codec)])
    }

    public static func frameRate(_ rate: Double, min: Double, max: Double) -> KilnError {
        KilnError(.media006,
                  "Unsupported stream: \(ByteCount.decimal(rate, places: 2)) fps is outside \(ByteCount.decimal(min, places: 2))-\(ByteCount.decimal(max, places: 2)) fps; export at a standard frame rate",
                  details: ["reason": "frame_rate", "frame_rate": .double(rate), "min_frame_rate": .double(min),
                            "max_frame_rate": .double(max)])
    }

    public static func frameCount(_ count: Int, max: Int) -> KilnError {
        KilnError(.media006, "Unsupported stream: \(count) frames is over the \(max) frame limit",
                  details: ["reason": "frame_count", "frame_count": .int(count), "max_frames": .int(max)])
    }

    public static func videoProcessing(_ reason: String) -> KilnError {
        KilnError(.processing002, "Video processing failed: \(reason)", details: ["reason": .string(reason)])
    }

    /// A written rendition that breaks its preset's rule: never published.
    public static func outputCheck(_ verdict: RuleVerdict, preset: String) -> KilnError {
        KilnError(.processing006,
                  "Output check failed: \(verdict.subject) breaks \(preset)'s \(verdict.rule.title) rule (\(verdict.measured), limit \(verdict.limit)); this is a Kiln bug, report it with the request id",
                  details: ["rendition": .string(verdict.subject), "rule": .string(verdict.rule.rawValue),
                            "measured": .string(verdict.measured), "limit": .string(verdict.limit), "preset": .string(preset)])
    }

    public static func timedOut(after seconds: Double) -> KilnError {
        KilnError(.processing003, "Processing timed out after \(ByteCount.decimal(seconds)) s; retry later or send a shorter file",
                  details: ["timeout_seconds": .double(seconds)])
    }

    /// The caller (or a shutdown) stopped the job: not a fault of the file, and not retried by itself.
    public static func cancelled(_ reason: String = "the caller cancelled the job") -> KilnError {
        KilnError(.processing005, "Processing cancelled: \(reason); send the file again if the work is still wanted",
                  details: ["reason": .string(reason)])
    }

    /// The job queue is full: come back in `retryAfter` seconds (the HTTP API's Retry-After).
    public static func busy(retryAfter: Int, running: Int, waiting: Int) -> KilnError {
        KilnError(.processing004,
                  "Pipeline busy: \(running) job(s) running and \(waiting) waiting fill the queue; retry in \(retryAfter) s",
                  details: ["retry_after_seconds": .int(retryAfter), "running": .int(running), "waiting": .int(waiting)])
    }

    public static func overMemoryBudget(needed: Int64, budget: Int64, width: Int, height: Int) -> KilnError {
        KilnError(.media003,
                  "Dimensions out of range: processing \(width)x\(height) needs about \(ByteCount.format(needed)) of memory, over the \(ByteCount.format(budget)) budget per job; send a smaller file",
                  details: ["estimated_memory_bytes": .int(Int(needed)), "memory_budget_bytes": .int(Int(budget)),
                            "width": .int(width), "height": .int(height)])
    }

    public static func imageProcessing(_ reason: String) -> KilnError {
        KilnError(.processing001, "Image processing failed: \(reason)", details: ["reason": .string(reason)])
    }

    public static func invalidRequest(_ reason: String, fields: [String: String] = [:]) -> KilnError {
        KilnError(.api001, "Invalid request: \(reason)",
                  details: fields.isEmpty ? [:] : ["fields": .object(fields.mapValues { .string($0) })])
    }

    /// API_002: an id or name that does not exist.
    public static func notFoundResource(_ resource: String) -> KilnError {
        KilnError(.api002, "Not found: \(resource); check the id", details: ["resource": .string(resource)])
    }

    public static func internalError(_ reason: String) -> KilnError {
        KilnError(.api005, "Internal error: \(reason)", details: ["reason": .string(reason)])
    }

    /// AUTH_001: no key, a malformed one, or one that is unknown or revoked.
    public static func unauthenticated(_ reason: String) -> KilnError {
        KilnError(.auth001, "Authentication failed: \(reason); send `Authorization: Bearer <key>` with a live key (`kiln keys create`)")
    }

    /// AUTH_002: the key is valid but may not do this.
    public static func forbidden(scope needed: String, has: String) -> KilnError {
        KilnError(.auth002, "Permission denied: this needs the \(needed) scope and the key has \(has); use a key with \(needed)",
                  details: ["required_scope": .string(needed), "key_scope": .string(has)])
    }

    /// AUTH_002: a browser page on an origin the server does not allow (`--cors-origin`).
    public static func originNotAllowed(_ origin: String) -> KilnError {
        KilnError(.auth002, "Permission denied: pages on \(origin) may not call this server; add the origin to its --cors-origin list",
                  details: ["origin": .string(origin)])
    }

    /// API_003: the path exists, the method does not.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> KilnError {
        KilnError(.api003, "Method not allowed: \(method) \(path); use \(allowed.joined(separator: ", "))",
                  details: ["method": .string(method), "allowed": .array(allowed.map { .string($0) })])
    }

    /// API_006: a Range that starts past the end of the file (HTTP 416, with `Content-Range: bytes */size`).
    public static func rangeNotSatisfiable(_ range: ClosedRange<Int64>, size: Int64?) -> KilnError {
        let text = "bytes=\(range.lowerBound)-\(range.upperBound)"
        return KilnError(.api006, "Range not satisfiable: \(text) starts past the end of the \(size.map { "\($0)-byte " } ?? "")file; ask for a range inside it or drop the Range header",
                         details: ["range": .string(text), "size": size.map { .int(Int($0)) } ?? .null])
    }

    /// API_004: over the key's request budget; `retryAfter` seconds until the window resets.
    public static func rateLimited(limit: Int, windowSeconds: Int, retryAfter: Int) -> KilnError {
        KilnError(.api004,
                  "Rate limit exceeded: \(limit) requests per \(windowSeconds) s for this key; retry in \(retryAfter) s",
                  details: ["limit": .int(limit), "window_seconds": .int(windowSeconds), "retry_after_seconds": .int(retryAfter)])
    }

    /// API_004: the tenant's unfinished resumable uploads are at the server's cap, in number or bytes.
    public static func openUploadsFull(open: Int, maxOpen: Int, bytes: Int64, maxBytes: Int64) -> KilnError {
        KilnError(.api004,
                  "Rate limit exceeded: this tenant has \(open) unfinished resumable uploads holding \(bytes) bytes, and may have \(maxOpen) "
                      + "holding \(maxBytes); finish or terminate some (DELETE /v1/uploads/{id}), then retry",
                  details: ["open": .int(open), "max_open": .int(maxOpen), "bytes": .int(Int(bytes)),
                            "max_bytes": .int(Int(maxBytes)), "retry_after_seconds": .int(60)])
    }

    /// FILE_008: a resumable upload's chunk whose `Upload-Checksum` does not match (HTTP 460); nothing of it was kept.
    public static func checksumMismatch(algorithm: String, offset: Int64) -> KilnError {
        KilnError(.file008,
                  "Checksum mismatch: the chunk's \(algorithm) is not the one in Upload-Checksum; nothing of it was kept, send it again from offset \(offset)",
                  details: ["algorithm": .string(algorithm), "offset": .int(Int(offset))])
    }

    /// API_007: a chunk for another offset than the upload's, or for an upload another request is writing.
    public static func uploadConflict(_ reason: String, offset: Int64) -> KilnError {
        KilnError(.api007, "Upload conflict: \(reason); ask the offset with HEAD and send from there",
                  details: ["offset": .int(Int(offset))])
    }

    /// AUTH_003: a fetch URL whose time ran out, or whose signature is not the server's.
    public static func fetchURL(expired: Bool) -> KilnError {
        KilnError(.auth003, expired
            ? "Fetch URL not valid: it has expired; ask for a new one (POST /v1/media/{id}/urls)"
            : "Fetch URL not valid: its signature does not match; use the URL exactly as Kiln gave it, or ask for a new one",
                  details: ["reason": .string(expired ? "expired" : "signature")])
    }

    /// API_007: the first request with this Idempotency-Key has not ended yet.
    public static func idempotencyInFlight() -> KilnError {
        KilnError(.api007, "Upload conflict: a request with this Idempotency-Key is still being processed; retry once it has answered",
                  details: ["retry_after_seconds": .int(5)])
    }

    /// API_001: a resumable upload's chunk, not its last, under the server's smallest.
    public static func chunkTooSmall(_ size: Int64, minimum: Int64) -> KilnError {
        invalidRequest("a chunk of \(size) bytes is under this server's \(minimum)-byte minimum; send chunks of at least \(minimum) bytes (the last may be smaller)",
                       fields: ["Content-Length": "at least \(minimum), but for the last chunk"])
    }

    /// API_010: an item a carousel still lists is not deleted from under it.
    public static func mediaInUse(_ id: String, carousels: [String]) -> KilnError {
        KilnError(.api010, "Media in use: media \(id) is an item of carousel \(carousels.joined(separator: ", ")); delete the carousel first, and its items go with it when nothing else holds them",
                  details: ["carousels": .array(carousels.map(JSONValue.string))])
    }

    /// API_009: an Idempotency-Key sent again with a request other than its first.
    public static func idempotencyReused(_ what: String) -> KilnError {
        KilnError(.api009, "Idempotency key reused: this key was first sent with \(what); send a retry exactly as the first request, or a new key",
                  details: ["differs": .string(what)])
    }

    /// API_008: a resumable upload request without a tus version the server speaks.
    public static func tusVersion(_ sent: String?) -> KilnError {
        KilnError(.api008, "Protocol version not supported: \(sent.map { "Tus-Resumable \($0)" } ?? "no Tus-Resumable header"); send `Tus-Resumable: 1.0.0`",
                  details: ["supported": .array([.string("1.0.0")])])
    }
}
