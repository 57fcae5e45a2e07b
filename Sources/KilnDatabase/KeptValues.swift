import Foundation
import KilnCore

/// Values a server makes once and every node must then share (the secret that signs fetch
/// URLs): the first to ask makes it, everyone after reads the same.
public protocol KeptValueStore: Sendable {
    /// The value kept under `name`, made by `make` (and kept) when there is none yet. Two nodes
    /// asking at once both get the one that was kept.
    func value(_ name: String, making make: @escaping @Sendable () throws(KilnError) -> String) async throws(KilnError) -> String
}
