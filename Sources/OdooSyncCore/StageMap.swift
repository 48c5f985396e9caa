import Foundation

/// Odoo CRM stage name -> pipeline stage slug, matched case-insensitively on the trimmed name.
public struct StageMap: Sendable, Equatable {
    /// Normalised Odoo stage name -> slug.
    public var entries: [String: String]

    public init(entries: [String: String]) { self.entries = entries }

    public static func normalize(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The slug for an Odoo stage name; nil when the map has no row for it (reported, never
    /// silently turned into `new`).
    public func slug(forOdooStage name: String) -> String? {
        entries[StageMap.normalize(name)]
    }

    public var slugs: Set<String> { Set(entries.values) }
}
