import Dispatch

/// Runs blocking work (libvips, FFmpeg, libmagic, file system calls) on a Dispatch thread, so
/// callers on Swift's cooperative pool (or a server's event loops) are never blocked.
public enum Blocking {
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
}
