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
        // The most literal patterns that match win, as in the router (`/v1/media/{id}/urls`
        // over `/v1/media/{id}/{rendition}`).
        let matching = routes.filter { Self.matches($0.pattern, segments) }
        let fewest = matching.map { $0.pattern.filter(Self.isParameter).count }.min()
        let allowed = matching.filter { $0.pattern.filter(Self.isParameter).count == fewest }.map(\.method.rawValue)
        if allowed.isEmpty { return KilnError.notFoundResource("route \(method.rawValue) \(path)") }
        return KilnError.methodNotAllowed(method.rawValue, path: path, allowed: Array(Set(allowed)).sorted())
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func isParameter(_ segment: Substring) -> Bool { segment.hasPrefix("{") || segment.hasPrefix(":") }

    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        pattern.count == segments.count && zip(pattern, segments).allSatisfy { isParameter($0) || $0 == $1 }
    }
}
