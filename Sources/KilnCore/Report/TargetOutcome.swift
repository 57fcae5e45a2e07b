/// What one target (a preset) of an upload came to: `accepted` as it came, `changed` to meet the
/// target (its warnings say how), or `rejected` with the code, and for a carousel the item that
/// failed. One target's failure loses no other target's items.
public struct TargetOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case accepted, changed, rejected }

    /// The carousel item a target was refused for: its place (from 0) and its name.
    public struct FailedItem: Codable, Sendable, Equatable {
        public let index: Int
        public let name: String

        public init(index: Int, name: String) {
            self.index = index
            self.name = name
        }
    }

    /// The preset's name.
    public let target: String
    /// The item made for the target; for a carousel, its items in order. Empty when rejected.
    public let items: [MediaItem]
    public let carousel: CarouselRecord?
    public let error: KilnError?
    public let failedItem: FailedItem?

    public init(target: String, items: [MediaItem], carousel: CarouselRecord? = nil) {
        self.target = target
        self.items = items
        self.carousel = carousel
        error = nil
        failedItem = nil
    }

    public init(target: String, error: KilnError, failedItem: FailedItem? = nil) {
        self.target = target
        items = []
        carousel = nil
        self.error = error
        self.failedItem = failedItem
    }

    public var status: Status {
        if error != nil { return .rejected }
        return warnings.isEmpty ? .accepted : .changed
    }

    /// What was changed to meet the target, every item's (a carousel's prefixed with the item's place).
    public var warnings: [String] {
        guard carousel != nil else { return items.first?.warnings ?? [] }
        return items.enumerated().flatMap { index, item in item.warnings.map { "item \(index): \($0)" } }
    }

    /// The same outcome with its error as a client is shown it (see `KilnError.shown`).
    public func shown(requestID: String) -> TargetOutcome {
        guard let error else { return self }
        return TargetOutcome(target: target, error: error.shown(requestID: requestID), failedItem: failedItem)
    }

    /// An outcome in a line (journals, batch reports): the target, its status, the item (or
    /// carousel) it made, the code it was refused with.
    public struct Brief: Codable, Sendable, Equatable {
        public let target: String
        public let status: Status
        public let mediaID: String?
        public let code: String?

        enum CodingKeys: String, CodingKey {
            case target, status, code
            case mediaID = "media_id"
        }
    }

    public var brief: Brief {
        Brief(target: target, status: status, mediaID: carousel?.id ?? items.first?.id, code: error?.code.rawValue)
    }

    /// The same outcome with its items as `present` shows them.
    public func presented(_ present: (MediaItem) -> MediaItem) -> TargetOutcome {
        guard error == nil else { return self }
        return TargetOutcome(target: target, items: items.map(present), carousel: carousel?.shown)
    }

    /// Whether all, some or none of a request's targets succeeded.
    public enum Tally: Sendable { case all, some, none }

    public static func tally(_ outcomes: [TargetOutcome]) -> Tally {
        let failed = outcomes.filter { $0.error != nil }.count
        return failed == 0 ? .all : failed == outcomes.count ? .none : .some
    }

    enum CodingKeys: String, CodingKey {
        case target, status, warnings, item, items, carousel, error
        case failedItem = "failed_item"
    }

    /// `{"target", "status", "warnings", "item"}`, or `"carousel"` and `"items"`, or `"error"`
    /// (and `"failed_item"`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(status, forKey: .status)
        try c.encode(warnings, forKey: .warnings)
        if let carousel {
            try c.encode(carousel, forKey: .carousel)
            try c.encode(items, forKey: .items)
        } else if let item = items.first {
            try c.encode(item, forKey: .item)
        }
        if let error { try c.encode(ErrorBody(error), forKey: .error) }
        try c.encodeIfPresent(failedItem, forKey: .failedItem)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        target = try c.decode(String.self, forKey: .target)
        carousel = try c.decodeIfPresent(CarouselRecord.self, forKey: .carousel)
        if carousel != nil {
            items = try c.decode([MediaItem].self, forKey: .items)
        } else {
            items = try c.decodeIfPresent(MediaItem.self, forKey: .item).map { [$0] } ?? []
        }
        error = try c.decodeIfPresent(KilnError.self, forKey: .error)
        failedItem = try c.decodeIfPresent(FailedItem.self, forKey: .failedItem)
    }
}
