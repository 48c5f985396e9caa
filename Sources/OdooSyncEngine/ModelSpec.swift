import OdooSyncCore

/// Which fields of each Odoo model the pull asks for: only those the mirror uses.
struct ModelSpec: Sendable {
    let name: String
    let fields: [String]
    /// crm.stage has no `active` field; asking for it would be an error on a real server.
    let hasActive: Bool
    /// Records outside this domain are not the mirror's business (e.g. vendor bills).
    var domain: [JSONValue] = []

    func index(_ field: String) -> Int {
        guard let i = fields.firstIndex(of: field) else { preconditionFailure("\(field) is not pulled for \(name)") }
        return i
    }

    static let stage = ModelSpec(
        name: "crm.stage",
        fields: ["id", "name", "sequence", "is_won", "fold", "create_date", "write_date"],
        hasActive: false)

    static let users = ModelSpec(
        name: "res.users",
        fields: ["id", "name", "login", "email", "active", "share", "partner_id", "create_date", "write_date"],
        hasActive: true)

    static let partner = ModelSpec(
        name: "res.partner",
        fields: ["id", "name", "display_name", "is_company", "parent_id", "commercial_partner_id", "email", "phone",
                 "city", "country_id", "active", "create_date", "write_date"],
        hasActive: true)

    // The project side, for the Plane sync: snapshots only, no projection.
    static let taskStage = ModelSpec(
        name: "project.task.type",
        fields: ["id", "name", "sequence", "fold", "project_ids", "active", "create_date", "write_date"],
        hasActive: true)

    static let project = ModelSpec(
        name: "project.project",
        fields: ["id", "name", "description", "active", "partner_id", "user_id", "date_start", "date", "sequence",
                 "create_date", "write_date"],
        hasActive: true)

    static let task = ModelSpec(
        name: "project.task",
        fields: ["id", "name", "description", "project_id", "stage_id", "priority", "state", "user_ids", "date_deadline",
                 "milestone_id", "parent_id", "allocated_hours", "active", "create_date", "write_date"],
        hasActive: true)

    static let milestone = ModelSpec(
        name: "project.milestone",
        fields: ["id", "name", "project_id", "deadline", "is_reached", "create_date", "write_date"],
        hasActive: false)

    static let saleOrder = ModelSpec(
        name: "sale.order",
        fields: ["id", "name", "state", "partner_id", "amount_total", "currency_id", "date_order", "user_id",
                 "invoice_status", "create_date", "write_date"],
        hasActive: false)

    /// Customer invoices and credit notes: what a visibility issue is about.
    static let invoice = ModelSpec(
        name: "account.move",
        fields: ["id", "name", "move_type", "state", "partner_id", "amount_total", "amount_residual", "currency_id",
                 "payment_state", "invoice_date", "invoice_date_due", "create_date", "write_date"],
        hasActive: false,
        domain: [["move_type", "in", ["out_invoice", "out_refund"]]])

    /// For the decimals an order's or invoice's amount is shown with (JPY has none, KWD three).
    static let currency = ModelSpec(
        name: "res.currency",
        fields: ["id", "name", "decimal_places", "active", "create_date", "write_date"],
        hasActive: true)

    static let projectSide: [ModelSpec] = [taskStage, project, milestone, task, saleOrder, invoice, currency]

    static let lead = ModelSpec(
        name: "crm.lead",
        fields: LeadFields.all,
        hasActive: true)
}

/// crm.lead fields in the order the projection reads them; the constants are their indexes.
/// Each one feeds a column or a metadata key of `leads`: team, company, city, country, won
/// status and the closing dates are not asked for, since nothing in the mirror reads them (they
/// were a quarter of every page's bytes).
enum LeadFields {
    static let all = [
        "id", "name", "type", "stage_id", "user_id", "partner_id", "partner_name", "contact_name",
        "email_from", "phone", "expected_revenue", "probability", "priority", "tag_ids", "date_deadline",
        "create_date", "write_date", "active", "description",
    ]
    static let id = 0, name = 1, type = 2, stage = 3, user = 4, partner = 5, partnerName = 6,
               contactName = 7, email = 8, phone = 9, revenue = 10, probability = 11, priority = 12, tags = 13,
               deadline = 14, createDate = 15, writeDate = 16, active = 17, description = 18
}
