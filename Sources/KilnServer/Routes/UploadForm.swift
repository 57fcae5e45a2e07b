import Hummingbird
import HummingbirdCore
import KilnCore
import KilnPipeline

/// The options of an upload: `preset` or `targets`, `type`, `fit`, from the query string or from
/// form fields placed before the file part (the file is checked against them as it streams, so a
/// field after it would come too late: API_001 says so).
struct UploadForm {
    static let fields = ["preset", "targets", "type", "fit", "fit_duration", "limits"]
    var options: IngestOptions
    /// Several presets for one upload (`targets=a,b,c`): the answer is then one outcome per target.
    var targets: [String]?
    /// A preflight's: the whole file's size and name, when only its first bytes are sent.
    var size: Int64?
    var name: String?
    /// Takes `size` and `name` too (a preflight).
    var preflight = false

    /// The presets the upload is for.
    var names: [String] { targets ?? [options.preset] }

    init(base: IngestOptions) { options = base }

    init(query: FlatDictionary<Substring, Substring>, base: IngestOptions, presets: PresetCatalog,
         preflight: Bool = false) throws(KilnError) {
        options = base
        self.preflight = preflight
        for (name, value) in query {
            try set(String(name), String(value), presets: presets)
        }
    }

    mutating func set(_ name: String, _ value: String, presets: PresetCatalog) throws(KilnError) {
        switch name {
        case "preset":
            guard presets.presets[value] != nil else {
                throw KilnError.invalidRequest("there is no preset \"\(value)\"",
                                               fields: ["preset": "one of \(presets.names.joined(separator: ", "))"])
            }
            options.preset = value
        case "targets":
            let names = IngestRequest.targets(value)
            let unknown = names.filter { presets.presets[$0] == nil }
            guard !names.isEmpty, unknown.isEmpty else {
                throw KilnError.invalidRequest(names.isEmpty ? "targets names no preset" : "there is no preset \"\(unknown[0])\"",
                                               fields: ["targets": "a comma-separated list of \(presets.names.joined(separator: ", "))"])
            }
            targets = names
        case "type":
            guard let type = DeclaredType(rawValue: value) else {
                throw KilnError.invalidRequest("type \"\(value)\" is not one Kiln knows",
                                               fields: ["type": DeclaredType.allCases.map(\.rawValue).joined(separator: "|")])
            }
            options.type = type
        case "fit":
            guard let fit = Fit(rawValue: value) else {
                throw KilnError.invalidRequest("fit \"\(value)\" is not one Kiln knows",
                                               fields: ["fit": Fit.allCases.map(\.rawValue).joined(separator: "|")])
            }
            options.fit = fit
        case "fit_duration":
            guard let fit = DurationFit(rawValue: value) else {
                throw KilnError.invalidRequest("fit_duration \"\(value)\" is not one Kiln knows",
                                               fields: ["fit_duration": DurationFit.allCases.map(\.rawValue).joined(separator: "|")])
            }
            options.fitDuration = fit
        case "limits":
            options.limits = try AccountLimits.parse(value)
        case "size" where preflight:
            guard let size = Int64(value), size > 0 else {
                throw KilnError.invalidRequest("size \"\(value)\" is not a number of bytes", fields: ["size": "the file's size in bytes"])
            }
            self.size = size
        case "name" where preflight:
            self.name = value
        default:
            throw KilnError.invalidRequest("unknown field \"\(name)\"",
                                           fields: [name: "unknown; the fields are file, \(Self.fields.joined(separator: ", "))"])
        }
    }

    /// The boundary of a `multipart/form-data` Content-Type; FILE_001 for any other body.
    static func boundary(_ contentType: String?) throws(KilnError) -> String {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw KilnError.uploadFailed("the body must be multipart/form-data with a `file` part")
        }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if !value.isEmpty, value.count <= 200 { return value }
        }
        throw KilnError.uploadFailed("the multipart Content-Type has no boundary")
    }
}

