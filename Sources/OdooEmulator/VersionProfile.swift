import Foundation

/// How the models odoosync syncs differ before Odoo 19, applied to the fixtures (which are
/// written as Odoo 19 answers) so that an emulator started with an older `serverVersion`
/// describes and stores what that version would.
///
/// Only differences odoosync reads or writes are listed, and only those known from Odoo's
/// sources for 16.0, 17.0 and 18.0:
/// - project.task `priority` has two keys before 19: `0`/`1`, labelled Normal/Important in 16
///   and Low/High in 17 and 18 (19 has four, reference §3);
/// - 16's project.task has `kanban_state` and `planned_hours` where 17 has `state` and
///   `allocated_hours`, and its `date_deadline` is a date (a datetime from 17 on);
/// - 16's sale.order has a `done` ("Locked") state where 17 has the `locked` flag.
struct VersionProfile: Sendable {
    let major: Int

    func adapt(model: String, fields: EmulatorJSON?, records: [EmulatorJSON]) -> (fields: EmulatorJSON?, records: [EmulatorJSON]) {
        guard major < 19 else { return (fields, records) }
        var fieldEdits: [(String, FieldEdit)] = []
        var recordEdit: ([(String, EmulatorJSON)]) -> [(String, EmulatorJSON)] = { $0 }
        switch model {
        case "project.task":
            let labels = major < 17 ? ["Normal", "Important"] : ["Low", "High"]
            fieldEdits.append(("priority", .selection([("0", labels[0]), ("1", labels[1])])))
            if major < 17 {
                fieldEdits += [
                    ("state", .remove), ("allocated_hours", .remove),
                    ("kanban_state", .add(VersionProfile.kanbanState)), ("planned_hours", .add(VersionProfile.plannedHours)),
                    ("date_deadline", .type("date")),
                ]
            }
            let major = self.major
            recordEdit = { pairs in
                var out: [(String, EmulatorJSON)] = []
                for (key, value) in pairs {
                    switch key {
                    case "priority":
                        // Any of Odoo 19's raised levels is the one star older versions have.
                        out.append((key, .string(value.stringValue.map { $0 == "0" ? "0" : "1" } ?? "0")))
                    case "state" where major < 17:
                        // The reverse of 17's migration of kanban_state into state.
                        let kanban = ["03_approved": "done", "02_changes_requested": "blocked"][value.stringValue ?? ""] ?? "normal"
                        out.append(("kanban_state", .string(kanban)))
                    case "allocated_hours" where major < 17:
                        out.append(("planned_hours", value))
                    case "date_deadline" where major < 17:
                        out.append((key, value.stringValue.map { .string(String($0.prefix(10))) } ?? value))
                    default:
                        out.append((key, value))
                    }
                }
                return out
            }
        case "sale.order" where major < 17:
            fieldEdits += [
                ("state", .selection([("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"), ("done", "Locked"),
                                      ("cancel", "Cancelled")])),
                ("locked", .remove),
            ]
            recordEdit = { pairs in
                let locked = pairs.last { $0.0 == "locked" }?.1.truthy ?? false
                return pairs.compactMap { key, value in
                    if key == "locked" { return nil }
                    if key == "state", locked, value.stringValue == "sale" { return (key, .string("done")) }
                    return (key, value)
                }
            }
        default:
            return (fields, records)
        }
        let adaptedFields = fields.map { VersionProfile.apply(fieldEdits, to: $0) }
        let adaptedRecords = records.map { record -> EmulatorJSON in
            guard case .object(let pairs) = record else { return record }
            return .object(recordEdit(pairs))
        }
        return (adaptedFields, adaptedRecords)
    }

    enum FieldEdit {
        case remove
        case add([(String, EmulatorJSON)])
        case selection([(String, String)])
        case type(String)
    }

    private static func apply(_ edits: [(String, FieldEdit)], to fields: EmulatorJSON) -> EmulatorJSON {
        guard case .object(var pairs) = fields else { return fields }
        for (name, edit) in edits {
            switch edit {
            case .remove:
                pairs.removeAll { $0.0 == name }
            case .add(let attributes):
                if !pairs.contains(where: { $0.0 == name }) { pairs.append((name, .object(attributes))) }
            case .selection(let options):
                pairs = pairs.map { key, value in
                    key == name ? (key, replacing("selection", with: .array(options.map { .array([.string($0.0), .string($0.1)]) }), in: value)) : (key, value)
                }
            case .type(let type):
                pairs = pairs.map { key, value in key == name ? (key, replacing("type", with: .string(type), in: value)) : (key, value) }
            }
        }
        return .object(pairs)
    }

    private static func replacing(_ attribute: String, with value: EmulatorJSON, in field: EmulatorJSON) -> EmulatorJSON {
        guard case .object(let attributes) = field else { return field }
        return .object(attributes.map { $0.0 == attribute ? ($0.0, value) : $0 })
    }

    static let kanbanState: [(String, EmulatorJSON)] = [
        ("readonly", false), ("required", true),
        ("selection", [["normal", "In Progress"], ["done", "Ready"], ["blocked", "Blocked"]]),
        ("store", true), ("string", "Status"), ("type", "selection"),
    ]

    static let plannedHours: [(String, EmulatorJSON)] = [
        ("readonly", false), ("required", false), ("store", true), ("string", "Initially Planned Hours"), ("type", "float"),
    ]
}
