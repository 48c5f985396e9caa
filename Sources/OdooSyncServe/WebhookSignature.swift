import Crypto
import Foundation

/// HMAC-SHA256 signatures as Plane sends them: lowercase hex over the raw body bytes
/// (reference/plane-api.md §9). Odoo deliveries use the same scheme with their own secret.
public enum WebhookSignature {
    /// The hex signature of `body` under `secret`: what a sender puts in the header.
    public static func sign<Body: DataProtocol>(_ body: Body, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `header` is the signature of exactly these bytes. The comparison takes the same
    /// time wherever the first wrong byte is, so a caller cannot learn the signature by timing.
    public static func isValid<Body: DataProtocol>(_ header: String, body: Body, secret: String) -> Bool {
        // Byte-level trimming and prefix test: Foundation's string functions cost more than
        // the HMAC itself here, on every delivery.
        var text = Substring(header).drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        // GitHub-style senders prefix the algorithm; Plane sends the bare hex.
        if text.utf8.count > 7, text.prefix(7).utf8.elementsEqual("sha256=".utf8) || text.prefix(7).utf8.elementsEqual("SHA256=".utf8) {
            text = text.dropFirst(7)
        }
        guard let given = bytes(fromHex: text), given.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body,
                                                      using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// Equal strings, compared in time that depends only on their lengths: for bearer tokens.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }

    static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8? = nil
        for c in text.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }
}
