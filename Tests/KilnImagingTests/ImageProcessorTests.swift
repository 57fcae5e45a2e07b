import Foundation
import KilnCore
@testable import KilnImaging
import KilnTestSupport
import Testing

@Suite struct ImageProcessorTests {
    static let display = RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048)

    func render(_ sample: String, spec: RenditionSpec = display, aspect: AspectRange? = nil, fit: Fit = .reject,
                format: MediaFormat? = nil) throws -> (PixelProbe, Placeholder) {
        let directory = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(directory) }
        let path = Fixtures.sample(sample)
        let format = format ?? MediaFormat.all.first { sample.hasSuffix("." + $0.name) || (sample.hasSuffix(".jpg") && $0.name == "jpeg") }!
        let size = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0)
        let facts = try ImageProber.facts(path: path, format: format, sizeBytes: size)
        let output = directory + "/out.jpg"
        let result = try ImageProcessor.render(path: path, facts: facts, spec: spec, aspect: aspect, fit: fit,
                                               outputPath: output)
        let probe = try PixelProbe(path: output)
        #expect(probe.width == result.width && probe.height == result.height)
        return (probe, try Placeholder.make(fromRendition: output))
    }

    @Test(arguments: 1...8)
    func everyEXIFOrientationComesOutUpright(orientation: Int) throws {
        let facts = try ImageProber.facts(path: Fixtures.sample("orient-\(orientation).jpg"),
                                          format: MediaFormat.forMIME("image/jpeg")!, sizeBytes: 1)
        #expect(facts.orientation == orientation)
        #expect(facts.displayWidth == 300 && facts.displayHeight == 200)
        let (probe, _) = try render("orient-\(orientation).jpg")
        #expect(probe.width == 300 && probe.height == 200)
        #expect(probe.isClose(atX: 0.25, y: 0.25, to: (255, 0, 0)), "top-left is red")
        #expect(probe.isClose(atX: 0.75, y: 0.25, to: (0, 255, 0)), "top-right is green")
        #expect(probe.isClose(atX: 0.25, y: 0.75, to: (0, 0, 255)), "bottom-left is blue")
        #expect(probe.isClose(atX: 0.75, y: 0.75, to: (255, 255, 255)), "bottom-right is white")
        #expect(!probe.fields.contains("orientation"))
    }

    @Test func metadataAndGPSAreStrippedFromRenditions() throws {
        let source = try ImageProber.facts(path: Fixtures.sample("photo.jpg"), format: MediaFormat.forMIME("image/jpeg")!,
                                           sizeBytes: 1)
        #expect(source.metadata.contains("gps") && source.metadata.contains("exif") && source.metadata.contains("xmp"))
        let (probe, _) = try render("photo.jpg")
        #expect(ImageProber.metadataBlocks(probe.fields).isEmpty, "left: \(probe.fields)")
    }

    @Test func cmykBecomesSRGB() throws {
        let facts = try ImageProber.facts(path: Fixtures.sample("cmyk.jpg"), format: MediaFormat.forMIME("image/jpeg")!,
                                          sizeBytes: 1)
        #expect(facts.colorSpace == "cmyk" && facts.bands == 4)
        let (probe, _) = try render("cmyk.jpg")
        #expect(probe.interpretation == "srgb" && probe.bands == 3)
        let center = probe.color(atX: 0.5, y: 0.5)
        #expect(center.r > 180 && center.g < 90 && center.b < 90, "red stays red: \(center)")
    }

    @Test func sixteenBitPNGWithAlphaAndGreyscaleBecome8BitSRGB() throws {
        let (rgba, _) = try render("rgba16.png", format: MediaFormat.forMIME("image/png"))
        #expect(rgba.interpretation == "srgb" && rgba.bands == 3 && rgba.width == 256)
        // Top row: opaque red fading to blue; bottom: transparent, flattened onto white.
        #expect(rgba.isClose(atX: 0.5, y: 0.02, to: (255, 0, 0), tolerance: 30))
        #expect(rgba.isClose(atX: 0.5, y: 0.99, to: (255, 255, 255), tolerance: 30))
        let (grey, _) = try render("grey.png", format: MediaFormat.forMIME("image/png"))
        #expect(grey.interpretation == "srgb" && grey.bands == 3)
        #expect(grey.isClose(atX: 0.5, y: 0.01, to: (255, 255, 255)))
        #expect(grey.isClose(atX: 0.5, y: 0.99, to: (0, 0, 0)))
    }

    @Test(arguments: [("photo.heic", "image/heic"), ("photo.avif", "image/avif"), ("photo.webp", "image/webp"),
                      ("photo.jxl", "image/jxl"), ("photo.tiff", "image/tiff"), ("photo.jpg", "image/jpeg")])
    func everyInputFormatDecodesToTheSamePicture(file: String, mime: String) throws {
        let (probe, placeholder) = try render(file, format: MediaFormat.forMIME(mime))
        #expect(probe.width == 1200 && probe.height == 800)
        // Same picture as the JPEG original: compare a few points loosely (lossy codecs differ).
        let (reference, _) = try render("photo.jpg")
        for (x, y) in [(0.2, 0.2), (0.5, 0.5), (0.8, 0.7)] {
            let a = probe.color(atX: x, y: y), b = reference.color(atX: x, y: y)
            #expect(abs(a.r - b.r) + abs(a.g - b.g) + abs(a.b - b.b) < 90, "\(file) at \(x),\(y): \(a) vs \(b)")
        }
        #expect(placeholder.dominantColor.count == 7 && placeholder.dominantColor.hasPrefix("#"))
        #expect(Data(base64Encoded: placeholder.thumbhash)?.count ?? 0 >= 5)
    }

    @Test func gifUsesItsFirstFrame() throws {
        let (probe, _) = try render("photo.gif", format: MediaFormat.forMIME("image/gif"))
        #expect(probe.width == 600 && probe.height == 400)
    }

    @Test func cropFillsTheNearestAllowedAspect() throws {
        let spec = RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350)
        let (probe, _) = try render("panorama.jpg", spec: spec, aspect: AspectRange(min: 0.8, max: 1.91), fit: .crop)
        #expect(probe.width == 955 && probe.height == 500)
    }

    @Test func padLetterboxesToTheNearestAllowedAspect() throws {
        let spec = RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350)
        let (probe, _) = try render("panorama.jpg", spec: spec, aspect: AspectRange(min: 0.8, max: 1.91), fit: .pad)
        #expect(probe.width == 1080 && probe.height == 565)
        #expect(probe.isClose(atX: 0.5, y: 0.02, to: (0, 0, 0), tolerance: 8), "black bar on top")
        #expect(probe.isClose(atX: 0.5, y: 0.98, to: (0, 0, 0), tolerance: 8), "black bar below")
        #expect(!probe.isClose(atX: 0.5, y: 0.5, to: (0, 0, 0), tolerance: 8), "picture in the middle")
    }

    @Test func truncatedJPEGFailsInsteadOfComingOutGrey() throws {
        #expect {
            try render("bad/truncated.jpg")
        } throws: { error in
            (error as? KilnError)?.code == .file005
        }
    }
}
