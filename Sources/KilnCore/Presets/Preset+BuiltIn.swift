/// The built-in presets: the platforms' published rules as data (SPEC §5), each number with the
/// page it comes from in `sources` (rendered as `docs/platforms.md`). Byte limits are in the
/// platform's unit: "8 MB" is 8,000,000 bytes. Where pages disagree, outputs take the strictest
/// value and the source's note says so.
extension Preset {
    private static let thumb = RenditionSpec(name: "thumb", maxWidth: 320, maxHeight: 320, quality: 80)
    private static let allKinds: [MediaKind] = [.image, .video]
    private static let read = "2026-12-04"
    private static let readGIF = "2026-12-06"
    /// What Instagram, Threads and Facebook make of an animated GIF: a video.
    private static let gifAsVideo = AnimationRules(output: .video)

    // The pages, read on `read`.
    private static let metaIG = "https://developers.facebook.com/docs/instagram-api/reference/ig-user/media"
    private static let metaIGSpecs = "https://help.circleboom.com/publish/faq/video-and-reels-limitations-on-instagram"
    private static let sprinklrIG = "https://sprinklr.com/help/articles/getting-started/instagram-media-guidelines/63ec6c26ef1b447d6c6270a0"
    private static let ayrshareIG = "https://www.ayrshare.com/docs/media-guidelines/instagram"
    private static let metaReels = "https://developers.facebook.com/docs/video-api/guides/reels-publishing"
    private static let ayrshareFB = "https://ayrshare.com/docs/media-guidelines/facebook_pages"
    private static let facebookGIF = "https://wersm.com/you-can-now-upload-gifs-directly-on-facebook/"
    private static let xMedia = "https://docs.x.com/x-api/media/quickstart/best-practices"
    private static let ayrshareLinkedIn = "https://www.ayrshare.com/docs/media-guidelines/linkedin"
    private static let linkedInRestated = "https://changethisfile.com/blog/convert-videos-for-linkedin-posts"
    private static let tiktokRestated = "https://github.com/commonpike/fairpost/blob/develop/docs/TikTok.md"
    private static let tiktokLate = "https://docs.getlate.dev/resources/media-guidelines/tiktok"
    private static let youtubeShorts = "https://support.google.com/youtube/answer/15424877"
    private static let youtubeEncoding = "https://support.google.com/youtube/answer/1722171"
    private static let ayrshareThreads = "https://www.ayrshare.com/docs/media-guidelines/threads"
    private static let swatThreads = "https://help.swat.io/en/articles/11994597-threads-photo-and-video-format-requirements"
    private static let shortsRestated = "https://www.captions.ai/blog-post/how-long-are-youtube-shorts"
    private static let pinterestLate = "https://docs.getlate.dev/resources/media-guidelines/pinterest"
    private static let ayrsharePinterest = "https://www.ayrshare.com/docs/media-guidelines/pinterest"
    private static let pinterestHelp = "https://help.pinterest.com/en/business/article/video-pins"
    private static let blueskyImages = "https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json"
    private static let blueskyVideo = "https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/video.json"
    private static let blueskyDuration = "https://www.schedulethreads.com/blog/bluesky-video-size-limit"

    /// The H.264 + AAC stream rules Meta publishes for Instagram and Threads videos: MOV/MP4,
    /// moov first, no edit lists, progressive, closed GOP, 4:2:0, 23-60 fps, <= 1920 columns,
    /// VBR <= 25 Mbps, AAC <= 48 kHz in 1 or 2 channels at 128 kbps.
    private static func metaVideo(duration: ClosedRange<Double>, aspect: AspectRange?, box: (Int, Int),
                                  maxBytes: Int64) -> VideoRules {
        VideoRules(minDuration: duration.lowerBound, maxDuration: duration.upperBound, minFrameRate: 23,
                   maxFrameRate: 60, aspect: aspect, constantFrameRate: true,
                   output: VideoOutputSpec(maxWidth: box.0, maxHeight: box.1, maxSampleRate: 48_000,
                                           maxAudioBitRate: 128_000, maxBitRate: 25_000_000, maxBytes: maxBytes))
    }

