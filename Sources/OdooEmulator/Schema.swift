import Foundation

enum FieldKind: Sendable, Equatable {
    case integer, float, monetary, char, text, html, selection, boolean, date, datetime
    case many2one, one2many, many2many
    case other(String)

    init(odooType: String) {
        switch odooType {
        case "integer": self = .integer
        case "float": self = .float
        case "monetary": self = .monetary
        case "char": self = .char
        case "text": self = .text
        case "html": self = .html
        case "selection": self = .selection
        case "boolean": self = .boolean
        case "date": self = .date
        case "datetime": self = .datetime
        case "many2one": self = .many2one
        case "one2many": self = .one2many
        case "many2many": self = .many2many
        default: self = .other(odooType)
        }
    }

    var odooType: String {
        switch self {
        case .integer: return "integer"
        case .float: return "float"
        case .monetary: return "monetary"
        case .char: return "char"
        case .text: return "text"
        case .html: return "html"
        case .selection: return "selection"
        case .boolean: return "boolean"
        case .date: return "date"
        case .datetime: return "datetime"
        case .many2one: return "many2one"
        case .one2many: return "one2many"
        case .many2many: return "many2many"
        case .other(let name): return name
        }
    }

    var isStringLike: Bool {
        switch self {
        case .char, .text, .html, .selection: return true
        default: return false
        }
    }

    var isNumeric: Bool { self == .integer || self == .float || self == .monetary }
    var isX2Many: Bool { self == .one2many || self == .many2many }
}

struct FieldDef: Sendable {
    let name: String
    let index: Int
    let kind: FieldKind
    let label: String
    let relation: String?
    let selection: [(key: String, label: String)]
    let selectionKeys: Set<String>
    let required: Bool
    let readonly: Bool
    let store: Bool
    /// The attributes exactly as the fixture gave them, for `fields_get`.
    let attributes: [(String, EmulatorJSON)]

    /// Fields the ORM maintains itself; a client cannot set them.
    var isMagic: Bool {
        ["id", "create_date", "write_date", "create_uid", "write_uid", "display_name", "__last_update"].contains(name)
    }
}

/// One model's fields and the handful of facts about it the ORM hard-codes.
final class ModelSchema: Sendable {
    let name: String
    let description: String
    let fields: [FieldDef]
    let fieldIndex: [String: Int]
    let idField: Int?
    let activeField: Int?
    let writeDateField: Int?
    let createDateField: Int?
    let nameField: Int?
    let displayNameField: Int?
    let defaultOrder: String

    init(name: String, fields: [FieldDef]) {
        self.name = name
        self.fields = fields
        var index: [String: Int] = [:]
        for field in fields { index[field.name] = field.index }
        self.fieldIndex = index
        self.idField = index["id"]
        self.activeField = index["active"].flatMap { fields[$0].kind == .boolean ? $0 : nil }
        self.writeDateField = index["write_date"].flatMap { fields[$0].kind == .datetime ? $0 : nil }
        self.createDateField = index["create_date"].flatMap { fields[$0].kind == .datetime ? $0 : nil }
        self.nameField = index["name"]
        self.displayNameField = index["display_name"]
        self.description = ModelSchema.descriptions[name] ?? name
        self.defaultOrder = ModelSchema.resolveDefaultOrder(ModelSchema.defaultOrders[name] ?? "id", fieldIndex: index)
    }

    func field(_ name: String) -> FieldDef? {
        fieldIndex[name].map { fields[$0] }
    }

    /// `_description` of the models in the fixtures; it shows up in access and validation errors.
    static let descriptions: [String: String] = [
        "crm.lead": "Lead",
        "crm.stage": "CRM Stages",
        "crm.team": "Sales Team",
        "crm.tag": "CRM Tag",
        "crm.lost.reason": "Opp. Lost Reason",
        "res.partner": "Contact",
        "res.users": "User",
        "res.company": "Companies",
        "res.currency": "Currency",
        "res.country": "Country",
    ]

    /// `_order` of each model (reference §4 plus Odoo's sources for the rest).
    static let defaultOrders: [String: String] = [
        "crm.lead": "priority desc, id desc",
        "crm.stage": "sequence, name, id",
        "crm.team": "sequence ASC, create_date DESC, id DESC",
        "crm.tag": "name",
        "res.partner": "complete_name ASC, id DESC",
        "res.users": "name, login",
        "res.company": "sequence, name",
        "res.currency": "active desc, name",
        "res.country": "name",
    ]

