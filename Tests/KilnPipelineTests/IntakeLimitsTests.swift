import KilnCore
import KilnPipeline
import Testing

/// Every size question of an intake, from the presets an upload is for.
@Suite struct IntakeLimitsTests {
    static func preset(_ name: String) throws -> Preset { try #require(Preset.builtIn.first { $0.name == name }) }

    @Test func aFileIsHeldToTheWidestTargetOfItsKind() throws {
        let (bluesky, x) = (try Self.preset("bluesky"), try Self.preset("x"))
        let limits = IntakeLimits([bluesky, x])
        let image = try #require([bluesky, x].compactMap { $0.maxBytes(for: .image) }.max())
        #expect(try limits.file(.image) == image)
        #expect(limits.anyFile == [bluesky, x].flatMap { p in MediaKind.allCases.compactMap(p.maxBytes(for:)) }.max())
        #expect(limits.anyFile >= image)
    }

    @Test func aKindNoTargetTakesIsMEDIA_001() throws {
        var takesNoVideo = try Self.preset("bluesky")
        takesNoVideo.name = "stills"
        takesNoVideo.video = nil
        do {
            let limit = try IntakeLimits([takesNoVideo]).file(.video)
            Issue.record("\(takesNoVideo.name) took videos up to \(limit)")
        } catch {
            #expect(error.code == .media001)
        }
    }

    /// A carousel request holds its items of the kinds the carousel takes, and the framing.
    @Test func aCarouselRequestCountsItsItemsOfTheKindsItHolds() throws {
        let bluesky = try Self.preset("bluesky")
        let rules = try #require(bluesky.carousel)
        let item = try #require(rules.kinds.compactMap(bluesky.maxBytes(for:)).max())
        let limits = IntakeLimits([bluesky])
        #expect(limits.request(carousel: true) == item * Int64(rules.maxItems) + IntakeLimits.framing)
        #expect(limits.request(carousel: false) == limits.anyFile + IntakeLimits.framing)
        if let video = bluesky.maxBytes(for: .video), !rules.kinds.contains(.video) {
            #expect(limits.request(carousel: true) < video * Int64(rules.maxItems), "videos are not counted")
        }
    }

    @Test func overTheLimitIsFILE_004AndAtItIsNot() throws {
        #expect(throws: Never.self) { try IntakeLimits.check(100, within: 100) }
        #expect(throws: Never.self) { try IntakeLimits.check(nil, within: 0) }
        #expect(throws: Never.self) { try IntakeLimits.check(file: 100, within: 100, kind: .image) }
        func refusal(_ check: () throws(KilnError) -> Void) -> KilnError? {
            do { try check() } catch { return error }
            return nil
        }
        let request = refusal { () throws(KilnError) in try IntakeLimits.check(101, within: 100) }
        let file = refusal { () throws(KilnError) in try IntakeLimits.check(file: 101, within: 100, kind: .video) }
        for error in [request, file] {
            let error = try #require(error, "101 bytes over a 100-byte limit passed")
            #expect(error.code == .file004 && error.details["limit_bytes"] == .int(100) && error.details["size_bytes"] == .int(101))
        }
    }
}
