import Foundation
import KilnCore
@testable import KilnImaging
@testable import KilnVideo
import Testing

/// How a crop path is planned from what the analysis saw, and read back per frame.
@Suite struct SubjectTrackTests {
    /// A profile `n` long, flat but for a bump `width` wide at `at`.
    func profile(_ n: Int, bumpAt at: Int, width: Int = 6) -> [Float] {
        (0..<n).map { abs($0 - at) <= width / 2 ? 50 : 5 }
    }

    @Test func theSubjectIsTheCentreOfTheStandoutInterest() throws {
        let centre = try #require(SubjectTrack.subjectCentre(profile(160, bumpAt: 30), window: 300, side: 1600))
        #expect(abs(centre - 305) < 15, "\(centre)")
        #expect(SubjectTrack.subjectCentre([Float](repeating: 7, count: 160), window: 300, side: 1600) == nil,
                "nothing stands out: no subject")
        #expect(SubjectTrack.subjectCentre(profile(160, bumpAt: 30), window: 1600, side: 1600) == nil, "nothing to choose")
    }

    @Test func aSubjectThatStaysInTheWindowGetsAStillCrop() {
        let times = stride(from: 0.0, to: 3.0, by: 0.25).map { $0 }
        let centres: [Double?] = times.enumerated().map { i, _ in i == 3 ? nil : 500 + Double(i % 3) * 20 }
        let keys = SubjectTrack.keys(times: times, centres: centres, window: 400, side: 1600)
        #expect(keys.count == 1 && abs(keys[0].offset - 320) <= 2, "\(keys)")
    }

    @Test func aMovingSubjectIsFollowedAtABoundedSpeed() {
        // Across the whole side in a second: faster than a pan may go.
        let times = stride(from: 0.0, to: 4.0, by: 0.25).map { $0 }
        let centres: [Double?] = times.map { min(1500, 100 + $0 * 1400) }
        let keys = SubjectTrack.keys(times: times, centres: centres, window: 400, side: 1600)
        #expect(keys.count >= 2 && keys.last?.offset == 1200, "it gets there: \(keys)")
        for (a, b) in zip(keys, keys.dropFirst()) {
            let speed = Double(abs(b.offset - a.offset)) / (b.time - a.time)
            #expect(speed <= SubjectTrack.panSpeed * 400 + 8, "\(speed) px/s between \(a) and \(b)")
        }
        let path = CropPath(axis: .x, width: 400, height: 900, shots: [CropPath.Shot(start: 0, keys: keys)])
        for time in stride(from: 0.1, to: 4.0, by: 0.1) {
            #expect(abs(path.offset(at: time) - path.offset(at: time - 0.1)) <= 40)
        }
    }

    @Test func keysOnAStraightLineAreDropped() {
        let keys = (0...10).map { CropPath.Key(time: Double($0), offset: $0 * 10) }
            + [CropPath.Key(time: 11, offset: 100), CropPath.Key(time: 12, offset: 100)]
        #expect(SubjectTrack.simplified(keys, tolerance: 2) == [keys[0], keys[10], keys[12]])
    }

    @Test func aPathIsReadPerFrameAndJumpsOnlyAtAShot() throws {
        let path = CropPath(axis: .x, width: 300, height: 540, shots: [
            CropPath.Shot(start: 0, keys: [.init(time: 1, offset: 0), .init(time: 3, offset: 400)]),
            CropPath.Shot(start: 4, keys: [.init(time: 4, offset: 101)]),
        ])
        #expect(path.offset(at: 0) == 0 && path.offset(at: 2) == 200 && path.offset(at: 3.5) == 400)
        #expect(path.offset(at: 4) == 101 && path.offset(at: 9) == 101)
        // Even, and inside the picture (the window is 300 of 960; the other side is centred).
        #expect(path.origin(at: 4, sourceWidth: 960, sourceHeight: 540) == (100, 0))
        #expect(path.origin(at: 3, sourceWidth: 600, sourceHeight: 540) == (300, 0))
        // Kept in the manifest as [seconds, offset] pairs.
        let json = String(decoding: try JSONEncoder().encode(path.shots[1].keys), as: UTF8.self)
        #expect(json == "[[4,101]]")
        #expect(try JSONDecoder().decode(CropPath.self, from: try JSONEncoder().encode(path)) == path)
        #expect(CropPath.shapeName(width: 1920, height: 1080) == "16:9" && CropPath.shapeName(width: 1080, height: 1350) == "4:5")
        #expect(CropPath.shapeName(width: 2500, height: 1000) == "2.5:1")
    }

    @Test func facesGiveTheirAreaWeighedCentre() {
        let big = Face(x: 0.1, y: 0.2, width: 0.2, height: 0.2, score: 1)
        let small = Face(x: 0.7, y: 0.2, width: 0.05, height: 0.05, score: 1)
        guard case .point(let x, let y)? = Face.focus(of: [big, small]) else {
            Issue.record("no focus")
            return
        }
        #expect(abs(x - 0.2309) < 0.005 && abs(y - 0.2956) < 0.005, "\(x),\(y)")
        #expect(Face.focus(of: []) == nil)
    }
}