    /// Meta's stream rules, as every Instagram and Threads preset cites them.
    private static let metaStreamRules: [PublishRule] = [
        .container, .moovFirst, .editLists, .videoCodec, .pixelFormat, .scan, .closedGOP, .frameRate, .minFrameRate,
        .videoBitRate, .videoPeakBitRate, .audioCodec, .sampleRate, .channels, .audioBitRate,
    ]

    public static let builtIn: [Preset] = [
        Preset(name: "default", summary: "Kiln's own limits: images <= 50 MiB and <= 100 MP; carousels of 2-10; no platform",
               image: ImageRules(),
               video: VideoRules(),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048), thumb]),
        Preset(name: "instagram-feed",
               summary: "Instagram feed post: JPEG <= 8 MB at 1080 wide, aspect 4:5 to 1.91:1; videos 3-60 s, <= 100 MB; carousels of 2-10",
               image: ImageRules(minWidth: 320, aspect: AspectRange(min: 4.0 / 5.0, max: 1.91), animation: gifAsVideo),
               video: metaVideo(duration: 3...60, aspect: AspectRange(min: 4.0 / 5.0, max: 1.91), box: (1080, 1350),
                                maxBytes: 100_000_000),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1350, maxBytes: 8_000_000), thumb],
               sources: [
                   RuleSource(metaIG, read: read, rules: [.imageFormat, .imageBytes, .aspect, .minSize, .imageBox, .colorSpace, .carousel,
                                                          .animation],
                              note: "JPEG, 8 MB, 4:5 to 1.91:1, 320-1440 wide, sRGB; carousels of up to 10. Kiln writes 1080 wide, inside 1440. JPEG only: an animated GIF goes as a video"),
                   RuleSource(metaIGSpecs, read: read, rules: metaStreamRules + [.duration, .fileBytes],
                              note: "Meta's video table restated: 3-60 s and 100 MB for feed videos; Meta's page shows the same stream rules"),
                   RuleSource(ayrshareIG, read: read, rules: [.videoBox], note: "at most 1920 columns; Kiln's box 1080x1350 is inside it"),
               ]),
        Preset(name: "instagram-reel",
               summary: "Instagram reel: video 3 s-15 min, 23-60 fps, H.264 <= 25 Mbps, AAC <= 128 kbps, <= 300 MB, 1080x1920 out",
               image: nil,
               video: metaVideo(duration: 3...900, aspect: nil, box: (1080, 1920), maxBytes: 300_000_000),
               carousel: nil,
               renditions: [thumb],
               sources: [
                   RuleSource(ayrshareIG, read: read, rules: metaStreamRules + [.duration, .fileBytes, .videoBox],
                              note: "Meta's reel table restated: 3 s-15 min, 300 MB (Circleboom and Sprinklr say 1 GB and 300 MB: the output takes 300 MB), at most 1920 columns, 0.01:1-10:1 (9:16 recommended)"),
                   RuleSource(sprinklrIG, read: read, rules: [.videoBitRate, .videoPeakBitRate, .audioBitRate, .fileBytes],
                              note: "VBR 25 Mbps maximum, audio 128 kbps, reels 300 MB maximum"),
               ]),
        Preset(name: "instagram-story", summary: "Instagram story: image or video, 9:16, 1080x1920 out, JPEG <= 8 MB; video 3-60 s, <= 100 MB",
               image: ImageRules(aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0)),
               video: metaVideo(duration: 3...60, aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0), box: (1080, 1920),
                                maxBytes: 100_000_000),
               carousel: nil,
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 8_000_000), thumb],
               sources: [
                   RuleSource(metaIG, read: read, rules: [.imageFormat, .imageBytes, .colorSpace],
                              note: "stories take the image rules of the IG User Media page: JPEG, 8 MB, sRGB"),
                   RuleSource(sprinklrIG, read: read, rules: [.aspect, .duration, .fileBytes, .videoBox, .imageBox],
                              note: "story video 9:16, 60 s, 100 MB (post); Kiln's box 1080x1920"),
                   RuleSource(metaIGSpecs, read: read, rules: metaStreamRules),
               ]),
        Preset(name: "facebook",
               summary: "Facebook: images <= 10 MB; reels 3-90 s, 9:16, >= 540x960, 24-60 fps, closed GOP of 2-5 s, AAC-LC stereo 48 kHz, <= 1 GB",
               image: ImageRules(animation: gifAsVideo),
               video: VideoRules(minDuration: 3, maxDuration: 90, minWidth: 540, minHeight: 960, minFrameRate: 24,
                                 maxFrameRate: 60, aspect: AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0),
                                 constantFrameRate: true,
                                 output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920, sampleRate: 48_000, channels: 2,
                                                         maxKeyframeInterval: 5, maxBytes: 1_000_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 10_000_000), thumb],
               sources: [
                   RuleSource(metaReels, read: read,
                              rules: [.aspect, .minSize, .minFrameRate, .frameRate, .duration, .videoCodec, .scan, .closedGOP,
                                      .keyframeInterval, .pixelFormat, .channels, .audioCodec, .audioProfile, .sampleRate,
                                      .sampleAspect, .videoBox],
                              note: "reels: 9:16, >= 540x960 (1080x1920 recommended), 24-60 fps fixed, 3-90 s, H.264, progressive, closed GOP (2-5 s), 4:2:0; AAC-LC stereo 48 kHz at 128 kbps or more (Kiln encodes 128 kbps); an earlier version asks for square pixels"),
                   RuleSource(ayrshareFB, read: read, rules: [.imageBytes, .imageBox, .fileBytes, .carousel],
                              note: "images 10 MB, 2048x2048; reels 1 GB (another version says 2 GB: the output takes 1 GB); up to 10 items"),
                   RuleSource(facebookGIF, read: readGIF, rules: [.animation],
                              note: "an uploaded GIF is handled as a video (processed, autoplayed and looped as one)"),
               ]),
        Preset(name: "threads",
               summary: "Threads: JPEG <= 8 MB, 320-1440 wide, aspect up to 10:1; video <= 5 min, H.264 <= 25 Mbps, AAC <= 128 kbps, <= 100 MB; carousels of 2-10",
               image: ImageRules(minWidth: 320, aspect: AspectRange(min: 0.1, max: 10), animation: gifAsVideo),
               video: metaVideo(duration: 0...300, aspect: AspectRange(min: 0.01, max: 10), box: (1080, 1920),
                                maxBytes: 100_000_000),
               carousel: CarouselRules(minItems: 2, maxItems: 10, kinds: allKinds),
               renditions: [RenditionSpec(name: "display", maxWidth: 1440, maxHeight: 1920, maxBytes: 8_000_000), thumb],
               sources: [
                   RuleSource(ayrshareThreads, read: read,
                              rules: metaStreamRules + [.imageFormat, .imageBytes, .aspect, .minSize, .imageBox, .colorSpace,
                                                        .duration, .videoBox, .animation],
                              note: "Meta's Threads media table restated: JPEG/PNG 8 MB, 320-1440 wide, 10:1; video 300 s, 1 GB, at most 1920 columns, 0.01:1-10:1 (no GIF: an animated one goes as a video)"),
                   RuleSource(swatThreads, read: read, rules: [.fileBytes, .carousel],
                              note: "100 MB and 10 pictures per post (others say 1 GB and 20): the output and the carousel take the stricter"),
               ]),
        Preset(name: "x",
               summary: "X: images <= 5 MB, up to 4 per post; GIFs kept <= 15 MB, 1280x1080, 350 frames; video 0.5 s-20 min, <= 1280x1024, 1:3-3:1, <= 60 fps, square pixels, closed GOP, AAC-LC",
               image: ImageRules(animation: AnimationRules(output: .gif, maxBytes: 15_000_000, maxWidth: 1280, maxHeight: 1080,
                                                           maxFrames: 350)),
               video: VideoRules(minDuration: 0.5, maxDuration: 1200, maxFrameRate: 60,
                                 aspect: AspectRange(min: 1.0 / 3.0, max: 3.0),
                                 output: VideoOutputSpec(maxWidth: 1280, maxHeight: 1024, maxBytes: 8_000_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 4, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5_000_000), thumb],
               sources: [
                   RuleSource(xMedia, read: read,
                              rules: [.carousel, .imageFormat, .imageBytes, .duration, .fileBytes, .frameRate, .videoBox,
                                      .aspect, .sampleAspect, .pixelFormat, .audioProfile, .audioCodec, .channels, .closedGOP,
                                      .scan, .profile, .animation],
                              note: "default accounts: post video 0.5 s-20 min and 8 GB; 32x32 to 1280x1024 (read as width x height, the strictest reading); GIFs <= 15 MB, <= 1280x1080, <= 350 frames (Kiln keeps an animated GIF a GIF within them)"),
               ]),
        Preset(name: "linkedin",
               summary: "LinkedIn: images <= 5 MB and < 36,152,320 px, up to 20 per post; video 3 s-30 min, 1:2.4-2.4:1, <= 500 MB",
               image: ImageRules(),
               video: VideoRules(maxBytes: 500_000_000, minDuration: 3, maxDuration: 1800, minFrameRate: 10, maxFrameRate: 60,
                                 aspect: AspectRange(min: 1.0 / 2.4, max: 2.4),
                                 output: VideoOutputSpec(maxBytes: 500_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 20, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2048, maxHeight: 2048, maxBytes: 5_000_000,
                                          maxPixels: 36_152_319), thumb],
               sources: [
                   RuleSource(ayrshareLinkedIn, read: read,
                              rules: [.imageBytes, .imagePixels, .imageFormat, .inputBytes, .fileBytes, .container, .duration, .aspect],
                              note: "LinkedIn's Images and Videos API limits restated: 5 MB, < 36,152,320 px; MP4 500 MB, 3 s-30 min, 1:2.4-2.4:1"),
                   RuleSource(linkedInRestated, read: read, rules: [.frameRate, .minFrameRate, .videoBox, .carousel],
                              note: "10-60 fps, up to 4096x2304 (Kiln's box 1920x1920); multi-image posts of up to 20"),
               ]),
        Preset(name: "tiktok",
               summary: "TikTok: video 3 s-10 min, 360-4096 px, 23-60 fps, <= 4 GB; photos JPEG/WebP <= 1080p and <= 20 MB, up to 35 per post",
               image: ImageRules(),
               video: VideoRules(minDuration: 3, maxDuration: 600, minWidth: 360, minHeight: 360, maxLongEdge: 4096,
                                 maxShortEdge: 4096, minFrameRate: 23, maxFrameRate: 60, constantFrameRate: true,
                                 output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920, maxBytes: 4_000_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 35, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 1080, maxHeight: 1920, maxBytes: 20_000_000), thumb],
               sources: [
                   RuleSource(tiktokRestated, read: read,
                              rules: [.container, .videoCodec, .frameRate, .minFrameRate, .minSize, .videoBox, .duration, .fileBytes,
                                      .imageFormat, .imageBox, .imageBytes],
                              note: "TikTok's Content Posting API limits restated: MP4/WebM/MOV, H.264, 23-60 fps, 360-4096 px, up to 10 min, 4 GB; photos WebP/JPEG, at most 1080p, 20 MB"),
                   RuleSource(tiktokLate, read: read, rules: [.carousel], note: "photo posts of up to 35 images, 3 s minimum video"),
               ]),
        Preset(name: "youtube-shorts",
               summary: "YouTube Shorts: square or vertical video up to 3 min; H.264 High, closed GOP of half a second, AAC-LC stereo 48 kHz, moov first",
               image: nil,
               video: VideoRules(minDuration: 0, maxDuration: 180, aspect: AspectRange(min: 0.01, max: 1),
                                 output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920, audioBitRate: 384_000,
                                                         sampleRate: 48_000, maxKeyframeInterval: 0.5, profiles: ["High"])),
               carousel: nil,
               renditions: [thumb],
               sources: [
                   RuleSource(youtubeShorts, read: read, rules: [.duration, .aspect],
                              note: "uploads up to three minutes with a square or vertical aspect ratio are Shorts"),
                   RuleSource(shortsRestated, read: read, rules: [.videoBox], note: "9:16 at 1080x1920"),
                   RuleSource(youtubeEncoding, read: read,
                              rules: [.container, .editLists, .moovFirst, .audioCodec, .audioProfile, .channels, .sampleRate,
                                      .audioBitRate, .videoCodec, .scan, .profile, .closedGOP, .keyframeInterval, .pixelFormat],
                              note: "recommended settings, taken as rules: GOP of half the frame rate (0.5 s), High profile, stereo at 384 kbps, 48 kHz; no bitrate limit"),
               ]),
        Preset(name: "pinterest",
               summary: "Pinterest: images <= 20 MB, <= 2000x3000, up to 5 per carousel; video 4 s-15 min, 1:2 to 1.91:1, <= 1 GB",
               image: ImageRules(),
               video: VideoRules(minDuration: 4, maxDuration: 900, aspect: AspectRange(min: 0.5, max: 1.91),
                                 output: VideoOutputSpec(maxWidth: 1080, maxHeight: 1920, maxBytes: 1_000_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 5, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2000, maxHeight: 3000, maxBytes: 20_000_000), thumb],
               sources: [
                   RuleSource(ayrsharePinterest, read: read,
                              rules: [.imageBytes, .imageFormat, .imageBox, .carousel, .fileBytes, .container, .duration, .aspect],
                              note: "images 20 MB (another restatement says 32 MB), up to 2000x3000, 5 per carousel; video 1 GB (Pinterest's help says 2 GB: the output takes 1 GB), 4 s-15 min, taller than 1.91:1 and shorter than 1:2"),
                   RuleSource(pinterestHelp, read: read, rules: [.videoCodec], note: "H.264 or H.265"),
                   RuleSource(pinterestLate, read: read, rules: [.videoBox], note: "1080p recommended (Kiln's box 1080x1920)"),
               ]),
        Preset(name: "bluesky",
               summary: "Bluesky: images <= 1,000,000 bytes and <= 2000x2000, up to 4 per post; video MP4 <= 50,000,000 bytes, up to 3 min",
               image: ImageRules(),
               video: VideoRules(maxDuration: 180, output: VideoOutputSpec(maxBytes: 50_000_000)),
               carousel: CarouselRules(minItems: 2, maxItems: 4, kinds: [.image]),
               renditions: [RenditionSpec(name: "display", maxWidth: 2000, maxHeight: 2000, maxBytes: 1_000_000), thumb],
               sources: [
                   RuleSource(blueskyImages, read: read, rules: [.imageBytes, .imageBox, .carousel, .imageFormat],
                              note: "app.bsky.embed.images: at most 4, each <= 1,000,000 bytes and 2000x2000 (a later change allows 2 MB and 4000x4000: the output keeps the stricter)"),
                   RuleSource(blueskyVideo, read: read, rules: [.fileBytes, .container],
                              note: "app.bsky.embed.video: video/mp4, <= 50,000,000 bytes (a restatement says 100 MB: the output takes 50,000,000)"),
                   RuleSource(blueskyDuration, read: read, rules: [.duration], note: "up to 3 minutes (was 60 s)"),
               ]),
    ]
}