    /// Drops `_order` terms whose field the fixtures do not carry; `complete_name` is what
    /// `display_name` shows for contacts, so it stands in for it.
    private static func resolveDefaultOrder(_ order: String, fieldIndex: [String: Int]) -> String {
        var terms: [String] = []
        for raw in order.split(separator: ",") {
            let parts = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard var field = parts.first else { continue }
            if fieldIndex[field] == nil && field == "complete_name" {
                field = fieldIndex["display_name"] != nil ? "display_name" : "name"
            }
            guard fieldIndex[field] != nil || field == "id" else { continue }
            terms.append(([field] + parts.dropFirst()).joined(separator: " "))
        }
        return terms.isEmpty ? "id" : terms.joined(separator: ", ")
    }

    /// Builds the schema from a `fields_get` answer (keys kept in model order).
    static func load(name: String, fieldsJSON: EmulatorJSON) throws -> ModelSchema {
        guard case .object(let pairs) = fieldsJSON else {
            throw EmulatorSetupError("fields/\(name).json is not a JSON object")
        }
        var defs: [FieldDef] = []
        var seen = Set<String>()
        for (fieldName, attributes) in pairs where !seen.contains(fieldName) {
            seen.insert(fieldName)
            guard case .object(let attrs) = attributes else { continue }
            defs.append(makeField(name: fieldName, index: defs.count, attrs: attrs))
        }
        if !seen.contains("id") {
            let attrs: [(String, EmulatorJSON)] = [
                ("readonly", true), ("required", false), ("store", true), ("string", "ID"), ("type", "integer"),
            ]
            defs.insert(makeField(name: "id", index: 0, attrs: attrs), at: 0)
            defs = defs.enumerated().map { makeField(name: $0.element.name, index: $0.offset, attrs: $0.element.attributes) }
        }
        return ModelSchema(name: name, fields: defs)
    }

    static func makeField(name: String, index: Int, attrs: [(String, EmulatorJSON)]) -> FieldDef {
        func attr(_ key: String) -> EmulatorJSON? { attrs.last { $0.0 == key }?.1 }
        var selection: [(key: String, label: String)] = []
        if case .array(let options)? = attr("selection") {
            for option in options {
                if case .array(let pair) = option, pair.count >= 2, case .string(let key) = pair[0] {
                    selection.append((key, pair[1].stringValue ?? key))
                }
            }
        }
        return FieldDef(
            name: name,
            index: index,
            kind: FieldKind(odooType: attr("type")?.stringValue ?? "char"),
            label: attr("string")?.stringValue ?? name,
            relation: attr("relation")?.stringValue,
            selection: selection,
            selectionKeys: Set(selection.map(\.key)),
            required: attr("required")?.boolValue ?? false,
            readonly: attr("readonly")?.boolValue ?? false,
            store: attr("store")?.boolValue ?? true,
            attributes: attrs
        )
    }

    /// A schema guessed from records alone, for a model that came without `fields/`.
    static func infer(name: String, records: [EmulatorJSON]) -> ModelSchema {
        var order: [String] = []
        var kinds: [String: String] = [:]
        for record in records {
            guard case .object(let pairs) = record else { continue }
            for (key, value) in pairs {
                if kinds[key] == nil { order.append(key) }
                let guess: String?
                switch value {
                case .int: guess = "integer"
                case .double: guess = "float"
                case .bool: guess = kinds[key] == nil ? "boolean" : nil
                case .string(let s):
                    if parseOdooDateTime(s) != nil { guess = "datetime" }
                    else if s.count == 10, parseOdooDate(s) != nil { guess = "date" }
                    else { guess = "char" }
                case .array: guess = "many2many"
                default: guess = nil
                }
                if let guess, kinds[key] == nil || kinds[key] == "boolean" { kinds[key] = guess }
            }
        }
        let defs = order.enumerated().map { offset, key in
            makeField(
                name: key, index: offset,
                attrs: [
                    ("readonly", .bool(key == "id")), ("required", false), ("store", true),
                    ("string", .string(key)), ("type", .string(kinds[key] ?? "char")),
                ])
        }
        return ModelSchema(name: name, fields: defs)
    }
}

struct EmulatorSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
