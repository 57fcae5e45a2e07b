import Foundation
import KilnCore
import KilnSniff
import KilnTestSupport
import Testing

@Suite struct ContentSnifferTests {
    let sniffer: ContentSniffer

    init() throws { sniffer = try ContentSniffer() }

    @Test(arguments: [
        ("photo.jpg", "image/jpeg"), ("grey.png", "image/png"), ("photo.webp", "image/webp"),
        ("photo.avif", "image/avif"), ("photo.heic", "image/heic"), ("photo.jxl", "image/jxl"),
        ("photo.gif", "image/gif"), ("photo.tiff", "image/tiff"),
        ("bad/text.txt", "text/plain"), ("bad/doc.pdf", "application/pdf"), ("bad/image.svg", "image/svg+xml"),
    ])
    func sniffsTheContentNotTheName(file: String, mime: String) throws {
        #expect(try sniffer.mimeType(ofFileAt: Fixtures.sample(file)) == mime)
    }

    @Test func everyAcceptedImageMIMEIsInTheTableAndNothingElse() throws {
        for file in ["photo.jpg", "photo.webp", "photo.avif", "photo.heic", "photo.jxl", "photo.gif", "photo.tiff"] {
            #expect(MediaFormat.forMIME(try sniffer.mimeType(ofFileAt: Fixtures.sample(file))) != nil, "\(file)")
        }
        for file in ["bad/text.txt", "bad/doc.pdf", "bad/image.svg"] {
            #expect(MediaFormat.forMIME(try sniffer.mimeType(ofFileAt: Fixtures.sample(file))) == nil, "\(file)")
        }
    }

    @Test func aJPEGNamedTxtIsStillAJPEG() throws {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let renamed = directory + "/notes.txt"
        try FileManager.default.copyItem(atPath: Fixtures.sample("photo.jpg"), toPath: renamed)
        #expect(try sniffer.mimeType(ofFileAt: renamed) == "image/jpeg")
    }

    @Test func concurrentSniffsEachGetTheirOwnAnswer() async throws {
        let sniffer = sniffer
        let files = ["photo.jpg", "bad/doc.pdf", "grey.png", "bad/text.txt"]
        let expected = ["image/jpeg", "application/pdf", "image/png", "text/plain"]
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for round in 0..<40 {
                let index = round % files.count
                group.addTask { try sniffer.mimeType(ofFileAt: Fixtures.sample(files[index])) == expected[index] }
            }
            for try await matched in group { #expect(matched) }
        }
    }

    @Test func missingFileIsFILE_002() {
        #expect(throws: KilnError.notFound("/nonexistent/x.jpg")) {
            try sniffer.mimeType(ofFileAt: "/nonexistent/x.jpg")
        }
    }
}
