import KilnCore

/// What a client chooses for one upload, whichever front end it came through (form fields, the
/// query, tus metadata, a queued job's row): `preset` or `targets`, `type`, `fit`,
/// `fit_duration` and `limits`. The one spelling of these options: read from text by `set`,
/// stored as JSON (a job's row keeps these keys at its top level), made into the engine's
/// `IngestOptions` by `ingestOptions`.
public struct UploadOptions: Codable, Sendable, Equatable {
    /// The names `set` takes, in the order they are written.
    public static let fields = ["preset", "targets", "type", "fit", "fit_duration", "focus", "limits"]

    public var preset: String
    /// Several presets for one upload (`targets=a,b,c`): the answer is one outcome per target.
    public var targets: [String]?
    public var type: DeclaredType
    public var fit: Fit
    public var fitDuration: DurationFit
    /// Where a crop keeps the subject.
    public var focus: Focus
    /// Each target's account limits.
    public var limits: [String: AccountLimits]

    /// The presets the upload is for.
    public var names: [String] { targets ?? [preset] }

    /// The choices `base` makes (a server's or a command's defaults), for `targets` when given.
    public init(base: IngestOptions, targets: [String]? = nil) {
        self.targets = targets
        preset = base.preset
        type = base.type
        fit = base.fit
        fitDuration = base.fitDuration
        focus = base.focus
        limits = base.limits
    }

    /// `base` with these choices, made for `tenant`.
    public func ingestOptions(base: IngestOptions, tenant: String?) -> IngestOptions {
        var options = base
        options.preset = preset
        options.type = type
        options.fit = fit
        options.fitDuration = fitDuration
        options.focus = focus
        options.limits = limits
        options.tenant = tenant
        return options
    }

    /// One option from text; API_001 naming the field for a value Kiln does not take, and for
    /// a name that is not an option.
    public mutating func set(_ name: String, _ value: String, presets: PresetCatalog) throws(KilnError) {
        switch name {
        case "preset":
            guard presets.presets[value] != nil else {
                throw KilnError.invalidRequest("there is no preset \"\(value)\"",
                                               fields: ["preset": "one of \(presets.names.joined(separator: ", "))"])
            }
            preset = value
        case "targets":
            let names = IngestRequest.targets(value)
            let unknown = names.filter { presets.presets[$0] == nil }
            guard !names.isEmpty, unknown.isEmpty else {
                throw KilnError.invalidRequest(names.isEmpty ? "targets names no preset" : "there is no preset \"\(unknown[0])\"",
                                               fields: ["targets": "a comma-separated list of \(presets.names.joined(separator: ", "))"])
            }
            targets = names
        case "type": type = try Self.choice(name, value)
        case "fit": fit = try Self.choice(name, value)
        case "fit_duration": fitDuration = try Self.choice(name, value)
        case "focus":
            guard let point = Focus(value) else {
                throw KilnError.invalidRequest("focus \"\(value)\" is not auto, center or a point x,y with each in 0-1",
                                               fields: ["focus": "auto|center|x,y (0-1 of the picture, from its top left)"])
            }
            focus = point
        case "limits": limits = try AccountLimits.parse(value)
        default:
            throw KilnError.invalidRequest("unknown field \"\(name)\"",
                                           fields: [name: "unknown; the fields are file, \(Self.fields.joined(separator: ", "))"])
        }
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ value: String) throws(KilnError) -> T
        where T.RawValue == String
    {
        guard let choice = T(rawValue: value) else {
            throw KilnError.invalidRequest("\(name) \"\(value)\" is not one Kiln knows",
                                           fields: [name: T.allCases.map(\.rawValue).joined(separator: "|")])
        }
        return choice
    }

    /// The options as lines of text, in a fixed order (what an `Idempotency-Key` compares);
    /// defaults that did not exist when a digest was first kept are left out.
    public var canonicalLines: [String] {
        ["preset=\(preset)", "type=\(type.rawValue)", "fit=\(fit.rawValue)"]
            + (fitDuration == .trim ? ["fit_duration=trim"] : [])
            + (focus == .auto ? [] : ["focus=\(focus)"])
            + (AccountLimits.canonical(limits).map { ["limits=" + $0] } ?? [])
            + (targets.map { ["targets=" + $0.joined(separator: ",")] } ?? [])
    }

    // Rows written before `fit_duration` and `limits` existed have neither.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preset = try c.decode(String.self, forKey: .preset)
        targets = try c.decodeIfPresent([String].self, forKey: .targets)
        type = try c.decode(DeclaredType.self, forKey: .type)
        fit = try c.decode(Fit.self, forKey: .fit)
        fitDuration = try c.decodeIfPresent(DurationFit.self, forKey: .fitDuration) ?? .reject
        focus = try c.decodeIfPresent(Focus.self, forKey: .focus) ?? .auto
        limits = try c.decodeIfPresent([String: AccountLimits].self, forKey: .limits) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(preset, forKey: .preset)
        try c.encodeIfPresent(targets, forKey: .targets)
        try c.encode(type, forKey: .type)
        try c.encode(fit, forKey: .fit)
        if fitDuration != .reject { try c.encode(fitDuration, forKey: .fitDuration) }
        if focus != .auto { try c.encode(focus, forKey: .focus) }
        if !limits.isEmpty { try c.encode(limits, forKey: .limits) }
    }

    enum CodingKeys: String, CodingKey {
        case preset, targets, type, fit, limits, focus
        case fitDuration = "fit_duration"
    }
}
