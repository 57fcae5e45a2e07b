import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces (swift-otel), exported by OTLP/HTTP to the endpoint the standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) names, with the
/// other `OTEL_*` variables as the specification reads them; off when neither is set.
enum Telemetry {
    /// Bootstraps the tracer once; the exporter's service to run beside the process's own, or
    /// nil when tracing is off.
    static func start(service: String) throws -> (any Service)? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
        else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service  // OTEL_SERVICE_NAME still wins
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }

    /// A logger whose lines carry the trace and span ids of the span they are logged in.
    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label, metadataProvider: OTel.makeLoggingMetadataProvider())
        logger.logLevel = .info
        return logger
    }
}
