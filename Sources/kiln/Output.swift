import ArgumentParser
import Foundation
import KilnCore
import Synchronization

/// Printing envelopes and mapping outcomes to exit codes: the CLI's edge.
enum Output {
    /// Exit 0 on success, 1 when the envelope carries an error (64, bad usage, is ArgumentParser's).
    static func exitCode(success: Bool) -> ExitCode { success ? .success : ExitCode(1) }

    static func printJSON<T: Encodable & Sendable>(_ envelope: Envelope<T>) {
        do {
            let data = try envelope.jsonData()
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("kiln: cannot encode the result: \(error)\n".utf8))
        }
    }

    private static let lines = Mutex(())

    /// One envelope as one JSON line on stdout. Inputs end on several tasks at once, and a pipe
    /// keeps writes whole only up to 4 KiB: lines are written one at a time.
    static func printLine<T: Encodable & Sendable>(_ envelope: Envelope<T>) {
        guard let data = try? envelope.jsonLine() else { return }
        lines.withLock { _ in FileHandle.standardOutput.write(data + Data("\n".utf8)) }
    }

    /// Runs an operator command's `body`; a KilnError is one line on stderr ("kiln NAME: CODE:
    /// message") and exit 1.
    static func guarded(_ name: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as KilnError {
            FileHandle.standardError.write(Data("kiln \(name): \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? KilnError else { return "\(error)" }
        return describe(error)
    }

    static func describe(_ error: KilnError) -> String { "\(error.code.rawValue) \(error.message)" }

    /// Progress on stderr, on one line, only when a person is watching it.
    static let progressLine: @Sendable (JobProgress) -> Void = { progress in
        guard isatty(STDERR_FILENO) != 0 else { return }
        let percent = Int((progress.fraction * 100).rounded(.down))
        let text = switch progress.stage {
        case .processing, .storing: "\(progress.stage.rawValue) \(percent)%"
        default: progress.stage.rawValue
        }
        FileHandle.standardError.write(Data("\r\u{1B}[2K  \(text)\(progress.stage == .done ? "\n" : "")".utf8))
    }
}
