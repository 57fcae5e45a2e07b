import KilnCore
import KilnPipeline
import MultipartKit
import NIOCore

/// Reads a `multipart/form-data` body as it arrives, part by part, without holding it: small
/// fields come back as text, a file part as a stream of byte chunks (one per network chunk)
/// that the engine's receiver pulls. multipart-kit's parser is push-based and synchronous, so
/// its callbacks queue events that the async side drains after each chunk.
///
/// Anything malformed or cut short is FILE_001: a body that ends inside a part, without the
/// closing boundary (the parser has no end-of-input call, so the reader checks the last
/// bytes itself), or with part headers longer than `maxHeaderBytes`.
final class MultipartReader<Body: AsyncIteratorProtocol> where Body.Element == ByteBuffer {
    struct Part {
        let name: String
        let filename: String?
        let contentType: String?
    }

    static var maxHeaderBytes: Int { 16 << 10 }

    private var body: Body
    private let parser: MultipartParser
    private var names: HeaderNameGuard
    private let events = EventQueue()
    private let closing: [UInt8]
    private var tail: [UInt8] = []
    private var ended = false
    /// Bytes read since the parser last produced part content (caps header size).
    private var bytesWithoutContent = 0
    /// The body's bytes read so far.
    private(set) var bytesRead = 0
    /// The most the body may carry once the request's preset is known (a chunked body too).
    var limit: Int64?

    init(boundary: String, body: Body) {
        self.body = body
        parser = MultipartParser(boundary: boundary)
        names = HeaderNameGuard(boundary: boundary)
        closing = Array("--\(boundary)--".utf8)
        let events = events
        parser.onHeader = { name, value in events.append(.header(name, value)) }
        parser.onBody = { buffer in events.appendBody(buffer.readableBytesView) }
        parser.onPartComplete = { events.append(.end) }
    }

    /// The next part's headers, or nil after the last part (the closing boundary checked).
    func nextPart() async throws(KilnError) -> Part? {
        var headers: [String: String] = [:]
        while true {
            guard let event = try await peek() else {
                guard headers.isEmpty, tail.firstRange(of: closing) != nil else {
                    throw KilnError.uploadFailed("the multipart body ended before its closing boundary; send the whole request again")
                }
                return nil
            }
            switch event {
            case .header(let name, let value):
                events.removeFirst()
                headers[name.lowercased()] = value
            case .body, .end:
                guard let disposition = headers["content-disposition"], let parsed = Self.disposition(disposition),
                      let name = parsed.name
                else {
                    throw KilnError.uploadFailed("a multipart part has no Content-Disposition form-data name; name every part")
                }
                return Part(name: name, filename: parsed.filename, contentType: headers["content-type"])
            }
        }
    }

