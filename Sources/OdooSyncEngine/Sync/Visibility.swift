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

    /// `decimals`: res.currency id -> its `decimal_places`; a currency not in it shows two.
    static func canonical(model: String, record: JSONValue, decimals: [Int: Int] = [:]) -> [String: JSONValue] {
        // A move has no number until it is posted: its name is "/" or false then, depending on
        // the version and the journal's sequence. The record id stands in, marked as such.
        let id = record["id"]?.intValue ?? 0
        let number = record["name"]?.stringValue.flatMap { $0 == "/" || $0.isEmpty ? nil : $0 }
            ?? (model == "sale.order" ? "#\(id)" : "(draft #\(id))")
        let customer = record["partner_id"]?.many2one?.name ?? "no customer"
        let currency = record["currency_id"]?.many2one?.name ?? ""
        let places = record["currency_id"]?.many2one.flatMap { decimals[$0.id] } ?? 2
        let amount = money(record["amount_total"]?.doubleValue ?? 0, decimals: places)
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
            if let residual = record["amount_residual"]?.doubleValue { rows.append(("Due", "\(money(residual, decimals: places)) \(currency)")) }
            if let due = record["invoice_date_due"]?.stringValue { rows.append(("Due date", due)) }
        }
        if title.unicodeScalars.count > Translation.planeIssueNameLimit {
            title = Translation.clipped(title, to: Translation.planeIssueNameLimit - 1) + "…"
        }
        let table = rows.map { "<tr><th>\(Translation.escape($0.0))</th><td>\(Translation.escape($0.1))</td></tr>" }.joined()
        let html = "<p>Kept up to date by odoosync from Odoo \(model) \(id).</p><table>\(table)</table>"
        return ["name": .string(title), "description": .string(html)]
    }

    /// `value` grouped by thousands with the currency's `decimals` (0 to 6).
    static func money(_ value: Double, decimals: Int = 2) -> String {
        let places = min(max(decimals, 0), 6)
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let units = Int((abs(value) * Double(scale)).rounded())
        var whole = String(units / scale)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        let fraction = places == 0 ? "" : "." + String(format: "%0\(places)d", units % scale)
        return (value < 0 && units != 0 ? "-" : "") + whole + grouped + fraction
    }
}
