/// A processed upload: what it was, what was made of it, and where that is.
public struct MediaItem: Codable, Sendable, Equatable {
    /// Content address: the SHA-256 of the input bytes, in hex.
    public let id: String
    /// The path or name the input came from, when known.
    public var input: String?
    public let kind: MediaKind
    /// The MIME type libmagic sniffed (never the extension or the client's claim).
    public let mime: String
    public let preset: String
    public let source: MediaFacts
    public var renditions: [Rendition]
    /// ThumbHash placeholder, base64.
    public var thumbhash: String?
    /// The dominant colour, `#rrggbb`.
    public var dominantColor: String?
    /// The original, byte for byte, when `--keep-original` asked for it; it is not sanitized.
    public var original: StoredOriginal?
    /// What the pipeline changed to meet the preset, or removed ("stripped GPS metadata").
    public var warnings: [String]
    /// Where the item's files are (directory or bucket prefix).
    public var location: String?

    public init(id: String, input: String?, kind: MediaKind, mime: String, preset: String, source: MediaFacts,
                renditions: [Rendition] = [], thumbhash: String? = nil, dominantColor: String? = nil,
                original: StoredOriginal? = nil, warnings: [String] = [], location: String? = nil) {
        self.id = id
        self.input = input
        self.kind = kind
        self.mime = mime
        self.preset = preset
        self.source = source
        self.renditions = renditions
        self.thumbhash = thumbhash
        self.dominantColor = dominantColor
        self.original = original
        self.warnings = warnings
        self.location = location
    }

    enum CodingKeys: String, CodingKey {
        case id, input, kind, mime, preset, source, renditions, thumbhash, original, warnings, location
        case dominantColor = "dominant_color"
    }
}

/// Facts read from the input's header: what `kiln probe` prints and validation checks.
public struct ImageFacts: Codable, Sendable, Equatable {
    public let format: String
    public let mime: String
    public let sizeBytes: Int64
    /// Stored dimensions, before orientation is applied.
    public let width: Int
    public let height: Int
    /// EXIF orientation 1-8 (1 when absent).
    public let orientation: Int
    /// libvips interpretation, e.g. "srgb", "cmyk", "b-w", "rgb16", "grey16".
    public let colorSpace: String
    public let bands: Int
    public let bitDepth: Int
    public let hasAlpha: Bool
    public let hasICCProfile: Bool
    /// Frames or pages in the file (animated GIF/WebP, multi-page TIFF, HEIF collections).
    public let pages: Int
    /// Metadata blocks present: "exif", "gps", "xmp", "iptc", "icc". Every rendition drops them all.
    public let metadata: [String]

    public init(format: String, mime: String, sizeBytes: Int64, width: Int, height: Int, orientation: Int,
                colorSpace: String, bands: Int, bitDepth: Int, hasAlpha: Bool, hasICCProfile: Bool, pages: Int,
                metadata: [String]) {
        self.format = format
        self.mime = mime
        self.sizeBytes = sizeBytes
        self.width = width
        self.height = height
        self.orientation = orientation
        self.colorSpace = colorSpace
        self.bands = bands
        self.bitDepth = bitDepth
        self.hasAlpha = hasAlpha
        self.hasICCProfile = hasICCProfile
        self.pages = pages
        self.metadata = metadata
        displayWidth = orientation >= 5 ? height : width
        displayHeight = orientation >= 5 ? width : height
    }

    /// Size as shown: orientations 5-8 swap width and height.
    public let displayWidth: Int
    public let displayHeight: Int

    enum CodingKeys: String, CodingKey {
        case format, mime, width, height, orientation, bands, pages, metadata
        case sizeBytes = "size_bytes", colorSpace = "color_space", bitDepth = "bit_depth"
        case hasAlpha = "has_alpha", hasICCProfile = "has_icc_profile"
        case displayWidth = "display_width", displayHeight = "display_height"
    }
}

/// One output file.
public struct Rendition: Codable, Sendable, Equatable {
    public let name: String
    /// Path (local store) or object location (bucket).
    public var path: String
    /// Where a browser fetches it: the bucket's public URL or a presigned one (object stores only).
    public var url: String?
    public let format: OutputFormat
    public let width: Int
    public let height: Int
    public let bytes: Int64
    public let sha256: String

    public init(name: String, path: String, format: OutputFormat, width: Int, height: Int, bytes: Int64, sha256: String) {
        self.name = name
        self.path = path
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.sha256 = sha256
    }
}

extension OutputFormat {
    /// The MIME type of a file Kiln stores, by its name.
    public static func mime(forFile name: String) -> String {
        if name.hasSuffix(".json") { return "application/json" }
        let ext = name.split(separator: ".").last.map(String.init) ?? ""
        return OutputFormat.allCases.first { $0.fileExtension == ext }?.mime ?? "application/octet-stream"
    }
}

/// The untouched original, kept only on request.
public struct StoredOriginal: Codable, Sendable, Equatable {
    public var path: String
    public let bytes: Int64
    /// Always false: the original still carries its metadata (GPS included).
    public let sanitized: Bool

    public init(path: String, bytes: Int64) {
        self.path = path
        self.bytes = bytes
        self.sanitized = false
    }
}
