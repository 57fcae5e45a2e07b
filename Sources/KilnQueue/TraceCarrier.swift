import Foundation
import Tracing

/// A trace context as W3C text (`traceparent`, `tracestate`), for what crosses a process: a job
/// through the queue to a worker, a webhook delivery through the outbox. Empty without a tracer.
public enum TraceCarrier {
    struct Writer: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    struct Reader: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    /// The current context's carrier, or nil (no trace, or no tracer).
    public static func current() -> [String: String]? { carrier(ServiceContext.current) }

    public static func carrier(_ context: ServiceContext?) -> [String: String]? {
        guard let context else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: Writer())
        return carrier.isEmpty ? nil : carrier
    }

    /// The context a carrier names, to start child spans in (top level without one).
    public static func context(_ carrier: [String: String]?) -> ServiceContext {
        var context = ServiceContext.topLevel
        if let carrier { InstrumentationSystem.instrument.extract(carrier, into: &context, using: Reader()) }
        return context
    }

    /// As stored beside a webhook delivery: JSON text.
    public static func text(_ carrier: [String: String]?) -> String? {
        carrier.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    public static func carrier(text: String?) -> [String: String]? {
        text.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
    }
}
