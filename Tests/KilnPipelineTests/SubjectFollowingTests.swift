import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

/// A 16:9 clip cut to 9:16 keeps the subject: the crop window follows a person walking across
/// the frame, holds still on one standing at the side after a cut, and never jumps inside a
/// shot. The clip is made with the ffmpeg CLI; the output's frames are read back as pixels.
@Suite struct SubjectFollowingTests {
    /// The scene's sizes: a 960x540 picture, a person 70 wide whose 50x60 head is skin-toned.
    static let head = (width: 50, height: 60)
    static let cutAt = 5.0

    /// 8 s at 25 fps: a person walks from the left edge to the right one over a dim room (5 s),
    /// then a cut to another room where they stand at the left (3 s).
    static func walkAndCut(in directory: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/walk.mp4"
        let scene = "color=c=0x283848:s=960x540:r=25:d=5,drawbox=x=700:y=300:w=120:h=200:color=0x606060:t=fill,"
            + "drawbox=x=300:y=60:w=200:h=120:color=0x8090a0:t=fill[room1];"
            + "color=c=0x2050c0:s=70x260:r=25:d=8,drawbox=x=10:y=0:w=50:h=60:color=0xe0a080:t=fill,split[p1][p2];"
            + "[room1][p1]overlay=x='60+t*152':y=200:shortest=1[shot1];"
            + "color=c=0x605040:s=960x540:r=25:d=3,drawbox=x=500:y=100:w=300:h=250:color=0x404848:t=fill[room2];"
            + "[room2][p2]overlay=x=80:y=220:shortest=1[shot2];[shot1][shot2]concat=n=2:v=1[out]"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-filter_complex", scene, "-map", "[out]",
                                        "-c:v", "libx264", "-pix_fmt", "yuv420p", path])
        return path
    }

    /// The share of `video`'s frames, sampled 5 a second, that show at least half the head.
    static func keptShare(_ video: String) async throws -> (share: Double, frames: Int) {
        let size = try await Tool.check("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                    "stream=width,height", "-of", "csv=p=0", video])
        let sides = String(decoding: size.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: ",").compactMap { Int($0) }
        let (width, height) = (sides.first ?? 0, sides.last ?? 0)
        let rgb = [UInt8](try await Tool.check("ffmpeg", ["-v", "error", "-i", video, "-vf", "fps=5", "-f", "rawvideo",
                                                          "-pix_fmt", "rgb24", "-"]).stdout)
        let frameBytes = width * height * 3
        guard frameBytes > 0 else { return (0, 0) }
        let frames = rgb.count / frameBytes
        var kept = 0
        for frame in 0..<frames {
            var skin = 0
            for index in stride(from: frame * frameBytes, to: (frame + 1) * frameBytes, by: 3)
                where abs(Int(rgb[index]) - 0xe0) < 30 && abs(Int(rgb[index + 1]) - 0xa0) < 30 && abs(Int(rgb[index + 2]) - 0x80) < 30 {
                skin += 1
            }
            // The output is the crop's size here (the reel's box never enlarges a 540-line source).
            if skin * 2 >= head.width * head.height { kept += 1 }
        }
        return (Double(kept) / Double(max(1, frames)), frames)
    }

    @Test func theCropFollowsAWalkerAndHoldsOnOneStandingAfterACut() async throws {
        let harness = try PipelineHarness()
        let input = try await Self.walkAndCut(in: harness.out + "-in")
        defer { Fixtures.cleanUp(harness.out + "-in") }
        func made(_ focus: Focus) async throws -> MediaItem {
            var options = IngestOptions(preset: "instagram-reel", fit: .crop)
            options.focus = focus
            return try await harness.pipeline.ingest(path: input, options: options)
        }
        let following = try await made(.auto)
        let centred = try await made(.center)
        let followed = try await Self.keptShare(try #require(following.renditions.first { $0.name == "video" }?.path))
        let centre = try await Self.keptShare(try #require(centred.renditions.first { $0.name == "video" }?.path))
        #expect(followed.frames >= 38 && centre.frames == followed.frames, "\(followed) \(centre)")
        #expect(followed.share >= 0.95, "following keeps the subject in \(followed.share) of frames")
        #expect(centre.share < 0.5, "the centre crop keeps it in \(centre.share)")

        let video = try #require(following.renditions.first { $0.name == "video" })
        #expect(abs(Double(video.width) / Double(video.height) - 0.5625) < 0.01, "\(video.width)x\(video.height)")
        #expect(following.warnings.contains { $0.hasPrefix("reframed 16:9 to 9:16 following the subject, 2 shots") },
                "\(following.warnings)")
        #expect(centred.framing == nil && !centred.warnings.contains { $0.contains("following") })

        // The path, as the manifest records it: two shots split at the cut, no jump inside one
        // bigger than a tenth of the window between samples ten a second.
        let path = try #require(following.framing)
        #expect(path.axis == .x && path.width == 302 && path.height == 540, "\(path)")
        #expect(path.shots.count == 2 && abs((path.shots.last?.start ?? 0) - Self.cutAt) < 0.05, "\(path.shots)")
        var biggest = 0
        for time in stride(from: 0.1, to: 8.0, by: 0.1) where !path.shots.contains(where: { $0.start > time - 0.1 && $0.start <= time }) {
            biggest = max(biggest, abs(path.offset(at: time) - path.offset(at: time - 0.1)))
        }
        #expect(Double(biggest) <= Double(path.width) / 10, "the window moved \(biggest) px in 0.1 s")
        // After the cut it holds still, on the person at the left.
        let standing = try #require(path.shots.last)
        #expect(Set(stride(from: 5.1, to: 8.0, by: 0.3).map { path.offset(at: $0) }).count == 1, "\(standing)")
        #expect(path.offset(at: 6) <= 80, "\(standing)")

        // It is kept as it was made: the manifest read back says the same.
        let stored = try JSONDecoder().decode(MediaItem.self, from: Data(contentsOf: URL(fileURLWithPath:
            try #require(following.location) + "/manifest.json")))
        #expect(stored.framing == path)
    }

    /// A phone stores its picture sideways with a turn to show it upright: the window is placed
    /// on the picture as shown and moved back onto the stored one.
    @Test(arguments: [90, 270]) func theCropFollowsOnAPictureStoredSideways(_ turn: Int) async throws {
        let harness = try PipelineHarness()
        let directory = harness.out + "-in"
        let upright = try await Self.walkAndCut(in: directory)
        defer { Fixtures.cleanUp(directory) }
        let stored = directory + "/stored.mp4", input = directory + "/turned.mp4"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", upright, "-vf",
                                        turn == 90 ? "transpose=clock" : "transpose=cclock", "-c:v", "libx264",
                                        "-pix_fmt", "yuv420p", stored])
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", stored, "-c", "copy",
                                        "-metadata:s:v:0", "rotate=\(turn)", input])
        let item = try await harness.pipeline.ingest(path: input, options: IngestOptions(preset: "instagram-reel", fit: .crop))
        #expect(item.warnings.contains { $0.hasPrefix("reframed 16:9 to 9:16 following the subject") }, "\(item.warnings)")
        let kept = try await Self.keptShare(try #require(item.renditions.first { $0.name == "video" }?.path))
        #expect(kept.share >= 0.95, "\(kept)")
    }

    /// A face at the left, a moving, saturated pattern at the right: the pattern has more edges,
    /// colour and motion; the crop keeps the face (without faces it went to the pattern).
    @Test func aFaceHoldsTheWindowAgainstAMovingPattern() async throws {
        let harness = try PipelineHarness()
        let directory = harness.out + "-in"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { Fixtures.cleanUp(directory) }
        let input = directory + "/face.mp4"
        try await Tool.check("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "25", "-t", "4",
                                        "-i", Fixtures.root + "/Tests/Fixtures/faces/astronaut.jpg",
                                        "-f", "lavfi", "-i", "testsrc2=s=560x720:r=25:d=4", "-filter_complex",
                                        "[0]scale=720:720,setsar=1[a];[a][1]hstack", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                                        input])
        let item = try await harness.pipeline.ingest(path: input, options: IngestOptions(preset: "instagram-reel", fit: .crop))
        let path = try #require(item.framing)
        // The face spans 252-375 of the 1280: every window holds it.
        for time in stride(from: 0.0, to: 4.0, by: 0.25) {
            let at = path.offset(at: time)
            #expect(at <= 252 && at + path.width >= 375, "at \(time) s the window is \(at)-\(at + path.width)")
        }
    }
}
