import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// A shape change keeps the subject: a crop follows `focus` (attention, the centre, or a point
/// a person picked), and `fit=blur` fills the bars with the picture's own colours rather than
/// black. Inputs are made with the ffmpeg CLI; outputs read back as pixels by it.
@Suite struct FramingTests {
    /// A picture's pixels, as ffmpeg decodes its first frame.
    struct Pixels {
        let width: Int
        let height: Int
        let rgb: [UInt8]

        init(_ path: String) async throws {
            let size = try await Tool.check("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                        "stream=width,height", "-of", "csv=p=0", path])
            let sides = String(decoding: size.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: ",").compactMap { Int($0) }
            guard sides.count == 2 else { throw Tool.Failure(description: "no size for \(path)") }
            (width, height) = (sides[0], sides[1])
            rgb = [UInt8](try await Tool.check("ffmpeg", ["-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo",
                                                          "-pix_fmt", "rgb24", "-"]).stdout)
        }

        /// The share of pixels that are plainly red.
        var redShare: Double {
            var red = 0
            for index in stride(from: 0, to: rgb.count - 2, by: 3) where rgb[index] > 150 && rgb[index + 1] < 80
                && rgb[index + 2] < 80 { red += 1 }
            return Double(red) / Double(max(1, width * height))
        }

        /// The spread (standard deviation) and mean of the brightness of the rows `rows`.
        func brightness(rows: Range<Int>) -> (mean: Double, spread: Double) {
            var values: [Double] = []
            for y in rows where y < height {
                for x in stride(from: 0, to: width, by: 3) {
                    let index = (y * width + x) * 3
                    values.append((Double(rgb[index]) + Double(rgb[index + 1]) + Double(rgb[index + 2])) / 3)
                }
            }
            let mean = values.reduce(0, +) / Double(max(1, values.count))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, values.count))
            return (mean, variance.squareRoot())
        }
    }

    /// A 16:9 picture (or clip) of dark grey with a red square at its left edge: a subject a
    /// centred 9:16 window leaves out.
    static func subjectAtTheLeft(in directory: String, video: Bool = false) async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + (video ? "/left.mp4" : "/left.png")
        let source = "color=c=0x303030:s=1600x900:rate=25,drawbox=x=40:y=350:w=160:h=200:color=red:t=fill"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source]
            + (video ? ["-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p"] : ["-frames:v", "1"]) + [path])
        return path
    }

    func made(_ input: String, _ harness: borrowing PipelineHarness, fit: Fit, focus: Focus = .auto,
              preset: String = "instagram-story") async throws -> MediaItem {
        var options = IngestOptions(preset: preset, fit: fit)
        options.focus = focus
        return try await harness.pipeline.ingest(path: input, options: options)
    }

    @Test func aPhotosCropKeepsTheFocusInItsWindow() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.subjectAtTheLeft(in: harness.out + "-in")
        defer { Fixtures.cleanUp(harness.out + "-in") }
        var shares: [Focus: Double] = [:]
        for focus in [Focus.auto, .center, .point(x: 0.075, y: 0.5)] {
            let item = try await made(input, harness, fit: .crop, focus: focus)
            let display = try #require(item.renditions.first { $0.name == "display" }?.path)
            let pixels = try await Pixels(display)
            let ratio = Double(pixels.width) / Double(pixels.height)
            #expect(abs(ratio - 0.5625) < 0.01)
            shares[focus] = pixels.redShare
            #expect(item.options.focus == (focus == .auto ? nil : focus), "a focus other than auto is part of the id")
        }
        #expect((shares[.center] ?? 1) < 0.001, "the centre leaves the subject out: \(shares)")
        #expect((shares[.point(x: 0.075, y: 0.5)] ?? 0) > 0.05, "the window keeps the point: \(shares)")
        #expect((shares[.auto] ?? 0) > 0.05, "attention finds the red square: \(shares)")
    }

    /// Where `window`'s pixels sit along the width of `source` (same height, same scale): the
    /// offset whose columns differ least, compared on a sparse grid.
    static func offset(of window: Pixels, in source: Pixels) -> Int {
        var best = (offset: 0, difference: Int.max)
        for offset in stride(from: 0, through: source.width - window.width, by: 2) {
            var difference = 0
            for y in stride(from: 5, to: min(window.height, source.height), by: 10) {
                for x in stride(from: 5, to: window.width, by: 10) {
                    let a = (y * window.width + x) * 3, b = (y * source.width + x + offset) * 3
                    for channel in 0..<3 { difference += abs(Int(window.rgb[a + channel]) - Int(source.rgb[b + channel])) }
                }
            }
            if difference < best.difference { best = (offset, difference) }
        }
        return best.offset
    }

    @Test func aCropKeepsTheFaceOverABusierPattern() async throws {
        let harness = try PipelineHarness()
        let directory = harness.out + "-in"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(directory) }
        // A saturated, edge-filled pattern (700 wide) beside a portrait (900): the face is at
        // 1015-1169 across the 1600.
        let input = directory + "/portrait.png"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=700x900",
                                        "-i", Fixtures.root + "/Tests/Fixtures/faces/astronaut.jpg", "-filter_complex",
                                        "[1]scale=900:900[a];[0][a]hstack", "-frames:v", "1", input])
        let item = try await made(input, harness, fit: .crop)
        #expect(item.warnings.contains { $0.hasSuffix("around 1 face (--fit crop)") }, "\(item.warnings)")
        let window = try await Pixels(try #require(item.renditions.first { $0.name == "display" }?.path))
        #expect(window.width == 506 && window.height == 900, "\(window.width)x\(window.height)")
        let at = Self.offset(of: window, in: try await Pixels(input))
        #expect((1169 - 506)...1015 ~= at, "the window starts at \(at): the face is not all in it")
    }

    @Test func aFocusIsPartOfTheItemsIdOnlyForACrop() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.subjectAtTheLeft(in: harness.out + "-in")
        defer { Fixtures.cleanUp(harness.out + "-in") }
        let left = try await made(input, harness, fit: .crop, focus: .point(x: 0.1, y: 0.5))
        let right = try await made(input, harness, fit: .crop, focus: .point(x: 0.9, y: 0.5))
        #expect(left.id != right.id)
        #expect(left.warnings.contains { $0.contains("around the focus 0.1,0.5 (--fit crop)") }, "\(left.warnings)")
        let padded = try await made(input, harness, fit: .pad, focus: .point(x: 0.1, y: 0.5))
        let paddedAgain = try await made(input, harness, fit: .pad)
        #expect(padded.id == paddedAgain.id && paddedAgain.reused, "nothing is cropped, so the focus changes nothing")
    }

    @Test func aBlurredFillHasThePicturesColoursWherePadHasBlack() async throws {
        let harness = try PipelineHarness()
        let directory = harness.out + "-in"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(directory) }
        let input = directory + "/pattern.png"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1600x900",
                                        "-frames:v", "1", input])
        let blurred = try await made(input, harness, fit: .blur)
        let padded = try await made(input, harness, fit: .pad)
        let blur = try await Pixels(try #require(blurred.renditions.first { $0.name == "display" }?.path))
        let pad = try await Pixels(try #require(padded.renditions.first { $0.name == "display" }?.path))
        #expect(blur.width == pad.width && blur.height == pad.height)
        let bar = 0..<(blur.height / 6)
        #expect(pad.brightness(rows: bar).spread < 1 && pad.brightness(rows: bar).mean < 2, "pad: black bars")
        #expect(blur.brightness(rows: bar).spread > 10, "blur: the bars are not flat: \(blur.brightness(rows: bar))")
        #expect(blur.brightness(rows: bar).mean > 20)
        #expect(blurred.warnings.contains { $0.hasSuffix("over a blurred fill (--fit blur)") }, "\(blurred.warnings)")
    }

    @Test func aVideoIsFittedOverABlurredFillOrCroppedAroundItsFocus() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.subjectAtTheLeft(in: harness.out + "-in", video: true)
        defer { Fixtures.cleanUp(harness.out + "-in") }
        func video(_ item: MediaItem) throws -> String { try #require(item.renditions.first { $0.name == "video" }?.path) }

        let blurred = try await Pixels(try video(try await made(input, harness, fit: .blur)))
        let ratio = Double(blurred.width) / Double(blurred.height)
        #expect(abs(ratio - 0.5625) < 0.01)
        // The fill is the picture's own (dark grey and red, blurred): not black.
        let bar = 0..<(blurred.height / 6)
        #expect(blurred.brightness(rows: bar).mean > 15, "\(blurred.brightness(rows: bar))")

        let centred = try await Pixels(try video(try await made(input, harness, fit: .crop, focus: .center)))
        let focused = try await Pixels(try video(try await made(input, harness, fit: .crop, focus: .point(x: 0.075, y: 0.5))))
        #expect(centred.redShare < 0.001, "the centre leaves the subject out")
        #expect(focused.redShare > 0.05, "the window keeps the point: \(focused.redShare)")
    }

    @Test func anExplicitFitMakesTheNativeFrameAndNoFitKeepsAnAcceptedShape() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.subjectAtTheLeft(in: harness.out + "-in", video: true)
        defer { Fixtures.cleanUp(harness.out + "-in") }
        // Reels take any shape: a 16:9 clip stays 16:9 without a fit...
        let kept = try await made(input, harness, fit: .reject, preset: "instagram-reel")
        let keptVideo = try #require(kept.renditions.first { $0.name == "video" })
        let keptRatio = Double(keptVideo.width) / Double(keptVideo.height)
        #expect(abs(keptRatio - 1.7778) < 0.01, "\(keptVideo.width)x\(keptVideo.height)")
        // ...and becomes the reel's own 9:16 with one.
        for fit in [Fit.crop, .pad, .blur] {
            let framed = try await made(input, harness, fit: fit, preset: "instagram-reel")
            let video = try #require(framed.renditions.first { $0.name == "video" })
            let ratio = Double(video.width) / Double(video.height)
            #expect(abs(ratio - 0.5625) < 0.01, "\(fit): \(video.width)x\(video.height)")
        }
    }

    @Test func thePreflightSaysWhichTargetsAreReframedAndHow() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.subjectAtTheLeft(in: harness.out + "-in", video: true)
        defer { Fixtures.cleanUp(harness.out + "-in") }
        var options = IngestOptions(fit: .blur)
        options.focus = .point(x: 0.1, y: 0.5)
        let previews = try await harness.pipeline.preflight(
            IngestRequest(IngestInput(path: input), targets: ["instagram-reel", "pinterest"], options: options))
        let reel = try #require(previews.first { $0.target == "instagram-reel" })
        let pinterest = try #require(previews.first { $0.target == "pinterest" })
        #expect(reel.changes.contains { $0.contains("over a blurred fill (--fit blur)") }, "\(reel.changes)")
        #expect(!pinterest.changes.contains { $0.contains("blurred fill") }, "no frame of its own: kept 16:9: \(pinterest.changes)")
    }

    @Test func thePosterIsASharpLitFrameNotTheBlackOpening() async throws {
        let harness = try PipelineHarness()
        let directory = harness.out + "-in"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(directory) }
        // 2.4 s of black, then the pattern; a key frame each second (the poster's candidates are key frames).
        let input = directory + "/opening.mp4"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                        "color=c=black:s=640x360:r=25:d=2.4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=2.6",
                                        "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-c:v", "libx264", "-g", "25",
                                        "-pix_fmt", "yuv420p", input])
        let item = try await made(input, harness, fit: .reject, preset: "default")
        let poster = try await Pixels(try #require(item.renditions.first { $0.name == "poster" }?.path))
        // A fixed tenth of the way in (0.5 s) is black; the best candidate is the pattern.
        let whole = poster.brightness(rows: 0..<poster.height)
        #expect(whole.mean > 40 && whole.spread > 20, "\(whole)")
    }

    @Test func focusIsReadAsAutoCenterOrAPointInsideThePicture() {
        #expect(Focus("auto") == .auto && Focus("center") == .center && Focus("centre") == .center)
        #expect(Focus("0.25,1") == .point(x: 0.25, y: 1))
        for bad in ["", "left", "0.5", "1.5,0.5", "-0.1,0.5", "0.5,0.5,0.5", "a,b"] { #expect(Focus(bad) == nil, "\(bad)") }
        #expect(Focus.point(x: 0.25, y: 1).description == "0.25,1")
        // The window's edge: as near the point's centre as the side allows.
        #expect(Focus.origin(keeping: 0.5, window: 100, side: 400) == 150)
        #expect(Focus.origin(keeping: 0.0, window: 100, side: 400) == 0)
        #expect(Focus.origin(keeping: 1.0, window: 100, side: 400) == 300)
    }
}
