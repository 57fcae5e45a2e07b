/// The single source of truth for every error code Kiln can answer with.
///
/// `kiln codes --markdown` renders this table as `docs/error-codes.md`, `kiln codes --json`
/// as a JSON array; the HTTP API takes its statuses from here.
public enum ErrorCatalog {
    /// Every entry, in code order.
    public static let entries: [CatalogEntry] = [
        row(.file001, .error, 400, false, "Upload failed",
            "Upload failed: {reason}",
            causes: ["The file is empty (0 bytes)", "The multipart body was malformed or interrupted",
                     "The request has no `file` part"],
            solutions: ["Send a non-empty file", "Retry the upload with a complete multipart body",
                        "Name the part carrying the file `file`"]),
        row(.file002, .error, 404, false, "File not found",
            "File not found: {path}",
            causes: ["The input path does not exist or is not a regular file",
                     "The stored object was deleted or never written"],
            solutions: ["Check the path and that the file is readable by Kiln",
                        "Re-process the original to recreate the object"]),
        row(.file003, .error, 415, false, "Unsupported file format",
            "Unsupported file format: the content is {mime}, which Kiln does not accept",
            causes: ["The content is not an image or video (text, PDF, SVG, audio, an executable, an archive)",
                     "The file extension or Content-Type claims a format the bytes are not"],
            solutions: ["Send JPEG, PNG, WebP, AVIF, HEIC/HEIF, JPEG XL, GIF or TIFF images",
                        "Send MP4, MOV, 3GP, WebM, MKV or AVI videos",
                        "Export vector art (SVG, PDF) to PNG before uploading"]),
        row(.file004, .error, 413, false, "File too large",
            "File size exceeded: {size} is over the {limit} limit for {kind}",
            causes: ["The file is larger than the preset allows for its kind"],
            solutions: ["Compress or resize the file before uploading",
                        "Choose a preset with a higher limit"]),
        row(.file005, .error, 422, false, "File corrupt",
            "File corrupt or truncated: {reason}",
            causes: ["The upload was cut short", "The file is damaged or only claims to be its format"],
            solutions: ["Re-export the file from its source and upload it again"]),
        row(.file006, .error, 503, true, "Storage unavailable",
            "Storage unavailable: {reason}",
            causes: ["The disk is full or not writable", "The bucket is unreachable or answered 5xx"],
            solutions: ["Retry later", "Free disk space or check the bucket's status"]),
        row(.file007, .fatal, 500, false, "Storage not configured",
            "Storage not configured: {reason}",
            causes: ["R2 storage was chosen but its endpoint, bucket or credentials are missing",
                     "The output directory cannot be created"],
            solutions: ["Set KILN_R2_ENDPOINT, KILN_R2_BUCKET, KILN_R2_ACCESS_KEY_ID and KILN_R2_SECRET_ACCESS_KEY",
                        "Point --out or --data at a writable directory"]),
        row(.media001, .error, 400, false, "Media type mismatch",
            "Media type mismatch: declared {declared}, but the content is {actual}",
            causes: ["`--type` or the `type` field names a kind the file is not"],
            solutions: ["Use `--type auto`, or send a file of the declared kind"]),
        row(.media002, .error, 400, false, "Invalid carousel",
            "Invalid carousel: {reason}",
            causes: ["The carousel has fewer or more items than the preset allows",
                     "An item is of a kind the preset's carousel cannot hold"],
            solutions: ["Send between the preset's minimum and maximum number of items",
                        "Remove the items the platform does not accept in a carousel"]),
        row(.media003, .error, 422, false, "Dimensions out of range",
            "Dimensions out of range: {actual} is outside {allowed}",
            causes: ["The image is smaller than the preset's minimum",
                     "The pixel count is above the limit (a possible decompression bomb)"],
            solutions: ["Use a larger original", "Downscale very large images before uploading"]),
        row(.media004, .error, 422, false, "Aspect ratio out of range",
            "Aspect ratio out of range: {actual} is outside {allowed}",
            causes: ["The image is wider or taller than the preset allows"],
            solutions: ["Crop the image to the allowed range", "Use `--fit crop` or `--fit pad`"]),
        row(.media005, .error, 422, false, "Duration out of range",
            "Duration out of range: {actual} is outside {allowed}",
            causes: ["The video is shorter or longer than the preset allows"],
            solutions: ["Trim or extend the video to the allowed range"]),
        row(.media006, .error, 422, false, "Unsupported stream",
            "Unsupported stream: {reason}",
            causes: ["The file has no video stream", "The codec, frame rate or frame count is not supported"],
            solutions: ["Export the video as H.264 or HEVC in MP4 or MOV"]),
        row(.processing001, .error, 500, false, "Image processing failed",
            "Image processing failed: {reason}",
            causes: ["libvips failed on an input that passed validation"],
            solutions: ["Report the file and the request id; try re-exporting the image"]),
        row(.processing002, .error, 500, false, "Video processing failed",
            "Video processing failed: {reason}",
            causes: ["FFmpeg failed on an input that passed validation"],
            solutions: ["Report the file and the request id; try re-exporting the video"]),
        row(.processing003, .error, 504, true, "Processing timed out",
            "Processing timed out after {seconds} s",
            causes: ["The file took longer than the per-job time limit"],
            solutions: ["Retry later", "Send a smaller or shorter file"]),
        row(.processing004, .warn, 503, true, "Pipeline busy",
            "Pipeline busy: the work queue is full, retry in {retry_after} s",
            causes: ["More work arrived than the queue holds"],
            solutions: ["Retry after the number of seconds in Retry-After", "Lower the number of uploads sent at once"]),
        row(.processing005, .info, 409, false, "Processing cancelled",
            "Processing cancelled: {reason}",
            causes: ["The caller cancelled the job or closed the connection", "The server is shutting down"],
            solutions: ["Send the file again if the work is still wanted"]),
        row(.auth001, .error, 401, false, "Unauthorized",
            "Missing, invalid or revoked API key",
            causes: ["No `Authorization: Bearer` header", "The key is unknown or revoked"],
            solutions: ["Send a valid key: `kiln keys create` makes one"]),
        row(.auth002, .error, 403, false, "Forbidden",
            "API key lacks the {scope} scope",
            causes: ["The key was created without the scope this route needs"],
            solutions: ["Create a key with the needed scope (`media:read`, `media:write`)"]),
        row(.api001, .error, 400, false, "Invalid request",
            "Invalid request: {reason}",
            causes: ["A field is missing or has a value outside its allowed set"],
            solutions: ["Fix the fields listed in `details.fields`"]),
        row(.api002, .error, 404, false, "Not found",
            "Not found: {resource}",
            causes: ["The media id, job id or route does not exist"],
            solutions: ["Check the id; media ids are returned by POST /v1/media"]),
        row(.api003, .error, 405, false, "Method not allowed",
            "Method {method} is not allowed here",
            causes: ["The route exists but not for this HTTP method"],
            solutions: ["Use a method listed in the Allow header"]),
        row(.api004, .warn, 429, true, "Rate limit exceeded",
            "Rate limit exceeded: retry in {retry_after} s",
            causes: ["The key sent more requests than its rate allows"],
            solutions: ["Wait for the number of seconds in Retry-After", "Spread requests over time"]),
        row(.api005, .fatal, 500, true, "Internal error",
            "Internal error: {reason}",
            causes: ["A bug or an unexpected condition in Kiln"],
            solutions: ["Retry; if it persists, report the request id"]),
        row(.api006, .error, 416, false, "Range not satisfiable",
            "Range not satisfiable: {range} starts past the end of the {size}-byte file",
            causes: ["A Range header asks for bytes past the end of the rendition (a resumed download that was complete)"],
            solutions: ["Ask for a range inside the size in Content-Range (`bytes */SIZE`), or drop the Range header"]),
    ]

    private static let byCode: [ErrorCode: CatalogEntry] =
        Dictionary(uniqueKeysWithValues: entries.map { ($0.code, $0) })

    /// The entry for `code`. Every code has one; a test checks the table is complete.
    public static func entry(for code: ErrorCode) -> CatalogEntry {
        guard let entry = byCode[code] else {
            preconditionFailure("error catalog has no entry for \(code.rawValue)")
        }
        return entry
    }

    private static func row(
        _ code: ErrorCode, _ severity: Severity, _ status: Int, _ retryable: Bool,
        _ title: String, _ message: String, causes: [String], solutions: [String]
    ) -> CatalogEntry {
        let prefix = String(code.rawValue.prefix { $0 != "_" })
        guard let category = ErrorCategory(rawValue: prefix) else {
            preconditionFailure("code \(code.rawValue) has no known category")
        }
        return CatalogEntry(
            code: code, category: category, severity: severity, httpStatus: status,
            retryable: retryable, title: title, message: message, causes: causes, solutions: solutions)
    }
}
