import Foundation
import KilnCore
import KilnPipeline
import KilnQueue
import Testing

/// What a job's row holds is read back by the one type it was written as: the upload options at
/// the payload's top level (rows written before `UploadOptions` read the same), and the result as
/// an item, a carousel or one outcome per target, told apart by its keys.
@Suite struct JobRecordFormatTests {
    static let presets = PresetCatalog()

    @Test func uploadOptionsAreReadFromTextWithTheFieldNamedInARefusal() throws {
        var options = UploadOptions(base: IngestOptions())
        try options.set("targets", "x,bluesky", presets: Self.presets)
        try options.set("fit", "crop", presets: Self.presets)
        try options.set("fit_duration", "trim", presets: Self.presets)
        try options.set("limits", #"{"x": {"max_duration_seconds": 60}}"#, presets: Self.presets)
        try options.set("focus", "0.2,0.8", presets: Self.presets)
        #expect(options.focus == .point(x: 0.2, y: 0.8))
        #expect(options.canonicalLines.contains("focus=0.2,0.8"), "a focus is part of what a retry must send again")
        let written = try JSONDecoder().decode(UploadOptions.self, from: JSONEncoder().encode(options))
        #expect(written == options)
        #expect(options.names == ["x", "bluesky"])
        #expect(options.fit == .crop && options.fitDuration == .trim)
        #expect(options.limits["x"]?.maxDurationSeconds == 60)
        for (name, value) in [("preset", "myspace"), ("targets", "x,nowhere"), ("type", "song"), ("fit", "squash"),
                              ("fit_duration", "loop"), ("focus", "2,2"), ("focus", "left"), ("colour", "red")] {
            #expect(throws: KilnError.self) { try options.set(name, value, presets: Self.presets) }
            do {
                try options.set(name, value, presets: Self.presets)
            } catch {
                #expect(error.code == .api001)
                guard case .object(let fields)? = error.details["fields"] else { Issue.record("no fields: \(error)"); continue }
                #expect(fields[name] != nil, "the refusal names \(name): \(fields)")
            }
        }
    }

    @Test func theEngineOptionsTakeTheChoicesOverTheBase() {
        var base = IngestOptions(preset: "default", timeout: .seconds(7))
        base.keepOriginal = true
        var options = UploadOptions(base: base)
        options.preset = "x"
        options.fitDuration = .trim
        let engine = options.ingestOptions(base: base, tenant: "t9")
        #expect(engine.preset == "x" && engine.fitDuration == .trim && engine.tenant == "t9")
        #expect(engine.timeout == .seconds(7) && engine.keepOriginal, "what the client does not choose is the base's")
    }

    @Test func aPayloadWrittenBeforeUploadOptionsIsReadTheSame() throws {
        // A row as an earlier version wrote it: the options as keys of their own, no fit_duration or limits.
        let old = #"{"inputs":[{"path":"/d/jobs/j/0","name":"clip.mp4"}],"carousel":false,"preset":"tiktok","type":"auto","fit":"pad","key_id":"k1","tenant":"t1","request_id":"req_1"}"#
        let payload = try JSONDecoder().decode(JobPayload.self, from: Data(old.utf8))
        #expect(payload.options.preset == "tiktok" && payload.options.fit == .pad)
        #expect(payload.options.fitDuration == .reject && payload.options.limits.isEmpty && payload.options.targets == nil)
        #expect(payload.owner == "t1" && payload.keyID == "k1" && payload.inputs.first?.name == "clip.mp4")
        // Written again, the same keys at the top level, and read back equal.
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(payload)) as? [String: Any]
        #expect(written?["preset"] as? String == "tiktok" && written?["key_id"] as? String == "k1")
        #expect(written?["options"] == nil)
        let again = try JSONDecoder().decode(JobPayload.self, from: JSONEncoder().encode(payload))
        #expect(again.options == payload.options)
    }

    @Test func jobResultsAreToldApartByTheirKeys() throws {
        let item = Self.item(id: "m1", preset: "x")
        let carousel = CarouselRecord(id: "c1", preset: "x", items: ["m1", "m2"], tenant: "t1")
        let results: [JobResult] = [
            .item(item),
            .carousel(carousel, items: [item, Self.item(id: "m2", preset: "x")]),
            .targets([TargetOutcome(target: "x", items: [item]),
                      TargetOutcome(target: "bluesky", error: KilnError.duration(9, min: 0, max: 3))]),
        ]
        for result in results {
            let decoded = try JSONDecoder().decode(JobResult.self, from: JSONEncoder().encode(result))
            switch (result, decoded) {
            case (.item(let a), .item(let b)): #expect(a.id == b.id && a.preset == b.preset)
            case (.carousel(let a, let ai), .carousel(let b, let bi)): #expect(a.id == b.id && ai.map(\.id) == bi.map(\.id))
            case (.targets(let a), .targets(let b)):
                #expect(a.map(\.target) == b.map(\.target) && a.map { $0.items.map(\.id) } == b.map { $0.items.map(\.id) })
                #expect(a.map { $0.error?.code } == b.map { $0.error?.code })
            default: Issue.record("\(result) read back as \(decoded)")
            }
        }
        // An item is stored as the item itself (rows written before JobResult are read by it).
        let stored = try JSONSerialization.jsonObject(with: JSONEncoder().encode(JobResult.item(item))) as? [String: Any]
        #expect(stored?["id"] as? String == "m1")
    }

    static func item(id: String, preset: String) -> MediaItem {
        MediaItem(id: id, sourceSha256: String(repeating: "a", count: 64),
                  options: ProcessingOptions(preset: preset, presetDigest: "d", fit: .reject, type: .auto, keepOriginal: false),
                  input: "photo.jpg", kind: .image, mime: "image/jpeg",
                  source: .image(ImageFacts(format: "jpeg", mime: "image/jpeg", sizeBytes: 100, width: 10, height: 10, orientation: 1,
                                            colorSpace: "srgb", bands: 3, bitDepth: 8, hasAlpha: false, hasICCProfile: false,
                                            pages: 1, metadata: [])))
    }
}
