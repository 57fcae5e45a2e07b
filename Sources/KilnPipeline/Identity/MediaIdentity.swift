import Foundation
import KilnCore
import KilnStorage

/// Media ids: SHA-256 over the input's own SHA-256 and the canonical processing options, so the
/// same bytes under two presets (or fits, types, keep-original) are two items, and the same
/// bytes under the same options are one, found again without reprocessing. A tenant is one of
/// the options: what one tenant sent is never found again for another.
public enum MediaIdentity {
    /// The options `options` and `preset` stand for, as an id covers them.
    public static func options(_ options: IngestOptions, preset: Preset) -> ProcessingOptions {
        ProcessingOptions(preset: preset.name, presetDigest: presetDigest(preset), fit: options.fit,
                          type: options.type, keepOriginal: options.keepOriginal,
                          tenant: options.tenant, fitDuration: options.fitDuration,
                          focus: options.fit == .crop ? options.focus : nil)
    }

    /// SHA-256 of the preset's content (its JSON with sorted keys).
    public static func presetDigest(_ preset: Preset) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value type of plain fields cannot fail; the name alone is a safe fallback.
        let data = (try? encoder.encode(preset)) ?? Data(preset.name.utf8)
        return FileDigest.sha256(joining: [String(decoding: data, as: UTF8.self)])
    }

    /// Which version of `preset`'s rules an output was checked against, `name@digest` (the first
    /// 16 hex digits of `presetDigest`, given when already known).
    public static func rules(for preset: Preset, digest: String? = nil) -> String {
        "\(preset.name)@\((digest ?? presetDigest(preset)).prefix(16))"
    }

    /// The media id of input bytes hashing to `sourceSHA256` under `options`.
    public static func id(sourceSHA256: String, options: ProcessingOptions) -> String {
        FileDigest.sha256(joining: [sourceSHA256, options.canonical])
    }
}
