import CKilnOS
import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline
import KilnQueue
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A watched inbox (SPEC §6, `kiln watch`). Files that land in INBOX are taken once they stop
/// changing (size and time the same across the settle time), claimed by an atomic rename into
/// this process's work session under `INBOX/.kiln/processing/` (two watchers on one inbox
/// never both take a file), run through the pipeline, then moved to `INBOX/processed/` or
/// `INBOX/failed/` (with `NAME.error.json`, the envelope), never over an existing name.
///
/// Nothing is lost or done twice across crashes: a dead watcher's claimed files go back to the
/// inbox when the next watcher starts (its session lock died with it); a file redone after its
/// item was stored comes back as that item (no rendition is written again); the journal
/// (`INBOX/.kiln/journal.sqlite`) counts attempts, and a file that keeps failing for Kiln's
/// fault (or keeps killing the process) is quarantined in `failed/` after `maxAttempts`.
public final class FolderWatch: Sendable {
    public struct Options: Sendable {
        public var ingest: IngestOptions
        public var jobs: Int
        /// How long a file's size and time must stay the same before it is taken.
        public var settle: Duration = .seconds(2)
        /// Scan every so often instead of inotify (network shares where inotify sees nothing).
        public var poll: Duration?
        /// A full scan even with inotify, for what events missed.
        public var rescan: Duration = .seconds(30)
        public var maxAttempts = 3
        /// Several presets for every file (`--preset a,b,c`): one outcome per target; the file
        /// goes to processed/ when any target took it, to failed/ when none did.
        public var targets: [String]?

        public init(ingest: IngestOptions, jobs: Int) {
            self.ingest = ingest
            self.jobs = max(1, jobs)
        }
    }

    /// How one file ended (or `retrying`, when a retryable failure will be tried again).
    public struct Report: Sendable {
        public let name: String
        public let outcome: BatchOutcome
        public let item: MediaItem?
        public let error: KilnError?
        /// Where the original went (`processed/…` or `failed/…`).
        public let movedTo: String?
        /// From its claim to its end.
        public var seconds: Double = 0
        /// Made for several targets: one outcome per target (`item` is then nil).
        public var targets: [TargetOutcome]?
    }

    public let inbox: String
    let pipeline: Pipeline
    let journal: BatchJournal
    let options: Options
    let session: String
    let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let inFlight = Mutex<Set<String>>([])

    /// Makes the inbox's folders, takes back what dead watchers held, and opens the journal.
    public init(inbox: String, pipeline: Pipeline, options: Options, logger: Logger = Logger(label: "kiln.watch"))
        throws(KilnError)
    {
        let inbox = inbox.hasSuffix("/") && inbox.count > 1 ? String(inbox.dropLast()) : inbox
        self.inbox = inbox
        self.pipeline = pipeline
        self.options = options
        self.logger = logger
        for folder in ["processed", "failed", ".kiln/processing"] {
            do {
                try FileManager.default.createDirectory(atPath: inbox + "/" + folder, withIntermediateDirectories: true)
            } catch {
                throw KilnError.storageNotConfigured("cannot create \(inbox)/\(folder): \(error.localizedDescription)")
            }
        }
        journal = try BatchJournal(directory: inbox + "/.kiln")
        session = try WorkSession.directory(under: inbox + "/.kiln/processing") { dead in
            Self.takeBack(dead, into: inbox, logger: logger)
        }
    }

