import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a key's webhook from reaching inside the network Kiln runs in (SSRF). The endpoint's
/// name is resolved once, every address it has is checked (loopback, private, link-local,
/// shared, multicast, unspecified, and the IPv6 forms that carry an IPv4 address: ::/96, NAT64,
/// 6to4, Teredo, site-local), a name that does not resolve is refused, and the delivery then
/// connects to the address that was checked (with the name as Host and TLS name): a name that
/// answers otherwise the second time (DNS rebinding) changes nothing. Resolution runs on threads
/// of its own, a few at a time and for a few seconds at most, never on the cooperative pool.
/// The operator's own `--webhook` is trusted; `--webhook-allow-private` allows internal
/// endpoints for keys too.
public enum EndpointGuard {
    /// What a delivery to an endpoint may do.
    public enum Verdict: Sendable, Equatable {
        /// Every address is public: connect to `address` (one of them) for `host`.
        case allowed(host: String, address: String)
        /// The host is or resolves to an internal address.
        case internalAddress(String)
        /// No address (or no answer in time): nothing is sent.
        case unresolved(String)

        /// Why a delivery is refused, in words; nil when it is allowed.
        public var refusal: String? {
            switch self {
            case .allowed: nil
            case .internalAddress(let address): "reaches the internal address \(address)"
            case .unresolved(let host): "\(host) does not resolve"
            }
        }
    }

    /// At most this many names are resolved at once (a resolver that hangs holds one each).
    static let resolvers = ResolverSlots(count: 4)
    /// How long a name may take to resolve before the delivery is refused (and tried later).
    public static let resolveTimeout: Duration = .seconds(5)

    /// The verdict on `url`'s host, resolved off the cooperative pool.
    public static func vet(_ url: String, timeout: Duration = resolveTimeout,
                           resolve: @escaping @Sendable (String) -> [[UInt8]]? = addresses(of:)) async -> Verdict {
        guard let host = host(of: url) else { return .unresolved(url) }
        let addresses = await resolvers.run(timeout: timeout) { resolve(host) } ?? nil
        return verdict(host: host, addresses: addresses)
    }

    /// The same, blocking: for the command line (`kiln keys webhook`), never for the server.
    public static func vetBlocking(_ url: String) -> Verdict {
        guard let host = host(of: url) else { return .unresolved(url) }
        return verdict(host: host, addresses: addresses(of: host))
    }

    static func verdict(host: String, addresses: [[UInt8]]?) -> Verdict {
        guard let addresses, !addresses.isEmpty else { return .unresolved(host) }
        if let inside = addresses.first(where: isInternal) { return .internalAddress(text(inside)) }
        return .allowed(host: host, address: text(addresses[0]))
    }

    /// A URL's host without IPv6 brackets.
    static func host(of url: String) -> String? {
        guard let host = URL(string: url)?.host, !host.isEmpty else { return nil }
        return host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Every IPv4 (4 bytes) and IPv6 (16 bytes) address `host` resolves to (a literal: itself);
    /// nil when it does not resolve. Blocks: call it off the cooperative pool.
    @Sendable public static func addresses(of host: String) -> [[UInt8]]? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var found: [[UInt8]] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    found.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }
                    })
                } else if current.pointee.ai_family == AF_INET6 {
                    found.append(address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                    })
                }
            }
            entry = current.pointee.ai_next
        }
        return found
    }

    /// Whether an IPv4 (4 bytes) or IPv6 (16 bytes) address is not on the public internet.
    public static func isInternal(_ b: [UInt8]) -> Bool {
        if b.count == 4 {
            return b[0] == 0 || b[0] == 10 || b[0] == 127                 // this network, private, loopback
                || (b[0] == 100 && (64...127).contains(b[1]))              // shared (carrier-grade NAT)
                || (b[0] == 169 && b[1] == 254)                            // link-local (cloud metadata)
                || (b[0] == 172 && (16...31).contains(b[1]))               // private
                || (b[0] == 192 && b[1] == 168)                            // private
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)                 // IETF protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19))             // benchmarking
                || b[0] >= 224                                             // multicast, reserved, broadcast
        }
        guard b.count == 16 else { return true }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
            return isInternal(Array(b[12..<16]))                           // IPv4-mapped
        }
        // Forms that carry (or reach) an IPv4 address or a local network: refused whole.
        return b[0..<12].allSatisfy({ $0 == 0 })                           // ::/96 (::, ::1, IPv4-compatible)
            || b[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] // NAT64 64:ff9b::/96
            || b[0..<6] == [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01]            // local NAT64 64:ff9b:1::/48
            || (b[0] == 0x20 && b[1] == 0x02)                              // 6to4 2002::/16
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)    // Teredo 2001::/32
            || (b[0] & 0xfe) == 0xfc                                       // unique local fc00::/7
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)                     // link-local fe80::/10
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)                     // site-local fec0::/10
            || b[0] == 0xff                                                // multicast
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // documentation
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A few threads of their own for blocking work that may hang (a resolver that never answers):
/// at most `count` at once, and a caller waits `timeout` at most, for a slot and for the work.
/// A thread stuck in the work keeps its slot until the work returns, so a hanging resolver
/// costs `count` threads at most, never the cooperative pool's.
final class ResolverSlots: Sendable {
    private let count: Int
    private let busy = Mutex(0)
    private let queue = DispatchQueue(label: "kiln.resolver", attributes: .concurrent)

    init(count: Int) { self.count = count }

    /// `work`'s answer, or nil when no slot came free or the work did not answer in `timeout`.
    func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () -> T) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while !busy.withLock({ taken in
            guard taken < count else { return false }
            taken += 1
            return true
        }) {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let answer = Mutex<CheckedContinuation<T?, Never>?>(nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            answer.withLock { $0 = continuation }
            queue.async {
                let value = work()
                self.busy.withLock { $0 -= 1 }
                answer.withLock { $0.take() }?.resume(returning: value)
            }
            let left = deadline - ContinuousClock.now
            let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
                answer.withLock { $0.take() }?.resume(returning: nil)
            }
        }
    }
}
