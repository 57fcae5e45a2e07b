import Foundation
import KilnCore
@testable import KilnImaging
import KilnTestSupport
import Testing

@Suite struct GeometryAndPlaceholderTests {
    let box = RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350)

    @Test func withinShrinksButNeverEnlarges() {
        #expect(RenditionGeometry.plan(sourceWidth: 4000, sourceHeight: 3000, spec: box, aspect: nil, fit: .reject)
            == RenditionGeometry(mode: .within, width: 1080, height: 810))
        #expect(RenditionGeometry.plan(sourceWidth: 600, sourceHeight: 400, spec: box, aspect: nil, fit: .reject)
            == RenditionGeometry(mode: .within, width: 600, height: 400))
    }

    @Test func cropAndPadAimAtTheClampedAspect() {
        let feed = AspectRange(min: 0.8, max: 1.91)
        let crop = RenditionGeometry.plan(sourceWidth: 3000, sourceHeight: 1000, spec: box, aspect: feed, fit: .crop)
        #expect(crop == RenditionGeometry(mode: .crop, width: 1080, height: 565))
        let tall = RenditionGeometry.plan(sourceWidth: 1000, sourceHeight: 3000, spec: box, aspect: feed, fit: .crop)
        #expect(tall == RenditionGeometry(mode: .crop, width: 1000, height: 1250))
        let pad = RenditionGeometry.plan(sourceWidth: 1000, sourceHeight: 3000, spec: box, aspect: feed, fit: .pad)
        #expect(pad == RenditionGeometry(mode: .pad, width: 1080, height: 1350))
    }

    @Test func pixelLimitShrinksTheBox() {
        let spec = RenditionSpec(name: "d", maxWidth: 10_000, maxHeight: 10_000, maxPixels: 1_000_000)
        let plan = RenditionGeometry.plan(sourceWidth: 4000, sourceHeight: 2000, spec: spec, aspect: nil, fit: .reject)
        #expect(plan.width * plan.height <= 1_000_000)
        #expect(plan.width == 1414 && plan.height == 707)
    }

    @Test func thumbHashKeepsTheAverageColour() throws {
        let red = [UInt8](repeating: 0, count: 32 * 16 * 4).enumerated().map { $0.offset % 4 == 0 || $0.offset % 4 == 3 ? 255 : 0 }
        let hash = ThumbHash.encode(width: 32, height: 16, rgba: red.map(UInt8.init))
        let average = try #require(ThumbHash.averageColor(of: hash))
        #expect(average.r > 0.9 && average.g < 0.1 && average.b < 0.1, "\(average)")
        #expect(hash.count >= 5 && hash.count <= 25)
        #expect(Placeholder.dominantColor(red.map(UInt8.init)) == "#ff0000")
    }

    @Test func dominantColourIgnoresTransparentPixels() {
        // Half transparent green, half opaque blue: blue wins.
        var pixels: [UInt8] = []
        for i in 0..<100 { pixels += i < 60 ? [0, 255, 0, 0] : [0, 0, 250, 255] }
        #expect(Placeholder.dominantColor(pixels) == "#0000fa")
    }

    @Test func pixelBombHeaderIsReadWithoutDecoding() throws {
        // Only the first 300 bytes of the bomb: the header is whole, the pixel data is not.
        // Reading the facts succeeds, so no pixel was decoded.
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let head = directory + "/bomb-head.png"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("bad/bomb.png"))).prefix(300)
        try bytes.write(to: URL(fileURLWithPath: head))
        let facts = try ImageProber.facts(path: head, format: MediaFormat.forMIME("image/png")!, sizeBytes: 300)
        #expect(facts.width == 25_000 && facts.height == 25_000)
    }
}
