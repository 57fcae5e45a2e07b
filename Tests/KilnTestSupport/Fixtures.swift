import Foundation

/// Paths to the committed samples and scratch directories for tests.
public enum Fixtures {
    /// The package root, found from this file's location (tests run from any directory).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `samples/<name>`, e.g. `sample("photo.jpg")` or `sample("bad/truncated.jpg")`.
    public static func sample(_ name: String) -> String { root + "/samples/" + name }

    /// A new empty directory, removed by the caller with `cleanUp`.
    public static func scratchDirectory(_ label: String = "kiln-test") -> String {
        let path = NSTemporaryDirectory() + "\(label)-" + UUID().uuidString.lowercased()
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func cleanUp(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Every regular file under `directory`, relative paths, recursively; a live process's
    /// `WorkSession` lock (`<session>/.lock`) is not counted as left-over work.
    public static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + next, isDirectory: &isDirectory),
               !isDirectory.boolValue, (next as NSString).lastPathComponent != ".lock" {
                files.append(next)
            }
        }
        return files.sorted()
    }

    /// A sparse file of `size` bytes that starts with the bytes of `sample` (cheap "huge" inputs).
    public static func sparseCopy(of sample: String, size: Int64, in directory: String) throws -> String {
        let path = directory + "/huge-" + URL(fileURLWithPath: sample).lastPathComponent
        try FileManager.default.copyItem(atPath: sample, toPath: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return path
    }
}
