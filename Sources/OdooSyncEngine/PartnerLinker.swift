import Foundation
import GRDB
import OdooClient
import OdooSyncCore
import OdooSyncMirror

/// After partners are pulled: each lead's customer becomes its partner's commercial entity
/// (a person at Acme belongs to the customer Acme), with the customer's name kept current.
final class PartnerLinker: @unchecked Sendable {
    private let runID: String
    private let now = Timestamp.iso(Date())
    private let idIndex = ModelSpec.partner.index("id")
    private let nameIndex = ModelSpec.partner.index("name")
    private let commercialIndex = ModelSpec.partner.index("commercial_partner_id")

    private let projector: LeadProjector?

    init(runID: String, projector: LeadProjector? = nil) {
        self.runID = runID
        self.projector = projector
    }

    func link(_ db: Database, _ view: borrowing RecordView, change: OdooPuller.Change) throws -> OdooPuller.Outcome {
        guard let partnerID = view.int(idIndex) else { return .failed }
        let own = (partnerID, view.string(nameIndex) ?? "")
        let (commercialID, commercialName) = view.many2one(commercialIndex) ?? own
        projector?.learnCommercial(partnerID: partnerID, commercialID: commercialID, name: commercialName)
        let customerID = try Customers.upsert(db, odooPartnerID: commercialID, name: commercialName, now: now)
        guard commercialID != partnerID,
              let stale = try String.fetchOne(db, sql: "SELECT id FROM customers WHERE odoo_partner_id = ?", arguments: [partnerID])
        else {
            try db.execute(sql: "UPDATE leads SET customer_id = ? WHERE odoo_partner_id = ? AND customer_id IS NOT ?",
                           arguments: [customerID, partnerID, customerID])
            return .stored
        }
        // The lead pull made a customer for the person before it knew the company: fold it in.
        projector?.contactsChangedElsewhere()
        for row in try Row.fetchAll(db, sql: "SELECT id, email FROM contacts WHERE customer_id = ?", arguments: [stale]) {
            let contactID: String = row[0]
            let email: String? = row[1]
            if let email, let twin = try String.fetchOne(db, sql: "SELECT id FROM contacts WHERE customer_id = ? AND lower(email) = lower(?)",
                                                         arguments: [customerID, email]) {
                try db.execute(sql: "UPDATE leads SET contact_id = ? WHERE customer_id = ? AND contact_id = ?",
                               arguments: [twin, stale, contactID])
                try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [contactID])
            } else {
                try db.execute(sql: "UPDATE contacts SET customer_id = ?, is_primary = 0, updated_at = ? WHERE id = ?",
                               arguments: [customerID, now, contactID])
            }
        }
        try db.execute(sql: "UPDATE leads SET customer_id = ? WHERE customer_id = ?", arguments: [customerID, stale])
        try db.execute(sql: "UPDATE leads SET customer_id = ? WHERE odoo_partner_id = ? AND customer_id IS NOT ?",
                       arguments: [customerID, partnerID, customerID])
        try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [stale])
        return .stored
    }
}
