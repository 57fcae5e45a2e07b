/// The built-in presets: published platform limits as data (SPEC §5).
extension Preset {
    private static let MB: Int64 = 1024 * 1024
    private static let thumb = RenditionSpec(name: "thumb", maxWidth: 320, maxHeight: 320, quality: 80)
    private static let allKinds: [MediaKind] = [.image, .video]

    public static let builtIn: [Preset] = [
        Preset(name: "default", summary: "Images <= 50 MB and <= 100 MP; carousels of 2-10",
               image: ImageRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048), thumb]),
        Preset(name: "instagram-feed",
               summary: "Instagram feed post: 320-1440 px wide in, JPEG <= 8 MB out at 1080 wide, aspect 4:5 to 1.91:1",
               image: ImageRules(minWidth: 320, aspect: AspectRange(min: 4.0 / 5.0, max: 1.91)),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350, maxBytes: 8 * MB), thumb]),
        Preset(name: "instagram-story", summary: "Instagram story: 9:16, 1080x1920 out",
               image: ImageRules(aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0)),
               carousel: nil,
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 30 * MB), thumb]),
        Preset(name: "x", summary: "X (Twitter): images <= 5 MB out, up to 4 per post",
               image: ImageRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 4, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5 * MB), thumb]),
        Preset(name: "linkedin", summary: "LinkedIn: images <= 5 MB and < 36,152,320 px out, up to 20 per post",
               image: ImageRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 20, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5 * MB,
                                          maxPixels: 36_152_319), thumb]),
        Preset(name: "facebook", summary: "Facebook: images <= 10 MB out, up to 10 per post",
               image: ImageRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 10 * MB), thumb]),
        Preset(name: "tiktok", summary: "TikTok photo mode: photos <= 20 MB out at up to 1080x1920, up to 35 per post",
               image: ImageRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 35, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 20 * MB), thumb]),
    ]
}
