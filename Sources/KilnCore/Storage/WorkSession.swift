import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where this process keeps unpublished work (staging directories, received uploads) under a
/// root that other processes may share: `<root>/<session>/`, holding `.lock`, which this
/// process keeps locked (flock) until it exits. The kernel drops the lock when the process
/// dies, however it dies (SIGKILL, a crash), so the next process to open a session under the
/// same root removes what a dead one left, and never touches the work of a live one.
public enum WorkSession {
    private static let sessions = Mutex<[String: String]>([:])

    /// This process's session directory under `root`, made (after sweeping dead sessions) the
    /// first time it is asked for. `adopt` sees each dead session's directory before it is
    /// removed, to take back what it held (a watcher's claimed inputs).
    public static func directory(under root: String, adopt: ((String) -> Void)? = nil) throws(KilnError) -> String {
        let result: Result<String, KilnError> = sessions.withLock { sessions in
            if let existing = sessions[root] { return .success(existing) }
            do throws(KilnError) {
                let directory = try open(under: root, adopt: adopt)
                // A process that exits (not one killed) leaves no empty session of its own behind.
                if sessions.isEmpty { atexit { WorkSession.endAll() } }
                sessions[root] = directory
                return .success(directory)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Removes this process's sessions that hold nothing but their lock (at exit: what is still
    /// in one is left for the next process to sweep).
    public static func endAll() {
        let own = sessions.withLock { sessions in
            defer { sessions = [:] }
            return Array(sessions.values)
        }
        for directory in own where (try? FileManager.default.contentsOfDirectory(atPath: directory)) == [".lock"] {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Removes the sessions under `root` whose processes are gone, as `directory(under:adopt:)`
    /// does once at start: a long-running process calls it now and then, so that the work of a
    /// neighbour that died is taken back without waiting for a restart. Never touches this
    /// process's own session or a live one.
    public static func sweepDead(under root: String, adopt: ((String) -> Void)? = nil) {
        let own = sessions.withLock { $0[root] }
        sweep(root, except: own, adopt: adopt)
    }

    /// Sweeps, then makes a session whose lock is held before it has its name: a sweeper sees a
    /// `.lock` only once it is locked.
    private static func open(under root: String, adopt: ((String) -> Void)?) throws(KilnError) -> String {
        let directory = root + "/" + UUID().uuidString.lowercased()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KilnError.storageUnavailable("cannot create \(directory): \(error.localizedDescription)")
        }
        sweep(root, except: directory, adopt: adopt)
        let pending = directory + "/.lock-pending"
        let descriptor = Glibc.open(pending, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0, rename(pending, directory + "/.lock") == 0 else {
            if descriptor >= 0 { close(descriptor) }
            try? FileManager.default.removeItem(atPath: directory)
            throw KilnError.storageUnavailable("cannot lock a work directory under \(root) (errno \(errno))")
        }
        // The descriptor stays open (and locked) for the life of the process, on purpose.
        return directory
    }

    /// Removes every session under `root` whose lock can be taken: its process is gone.
    /// Sessions without a `.lock` yet are being made, and left alone.
    private static func sweep(_ root: String, except own: String?, adopt: ((String) -> Void)?) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for name in names where root + "/" + name != own {
            let lock = root + "/" + name + "/.lock"
            let descriptor = Glibc.open(lock, O_RDWR | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
            adopt?(root + "/" + name)
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }
}
