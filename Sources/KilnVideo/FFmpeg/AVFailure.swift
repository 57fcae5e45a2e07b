import CFFmpeg

/// An FFmpeg call that failed: the call's name, its error code and FFmpeg's text for it.
struct AVFailure: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    let message: String

    init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
        message = Self.text(code)
    }

    init(_ operation: String, message: String) {
        self.operation = operation
        code = kiln_averror(EINVAL)
        self.message = message
    }

    var description: String { "\(operation): \(message)" }

    /// True when the interrupt callback stopped the call (deadline or cancellation).
    var wasInterrupted: Bool { code == kiln_averror_exit() }

    /// `av_err2str`, which Swift cannot import.
    static func text(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        guard ff.av_strerror(code, &buffer, buffer.count) == 0 else { return "FFmpeg error \(code)" }
        return string(from: buffer)
    }
}

/// The text in a NUL-terminated C buffer that FFmpeg filled.
func string(from buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Throws an `AVFailure` for a negative FFmpeg return code; returns the code otherwise.
@discardableResult
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(AVFailure) -> Int32 {
    if code < 0 { throw AVFailure(operation(), code: code) }
    return code
}

/// A string FFmpeg returned (a codec or format name), or "unknown" for none.
func text(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? "unknown"
}
