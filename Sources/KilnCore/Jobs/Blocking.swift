import Dispatch
import Foundation

/// Runs blocking work off Swift's cooperative pool (and a server's event loops), which must
/// never wait on C code or the file system.
public enum Blocking {
    /// Short blocking calls (a file read, a rename): on Dispatch's shared threads.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws(KilnError) -> T)
        async throws(KilnError) -> T
    {
        let result: Result<T, KilnError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(KilnError) in try work() })
            }
        }
        return try result.get()
    }

    /// Long work (decoding, encoding: seconds of CPU) on a thread of its own. Dispatch keeps its
    /// shared pool about as wide as the cores while its threads compute, so jobs there would
    /// hold up every short call queued behind them; the job limit bounds these threads instead.
    public static func job<T: Sendable>(_ work: @escaping @Sendable () throws(KilnError) -> T)
        async throws(KilnError) -> T
    {
        let result: Result<T, KilnError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(KilnError) in try work() })
            }
            thread.name = "kiln-job"
            thread.start()
        }
        return try result.get()
    }
}
