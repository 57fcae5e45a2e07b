import Dispatch
import KilnCore

/// Runs blocking C work (libvips, libmagic) on a Dispatch thread, so callers on Swift's
/// cooperative pool (or a server's event loops) are never blocked.
enum Offload {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(KilnError) -> T) async throws(KilnError) -> T {
        let result: Result<T, KilnError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(KilnError) in try work() })
            }
        }
        return try result.get()
    }
}
