import Foundation

/// The presets a run can use: the built-in table plus any a user file adds or overrides.
public struct PresetCatalog: Sendable {
    public private(set) var presets: [String: Preset]

    /// The built-in presets only.
    public init() {
        presets = Dictionary(uniqueKeysWithValues: Preset.builtIn.map { ($0.name, $0) })
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
        for preset in list { presets[preset.name] = preset }
    }

    /// The preset called `name`, or API_001 naming the ones that exist.
    public func preset(named name: String) throws -> Preset {
        guard let preset = presets[name] else {
            throw KilnError.invalidRequest(
                "unknown preset \"\(name)\"; choose one of \(names.joined(separator: ", "))",
                fields: ["preset": "must be one of \(names.joined(separator: ", "))"])
        }
        return preset
    }

    public var names: [String] { presets.keys.sorted() }

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
