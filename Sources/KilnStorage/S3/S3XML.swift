/// A minimal reader for the XML S3 answers with: elements, text and the five standard entities.
/// Enough for error bodies, upload ids and listings, without an XML library.
enum S3XML {
    /// Every element's text, in document order, with its path ("ListBucketResult/Contents/Key").
    static func leaves(_ bytes: [UInt8]) -> [(path: String, text: String)] {
        var leaves: [(String, String)] = []
        var stack: [String] = []
        var text: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { break }
                let tag = bytes[(index + 1)..<end]
                if tag.first == UInt8(ascii: "/") {
                    if !stack.isEmpty {
                        leaves.append((stack.joined(separator: "/"), unescape(text)))
                        stack.removeLast()
                    }
                } else if tag.first != UInt8(ascii: "?") && tag.first != UInt8(ascii: "!") {
                    let name = String(decoding: tag.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "/") }, as: UTF8.self)
                    if tag.last != UInt8(ascii: "/") { stack.append(name) }
                }
                text.removeAll(keepingCapacity: true)
                index = end + 1
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
        return leaves
    }

    /// The first text at `path`.
    static func value(_ path: String, in bytes: [UInt8]) -> String? {
        leaves(bytes).first { $0.path == path }?.text
    }

    private static func unescape(_ bytes: [UInt8]) -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("&") else { return text }
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&#13;", "\r"),
                                    ("&#10;", "\n"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    /// Escapes text for an XML body (object keys are not ours to trust).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
