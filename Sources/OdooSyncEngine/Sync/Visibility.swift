import Foundation
import OdooSyncCore

/// The Plane issue that makes a sale order or an invoice visible to the engineering team: a
/// title a person can read at a glance, and the figures in the description.
enum Visibility {
    /// `done` is Odoo 16's locked order (17 keeps it `sale` with the `locked` flag).
    static let orderStates = ["draft": "Quotation", "sent": "Quotation sent", "sale": "Sales order", "done": "Locked", "cancel": "Cancelled"]
    static let invoiceStates = ["draft": "Draft", "posted": "Posted", "cancel": "Cancelled"]
    static let paymentStates = ["not_paid": "not paid", "in_payment": "in payment", "paid": "paid", "partial": "partly paid",
                                "reversed": "reversed", "blocked": "blocked", "invoicing_legacy": "legacy"]

    static func canonical(model: String, record: JSONValue) -> [String: JSONValue] {
        // A move has no number until it is posted: its name is "/" or false then, depending on
        // the version and the journal's sequence. The record id stands in, marked as such.
        let id = record["id"]?.intValue ?? 0
        let number = record["name"]?.stringValue.flatMap { $0 == "/" || $0.isEmpty ? nil : $0 }
            ?? (model == "sale.order" ? "#\(id)" : "(draft #\(id))")
        let customer = record["partner_id"]?.many2one?.name ?? "no customer"
        let currency = record["currency_id"]?.many2one?.name ?? ""
        let amount = money(record["amount_total"]?.doubleValue ?? 0)
        var title: String
        var rows: [(String, String)] = [("Customer", customer), ("Total", "\(amount) \(currency)")]
        if model == "sale.order" {
            let state = orderStates[record["state"]?.stringValue ?? ""] ?? (record["state"]?.stringValue ?? "")
            title = "Sales order \(number) · \(customer) · \(amount) \(currency) · \(state)"
            rows.append(("Status", state))
            if let date = record["date_order"]?.stringValue { rows.append(("Ordered", String(date.prefix(10)))) }
            if let invoicing = record["invoice_status"]?.stringValue { rows.append(("Invoicing", invoicing)) }
        } else {
            let kind = record["move_type"]?.stringValue == "out_refund" ? "Credit note" : "Invoice"
            let state = invoiceStates[record["state"]?.stringValue ?? ""] ?? (record["state"]?.stringValue ?? "")
            let payment = paymentStates[record["payment_state"]?.stringValue ?? ""] ?? ""
            title = "\(kind) \(number) · \(customer) · \(amount) \(currency) · \(state)\(record["state"]?.stringValue == "posted" && !payment.isEmpty ? ", \(payment)" : "")"
            rows.append(("Status", state))
            if !payment.isEmpty { rows.append(("Payment", payment)) }
            if let residual = record["amount_residual"]?.doubleValue { rows.append(("Due", "\(money(residual)) \(currency)")) }
            if let due = record["invoice_date_due"]?.stringValue { rows.append(("Due date", due)) }
        }
        if title.count > 255 { title = String(title.prefix(254)) + "…" }
        let table = rows.map { "<tr><th>\(Translation.escape($0.0))</th><td>\(Translation.escape($0.1))</td></tr>" }.joined()
        let html = "<p>Kept up to date by odoosync from Odoo \(model) \(id).</p><table>\(table)</table>"
        return ["name": .string(title), "description": .string(html)]
    }

    static func money(_ value: Double) -> String {
        let cents = Int((abs(value) * 100).rounded())
        var whole = String(cents / 100)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return (value < 0 ? "-" : "") + whole + grouped + String(format: ".%02d", cents % 100)
    }
}
