/// The built-in presets: published platform limits as data (SPEC §5).
extension Preset {
    private static let MB: Int64 = 1024 * 1024
    private static let thumb = RenditionSpec(name: "thumb", maxWidth: 320, maxHeight: 320, quality: 80)
    private static let allKinds: [MediaKind] = [.image, .video]
    private static let GB: Int64 = 1024 * MB
    /// Meta's rules for every Instagram video: 23-60 fps, <= 1920 columns (the output is
    /// H.264 + AAC <= 48 kHz in MP4, moov first, no edit lists, closed GOP, 4:2:0).
    private static func instagramVideo(duration: ClosedRange<Double>, aspect: AspectRange?, box: (Int, Int)) -> VideoRules {
        VideoRules(minDuration: duration.lowerBound, maxDuration: duration.upperBound, minFrameRate: 23,
                   maxFrameRate: 60, aspect: aspect, constantFrameRate: true,
                   output: VideoOutputSpec(maxWidth: box.0, maxHeight: box.1))
    }

    public static let builtIn: [Preset] = [
        Preset(name: "default", summary: "Images <= 50 MB and <= 100 MP; carousels of 2-10",
               image: ImageRules(),
               video: VideoRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048), thumb]),
        Preset(name: "instagram-feed",
               summary: "Instagram feed post: 320-1440 px wide in, JPEG <= 8 MB out at 1080 wide, aspect 4:5 to 1.91:1",
               image: ImageRules(minWidth: 320, aspect: AspectRange(min: 4.0 / 5.0, max: 1.91)),
               video: instagramVideo(duration: 3...3600, aspect: AspectRange(min: 4.0 / 5.0, max: 1.91), box: (1080, 1350)),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350, maxBytes: 8 * MB), thumb]),
        Preset(name: "instagram-reel",
               summary: "Instagram reel: video 3-90 s, 9:16 recommended, 23-60 fps, <= 1920 columns, 1080x1920 out",
               image: nil,
               video: instagramVideo(duration: 3...90, aspect: nil, box: (1080, 1920)),
               carousel: nil,
               renditions: [thumb]),
        Preset(name: "instagram-story", summary: "Instagram story: image or video, 9:16, 1080x1920 out; video 3-60 s",
               image: ImageRules(aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0)),
               video: instagramVideo(duration: 3...60, aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0),
                                     box: (1080, 1920)),
               carousel: nil,
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 30 * MB), thumb]),
        Preset(name: "x", summary: "X (Twitter): images <= 5 MB out, up to 4 per post; video 0.5-140 s, 1:3-3:1, <= 512 MB",
               image: ImageRules(),
               video: VideoRules(maxBytes: 512 * MB, minDuration: 0.5, maxDuration: 140, maxFrameRate: 60,
                                 aspect: AspectRange(min: 1.0 / 3.0, max: 3.0),
                                 output: VideoOutputSpec(maxWidth: 1920, maxHeight: 1200)),
               carousel: CarouselRules(minItems: 2, maxItems: 4, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5 * MB), thumb]),
        Preset(name: "linkedin",
               summary: "LinkedIn: images <= 5 MB and < 36,152,320 px out, up to 20 per post; video 3 s-30 min, 1:2.4-2.4:1, <= 500 MB",
               image: ImageRules(),
               video: VideoRules(maxBytes: 500 * MB, minDuration: 3, maxDuration: 1800, maxFrameRate: 60,
                                 aspect: AspectRange(min: 1.0 / 2.4, max: 2.4)),
               carousel: CarouselRules(minItems: 2, maxItems: 20, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5 * MB,
                                          maxPixels: 36_152_319), thumb]),
        Preset(name: "facebook",
               summary: "Facebook: images <= 10 MB out, up to 10 per post; reels 3-90 s, 9:16, >= 540x960, 24-60 fps",
               image: ImageRules(),
               video: VideoRules(minDuration: 3, maxDuration: 90, minWidth: 540, minHeight: 960, minFrameRate: 24,
                                 maxFrameRate: 60, aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0),
                                 constantFrameRate: true, output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920)),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 10 * MB), thumb]),
        Preset(name: "tiktok",
               summary: "TikTok: video 3 s-10 min, 360-4096 px, 23-60 fps, <= 4 GB; photos <= 20 MB out, up to 35 per post",
               image: ImageRules(),
               video: VideoRules(minDuration: 3, maxDuration: 600, minWidth: 360, minHeight: 360, maxLongEdge: 4096,
                                 maxShortEdge: 4096, minFrameRate: 23, maxFrameRate: 60, constantFrameRate: true,
                                 output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920)),
               carousel: CarouselRules(minItems: 2, maxItems: 35, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 20 * MB), thumb]),
    ]
}
