import Foundation

/// The presets a run can use: the built-in table plus any a user file adds or overrides.
public struct PresetCatalog: Sendable {
    public private(set) var presets: [String: Preset]
    /// Where each preset comes from: `built-in`, or the file that added or replaced it.
    public private(set) var origins: [String: String]

    public static let builtInOrigin = "built-in"

    /// The built-in presets only.
    public init() {
        presets = Dictionary(uniqueKeysWithValues: Preset.builtIn.map { ($0.name, $0) })
        origins = presets.mapValues { _ in Self.builtInOrigin }
    }

    /// The built-in presets, then those in `file` (a JSON array of presets), which win on a name clash.
    public init(userFile file: String?) throws {
        self.init()
        guard let file else { return }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw KilnError.invalidRequest("preset file \(file) cannot be read", fields: ["presets": "unreadable file"])
        }
        try add(json: data, source: file)
    }

    /// Adds the presets in `json` (an array, or `{"presets": [...]}`).
    public mutating func add(json: Data, source: String) throws {
        struct Wrapper: Decodable { let presets: [Preset] }
        let decoder = JSONDecoder()
        let list: [Preset]
        do {
            let isArray = json.first { !" \t\r\n".utf8.contains($0) } == UInt8(ascii: "[")
            if isArray {
                list = try decoder.decode([Preset].self, from: json)
            } else {
                list = try decoder.decode(Wrapper.self, from: json).presets
            }
        } catch {
            throw KilnError.invalidRequest("preset file \(source) is not valid: \(Self.describe(error))",
                                           fields: ["presets": Self.describe(error)])
        }
        for preset in list {
            presets[preset.name] = preset
            origins[preset.name] = source
        }
    }

    /// The preset called `name`, or API_001 naming the ones that exist.
    public func preset(named name: String) throws(KilnError) -> Preset {
        guard let preset = presets[name] else {
            throw KilnError.invalidRequest(
                "unknown preset \"\(name)\"; choose one of \(names.joined(separator: ", "))",
                fields: ["preset": "must be one of \(names.joined(separator: ", "))"])
        }
        return preset
    }

    public var names: [String] { presets.keys.sorted() }

    /// The presets named, in order, each narrowed to its account's `limits`; API_001 for the
    /// first that is unknown, or for none, and for limits of a target not named or wider than it.
    public func resolve(targets names: [String], limits: [String: AccountLimits] = [:]) throws(KilnError) -> [Preset] {
        guard !names.isEmpty else { throw KilnError.invalidRequest("name at least one target (a preset)") }
        if let stray = limits.keys.sorted().first(where: { !names.contains($0) }) {
            throw KilnError.invalidRequest("limits names \(stray), which is not a target of this request (\(names.joined(separator: ", ")))",
                                           fields: ["limits": "keyed by the request's targets"])
        }
        return try names.map { name throws(KilnError) in
            let preset = try preset(named: name)
            return try limits[name].map { limits throws(KilnError) in try preset.narrowed(by: limits) } ?? preset
        }
    }

    /// Where `name` comes from (`built-in` or a file's path).
    public func origin(of name: String) -> String { origins[name] ?? Self.builtInOrigin }

    /// Every preset by name, each with where it comes from and the day its rules were last read:
    /// what `GET /v1/presets` and `kiln presets --list` show.
    public var listing: [Listed] {
        names.compactMap { name in presets[name].map { Listed(preset: $0, origin: origin(of: name)) } }
    }

    /// A preset as listed: its own fields, then `origin` and `rules_read`.
    public struct Listed: Encodable, Sendable {
        public let preset: Preset
        public let origin: String

        public func encode(to encoder: any Encoder) throws {
            try preset.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(origin, forKey: .origin)
            try c.encodeIfPresent(preset.rulesRead, forKey: .rulesRead)
        }

        enum Keys: String, CodingKey { case origin, rulesRead = "rules_read" }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
             DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return "missing field \(path)"
        default:
            return String(describing: error)
        }
    }
}
