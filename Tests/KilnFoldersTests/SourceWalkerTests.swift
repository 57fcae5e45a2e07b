import Foundation
import KilnFolders
import KilnTestSupport
import Testing

@Suite struct SourceWalkerTests {
    @Test func walksInOrderSkipsPartialFilesAndNeverLeavesTheRoot() throws {
        let root = Fixtures.scratchDirectory("kiln-walk")
        let outside = Fixtures.scratchDirectory("kiln-walk-outside")
        defer { Fixtures.cleanUp(root); Fixtures.cleanUp(outside) }
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/b/c", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/@eaDir", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: outside, withIntermediateDirectories: true)
        for name in ["a.jpg", "b/c/d.png", "b/e.mp4", ".DS_Store", "x.jpg.part", "y.crdownload", "~$doc.jpg",
                     "@eaDir/thumb.jpg", "b/.hidden.jpg", "z.jpg~"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/" + name))
        }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.jpg"))
        // A link to a file inside is taken; to a file outside, or to a directory (a loop), is not.
        try manager.createSymbolicLink(atPath: root + "/inside-link.jpg", withDestinationPath: root + "/a.jpg")
        try manager.createSymbolicLink(atPath: root + "/outside-link.jpg", withDestinationPath: outside + "/secret.jpg")
        try manager.createSymbolicLink(atPath: root + "/b/loop", withDestinationPath: root)
        let files = try SourceWalker(root: root).files()
        #expect(files.map(\.relativePath) == ["a.jpg", "b/c/d.png", "b/e.mp4", "inside-link.jpg"])
        #expect(files.allSatisfy { $0.size == 1 && $0.modified > 0 })
        #expect(throws: Error.self) { try SourceWalker(root: root + "/a.jpg") }
    }
}
