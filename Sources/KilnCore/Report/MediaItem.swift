/// A processed upload: what it was, what was made of it, and where that is.
///
/// The manifest stored beside the renditions is this item in its stored form (`stored`): file
/// names relative to the item, no absolute paths or URLs, which a store adds when the item is
/// read back (`MediaStore.resolve`), so they never go stale.
public struct MediaItem: Codable, Sendable, Equatable {
    /// The item's address: SHA-256 over the input bytes and the processing options
    /// (`MediaIdentity`), so the same bytes under two presets are two items.
    public let id: String
    /// SHA-256 of the input bytes alone, for finding duplicates across options.
    public let sourceSha256: String
    /// The options the item was made with (what its id covers).
    public let options: ProcessingOptions
    /// The path or name the input came from, when known.
    public var input: String?
    public let kind: MediaKind
    /// The MIME type libmagic sniffed (never the extension or the client's claim).
    public let mime: String
    public var preset: String { options.preset }
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
    /// Where a video's crop window went as it followed the subject (`fit=crop`, `focus=auto`).
    public var framing: CropPath?
    /// The platform rules every rendition was read back and checked against, `preset@digest`.
    public var rules: String?
    /// Where the item's files are (directory or bucket prefix); set when read from a store.
    public var location: String?
    /// True when an identical item (same bytes, same options) was already stored and is
    /// returned as it is, without processing.
    public var reused: Bool

    public init(id: String, sourceSha256: String, options: ProcessingOptions, input: String?, kind: MediaKind,
                mime: String, source: MediaFacts, renditions: [Rendition] = [], thumbhash: String? = nil,
                dominantColor: String? = nil, original: StoredOriginal? = nil, warnings: [String] = [],
                framing: CropPath? = nil, rules: String? = nil, location: String? = nil, reused: Bool = false) {
        self.id = id
        self.sourceSha256 = sourceSha256
        self.options = options
        self.input = input
        self.kind = kind
        self.mime = mime
        self.source = source
        self.renditions = renditions
        self.thumbhash = thumbhash
        self.dominantColor = dominantColor
        self.original = original
        self.warnings = warnings
        self.framing = framing
        self.rules = rules
        self.location = location
        self.reused = reused
    }

    /// This stored item, returned for a new request with the same bytes and options.
    public func reused(for input: String) -> MediaItem {
        var copy = self
        copy.reused = true
        copy.input = input
        return copy
    }

    /// The form kept in `manifest.json`: no location, paths or URLs (made when read), not reused.
    public var stored: MediaItem {
        var copy = self
        copy.location = nil
        copy.reused = false
        for index in copy.renditions.indices {
            copy.renditions[index].path = nil
            copy.renditions[index].url = nil
            copy.renditions[index].fetchURL = nil
            copy.renditions[index].fetchExpiresAt = nil
        }
        copy.original?.path = nil
        return copy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), sourceSha256: try c.decode(String.self, forKey: .sourceSha256),
            options: try c.decode(ProcessingOptions.self, forKey: .options),
            input: try c.decodeIfPresent(String.self, forKey: .input), kind: try c.decode(MediaKind.self, forKey: .kind),
            mime: try c.decode(String.self, forKey: .mime), source: try c.decode(MediaFacts.self, forKey: .source),
            renditions: try c.decode([Rendition].self, forKey: .renditions),
            thumbhash: try c.decodeIfPresent(String.self, forKey: .thumbhash),
            dominantColor: try c.decodeIfPresent(String.self, forKey: .dominantColor),
            original: try c.decodeIfPresent(StoredOriginal.self, forKey: .original),
            warnings: try c.value(.warnings, or: []), framing: try c.decodeIfPresent(CropPath.self, forKey: .framing),
            rules: try c.decodeIfPresent(String.self, forKey: .rules),
            location: try c.decodeIfPresent(String.self, forKey: .location),
            reused: try c.value(.reused, or: false))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(sourceSha256, forKey: .sourceSha256)
        try c.encode(options, forKey: .options)
        try c.encode(preset, forKey: .preset)
        try c.encodeIfPresent(input, forKey: .input)
        try c.encode(kind, forKey: .kind)
        try c.encode(mime, forKey: .mime)
        try c.encode(source, forKey: .source)
        try c.encode(renditions, forKey: .renditions)
        try c.encodeIfPresent(thumbhash, forKey: .thumbhash)
        try c.encodeIfPresent(dominantColor, forKey: .dominantColor)
        try c.encodeIfPresent(original, forKey: .original)
        try c.encode(warnings, forKey: .warnings)
        try c.encodeIfPresent(framing, forKey: .framing)
        try c.encodeIfPresent(rules, forKey: .rules)
        try c.encodeIfPresent(location, forKey: .location)
        // Only a reused item says so; stored manifests never do.
        if reused { try c.encode(reused, forKey: .reused) }
    }

    enum CodingKeys: String, CodingKey {
        case id, options, preset, input, kind, mime, source, renditions, thumbhash, original, warnings, framing, rules
        case location
        case reused
        case sourceSha256 = "source_sha256", dominantColor = "dominant_color"
    }
}

