import CVips
import Foundation
import Synchronization

/// libvips, started once per process with settings for untrusted input.
///
/// `Vips.start()` is idempotent and thread-safe; every entry point into KilnImaging calls it.
enum Vips {
    /// Runs the one-time set-up: `vips_init`, no operation cache, untrusted loaders blocked.
    static func start() { _ = started }

    private static let started: Bool = {
        guard vips_init("kiln") == 0 else {
            // Without libvips nothing in KilnImaging works; the first operation reports the error.
            return false
        }
        // A cache would keep decoded inputs alive across unrelated requests.
        vips_cache_set_max(0)
        let threads = ImageEngine.requestedThreads.load(ordering: .acquiring)
        if threads > 0 { vips_concurrency_set(Int32(threads)) }
        isStarted.store(true, ordering: .releasing)
        // Loaders libvips marks untrusted (SVG, PDF, ImageMagick, ...) are never reached.
        // JPEG XL is among them in 8.14, but it is a format Kiln accepts: re-enable that one.
        vips_block_untrusted_set(1)
        vips_operation_block_set("VipsForeignLoadJxl", 0)
        // Warnings ("premature end of JPEG file") would go to stderr; errors are reported through
        // the fail_on level and the error buffer instead.
        g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, { _, _, _, _ in }, nil)
        return true
    }()

    static let isStarted = Atomic<Bool>(false)

    static let unknownError = "libvips gave no reason"

    /// Takes and clears libvips' error buffer. It is process-wide: call right after the failure.
    static func takeError() -> String {
        guard let buffer = vips_error_buffer_copy() else { return unknownError }
        defer { g_free(buffer) }
        let text = String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? unknownError : text
    }
}

/// A libvips failure, with libvips' own message.
struct VipsFailure: Error, CustomStringConvertible {
    let operation: String
    let message: String
    var description: String { "\(operation): \(message)" }
}

/// Process-wide libvips settings a host sets once.
public enum ImageEngine {
    static let requestedThreads = Atomic<Int>(0)

    /// Worker threads each libvips pipeline uses. libvips holds one setting for the process:
    /// the pipeline sets it from its job limit so that jobs x threads fit the cores. It takes
    /// effect when libvips starts (on the first image), so runs that never decode an image
    /// never load it.
    public static func setThreads(_ threads: Int) {
        requestedThreads.store(max(1, threads), ordering: .releasing)
        if Vips.isStarted.load(ordering: .acquiring) { vips_concurrency_set(Int32(max(1, threads))) }
    }

    /// The current setting (starts libvips).
    public static var threads: Int {
        Vips.start()
        return Int(vips_concurrency_get())
    }
}

extension ImageEngine {
    /// Whether this libvips has the operation `name` (a loader such as "heifload" or a saver
    /// such as "webpsave") and lets Kiln use it (untrusted loaders are blocked). Starts libvips.
    public static func hasOperation(_ name: String) -> Bool {
        Vips.start()
        return vips_type_find("VipsOperation", name) != 0
    }
}
