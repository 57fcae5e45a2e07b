import Foundation
import KilnCore
import KilnStorage

/// stage: checksums of every rendition, the kept original if asked, and `manifest.json` (the
/// item in its stored form: file names, no paths or URLs), all inside the staging directory.
/// Publishing is the store's `commit`.
extension Step {
    static let stageItem = Step(name: "stage") { context, _ in
        let facts = try context.required(context.facts, "facts")
        let staging = try context.required(context.staging, "staging")
        let id = try context.required(context.id, "id")
        var renditions: [Rendition] = []
        for file in context.renditionFiles {
            let path = staging.path(file.file)
            renditions.append(Rendition(
                name: file.spec.name, file: file.file, format: file.spec.format, width: file.width,
                height: file.height, bytes: try fileSize(path), sha256: try FileDigest.sha256(path: path)))
        }
        var original: StoredOriginal?
        if context.options.keepOriginal {
            let name = "original." + (context.format?.name ?? "bin")
            do {
                try FileManager.default.copyItem(atPath: context.path, toPath: staging.path(name))
            } catch {
                throw KilnError.storageUnavailable("cannot keep the original: \(error.localizedDescription)")
            }
            original = StoredOriginal(file: name, bytes: context.sizeBytes)
            context.warnings.append("kept the original unsanitized (its metadata, GPS included, is intact)")
        }
        let item = MediaItem(
            id: id, sourceSha256: try context.required(context.sourceSHA256, "source hash"),
            options: try context.required(context.processingOptions, "options"), input: context.input,
            kind: context.format?.kind ?? .image, mime: context.mime, source: facts, renditions: renditions,
            thumbhash: context.placeholder?.thumbhash, dominantColor: context.placeholder?.dominantColor,
            original: original, warnings: context.warnings, framing: context.framing,
            rules: context.rulesPassed)
        try ManifestFile.write(item.stored, to: staging.path(StoreKey.manifest))
        context.item = item
    }

    private static func fileSize(_ path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KilnError.storageUnavailable("rendition \(path) was not written") }
        return Int64(info.st_size)
    }
}

/// `manifest.json`: an item or carousel as stored.
enum ManifestFile {
    static func write(_ value: some Encodable, to path: String) throws(KilnError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path))
        } catch {
            throw KilnError.storageUnavailable("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
