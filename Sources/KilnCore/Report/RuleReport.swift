/// What `kiln check` says of one file: each rule of the preset, the measured value, the limit
/// and the verdict. The same verdicts the output check holds every rendition to.
public struct RuleReport: Encodable, Sendable, Equatable {
    public var input: String
    public var mime: String
    public var preset: String
    /// `preset@digest`: which version of the rules was applied.
    public var rules: String
    public var verdicts: [RuleVerdict]

    public var passed: Bool { !verdicts.contains(where: \.fails) }

    public init(input: String, mime: String, preset: String, rules: String, verdicts: [RuleVerdict]) {
        self.input = input
        self.mime = mime
        self.preset = preset
        self.rules = rules
        self.verdicts = verdicts
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(mime, forKey: .mime)
        try c.encode(preset, forKey: .preset)
        try c.encode(rules, forKey: .rules)
        try c.encode(passed, forKey: .passed)
        try c.encode(verdicts, forKey: .verdicts)
    }

    enum CodingKeys: String, CodingKey { case input, mime, preset, rules, passed, verdicts }
}
