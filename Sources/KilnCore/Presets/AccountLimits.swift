import Foundation

/// Limits of the account a target will be posted from, narrower than the platform's widest:
/// TikTok gives each creator a maximum duration (`max_video_post_duration_sec` from its
/// creator-info endpoint), X's limits follow the account's tier. A request names them per target
/// (`limits={"tiktok": {"max_duration_seconds": 180}}`); they only narrow, and the narrowed
/// preset is what the item is made for (so they are part of its id).
public struct AccountLimits: Codable, Sendable, Equatable {
    /// The longest video, seconds (`fit_duration=trim` cuts to it).
    public var maxDurationSeconds: Double?
    /// The largest published file, bytes (a video, and an image's published rendition).
    public var maxBytes: Int64?
    /// The largest published picture, pixels.
    public var maxWidth: Int?
    public var maxHeight: Int?
    /// The most items in a carousel.
    public var maxItems: Int?

    public init(maxDurationSeconds: Double? = nil, maxBytes: Int64? = nil, maxWidth: Int? = nil, maxHeight: Int? = nil,
                maxItems: Int? = nil) {
        self.maxDurationSeconds = maxDurationSeconds
        self.maxBytes = maxBytes
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxItems = maxItems
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxDurationSeconds = "max_duration_seconds", maxBytes = "max_bytes", maxWidth = "max_width"
        case maxHeight = "max_height", maxItems = "max_items"
    }

    /// Reads one target's limits: every field a number above 0 (whole where it counts), no other field.
    public init(from decoder: any Decoder) throws {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let fields = CodingKeys.allCases.map(\.rawValue)
        if let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
            .first(where: { !fields.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "\(unknown) is not a limit Kiln knows; use \(fields.joined(separator: ", "))"))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Read as numbers, then held to what each is: whole but for seconds, above 0.
        func positive(_ key: CodingKeys, whole: Bool = true) throws -> Double? {
            guard let value = try c.decodeIfPresent(Double.self, forKey: key) else { return nil }
            guard value > 0, value.isFinite, value < 1e15 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be above 0")
            }
            guard !whole || value.rounded() == value else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be a whole number")
            }
            return value
        }
        self.init(maxDurationSeconds: try positive(.maxDurationSeconds, whole: false),
                  maxBytes: try positive(.maxBytes).map { Int64($0) }, maxWidth: try positive(.maxWidth).map { Int($0) },
                  maxHeight: try positive(.maxHeight).map { Int($0) }, maxItems: try positive(.maxItems).map { Int($0) })
    }

    /// The limits of a request, keyed by target, from their JSON (`{"tiktok": {...}}`); API_001
    /// naming `limits` for anything else (an unknown field is refused, not ignored).
    public static func parse(_ json: String) throws(KilnError) -> [String: AccountLimits] {
        do {
            return try JSONDecoder().decode([String: AccountLimits].self, from: Data(json.utf8))
        } catch let error as DecodingError {
            let context: DecodingError.Context? = switch error {
            case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c): c
            case .keyNotFound(_, let c): c
            @unknown default: nil
            }
            guard let context, let target = context.codingPath.first?.stringValue else {
                throw invalid("limits must be a JSON object keyed by target, e.g. {\"tiktok\": {\"max_duration_seconds\": 180}}")
            }
            let path = "limits." + context.codingPath.map(\.stringValue).joined(separator: ".")
            // Inside a target, corrupted data is only what init(from:) refused, in its own words.
            if case .dataCorrupted = error { throw invalid("\(path): \(context.debugDescription)") }
            throw invalid(context.codingPath.count > 1 ? "\(path) must be a number above 0 (whole, but for seconds)"
                : "limits.\(target) must be an object of \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))")
        } catch {
            throw invalid("limits must be a JSON object keyed by target, e.g. {\"tiktok\": {\"max_duration_seconds\": 180}}")
        }
    }

    /// The limits as a request spells them (sorted keys): what ids, idempotency and jobs keep.
    public static func canonical(_ limits: [String: AccountLimits]) -> String? {
        guard !limits.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(limits)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func invalid(_ message: String) -> KilnError {
        KilnError.invalidRequest(message, fields: ["limits": message])
    }
}

