import Foundation

/// Where the subject is, for a crop that must drop part of the picture: `auto` (libvips'
/// attention measure for images; the centre for video until it follows the subject), `center`,
/// or a point `x,y` in 0-1 of the source as displayed (0,0 its top left), as publishing tools
/// let a person pick it. A crop keeps the point inside its window, as near its centre as the
/// source allows.
public enum Focus: Hashable, Sendable, Codable, CustomStringConvertible {
    case auto
    case center
    case point(x: Double, y: Double)

    /// `auto`, `center`, or `x,y` with each in 0-1; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "center", "centre": self = .center
        default:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, let x = Double(parts[0].trimmingCharacters(in: .whitespaces)),
                  let y = Double(parts[1].trimmingCharacters(in: .whitespaces)),
                  (0...1).contains(x), (0...1).contains(y) else { return nil }
            self = .point(x: x, y: y)
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .center: "center"
        case .point(let x, let y): "\(Self.format(x)),\(Self.format(y))"
        }
    }

    /// The left (or top) edge of a window `window` long that keeps this focus's coordinate
    /// `at` (0-1) of a side `side` long inside it, as near its centre as the side allows.
    public static func origin(keeping at: Double, window: Int, side: Int) -> Int {
        let start = (at * Double(side) - Double(window) / 2).rounded()
        return Int(min(max(0, start), Double(max(0, side - window))))
    }

    private static func format(_ value: Double) -> String {
        let text = String(format: "%.4f", value)
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let focus = Focus(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "focus is auto, center or x,y in 0-1"))
        }
        self = focus
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
