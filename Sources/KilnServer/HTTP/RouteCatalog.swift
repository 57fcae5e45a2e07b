import HTTPTypes
import KilnCore

/// The routes the server answers, kept to tell an unknown path (API_002) from a known path
/// asked with the wrong method (API_003, with `Allow`).
struct RouteCatalog: Sendable {
    private(set) var routes: [(method: HTTPRequest.Method, pattern: [Substring])] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String) {
        routes.append((method, Self.segments(path)))
    }

    /// The error for a request no route took.
    func unmatched(method: HTTPRequest.Method, path: String) -> KilnError {
        let segments = Self.segments(path)
        let allowed = routes.filter { Self.matches($0.pattern, segments) }.map(\.method.rawValue)
        if allowed.isEmpty { return KilnError.notFoundResource("route \(method.rawValue) \(path)") }
        return KilnError.methodNotAllowed(method.rawValue, path: path, allowed: Array(Set(allowed)).sorted())
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        pattern.count == segments.count
            && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0.hasPrefix(":") || $0 == $1 }
    }
}