    /// Puts the files a dead watcher had claimed back in the inbox, to be taken again.
    private static func takeBack(_ dead: String, into inbox: String, logger: Logger) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dead)) ?? []).filter { $0 != ".lock" }
        for name in names { _ = move(dead + "/" + name, into: inbox, named: name) }
        if !names.isEmpty { logger.notice("took back \(names.count) file(s) claimed by a watcher that died", metadata: ["session": "\((dead as NSString).lastPathComponent)"]) }
    }

    /// Stop taking files; those in flight finish.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        logger.info("stopping: no new files are taken; \(inFlight.withLock { $0.count }) in flight finish")
    }

    /// Watches until stopped (then drains) or cancelled (then in-flight files go back to the
    /// inbox to be done by the next run).
    public func run(report: @escaping @Sendable (Report) -> Void) async throws(KilnError) {
        let events = options.poll == nil ? try InotifyWatch(directory: inbox) : nil
        defer { events?.close() }
        logger.info("watching \(inbox)", metadata: ["mode": "\(options.poll.map { "poll every \($0)" } ?? "inotify")", "jobs": "\(options.jobs)"])
        var tracked: [String: (size: Int64, modified: Int64, since: ContinuousClock.Instant)] = [:]
        var lastScan: ContinuousClock.Instant?
        let tick = min(options.settle / 4, .milliseconds(250))
        await withTaskGroup(of: Void.self) { group in
            while !stopped.load(ordering: .acquiring), !Task.isCancelled {
                let now = ContinuousClock.now
                var names: Set<String> = []
                let (seen, overflowed) = events?.take() ?? ([], false)
                names.formUnion(seen)
                if overflowed || lastScan.map({ now - $0 >= (options.poll ?? options.rescan) }) ?? true {
                    if overflowed { logger.warning("inotify's queue overflowed: rescanning the inbox") }
                    // A neighbour watcher that died since gives its claimed files back now, not at the next start.
                    if lastScan != nil {
                        let (inbox, logger) = (inbox, logger)
                        WorkSession.sweepDead(under: inbox + "/.kiln/processing") { Self.takeBack($0, into: inbox, logger: logger) }
                    }
                    names.formUnion((try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? [])
                    lastScan = now
                }
                for name in names where !SourceWalker.skips(name) && tracked[name] == nil {
                    tracked[name] = (-1, -1, now)
                }
                for (name, last) in tracked {
                    // The entry itself, not what a symbolic link names (a link is taken, and refused).
                    var info = stat()
                    guard lstat(inbox + "/" + name, &info) == 0, [S_IFREG, S_IFLNK].contains(info.st_mode & S_IFMT) else {
                        tracked[name] = nil  // gone (taken by another watcher) or not a file
                        continue
                    }
                    let (size, modified) = (Int64(info.st_size), SourceWalker.nanoseconds(info.st_mtim))
                    guard size == last.size, modified == last.modified else {
                        tracked[name] = (size, modified, now)
                        continue
                    }
                    guard now - last.since >= options.settle, inFlight.withLock({ $0.count }) < options.jobs else { continue }
                    tracked[name] = nil
                    guard let claimed = claim(name) else { continue }
                    inFlight.withLock { _ = $0.insert(name) }
                    group.addTask {
                        let start = ContinuousClock.now
                        let outcome = await self.process(claimed, name: name, size: size, modified: modified)
                        self.inFlight.withLock { _ = $0.remove(name) }
                        if var outcome {
                            outcome.seconds = JobControl.seconds(ContinuousClock.now - start)
                            report(outcome)
                        }
                    }
                }
                try? await Task.sleep(for: tick)
            }
            await group.waitForAll()
        }
        logger.info("stopped")
    }

    /// Moves the file into this watcher's session; nil when another watcher took it first.
    private func claim(_ name: String) -> String? {
        let claimed = session + "/" + name
        return kiln_rename_noreplace(inbox + "/" + name, claimed) == 0 ? claimed : nil
    }

    /// Runs one claimed file to its end; nil when it went back to the inbox (cancelled).
    private func process(_ path: String, name: String, size: Int64, modified: Int64) async -> Report? {
        do throws(KilnError) {
            let attempts = try await journal.begin(path: name, size: size, modified: modified)
            logger.info("taking \(name) (attempt \(attempts))")
            if attempts > options.maxAttempts {
                logger.error("setting \(name) aside: taken \(attempts - 1) times without ending (the process died each time)")
                let error = KilnError.internalError("\(name) was taken \(attempts - 1) times without ending; it is set aside in failed/")
                return try await end(path, name: name, status: .failed, error: error)
            }
            var link = stat()
            if lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK {
                // A link could name any file the watcher can read: nothing outside the inbox is taken.
                return try await end(path, name: name, status: .rejected, error: KilnError.symbolicLink(name))
            }
            var options = options.ingest
            options.progress = nil
            let service = IngestService(pipeline: pipeline, base: options)
            let input = IngestInput(path: path, name: name)
            var lastError: KilnError?
            for attempt in attempts...self.options.maxAttempts {
                do throws(KilnError) {
                    if let targets = self.options.targets {
                        let outcomes = try await service.make(IngestSubmission(
                            inputs: [input], options: UploadOptions(base: options, targets: targets))).outcomes
                        let briefs = outcomes.map(\.brief)
                        // No target took it: refused (or tried again) as one error, every target's outcome in it.
                        if TargetOutcome.tally(outcomes) == .none, let first = outcomes.first?.error {
                            throw first.with(detail: "targets", .encoding(briefs))
                        }
                        let movedTo = Self.move(path, into: inbox + "/processed", named: name)
                        try await journal.finish(path: name, status: .done, mediaID: nil, code: nil, seconds: 0, targets: briefs)
                        let reused = outcomes.allSatisfy { $0.error != nil || $0.items.allSatisfy(\.reused) }
                        return Report(name: name, outcome: reused ? .reused : .processed, item: nil, error: nil,
                                      movedTo: movedTo, targets: outcomes)
                    }
                    let item = try await service.make(IngestSubmission(inputs: [input], options: UploadOptions(base: options))).item()
                    let movedTo = Self.move(path, into: inbox + "/processed", named: name)
                    try await journal.finish(path: name, status: .done, mediaID: item.id, code: nil, seconds: 0)
                    return Report(name: name, outcome: item.reused ? .reused : .processed, item: item, error: nil, movedTo: movedTo)
                } catch {
                    if error.code == .processing005 {
                        // Stopped, not failed: the next run does it, and this take does not count.
                        try? await journal.giveBack(path: name)
                        _ = Self.move(path, into: inbox, named: name)
                        return nil
                    }
                    if BatchRun.isInputsFault(error) { return try await end(path, name: name, status: .rejected, error: error) }
                    lastError = error
                    // Kiln's fault: tried again after a pause (2, 4, 8 s), then set aside.
                    if attempt < self.options.maxAttempts {
                        logger.warning("\(name) failed (\(error.code.rawValue)); trying again in \(1 << attempt) s",
                                       metadata: ["attempt": "\(attempt)"])
                        try? await Task.sleep(for: .seconds(1 << attempt))
                        _ = try await journal.begin(path: name, size: size, modified: modified)
                    }
                }
            }
            let error = lastError ?? .internalError("\(name) failed")
            logger.error("setting \(name) aside in failed/ after \(self.options.maxAttempts) attempts (\(error.code.rawValue))")
            return try await end(path, name: name, status: .failed, error: error)
        } catch {
            // The journal failed: leave the file where the next run takes it back.
            logger.error("the journal failed on \(name): \(error.message); the file goes back to the inbox")
            _ = Self.move(path, into: inbox, named: name)
            return Report(name: name, outcome: .failed, item: nil, error: error, movedTo: nil)
        }
    }

    /// Sets the file aside in failed/ with its envelope beside it. The envelope is written
    /// first: a crash between the two leaves an envelope without its file (the file goes back
    /// to the inbox, and the envelope is replaced when it comes here again), never a failed
    /// file without its envelope.
    private func end(_ path: String, name: String, status: BatchJournal.Status, error: KilnError)
        async throws(KilnError) -> Report
    {
        let failed = inbox + "/failed"
        let envelope = (try? Envelope<MediaItem>.failure(error).jsonData()) ?? Data()
        var movedTo: String?
        for candidate in Self.candidates(name) where access(failed + "/" + candidate, F_OK) != 0 {
            let temp = failed + "/.\(candidate).error.json.tmp"
            guard FileManager.default.createFile(atPath: temp, contents: envelope),
                  rename(temp, failed + "/" + candidate + ".error.json") == 0 else { break }
            if kiln_rename_noreplace(path, failed + "/" + candidate) == 0 {
                movedTo = "failed/" + candidate
                break
            }
            guard errno == EEXIST else { break }
        }
        try await journal.finish(path: name, status: status, mediaID: nil, code: error.code.rawValue, seconds: 0)
        return Report(name: name, outcome: status == .rejected ? .rejected : .failed, item: nil, error: error, movedTo: movedTo)
    }

    /// Renames `path` into `folder` as `name`, or `name (2)`, `name (3)`… when taken: never over
    /// an existing file. Returns the new path relative to the inbox's parent folder name.
    @discardableResult
    static func move(_ path: String, into folder: String, named name: String) -> String? {
        for candidate in candidates(name) {
            if kiln_rename_noreplace(path, folder + "/" + candidate) == 0 {
                return (folder as NSString).lastPathComponent + "/" + candidate
            }
            guard errno == EEXIST else { return nil }
        }
        return nil
    }

    /// `name`, then `name (2)`, `name (3)`… (the extension kept last).
    static func candidates(_ name: String) -> [String] {
        let ext = (name as NSString).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        return (1...1000).map { $0 == 1 ? name : "\(stem) (\($0))" + (ext.isEmpty ? "" : "." + ext) }
    }
}
