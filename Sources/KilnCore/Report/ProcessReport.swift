/// The `data` of a `kiln process` envelope: one outcome per input, and the carousel when there is one.
public struct ProcessReport: Encodable, Sendable {
    public let items: [ItemOutcome]
    public let carousel: CarouselRecord?

    public init(items: [ItemOutcome], carousel: CarouselRecord? = nil) {
        self.items = items
        self.carousel = carousel
    }

    /// True only when every item succeeded.
    public var allSucceeded: Bool { items.allSatisfy { $0.error == nil } }
}

/// One input's result: the item, or its own error.
public struct ItemOutcome: Encodable, Sendable {
    public let input: String
    public let item: MediaItem?
    public let error: KilnError?

    public static func success(_ item: MediaItem) -> ItemOutcome {
        ItemOutcome(input: item.input ?? item.id, item: item, error: nil)
    }

    public static func failure(_ input: String, _ error: KilnError) -> ItemOutcome {
        ItemOutcome(input: input, item: nil, error: error)
    }

    public func encode(to encoder: any Encoder) throws {
        if let item {
            try item.encode(to: encoder)
        } else if let error {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(ErrorBody(error), forKey: .error)
        }
    }

    enum CodingKeys: String, CodingKey { case input, error }
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
}
