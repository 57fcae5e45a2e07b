/// The format table: every input format Kiln accepts, keyed by the MIME type libmagic sniffs.
///
/// This is the allow-list. A MIME type not listed here is `FILE_003`, whatever the file's
/// name or the client's Content-Type say.
public struct MediaFormat: Sendable, Equatable {
    /// Short name used in manifests and probes ("jpeg").
    public let name: String
    /// The MIME type libmagic reports for this format.
    public let mime: String
    public let kind: MediaKind
    /// What must read it: the libvips loader for images, the FFmpeg demuxer for videos. Kiln
    /// never lets either library guess the format itself.
    public let decoder: String
    /// Whether the format may be animated (only the first frame is used unless asked).
    public let animated: Bool

    public static let all: [MediaFormat] = [
        MediaFormat(name: "jpeg", mime: "image/jpeg", kind: .image, decoder: "jpegload", animated: false),
        MediaFormat(name: "png", mime: "image/png", kind: .image, decoder: "pngload", animated: false),
        MediaFormat(name: "webp", mime: "image/webp", kind: .image, decoder: "webpload", animated: true),
        MediaFormat(name: "avif", mime: "image/avif", kind: .image, decoder: "heifload", animated: false),
        MediaFormat(name: "heic", mime: "image/heic", kind: .image, decoder: "heifload", animated: false),
        MediaFormat(name: "heif", mime: "image/heif", kind: .image, decoder: "heifload", animated: false),
        MediaFormat(name: "jxl", mime: "image/jxl", kind: .image, decoder: "jxlload", animated: false),
        MediaFormat(name: "gif", mime: "image/gif", kind: .image, decoder: "gifload", animated: true),
        MediaFormat(name: "tiff", mime: "image/tiff", kind: .image, decoder: "tiffload", animated: false),
        MediaFormat(name: "mp4", mime: "video/mp4", kind: .video, decoder: "mov", animated: true),
        MediaFormat(name: "mov", mime: "video/quicktime", kind: .video, decoder: "mov", animated: true),
        MediaFormat(name: "3gp", mime: "video/3gpp", kind: .video, decoder: "mov", animated: true),
        MediaFormat(name: "webm", mime: "video/webm", kind: .video, decoder: "matroska", animated: true),
        MediaFormat(name: "mkv", mime: "video/x-matroska", kind: .video, decoder: "matroska", animated: true),
        MediaFormat(name: "avi", mime: "video/x-msvideo", kind: .video, decoder: "avi", animated: true),
    ]

    /// An animated GIF read as a video (FFmpeg's GIF demuxer), for targets that publish one as an
    /// MP4 (`AnimationRules`). Not in `all`: libmagic's `image/gif` is the image above.
    public static let animatedGIF = MediaFormat(name: "gif", mime: "image/gif", kind: .video, decoder: "gif", animated: true)

    private static let byMIME: [String: MediaFormat] =
        Dictionary(uniqueKeysWithValues: all.map { ($0.mime, $0) })

    /// The accepted format for a sniffed MIME type, or nil when Kiln does not take it.
    public static func forMIME(_ mime: String) -> MediaFormat? { byMIME[mime] }

    /// The kind a MIME type names even when Kiln does not accept it ("audio/x-m4a" is audio):
    /// lets `--type video` on a song answer MEDIA_001 rather than FILE_003.
    public static func family(of mime: String) -> String { String(mime.prefix { $0 != "/" }) }
}

/// Formats Kiln writes renditions in.
public enum OutputFormat: String, Codable, Sendable, CaseIterable {
    case jpeg
    case webp
    case avif
    case png
    /// An animation kept a GIF (platforms that show GIFs).
    case gif
    /// H.264 + AAC, moov first: the published video.
    case mp4

    public var mime: String { self == .mp4 ? "video/mp4" : "image/\(rawValue)" }
    public var fileExtension: String { rawValue == "jpeg" ? "jpg" : rawValue }
}
