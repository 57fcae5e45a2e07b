import Hummingbird
import HummingbirdCore
import KilnCore
import KilnPipeline

/// An upload's request as the HTTP routes read it: its `UploadOptions` from the query string or
/// from form fields placed before the file part (the file is checked against them as it streams,
/// so a field after it would come too late: API_001 says so), and a preflight's `size` and `name`.
struct UploadForm {
    static let fields = UploadOptions.fields
    var upload: UploadOptions
    /// The server's defaults for what the client does not choose.
    let base: IngestOptions
    /// Whose the upload is (the key's tenant): part of each item's id.
    var tenant: String?
    /// A preflight's: the whole file's size and name, when only its first bytes are sent.
    var size: Int64?
    var name: String?
    /// Takes `size` and `name` too (a preflight).
    var preflight = false

    /// The presets the upload is for.
    var names: [String] { upload.names }
    var targets: [String]? { upload.targets }
    /// The engine's options for the upload.
    var options: IngestOptions { upload.ingestOptions(base: base, tenant: tenant) }

    init(base: IngestOptions) {
        self.base = base
        upload = UploadOptions(base: base)
    }

    init(query: FlatDictionary<Substring, Substring>, base: IngestOptions, presets: PresetCatalog,
         preflight: Bool = false) throws(KilnError) {
        self.init(base: base)
        self.preflight = preflight
        for (name, value) in query {
            try set(String(name), String(value), presets: presets)
        }
    }

    /// A resumable upload's options, from its tus metadata (other metadata, `filename` say, is the client's own).
    init(metadata: [String: String], base: IngestOptions, presets: PresetCatalog) throws(KilnError) {
        self.init(base: base)
        for name in Self.fields {
            if let value = metadata[name] { try set(name, value, presets: presets) }
        }
    }

    mutating func set(_ name: String, _ value: String, presets: PresetCatalog) throws(KilnError) {
        switch name {
        case "size" where preflight:
            guard let size = Int64(value), size > 0 else {
                throw KilnError.invalidRequest("size \"\(value)\" is not a number of bytes", fields: ["size": "the file's size in bytes"])
            }
            self.size = size
        case "name" where preflight:
            self.name = value
        default:
            try upload.set(name, value, presets: presets)
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

