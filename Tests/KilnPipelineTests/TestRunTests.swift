import Foundation
import KilnTestSupport
import Testing

/// `make test`'s time limit (Tests/Support/run_tests.py): a run that hangs is stopped, names the
/// tests still running, and leaves no process behind.
@Suite struct TestRunTests {
    static let support = Fixtures.root + "/Tests/Support/"

    @Test func theTestsStillRunningAreNamed() async throws {
        let events = Fixtures.scratchDirectory("kiln-events") + ".jsonl"
        defer { try? FileManager.default.removeItem(atPath: events) }
        func event(_ kind: String, _ test: String, at time: Double, _ text: String) -> String {
            #"{"kind":"event","payload":{"instant":{"absolute":\#(time)},"kind":"\#(kind)","messages":[{"text":"\#(text)"}],"testID":"\#(test)"},"version":0}"#
        }
        try [event("testStarted", "S", at: 1, "Suite S started."),
             event("testStarted", "S/ends()", at: 2, "Test ends() started."),
             event("testStarted", "S/hangs()", at: 3, "Test hangs() started."),
             event("testEnded", "S/ends()", at: 4, "Test ends() passed."),
             #"{"kind":"event","payload":{"instant":{"absolute":43},"kind":"#,  // a last line cut short
        ].joined(separator: "\n").write(toFile: events, atomically: true, encoding: .utf8)
        let said = String(decoding: try await Tool.check("python3", [Self.support + "unfinished_tests.py", events]).stdout, as: UTF8.self)
        #expect(said.contains("still running when the run was stopped (1)") && said.contains("Test hangs() started."), "\(said)")
        #expect(!said.contains("ends()") && !said.contains("Suite S"), "\(said)")
    }

    @Test func aRunPastItsTimeIsStoppedWithEverythingItStarted() async throws {
        let events = Fixtures.scratchDirectory("kiln-events") + ".jsonl"
        defer { try? FileManager.default.removeItem(atPath: events) }
        // A command and a child of its own that would outlive it; the events arguments go to sh's $0...
        let marker = "31.\(Int.random(in: 100...999))"
        let run = try await Tool.run("python3", [Self.support + "run_tests.py", "1", events, "--",
                                                 "sh", "-c", "sleep \(marker) & sleep \(marker)"])
        #expect(run.status == 124, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("did not finish within 1 s"))
        let left = try await Tool.run("pgrep", ["-f", "sleep \(marker)"])
        #expect(left.status == 1, "still running: \(String(decoding: left.stdout, as: UTF8.self))")
    }
}
