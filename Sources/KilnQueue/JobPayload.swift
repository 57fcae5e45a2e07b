import Foundation
import KilnCore
import KilnDatabase
import KilnPipeline

/// What a queued job does, as stored in its row: the received files, the upload's options and
/// whose it is. A file is kept under `<data>/jobs/<job id>/` (`path`) for the embedded queue, or
/// handed off in the store (`key`, under `.kiln-incoming/`) for a shared queue, whose worker
/// may run on another machine. The options are written at the row's top level, beside the
/// rest (as rows written before `UploadOptions` have them).
public struct JobPayload: Codable, Sendable {
    public struct Input: Codable, Sendable {
        public let path: String?
        public let key: String?
        public let name: String
    }

    public let inputs: [Input]
    public let carousel: Bool
    public let options: UploadOptions
    public let keyID: String?
    /// The tenant of that key, whose the job and its media are. Jobs queued before tenants have
    /// none: their key's id names its tenant (`SQLiteKeyStore.migrateTenants`).
    public let tenant: String?
    /// The upload's request id: a job that fails for Kiln's own fault is logged with it.
    public let requestID: String?
    /// The upload's trace (W3C `traceparent`): the worker's spans and the job's webhook join it.
    public let trace: [String: String]?

    public var owner: String? { tenant ?? keyID }

    init(inputs: [Input], carousel: Bool, options: UploadOptions, keyID: String?, tenant: String?, requestID: String?,
         trace: [String: String]?) {
        self.inputs = inputs
        self.carousel = carousel
        self.options = options
        self.keyID = keyID
        self.tenant = tenant
        self.requestID = requestID
        self.trace = trace
    }

    /// The tenant whose job `record` is, read on its own: a job whose work cannot be read still
    /// answers its tenant (with API_005). Nil when not even that can be read.
    public static func owner(of record: JobRecord) -> String? {
        struct Owner: Decodable {
            let tenant: String?
            let keyID: String?
            enum CodingKeys: String, CodingKey { case tenant, keyID = "key_id" }
        }
        return (try? JSONDecoder().decode(Owner.self, from: record.payload)).flatMap { $0.tenant ?? $0.keyID }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputs = try c.decode([Input].self, forKey: .inputs)
        carousel = try c.decode(Bool.self, forKey: .carousel)
        options = try UploadOptions(from: decoder)
        keyID = try c.decodeIfPresent(String.self, forKey: .keyID)
        tenant = try c.decodeIfPresent(String.self, forKey: .tenant)
        requestID = try c.decodeIfPresent(String.self, forKey: .requestID)
        trace = try c.decodeIfPresent([String: String].self, forKey: .trace)
    }

    public func encode(to encoder: any Encoder) throws {
        try options.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(carousel, forKey: .carousel)
        try c.encodeIfPresent(keyID, forKey: .keyID)
        try c.encodeIfPresent(tenant, forKey: .tenant)
        try c.encodeIfPresent(requestID, forKey: .requestID)
        try c.encodeIfPresent(trace, forKey: .trace)
    }

    enum CodingKeys: String, CodingKey {
        case inputs, carousel, tenant, trace
        case keyID = "key_id", requestID = "request_id"
    }
}

/// What a job (or an upload processed at once) made: one item, a carousel with its items, or
/// one outcome per target. Stored in a job's row as the item itself, `{carousel, items}` or
/// `{targets}`; which one a row holds is read from its keys (an item has neither).
public enum JobResult: Codable, Sendable {
    case item(MediaItem)
    case carousel(CarouselRecord, items: [MediaItem])
    case targets([TargetOutcome])

    /// The same result with its items shown through `show` (addresses made on read, say).
    public func map(_ show: (MediaItem) -> MediaItem) -> JobResult {
        switch self {
        case .item(let item): .item(show(item))
        case .carousel(let record, let items): .carousel(record, items: items.map(show))
        case .targets(let outcomes): .targets(outcomes.map { $0.presented(show) })
        }
    }

    /// The one item made (a request for one target and one file).
    public func item() throws(KilnError) -> MediaItem {
        guard case .item(let item) = self else { throw KilnError.internalError("the result is not one item") }
        return item
    }

    /// The carousel made and its items (a carousel request for one target).
    public func carousel() throws(KilnError) -> (carousel: CarouselRecord, items: [MediaItem]) {
        guard case .carousel(let record, let items) = self else { throw KilnError.internalError("the result is not a carousel") }
        return (record, items)
    }

    /// What was made, target by target.
    public var outcomes: [TargetOutcome] {
        switch self {
        case .item(let item): [TargetOutcome(target: item.preset, items: [item])]
        case .carousel(let record, let items): [TargetOutcome(target: record.preset, items: items, carousel: record)]
        case .targets(let outcomes): outcomes
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.targets) {
            self = .targets(try c.decode([TargetOutcome].self, forKey: .targets))
        } else if c.contains(.carousel) {
            self = .carousel(try c.decode(CarouselRecord.self, forKey: .carousel), items: try c.decode([MediaItem].self, forKey: .items))
        } else {
            self = .item(try MediaItem(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .item(let item): try item.encode(to: encoder)
        case .carousel(let record, let items):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(record.shown, forKey: .carousel)
            try c.encode(items, forKey: .items)
        case .targets(let outcomes):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(outcomes, forKey: .targets)
        }
    }

    enum CodingKeys: String, CodingKey { case targets, carousel, items }
}
