/// A stable error code of the form `CATEGORY_NNN`. A published code never changes meaning.
public enum ErrorCode: String, CaseIterable, Codable, Sendable {
    case file001 = "FILE_001"
    case file002 = "FILE_002"
    case file003 = "FILE_003"
    case file004 = "FILE_004"
    case file005 = "FILE_005"
    case file006 = "FILE_006"
    case file007 = "FILE_007"
    case file008 = "FILE_008"
    case media001 = "MEDIA_001"
    case media002 = "MEDIA_002"
    case media003 = "MEDIA_003"
    case media004 = "MEDIA_004"
    case media005 = "MEDIA_005"
    case media006 = "MEDIA_006"
    case processing001 = "PROCESSING_001"
    case processing002 = "PROCESSING_002"
    case processing003 = "PROCESSING_003"
    case processing004 = "PROCESSING_004"
    case processing005 = "PROCESSING_005"
    case processing006 = "PROCESSING_006"
    case auth001 = "AUTH_001"
    case auth002 = "AUTH_002"
    case auth003 = "AUTH_003"
    case api001 = "API_001"
    case api002 = "API_002"
    case api003 = "API_003"
    case api004 = "API_004"
    case api005 = "API_005"
    case api006 = "API_006"
    case api007 = "API_007"
    case api008 = "API_008"
    case api009 = "API_009"
    case api010 = "API_010"

    /// The catalog entry: status, severity, retry policy, causes and solutions.
    public var entry: CatalogEntry { ErrorCatalog.entry(for: self) }
}

/// The family a code belongs to; it names the pipeline stage that failed.
public enum ErrorCategory: String, Codable, Sendable {
    case file = "FILE"
    case media = "MEDIA"
    case processing = "PROCESSING"
    case auth = "AUTH"
    case api = "API"
}

/// How bad an outcome is, for logs and dashboards.
public enum Severity: String, Codable, Sendable {
    case fatal = "FATAL"
    case error = "ERROR"
    case warn = "WARN"
    case info = "INFO"
}
