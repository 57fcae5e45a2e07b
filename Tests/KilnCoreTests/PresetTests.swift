import Foundation
import KilnCore
import Testing

@Suite struct PresetTests {
    @Test func builtInPresetsCoverTheSpec() throws {
        let catalog = PresetCatalog()
        for name in ["default", "instagram-feed", "instagram-story", "x", "linkedin", "facebook", "tiktok"] {
            let preset = try catalog.preset(named: name)
            #expect(!preset.renditions.isEmpty, "\(name) has renditions")
            #expect(preset.image != nil, "\(name) takes images")
        }
        let feed = try catalog.preset(named: "instagram-feed")
        #expect(feed.renditions.first?.minWidth == 320, "a narrower picture is enlarged to it")
        #expect(feed.image?.aspect == AspectRange(min: 0.8, max: 1.91))
        #expect(feed.renditions.first?.maxWidth == 1080)
        #expect(feed.carousel?.range == 2...10)
        #expect(try catalog.preset(named: "x").carousel?.range == 2...4)
        #expect(try catalog.preset(named: "default").image?.maxBytes == 50 * 1024 * 1024)
        #expect(try catalog.preset(named: "default").image?.maxPixels == 100_000_000)
    }

    @Test func unknownPresetIsAPI_001NamingTheChoices() {
        #expect {
            try PresetCatalog().preset(named: "myspace")
        } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.code == .api001 && error.message.contains("instagram-feed")
        }
    }

    @Test func userPresetsAddAndOverrideBuiltIns() throws {
        var catalog = PresetCatalog()
        let json = """
            [{"name": "mastodon", "summary": "Mastodon", "image": {"max_bytes": 16777216, "aspect": {"min": 0.5, "max": 2}},
              "carousel": {"min_items": 2, "max_items": 4, "kinds": ["image"]},
              "renditions": [{"name": "display", "long_edge": 1920, "quality": 80, "format": "webp"}]},
             {"name": "x", "summary": "X at 1600", "image": {}, "renditions": [{"name": "display", "long_edge": 1600}]}]
            """
        try catalog.add(json: Data(json.utf8), source: "test")
        let mastodon = try catalog.preset(named: "mastodon")
        #expect(mastodon.image?.maxBytes == 16_777_216)
        #expect(mastodon.image?.maxPixels == ImageRules.defaultMaxPixels)
        #expect(mastodon.renditions == [RenditionSpec(name: "display", format: .webp, maxWidth: 1920, maxHeight: 1920, quality: 80)])
        let x = try catalog.preset(named: "x")
        #expect(x.renditions.first?.maxWidth == 1600)
        #expect(x.carousel == nil)
    }

    @Test func malformedPresetFileIsAPI_001WithTheField() {
        var catalog = PresetCatalog()
        #expect {
            try catalog.add(json: Data(#"[{"name": "bad", "summary": "", "renditions": [{"name": "d", "quality": 500, "long_edge": 10}]}]"#.utf8),
                            source: "bad.json")
        } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.code == .api001 && error.message.contains("quality")
        }
    }

    @Test func aspectRangeAllowsRoundingAndClamps() {
        let story = AspectRange(min: 9.0 / 16.0, max: 9.0 / 16.0)
        #expect(story.contains(1080.0 / 1921.0))
        #expect(!story.contains(1.0))
        let feed = AspectRange(min: 0.8, max: 1.91)
        #expect(feed.clamp(3.0) == 1.91)
        #expect(feed.clamp(0.5) == 0.8)
        #expect(feed.clamp(1.2) == 1.2)
    }
}
