import Foundation
import KilnCore
import KilnStorage

/// stage: the content address, checksums of every rendition, the kept original if asked, and
/// `manifest.json`, all inside the staging directory. Publishing is the store's `commit`.
extension Step {
    static let stageItem = Step(name: "stage") { context, environment in
        let facts = try context.required(context.facts, "facts")
        let staging = try context.required(context.staging, "staging")
        let store = try environment.requireStore()
        let id = try FileDigest.sha256(path: context.path)
        // The manifest records where each file will be once published (path or object
        // location, and URL when the store has one).
        let location = store.location(forItem: id)
        var renditions: [Rendition] = []
        for file in context.renditionFiles {
            let path = staging.path(file.file)
            var rendition = Rendition(
                name: file.spec.name, path: location + "/" + file.file, format: file.spec.format, width: file.width,
                height: file.height, bytes: try fileSize(path), sha256: try FileDigest.sha256(path: path))
            rendition.url = store.url(forItem: id, file: file.file)
            renditions.append(rendition)
        }
        var original: StoredOriginal?
        if context.options.keepOriginal {
            let name = "original." + (context.format?.name ?? "bin")
            do {
                try FileManager.default.copyItem(atPath: context.path, toPath: staging.path(name))
            } catch {
                throw KilnError.storageUnavailable("cannot keep the original: \(error.localizedDescription)")
            }
            original = StoredOriginal(path: location + "/" + name, bytes: context.sizeBytes)
            context.warnings.append("kept the original unsanitized (its metadata, GPS included, is intact)")
        }
        let item = MediaItem(
            id: id, input: context.input, kind: context.format?.kind ?? .image, mime: context.mime,
            preset: context.preset.name, source: facts, renditions: renditions, thumbhash: context.placeholder?.thumbhash,
            dominantColor: context.placeholder?.dominantColor, original: original, warnings: context.warnings,
            location: location)
        try ManifestFile.write(item, to: staging.path(ManifestFile.name))
        context.item = item
    }

    private static func fileSize(_ path: String) throws -> Int64 {
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64 else {
            throw KilnError.storageUnavailable("rendition \(path) was not written")
        }
        return size
    }
}

/// `manifest.json`: the item as the envelope shows it, with paths relative to its directory.
enum ManifestFile {
    static let name = "manifest.json"

    static func write(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path))
        } catch {
            throw KilnError.storageUnavailable("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
