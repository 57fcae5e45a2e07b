/// The `data` of a `kiln process` envelope: one outcome per input, and the carousel when there
/// is one; for a carousel made for several targets, one outcome per target.
public struct ProcessReport: Encodable, Sendable {
    public let items: [ItemOutcome]
    public let carousel: CarouselRecord?
    public let targets: [TargetOutcome]?

    public init(items: [ItemOutcome], carousel: CarouselRecord? = nil) {
        self.items = items
        self.carousel = carousel
        targets = nil
    }

    public init(targets: [TargetOutcome]) {
        items = []
        carousel = nil
        self.targets = targets
    }

    /// True only when every item succeeded, for every target.
    public var allSucceeded: Bool {
        items.allSatisfy(\.succeeded) && (targets ?? []).allSatisfy { $0.error == nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let targets {
            try c.encode(targets, forKey: .targets)
        } else {
            try c.encode(items, forKey: .items)
            try c.encodeIfPresent(carousel, forKey: .carousel)
        }
    }

    enum CodingKeys: String, CodingKey { case items, carousel, targets }
}

/// One input's result: the item, or its own error; or, for several targets, one outcome per target.
public struct ItemOutcome: Encodable, Sendable {
    public let input: String
    public let item: MediaItem?
    public let error: KilnError?
    public let targets: [TargetOutcome]?

    public static func success(_ item: MediaItem) -> ItemOutcome {
        ItemOutcome(input: item.input ?? item.id, item: item, error: nil, targets: nil)
    }

    public static func failure(_ input: String, _ error: KilnError) -> ItemOutcome {
        ItemOutcome(input: input, item: nil, error: error, targets: nil)
    }

    public static func targets(_ input: String, _ outcomes: [TargetOutcome]) -> ItemOutcome {
        ItemOutcome(input: input, item: nil, error: nil, targets: outcomes)
    }

    public var succeeded: Bool { error == nil && (targets ?? []).allSatisfy { $0.error == nil } }

    public func encode(to encoder: any Encoder) throws {
        if let item {
            try item.encode(to: encoder)
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        if let error { try c.encode(ErrorBody(error), forKey: .error) }
        try c.encodeIfPresent(targets, forKey: .targets)
    }

    enum CodingKeys: String, CodingKey { case input, error, targets }
}

/// A carousel: its id (hash of its items' ids, in order) and its items' ids.
public struct CarouselRecord: Codable, Sendable, Equatable {
    public let id: String
    public let preset: String
    public let items: [String]
    /// The tenant it was made for (the server's uploads), as its items' options say.
    public let tenant: String?
    public var location: String?

    public init(id: String, preset: String, items: [String], tenant: String? = nil, location: String? = nil) {
        self.id = id
        self.preset = preset
        self.items = items
        self.tenant = tenant
        self.location = location
    }

    /// The record as a client of a server is shown it: no server path (an absolute location is
    /// where the server keeps it, not something a client can use).
    public var shown: CarouselRecord {
        var shown = self
        if shown.location?.hasPrefix("/") == true { shown.location = nil }
        return shown
    }
}
