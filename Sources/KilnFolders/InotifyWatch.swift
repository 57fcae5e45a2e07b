import Foundation
import KilnCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// inotify on one directory: the names that were written and closed, moved in, or created
/// (files made with O_TMPFILE + linkat show only IN_CREATE), and whether the kernel's queue
/// overflowed (then the caller rescans). `read` blocks, so events are read on a thread of
/// their own, polled so that `close()` ends it.
final class InotifyWatch: Sendable {
    private let descriptor: Int32
    private let pending = Mutex<(names: Set<String>, overflowed: Bool)>(([], false))
    private let closed = Atomic<Bool>(false)

    /// FILE_006 when inotify cannot watch `directory`; the message names the sysctl to raise
    /// when the cause is the per-user limit.
    init(directory: String) throws(KilnError) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else {
            throw KilnError.storageUnavailable(errno == EMFILE
                ? "too many inotify instances for this user: raise fs.inotify.max_user_instances (sysctl), or use --poll"
                : "inotify is unavailable (\(String(cString: strerror(errno)))); use --poll")
        }
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE)
        guard inotify_add_watch(descriptor, directory, mask) >= 0 else {
            let reason = errno == ENOSPC
                ? "the inotify watch limit is reached: raise fs.inotify.max_user_watches (sysctl), or use --poll"
                : "cannot watch \(directory): \(String(cString: strerror(errno)))"
            Glibc.close(descriptor)
            throw KilnError.storageUnavailable(reason)
        }
        Thread.detachNewThread { [self] in readEvents() }
    }

    /// The names seen since the last call, and whether events were lost meanwhile.
    func take() -> (names: Set<String>, overflowed: Bool) {
        pending.withLock { state in
            defer { state = ([], false) }
            return state
        }
    }

    func close() { closed.store(true, ordering: .releasing) }

    private func readEvents() {
        defer { Glibc.close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let header = MemoryLayout<inotify_event>.size
        while !closed.load(ordering: .acquiring) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            var offset = 0
            var names: [String] = []
            var overflowed = false
            buffer.withUnsafeBytes { bytes in
                while offset + header <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if event.len > 0 {
                        // The name follows the header, NUL-padded (the struct's flexible member does not import).
                        let start = offset + header
                        let field = bytes[start..<min(count, start + Int(event.len))]
                        names.append(String(decoding: field.prefix { $0 != 0 }, as: UTF8.self))
                    }
                    offset += header + Int(event.len)
                }
            }
            pending.withLock { state in
                state.names.formUnion(names)
                state.overflowed = state.overflowed || overflowed
            }
        }
    }
}