/// The processing options an item's id covers: the same bytes under other options are
/// another item. `canonical` is the text hashed with the input (see `MediaIdentity`).
public struct ProcessingOptions: Codable, Sendable, Equatable {
    public let preset: String
    /// SHA-256 of the preset's content (its JSON with sorted keys): editing a preset's rules
    /// makes new items rather than reusing ones made under the old rules.
    public let presetDigest: String
    public let fit: Fit
    public let type: DeclaredType
    public let keepOriginal: Bool
    /// The tenant the item belongs to (the server's uploads; nil from the CLI). It is part of
    /// the id, so two tenants never share an item and neither learns from it what the other sent.
    public let tenant: String?
    /// `trim` when a video too long for the preset was cut at its maximum; nil for `reject`.
    public let fitDuration: DurationFit?
    /// Where a crop was centred, when not `auto` (nil).
    public let focus: Focus?

    public init(preset: String, presetDigest: String, fit: Fit, type: DeclaredType, keepOriginal: Bool,
                tenant: String? = nil, fitDuration: DurationFit? = nil, focus: Focus? = nil) {
        self.preset = preset
        self.presetDigest = presetDigest
        self.fit = fit
        self.type = type
        self.keepOriginal = keepOriginal
        self.tenant = tenant
        self.fitDuration = fitDuration == .reject ? nil : fitDuration
        self.focus = focus == .auto ? nil : focus
    }

    /// One line per option, in a fixed order, versioned: the text the id hashes. The tenant's,
    /// the duration fit's and the focus's lines come only when there are ones, so earlier items
    /// keep their ids.
    public var canonical: String {
        (["kiln-media-id-v1", "preset=\(preset)", "preset_sha256=\(presetDigest)", "fit=\(fit.rawValue)",
          "type=\(type.rawValue)", "keep_original=\(keepOriginal)"] + (tenant.map { ["tenant=\($0)"] } ?? [])
            + (fitDuration.map { ["fit_duration=\($0.rawValue)"] } ?? []) + (focus.map { ["focus=\($0)"] } ?? []))
            .joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case preset, fit, type, tenant, focus
        case presetDigest = "preset_sha256", keepOriginal = "keep_original", fitDuration = "fit_duration"
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
    /// The file's name inside its item (`display.jpg`): the key a store keeps.
    public let file: String
    /// Path (local store) or object location (bucket); set when read from a store.
    public var path: String?
    /// Where a browser fetches it: the bucket's public URL or a presigned one (object stores
    /// only); made when read, so it never expires in a manifest.
    public var url: String?
    /// A signed URL that fetches it with no key (the server's item views), and until when.
    public var fetchURL: String?
    public var fetchExpiresAt: String?
    public let format: OutputFormat
    public let width: Int
    public let height: Int
    public let bytes: Int64
    public let sha256: String

    enum CodingKeys: String, CodingKey {
        case name, file, path, url, format, width, height, bytes, sha256
        case fetchURL = "fetch_url", fetchExpiresAt = "fetch_expires_at"
    }

    public init(name: String, file: String, format: OutputFormat, width: Int, height: Int, bytes: Int64,
                sha256: String) {
        self.name = name
        self.file = file
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
    /// The file's name inside its item (`original.jpeg`).
    public let file: String
    /// Path or object location; set when read from a store.
    public var path: String?
    public let bytes: Int64
    /// Always false: the original still carries its metadata (GPS included).
    public let sanitized: Bool

    public init(file: String, bytes: Int64) {
        self.file = file
        self.bytes = bytes
        self.sanitized = false
    }
}

extension MediaItem {
    /// The bytes of all its renditions together (what it costs to store).
    public var renditionBytes: Int64 { renditions.reduce(0) { $0 + $1.bytes } }
}
