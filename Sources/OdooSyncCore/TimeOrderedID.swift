import Foundation

/// UUIDs for rows odoosync creates, in the version 7 layout: the first 48 bits are the Unix
/// time in milliseconds, so ids made one after the other sort one after the other. SQLite then
/// appends to the end of each uuid-keyed index instead of touching a random page per insert,
/// which is what keeps a 100,000-lead pull's writes small. Postgres takes them as any uuid.
public enum TimeOrderedID {
    private static let state = State()

    public static func make() -> String {
        let (millis, sequence, tail) = state.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (40 - 8 * UInt64(i))) }
        // 12 bits of per-millisecond sequence keep ids made in the same millisecond in order.
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: sequence >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: sequence)
        for i in 8..<16 { bytes[i] = UInt8(truncatingIfNeeded: tail >> (8 * UInt64(i - 8))) }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var lastMillis: UInt64 = 0
        private var sequence: UInt64 = 0
        /// SplitMix64, seeded once from the system: ids need uniqueness, not secrecy, and a
        /// getrandom call per id cost a system call per pulled lead.
        private var mix: UInt64 = {
            var system = SystemRandomNumberGenerator()
            return system.next()
        }()

        func next() -> (UInt64, UInt64, UInt64) {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            lock.lock()
            defer { lock.unlock() }
            if now > lastMillis {
                lastMillis = now
                sequence = 0
            } else {
                sequence += 1
                if sequence > 0xFFF {
                    // More than 4096 ids in one millisecond: borrow the next millisecond.
                    lastMillis += 1
                    sequence = 0
                }
            }
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (lastMillis, sequence, z ^ (z >> 31))
        }
    }
}
