import Foundation
import OdooSyncCore

/// Parses Plane's answers straight from UTF-8 into `JSONValue`, keeping object keys in the
/// order Plane sent them.
///
/// JSONSerialization on Linux builds Foundation objects and bridges every value back, which
/// cost most of a pull's CPU time; this reads the bytes once. Keeping the server's key order
/// also keeps each snapshot what Plane sent.
public enum PlaneJSON {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONValue.parseOrdered(data)
        } catch {
            throw Failure(offset: error.offset, reason: error.reason)
        }
    }
}
