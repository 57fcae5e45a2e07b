import Foundation

/// A video and a preset whose transcode takes seconds (8 s of 720p, x264 "medium"), for tests
/// that signal or kill a process while a file is in flight. The video is made once per test
/// process with the ffmpeg CLI.
public enum SlowTranscode {
    public static let video: Result<String, Tool.Failure> = Result { () throws(Tool.Failure) in try make(variant: 0) }

    /// Another such video, with other bytes (so another media id) for each `variant`.
    public static func make(variant: Int) throws(Tool.Failure) -> String {
        let path = Fixtures.scratchDirectory("kiln-long") + ".mp4"
        do {
            try Tool.check("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "8",
                                      "-vf", "hue=h=\(variant * 37)", "-c:v", "libx264", "-preset", "ultrafast",
                                      "-pix_fmt", "yuv420p", path])
            return path
        } catch { throw Tool.Failure(description: "\(error)") }
    }

    /// Writes `presets.json` (one preset, "slow") into `directory` and returns its path.
    public static func presets(in directory: String) throws -> String {
        let path = directory + "/presets.json"
        try Data(#"[{"name": "slow", "summary": "a transcode of some seconds", "video": {"output": {"max_width": 960, "max_height": 960, "preset": "medium"}}, "renditions": []}]"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        return path
    }
}
