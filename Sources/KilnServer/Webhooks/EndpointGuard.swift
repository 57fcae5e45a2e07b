import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a key's webhook from reaching inside the network Kiln runs in (SSRF): an endpoint whose
/// host is, or resolves to, a loopback, private, link-local, shared, multicast or unspecified
/// address is refused when it is set and again at each delivery (a name may be pointed
/// elsewhere after it was set). The operator's own `--webhook` is trusted, and an operator may
/// allow internal endpoints for keys too (`--webhook-allow-private`).
public enum EndpointGuard {
    /// The first internal address `url`'s host is or resolves to, as text; nil when every address
    /// is public. A host that does not resolve is nil too: the delivery fails on its own.
    public static func internalAddress(of url: String) -> String? {
        guard let host = URL(string: url)?.host, !host.isEmpty else { return nil }
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                let bytes: [UInt8]
                if current.pointee.ai_family == AF_INET {
                    bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }
                    }
                } else if current.pointee.ai_family == AF_INET6 {
                    bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                    }
                } else {
                    bytes = []
                }
                if isInternal(bytes) { return text(bytes) }
            }
            entry = current.pointee.ai_next
        }
        return nil
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
        if b[0..<15].allSatisfy({ $0 == 0 }) { return true }               // :: and ::1
        return (b[0] & 0xfe) == 0xfc                                       // unique local fc00::/7
            || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)                     // link-local fe80::/10
            || b[0] == 0xff                                                // multicast
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // documentation
    }

    private static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
