import Foundation

/// The built-in presets: the platforms' published rules as data (SPEC §5), one JSON file per
/// platform under `Presets/Platforms/`, embedded in the binary at build time. A platform's change
/// is an edit to its file; each number's page is in the file's `sources` (rendered as
/// `docs/platforms.md`). A `--presets` file in the same form replaces a built-in by name.
extension Preset {
    /// The embedded files, in the order the presets are listed.
    private static let files: [(name: String, bytes: [UInt8])] = [
        ("default", PackageResources.default_json),
        ("instagram-feed", PackageResources.instagram_feed_json),
        ("instagram-reel", PackageResources.instagram_reel_json),
        ("instagram-story", PackageResources.instagram_story_json),
        ("facebook", PackageResources.facebook_json),
        ("facebook-reel", PackageResources.facebook_reel_json),
        ("threads", PackageResources.threads_json),
        ("x", PackageResources.x_json),
        ("linkedin", PackageResources.linkedin_json),
        ("tiktok", PackageResources.tiktok_json),
        ("youtube-shorts", PackageResources.youtube_shorts_json),
        ("pinterest", PackageResources.pinterest_json),
        ("bluesky", PackageResources.bluesky_json),
    ]

    /// The built-in presets, read once from the embedded files. A file that does not read is a
    /// build that must not ship: `PlatformRulesTests` decodes every one, so this never traps there.
    public static let builtIn: [Preset] = files.map { file in
        do {
            let preset = try JSONDecoder().decode(Preset.self, from: Data(file.bytes))
            precondition(preset.name == file.name, "Presets/Platforms/\(file.name).json names \(preset.name)")
            return preset
        } catch {
            preconditionFailure("Presets/Platforms/\(file.name).json does not read: \(error)")
        }
    }
}
