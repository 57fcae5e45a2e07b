import Foundation
import KilnCore
@testable import KilnImaging
@testable import KilnVideo
import Testing

/// How the crop window is steered from what was seen of the subject, and read back per frame.
@Suite struct WindowPilotTests {
    /// A profile `n` long, flat but for a bump `width` wide at `at`.
    func profile(_ n: Int, bumpAt at: Int, width: Int = 6) -> [Float] {
        (0..<n).map { abs($0 - at) <= width / 2 ? 50 : 5 }
    }

    @Test func theSubjectIsTheCentreOfTheStandoutInterest() throws {
        let centre = try #require(WindowPilot.subjectCentre(profile(160, bumpAt: 30), window: 300, side: 1600))
        #expect(abs(centre - 305) < 15, "\(centre)")
        #expect(WindowPilot.subjectCentre([Float](repeating: 7, count: 160), window: 300, side: 1600) == nil,
                "nothing stands out: no subject")
        #expect(WindowPilot.subjectCentre(profile(160, bumpAt: 30), window: 1600, side: 1600) == nil, "nothing to choose")
    }

    /// Steps a pilot over `seconds` at 25 frames a second, the subject at `subject(time)`.
    func steer(_ pilot: inout WindowPilot, for seconds: Double, from start: Double = 0,
               subject: (Double) -> Double?) -> [(time: Double, offset: Int)] {
        stride(from: start, to: start + seconds, by: 0.04).map { time in (time, pilot.step(time: time, subject: subject(time))) }
    }

    @Test func aSubjectThatStaysInTheWindowGetsAStillCrop() {
        var pilot = WindowPilot(window: 400, side: 1600)
        // Wandering 60 px about 520, and once not seen at all.
        let steps = steer(&pilot, for: 3) { time in abs(time - 1) < 0.02 ? nil : 500 + 60 * sin(time * 3) }
        #expect(Set(steps.map(\.offset)).count == 1 && abs(steps[0].offset - 300) <= 2, "\(Set(steps.map(\.offset)))")
        let path = pilot.path(axis: .x, width: 400, height: 900)
        #expect(path.shots.count == 1 && path.shots[0].keys.count == 2, "a still shot is two keys: \(path)")
    }

    @Test func aMovingSubjectIsFollowedAtABoundedSpeedAndACutJumps() {
        var pilot = WindowPilot(window: 400, side: 1600)
        // Across the whole side in a second: faster than a pan may go.
        let steps = steer(&pilot, for: 6) { min(1500, 100 + $0 * 1400) }
        #expect(steps.first?.offset == 0 && abs((steps.last?.offset ?? 0) - 1200) <= 10, "it gets there: \(steps.last ?? (0, 0))")
        for (a, b) in zip(steps, steps.dropFirst()) {
            #expect(Double(abs(b.offset - a.offset)) <= WindowPilot.panSpeed * 400 * (b.time - a.time) + 2.5, "\(a) -> \(b)")
        }
        pilot.cut(at: 6)
        let after = steer(&pilot, for: 1, from: 6) { _ in 300 }
        #expect(after.first?.offset == 100, "a new shot starts around its subject: \(after.first ?? (0, 0))")
        let path = pilot.path(axis: .x, width: 400, height: 900)
        #expect(path.shots.count == 2 && path.shots[1].start == 6 && abs(path.offset(at: 5.99) - 1200) <= 10
                && path.offset(at: 6) == 100, "\(path)")
    }

    @Test func keysOnAStraightLineAreDropped() {
        let keys = (0...10).map { CropPath.Key(time: Double($0), offset: $0 * 10) }
            + [CropPath.Key(time: 11, offset: 100), CropPath.Key(time: 12, offset: 100)]
        #expect(WindowPilot.simplified(keys, tolerance: 2) == [keys[0], keys[10], keys[12]])
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