extension Preset {
    /// This preset narrowed to an account's `limits`. A limit wider than the platform's own, or
    /// one the preset has nothing to apply to, is API_001 naming `limits`: never applied.
    public func narrowed(by limits: AccountLimits) throws(KilnError) -> Preset {
        var preset = self
        func wider(_ field: String, _ value: String, _ own: String) -> KilnError {
            AccountLimits.invalid("limits.\(name).\(field) \(value) is wider than \(name)'s \(own); a limit may only narrow the platform's")
        }
        func none(_ field: String, _ what: String) -> KilnError {
            AccountLimits.invalid("limits.\(name).\(field): \(name) takes no \(what)")
        }
        if let seconds = limits.maxDurationSeconds {
            guard let video = preset.video else { throw none("max_duration_seconds", "video") }
            guard seconds <= video.maxDuration else {
                throw wider("max_duration_seconds", ByteCount.decimal(seconds, places: 2), "\(ByteCount.decimal(video.maxDuration, places: 2)) s")
            }
            guard seconds >= video.minDuration else {
                throw AccountLimits.invalid("limits.\(name).max_duration_seconds \(ByteCount.decimal(seconds, places: 2)) is below \(name)'s \(ByteCount.decimal(video.minDuration, places: 2)) s minimum")
            }
            preset.video?.maxDuration = seconds
        }
        // A size or box limit is held to each kind the preset publishes (the narrower of the two
        // stays: a video's output, an image's published rendition); it is refused when it is wider
        // than every one of them (it would narrow nothing).
        let publishesImages = preset.image != nil && !preset.renditions.isEmpty
        if let bytes = limits.maxBytes {
            let owns = [preset.video.map { $0.output.maxBytes ?? .max }, publishesImages ? preset.renditions[0].maxBytes ?? .max : nil]
            guard let widest = owns.compactMap(\.self).max() else { throw none("max_bytes", "media") }
            guard bytes <= widest else { throw wider("max_bytes", "\(bytes)", "\(widest) bytes") }
            if let video = preset.video { preset.video?.output.maxBytes = min(bytes, video.output.maxBytes ?? .max) }
            if publishesImages {
                preset.renditions[0].maxBytes = min(bytes, preset.renditions[0].maxBytes ?? .max)
                if let gif = preset.image?.animation, gif.output == .gif { preset.image?.animation?.maxBytes = min(bytes, gif.maxBytes ?? .max) }
            }
        }
        let sides: [(String, Int?, WritableKeyPath<VideoOutputSpec, Int>, WritableKeyPath<RenditionSpec, Int>)] = [
            ("max_width", limits.maxWidth, \.maxWidth, \.maxWidth), ("max_height", limits.maxHeight, \.maxHeight, \.maxHeight),
        ]
        for (field, value, videoSide, imageSide) in sides {
            guard let value else { continue }
            let owns = [preset.video?.output[keyPath: videoSide], publishesImages ? preset.renditions[0][keyPath: imageSide] : nil]
            guard let widest = owns.compactMap(\.self).max() else { throw none(field, "media") }
            guard value <= widest else { throw wider(field, "\(value)", "\(widest) px") }
            if let own = preset.video?.output[keyPath: videoSide] { preset.video?.output[keyPath: videoSide] = min(value, own) }
            if publishesImages { preset.renditions[0][keyPath: imageSide] = min(value, preset.renditions[0][keyPath: imageSide]) }
        }
        if let items = limits.maxItems {
            guard let carousel = preset.carousel else { throw none("max_items", "carousel") }
            guard items <= carousel.maxItems else { throw wider("max_items", "\(items)", "\(carousel.maxItems) items") }
            guard items >= carousel.minItems else {
                throw AccountLimits.invalid("limits.\(name).max_items \(items) is below \(name)'s \(carousel.minItems)-item minimum")
            }
            preset.carousel?.maxItems = items
        }
        return preset
    }
}
