import Foundation

public struct PlaneEmulatorConfiguration: Sendable {
    /// Requests allowed per API key in `rateWindow` seconds (Plane's default: 60 a minute);
    /// nil turns the throttle off, and its headers with it.
    public var rateLimit: Int?
    /// The sliding window, in whole seconds like Plane's.
    public var rateWindow: Int
    public var faults: PlaneFaultPlan
    /// Seeds generated issues and anything random the emulator does.
    public var seed: UInt64

    public init(rateLimit: Int? = 60, rateWindow: Int = 60, faults: PlaneFaultPlan = .none, seed: UInt64 = 42) {
        self.rateLimit = rateLimit
        self.rateWindow = max(1, rateWindow)
        self.faults = faults
        self.seed = seed
    }
}

/// One mutating request the emulator received over HTTP.
public struct PlaneRecordedWrite: Sendable {
    public var method: String
    /// The path with its query, e.g. "/api/v1/workspaces/acme/projects/<id>/issues/".
    public var path: String
    public var body: Data
    /// The answer's status; 0 when the connection was dropped instead.
    public var status: Int
    /// True when the write changed the emulator's data (a dropped-after-apply answer included).
    public var applied: Bool
    public var time: Date

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why a direct data change (a user working in Plane) was refused: Plane's answer.
public struct PlaneEmulatorError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let body: String
    public var description: String { "HTTP \(status): \(body)" }
}