    /// The current part's content as text, at most `limit` bytes (FILE_001 past it).
    /// The current part as text; nil when it is over `limit` bytes (no field is that long: it is
    /// more likely a file under the wrong name).
    func text(limit: Int) async throws(KilnError) -> String? {
        var bytes: [UInt8] = []
        while let chunk = try await nextChunk() {
            bytes.append(contentsOf: chunk)
            guard bytes.count <= limit else { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads and drops the rest of the current part.
    func skip() async throws(KilnError) { while try await nextChunk() != nil {} }

    /// The current part's content as it arrives; a body that ends inside it is FILE_001.
    func content() -> Content { Content(reader: self) }

    struct Content: AsyncSequence {
        typealias Element = [UInt8]
        let reader: MultipartReader

        struct AsyncIterator: AsyncIteratorProtocol {
            let reader: MultipartReader
            mutating func next() async throws -> [UInt8]? { try await reader.nextChunk() }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
    }

    /// The next piece of the current part, or nil at its end.
    private func nextChunk() async throws(KilnError) -> [UInt8]? {
        guard let event = try await peek() else {
            throw KilnError.uploadFailed("the upload ended in the middle of a part; send the whole file again")
        }
        events.removeFirst()
        switch event {
        case .body(let bytes): return bytes
        case .end: return nil
        case .header: throw KilnError.uploadFailed("the multipart body is malformed (headers inside a part)")
        }
    }

    private func peek() async throws(KilnError) -> Event? {
        while events.isEmpty {
            guard !ended else { return nil }
            let chunk: ByteBuffer?
            do {
                chunk = try await body.next()
            } catch {
                throw KilnError.uploadFailed("the upload was interrupted (\(error)); send it again")
            }
            guard let chunk else {
                ended = true
                continue
            }
            bytesRead += chunk.readableBytes
            if let limit { try IntakeLimits.check(Int64(bytesRead), within: limit) }
            remember(chunk)
            // multipart-kit 4.7.1 indexes a 128-entry table with a header name's bytes: one at 0x80
            // or above crashes the process. Refused here before the parser sees it.
            guard chunk.readableBytesView.withContiguousStorageIfAvailable({ names.scan($0) }) ?? names.scan(Array(chunk.readableBytesView)) else {
                throw KilnError.uploadFailed("a multipart part header's name is not ASCII; name header fields in ASCII")
            }
            do { try parser.execute(chunk) } catch {
                throw KilnError.uploadFailed("the multipart body is malformed; check the boundary and the part headers")
            }
            events.flushBody()
            if events.hasContent { bytesWithoutContent = 0 } else { bytesWithoutContent += chunk.readableBytes }
            guard bytesWithoutContent <= Self.maxHeaderBytes else {
                throw KilnError.uploadFailed("multipart part headers are over \(Self.maxHeaderBytes / 1024) KiB")
            }
        }
        return events.first
    }

    /// Keeps the last bytes of the body, where the closing boundary must be.
    private func remember(_ chunk: ByteBuffer) {
        let keep = closing.count + 8
        tail.append(contentsOf: chunk.readableBytesView.suffix(keep))
        if tail.count > keep { tail.removeFirst(tail.count - keep) }
    }

    /// `form-data; name="file"; filename="a.jpg"` -> ("file", "a.jpg").
    static func disposition(_ value: String) -> (name: String?, filename: String?)? {
        var fields: [String: String] = [:]
        var items = [String]()
        var current = ""
        var quoted = false
        for character in value {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        guard items.first?.trimmingCharacters(in: .whitespaces).lowercased() == "form-data" else { return nil }
        for item in items.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var text = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
            fields[key] = text
        }
        return (fields["name"], fields["filename"])
    }
}

enum Event {
    case header(String, String)
    case body([UInt8])
    case end
}

/// The parser's events in order; body bytes between two other events are gathered into one.
final class EventQueue {
    private var items: [Event] = []
    private var head = 0
    private var pending: [UInt8] = []
    /// Whether the last chunk produced body bytes or a part end.
    private(set) var hasContent = false

    var isEmpty: Bool { head == items.count }
    var first: Event? { isEmpty ? nil : items[head] }

    func append(_ event: Event) {
        flushBody()
        if case .end = event { hasContent = true }
        items.append(event)
    }

    func appendBody(_ bytes: ByteBufferView) { pending.append(contentsOf: bytes) }

    func flushBody() {
        guard !pending.isEmpty else { return }
        hasContent = true
        items.append(.body(pending))
        pending = []
    }

    func removeFirst() {
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
            hasContent = false
        }
    }
}

/// Follows a multipart body as multipart-kit's parser reads it, byte for byte and across
/// chunks (its preamble, a part's header lines, its content, the delimiter that ends it), to
/// say whether a byte the parser would read as part of a header *name* is at 0x80 or above:
/// multipart-kit 4.7.1 looks such a byte up in a 128-entry table and the process dies. Where the
/// parser would stop on a syntax error this stops too (the parser's own error answers then).
struct HeaderNameGuard {
    private enum State: Equatable {
        case preamble(Int), crlf(expectingLF: Bool), name(empty: Bool), value, valueEnd, headersEnd, body, delimiter(Int)
        case done
    }

    /// What ends a part: CRLF, `--`, the boundary (the parser's own delimiter).
    private let delimiter: [UInt8]
    private var state = State.preamble(0)

    init(boundary: String) { delimiter = Array("\r\n--\(boundary)".utf8) }

    /// False when a header name in `bytes` holds a byte of 0x80 or above.
    mutating func scan(_ bytes: some Sequence<UInt8>) -> Bool {
        let (cr, lf, colon) = (UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ":"))
        for byte in bytes {
            switch state {
            case .preamble(let at):
                // The first delimiter may come without its CRLF; a mismatch starts over.
                let next = at == 0 && byte == delimiter[2] ? 3 : byte == delimiter[at] ? at + 1 : at > 0 && byte == delimiter[0] ? 1 : 0
                state = next >= delimiter.count ? .crlf(expectingLF: false) : .preamble(next)
            case .crlf(let expectingLF):
                if !expectingLF && byte == cr { state = .crlf(expectingLF: true) } else if expectingLF && byte == lf {
                    state = .name(empty: true)
                } else { state = .done }
            case .name(let empty):
                if byte == colon && !empty { state = .value } else if byte == cr && empty { state = .headersEnd } else if byte >= 0x80 {
                    return false
                } else { state = .name(empty: false) }
            case .value: if byte == cr { state = .valueEnd }
            case .valueEnd: state = byte == lf ? .name(empty: true) : .done
            case .headersEnd: state = byte == lf ? .body : .done
            case .body: if byte == delimiter[0] { state = .delimiter(1) }
            case .delimiter(let at):
                if at >= delimiter.count {
                    state = byte == cr ? .crlf(expectingLF: true) : .done
                } else if byte == delimiter[at] {
                    state = .delimiter(at + 1)
                } else {
                    state = byte == delimiter[0] ? .delimiter(1) : .body
                }
            case .done:
                return true
            }
        }
        return true
    }
}
