import Foundation

/// A login the emulated server accepts.
public struct EmulatorUser: Sendable, Equatable {
    public var login: String
    /// Must match a `res.users` fixture record for names and time zones to come out right.
    public var uid: Int
    public var password: String
    /// Accepted wherever Odoo accepts an API key (JSON-RPC and JSON-2, not session login).
    public var apiKey: String
    public var isAdmin: Bool
    /// Models this user may read but not create, write or delete (Odoo ACLs, simplified).
    public var readOnlyModels: Set<String>
    /// Models this user may not even read (a portal user and crm.lead).
    public var hiddenModels: Set<String>
    /// The salesman record rule on crm.lead: only leads assigned to this user or to nobody.
    /// Searches skip the others silently; reading or writing one by id is an AccessError.
    public var ownLeadsOnly: Bool

    public init(
        login: String, uid: Int, password: String, apiKey: String, isAdmin: Bool,
        readOnlyModels: Set<String> = [], hiddenModels: Set<String> = [], ownLeadsOnly: Bool = false
    ) {
        self.login = login
        self.uid = uid
        self.password = password
        self.apiKey = apiKey
        self.isAdmin = isAdmin
        self.readOnlyModels = readOnlyModels
        self.hiddenModels = hiddenModels
        self.ownLeadsOnly = ownLeadsOnly
    }

    public static let admin = EmulatorUser(
        login: "admin", uid: 2, password: "admin", apiKey: "demo-api-key", isAdmin: true)
    public static let demo = EmulatorUser(
        login: "demo", uid: 5, password: "demo", apiKey: "demo-user-key", isAdmin: false,
        readOnlyModels: ["crm.stage"])
    /// Not in the default configuration; add it to reproduce the portal user's access errors.
    public static let portal = EmulatorUser(
        login: "portal", uid: 6, password: "portal", apiKey: "portal-user-key", isAdmin: false,
        readOnlyModels: ["crm.stage", "crm.lead"], hiddenModels: ["crm.lead"])
}

public struct OdooEmulatorConfiguration: Sendable {
    public var database: String
    /// "19.0" by default; a major version below 19 turns JSON-2 off, as on Odoo 16–18, and
    /// shapes the project and sales models as that version has them (`VersionProfile`).
    public var serverVersion: String
    public var users: [EmulatorUser]
    public var faults: FaultPlan
    /// Synthetic leads added on top of the fixtures at start-up (for large benchmarks).
    public var generatedLeads: Int
    public var seed: UInt64

    public init(
        database: String = "odoosync_demo",
        serverVersion: String = "19.0",
        users: [EmulatorUser] = [.admin, .demo],
        faults: FaultPlan = .none,
        generatedLeads: Int = 0,
        seed: UInt64 = 42
    ) {
        self.database = database
        self.serverVersion = serverVersion
        self.users = users
        self.faults = faults
        self.generatedLeads = generatedLeads
        self.seed = seed
    }

    var majorVersion: Int {
        Int(serverVersion.split(separator: ".").first ?? "") ?? 19
    }

    /// `server_version_info` as common.version reports it.
    var versionInfo: EmulatorJSON {
        let parts = serverVersion.split(separator: ".").map { Int($0) ?? 0 }
        let major = parts.first ?? 19
        let minor = parts.count > 1 ? parts[1] : 0
        return [.int(major), .int(minor), 0, "final", 0, ""]
    }

    var versionDict: EmulatorJSON {
        .object([
            ("server_version", .string(serverVersion)),
            ("server_version_info", versionInfo),
            ("server_serie", .string(serverVersion)),
            ("protocol_version", 1),
        ])
    }
}

/// One mutating call the emulator received over HTTP.
public struct RecordedWrite: Sendable {
    public enum Channel: String, Sendable {
        case jsonrpc, session, json2
    }

    public var channel: Channel
    public var model: String
    public var method: String
    public var ids: [Int]
    /// The values sent (`vals` for write, the list of dicts for create), as JSON.
    public var values: Data
    public var time: Date
    /// False when the call failed (validation, access) or a fault prevented it.
    public var applied: Bool
    /// The Odoo exception name when the call failed.
    public var error: String?
    /// Ids created by a `create`.
    public var createdIDs: [Int]
}
