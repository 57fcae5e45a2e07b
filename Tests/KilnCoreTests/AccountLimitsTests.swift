import Foundation
import KilnCore
import Testing

/// Per-account limits: read from the request's JSON, applied only where they narrow the
/// platform's own, and refused (API_001 naming `limits`) where they would widen it.
@Suite struct AccountLimitsTests {
    @Test func limitsAreReadPerTarget() throws {
        let limits = try AccountLimits.parse(#"{"tiktok": {"max_duration_seconds": 180}, "x": {"max_items": 2, "max_bytes": 1000000}}"#)
        #expect(limits["tiktok"] == AccountLimits(maxDurationSeconds: 180))
        #expect(limits["x"] == AccountLimits(maxBytes: 1_000_000, maxItems: 2))
        #expect(AccountLimits.canonical(limits) == #"{"tiktok":{"max_duration_seconds":180},"x":{"max_bytes":1000000,"max_items":2}}"#)
        #expect(AccountLimits.canonical([:]) == nil)
    }

    @Test(arguments: [
        ("not json", "limits must be a JSON object"),
        (#"[1, 2]"#, "limits must be a JSON object"),
        (#"{"tiktok": {"max_length": 3}}"#, "limits.tiktok: max_length is not a limit Kiln knows"),
        (#"{"tiktok": {"max_duration_seconds": -1}}"#, "limits.tiktok.max_duration_seconds: must be above 0"),
        (#"{"tiktok": {"max_duration_seconds": "long"}}"#, "limits.tiktok.max_duration_seconds must be a number above 0"),
        (#"{"x": {"max_items": 2.5}}"#, "limits.x.max_items: must be a whole number"),
        (#"{"x": 4}"#, "limits.x must be an object of max_duration_seconds"),
    ])
    func aMalformedLimitIsAPI_001NamingLimits(_ json: String, _ message: String) {
        #expect {
            try AccountLimits.parse(json)
        } throws: { error in
            guard let error = error as? KilnError, error.code == .api001 else { return false }
            return error.message.contains(message) && error.details["fields"] != nil
        }
    }

    @Test func aNarrowerLimitNarrowsThePreset() throws {
        let catalog = PresetCatalog()
        let tiktok = try catalog.preset(named: "tiktok")
        let narrowed = try tiktok.narrowed(by: AccountLimits(maxDurationSeconds: 180, maxBytes: 50_000_000, maxWidth: 720))
        #expect(narrowed.video?.maxDuration == 180)
        // The photo's own limit (20 MB) is below the account's 50 MB: the narrower of the two stays.
        #expect(narrowed.video?.output.maxBytes == 50_000_000 && narrowed.renditions[0].maxBytes == 20_000_000)
        #expect(narrowed.video?.output.maxWidth == 720 && narrowed.renditions[0].maxWidth == 720)
        #expect(narrowed.name == "tiktok" && narrowed != tiktok, "the same target, other rules: another id")
        let x = try catalog.preset(named: "x").narrowed(by: AccountLimits(maxItems: 2))
        #expect(x.carousel?.range == 2...2)
    }

    @Test(arguments: [
        ("tiktok", AccountLimits(maxDurationSeconds: 900), "limits.tiktok.max_duration_seconds 900 is wider than tiktok's 600 s"),
        ("x", AccountLimits(maxItems: 10), "limits.x.max_items 10 is wider than x's 4 items"),
        ("bluesky", AccountLimits(maxBytes: 400_000_000), "limits.bluesky.max_bytes 400000000 is wider than bluesky's 300000000 bytes"),
        ("instagram-feed", AccountLimits(maxWidth: 4000), "limits.instagram-feed.max_width 4000 is wider than"),
        ("instagram-reel", AccountLimits(maxItems: 3), "limits.instagram-reel.max_items: instagram-reel takes no carousel"),
        ("instagram-reel", AccountLimits(maxDurationSeconds: 2), "limits.instagram-reel.max_duration_seconds 2 is below"),
    ])
    func aWiderLimitIsRefusedNeverApplied(_ name: String, _ limits: AccountLimits, _ message: String) throws {
        let preset = try PresetCatalog().preset(named: name)
        #expect {
            try preset.narrowed(by: limits)
        } throws: { error in
            guard let error = error as? KilnError, error.code == .api001 else { return false }
            return error.message.contains(message)
        }
    }
}
