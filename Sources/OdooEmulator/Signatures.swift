import Foundation

/// The Python signature of a public model method, so arguments bind (and fail to bind) with
/// the same messages as on the real server.
struct MethodSpec: Sendable {
    struct Param: Sendable {
        let name: String
        /// nil: required.
        let defaultValue: EmulatorJSON?
    }

    let name: String
    let qualname: String
    /// `@api.model`: no record ids; JSON-2 refuses `ids` for these.
    let isModelMethod: Bool
    let params: [Param]
    /// `**kwargs` (search_read passes them on to `_read_format`).
    let acceptsExtraKeywords: Bool
    let mutates: Bool

    static func param(_ name: String, _ defaultValue: EmulatorJSON? = nil) -> Param {
        Param(name: name, defaultValue: defaultValue)
    }

    static let all: [String: MethodSpec] = {
        let specs = [
            MethodSpec(
                name: "search_read", qualname: "BaseModel.search_read", isModelMethod: true,
                params: [param("domain", .null), param("fields", .null), param("offset", 0), param("limit", .null),
                    param("order", .null)],
                acceptsExtraKeywords: true, mutates: false),
            MethodSpec(
                name: "search", qualname: "BaseModel.search", isModelMethod: true,
                params: [param("domain"), param("offset", 0), param("limit", .null), param("order", .null)],
                acceptsExtraKeywords: false, mutates: false),
            MethodSpec(
                name: "search_count", qualname: "BaseModel.search_count", isModelMethod: true,
                params: [param("domain"), param("limit", .null)], acceptsExtraKeywords: false, mutates: false),
            MethodSpec(
                name: "read", qualname: "BaseModel.read", isModelMethod: false,
                params: [param("fields", .null), param("load", "_classic_read")], acceptsExtraKeywords: false,
                mutates: false),
            MethodSpec(
                name: "fields_get", qualname: "BaseModel.fields_get", isModelMethod: true,
                params: [param("allfields", .null), param("attributes", .null)], acceptsExtraKeywords: false,
                mutates: false),
            MethodSpec(
                name: "name_search", qualname: "BaseModel.name_search", isModelMethod: true,
                params: [param("name", ""), param("domain", .null), param("operator", "ilike"), param("limit", 100)],
                acceptsExtraKeywords: false, mutates: false),
            MethodSpec(
                name: "web_search_read", qualname: "BaseModel.web_search_read", isModelMethod: true,
                params: [param("domain"), param("specification"), param("offset", 0), param("limit", .null),
                    param("order", .null), param("count_limit", .null)],
                acceptsExtraKeywords: false, mutates: false),
            MethodSpec(
                name: "write", qualname: "BaseModel.write", isModelMethod: false, params: [param("vals")],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "create", qualname: "BaseModel.create", isModelMethod: true, params: [param("vals_list")],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "unlink", qualname: "BaseModel.unlink", isModelMethod: false, params: [],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "load", qualname: "BaseModel.load", isModelMethod: true, params: [param("fields"), param("data")],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "action_archive", qualname: "BaseModel.action_archive", isModelMethod: false, params: [],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "action_unarchive", qualname: "BaseModel.action_unarchive", isModelMethod: false, params: [],
                acceptsExtraKeywords: false, mutates: true),
            MethodSpec(
                name: "default_get", qualname: "BaseModel.default_get", isModelMethod: true, params: [param("fields")],
                acceptsExtraKeywords: false, mutates: false),
            MethodSpec(
                name: "context_get", qualname: "ResUsers.context_get", isModelMethod: true, params: [],
                acceptsExtraKeywords: false, mutates: false),
        ]
        return Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
    }()

    static func lookup(model: String, method: String) -> MethodSpec? {
        if method == "context_get" && model != "res.users" { return nil }
        return all[method]
    }
}

struct BoundArguments {
    var values: [String: EmulatorJSON] = [:]
    var extra: [(String, EmulatorJSON)] = []

    subscript(name: String) -> EmulatorJSON { values[name] ?? .null }
}

enum ArgumentBinder {
    /// Binds like a Python call `method(recs, *positional, **keywords)`, raising TypeError.
    static func bindCall(_ spec: MethodSpec, positional: [EmulatorJSON], keywords: [(String, EmulatorJSON)]) throws
        -> BoundArguments
    {
        let callee = spec.qualname + "()"
        var bound = BoundArguments()
        if positional.count > spec.params.count {
            let required = spec.params.filter { $0.defaultValue == nil }.count
            let total = spec.params.count + 1
            let takes =
                required == spec.params.count
                ? "takes \(total) positional argument\(total == 1 ? "" : "s")"
                : "takes from \(required + 1) to \(total) positional arguments"
            let given = positional.count + 1
            throw OdooError.typeError("\(callee) \(takes) but \(given) \(given == 1 ? "was" : "were") given")
        }
        for (param, value) in zip(spec.params, positional) { bound.values[param.name] = value }
        for (key, value) in keywords {
            if spec.params.contains(where: { $0.name == key }) {
                if bound.values[key] != nil {
                    throw OdooError.typeError("\(callee) got multiple values for argument '\(key)'")
                }
                bound.values[key] = value
            } else if spec.acceptsExtraKeywords {
                bound.extra.append((key, value))
            } else {
                throw OdooError.typeError("\(callee) got an unexpected keyword argument '\(key)'")
            }
        }
        let missing = spec.params.filter { $0.defaultValue == nil && bound.values[$0.name] == nil }.map(\.name)
        if !missing.isEmpty {
            let names = missing.map { "'\($0)'" }
            let list: String
            switch names.count {
            case 1: list = names[0]
            case 2: list = names[0] + " and " + names[1]
            default: list = names.dropLast().joined(separator: ", ") + ", and " + (names.last ?? "")
            }
            throw OdooError.typeError(
                "\(callee) missing \(missing.count) required positional argument\(missing.count == 1 ? "" : "s"): \(list)")
        }
        fillDefaults(spec, &bound)
        return bound
    }

    /// Binds like `inspect.signature(func).bind(records, **kwargs)`: JSON-2 answers 422 on failure.
    static func bindKeywords(_ spec: MethodSpec, keywords: [(String, EmulatorJSON)]) throws -> BoundArguments {
        var bound = BoundArguments()
        for (key, value) in keywords {
            if spec.params.contains(where: { $0.name == key }) {
                bound.values[key] = value
            } else if spec.acceptsExtraKeywords {
                bound.extra.append((key, value))
            } else {
                throw OdooError.werkzeug(422, "got an unexpected keyword argument '\(key)'")
            }
        }
        if let missing = spec.params.first(where: { $0.defaultValue == nil && bound.values[$0.name] == nil }) {
            throw OdooError.werkzeug(422, "missing a required argument: '\(missing.name)'")
        }
        fillDefaults(spec, &bound)
        return bound
    }

    private static func fillDefaults(_ spec: MethodSpec, _ bound: inout BoundArguments) {
        for param in spec.params where bound.values[param.name] == nil {
            bound.values[param.name] = param.defaultValue ?? .null
        }
    }
}
