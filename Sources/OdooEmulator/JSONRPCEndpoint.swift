import Foundation
import Hummingbird

/// `/jsonrpc`: services common, db and object, as `odoo.service.*.dispatch` answers them.
/// Errors are HTTP 200 with an `error` member, except malformed requests (400).
extension EmulatorCore {
    /// Parses a JSON-RPC envelope; `nil` plus a response when the HTTP layer already answers.
    func rpcEnvelope(_ request: IncomingRequest) -> (id: EmulatorJSON, params: EmulatorJSON)? {
        guard let body = try? EmulatorJSON.parse(Data(request.body)) else { return nil }
        guard case .object = body else { return nil }
        return (body["id"] ?? .null, body["params"] ?? .object([]))
    }

    static func invalidJSONResponse(_ request: IncomingRequest) -> OutgoingResponse {
        if let body = try? EmulatorJSON.parse(Data(request.body)), body.objectValue == nil {
            return .html(status: 400, "Invalid JSON-RPC data")
        }
        return .html(status: 400, "Invalid JSON data")
    }

    func handleJSONRPC(_ request: IncomingRequest) -> OutgoingResponse {
        guard ["application/json", "application/json-rpc"].contains(request.mimetype) else {
            return .unsupportedMediaType(route: "/jsonrpc", type: "jsonrpc", accept: "application/json, application/json-rpc")
        }
        guard let (id, params) = rpcEnvelope(request) else { return EmulatorCore.invalidJSONResponse(request) }
        do {
            let service = params["service"]
            let method = params["method"]
            let args = params["args"]
            let missing = [("service", service), ("method", method), ("args", args)].filter { $0.1 == nil }.map(\.0)
            if !missing.isEmpty {
                throw OdooError.typeError(pythonMissingArguments("JSONRPC.jsonrpc()", missing))
            }
            let argList = args?.arrayValue ?? []
            let result: MethodResult
            switch service?.stringValue ?? "" {
            case "common": result = try commonService(method?.stringValue ?? "", argList)
            case "db": result = try dbService(method?.stringValue ?? "", argList)
            case "object": result = try objectService(method?.stringValue ?? "", argList, dryRun: request.dryRunWrites)
            default: throw OdooError.keyError(service?.stringValue ?? pythonRepr(service ?? .null))
            }
            return .json(Envelope.rpcSuccess(id: id, result))
        } catch let error as OdooError {
            return .json(Envelope.rpcError(id: id, error))
        } catch {
            return .json(Envelope.rpcError(id: id, .typeError("\(error)")))
        }
    }

    private func checkDatabase(_ db: EmulatorJSON?) throws {
        let name = db?.stringValue ?? pythonRepr(db ?? .null)
        if name != configuration.database { throw OdooError.unknownDatabase(name) }
    }

    private func arity(_ function: String, _ args: [EmulatorJSON], names: [String], optional: Int = 0) throws {
        let required = names.count - optional
        if args.count > names.count {
            let takes =
                optional == 0
                ? "takes \(names.count) positional argument\(names.count == 1 ? "" : "s")"
                : "takes from \(required) to \(names.count) positional arguments"
            throw OdooError.typeError("\(function)() \(takes) but \(args.count) \(args.count == 1 ? "was" : "were") given")
        }
        if args.count < required {
            throw OdooError.typeError(pythonMissingArguments("\(function)()", Array(names[args.count..<required])))
        }
    }

    private func commonService(_ method: String, _ args: [EmulatorJSON]) throws -> MethodResult {
        switch method {
        case "version":
            try arity("exp_version", args, names: [])
            return .value(configuration.versionDict)
        case "about":
            try arity("exp_about", args, names: ["extended"], optional: 1)
            let info: EmulatorJSON = "See http://openerp.com"
            if args.first?.truthy == true { return .value([info, .string(configuration.serverVersion)]) }
            return .value(info)
        case "login", "authenticate":
            let names = method == "login" ? ["db", "login", "password"] : ["db", "login", "password", "user_agent_env"]
            try arity("exp_\(method)", args, names: names)
            try checkDatabase(args[0])
            guard let login = args[1].stringValue, let secret = args[2].stringValue, let user = user(login: login),
                checkCredentials(user, secret: secret, allowAPIKey: true)
            else { return .value(false) }
            return .value(.int(user.uid))
        default:
            throw OdooError.keyError("exp_\(method)")
        }
    }

    private func dbService(_ method: String, _ args: [EmulatorJSON]) throws -> MethodResult {
        switch method {
        case "server_version": return .value(.string(configuration.serverVersion))
        case "list_lang": return .value([["en_US", "English (US)"]])
        case "db_exist": return .value(.bool(args.first?.stringValue == configuration.database))
        default:
            // list_db is off and the rest needs the master password.
            throw OdooError.accessDenied()
        }
    }

    private func objectService(_ method: String, _ args: [EmulatorJSON], dryRun: Bool) throws -> MethodResult {
        guard args.count >= 3 else { throw OdooError.indexError("list index out of range") }
        let uid: Int
        switch args[1] {
        case .int(let value): uid = value
        case .bool(let flag): uid = flag ? 1 : 0
        case .double(let value): uid = Int(value)
        case .string(let text):
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw OdooError.valueError("invalid literal for int() with base 10: \(pythonRepr(text))")
            }
            uid = value
        default:
            throw OdooError.typeError("int() argument must be a string, a bytes-like object or a real number, not 'NoneType'")
        }
        try checkDatabase(args[0])
        guard let user = user(uid: uid), let secret = args[2].stringValue,
            checkCredentials(user, secret: secret, allowAPIKey: true)
        else { throw OdooError.accessDenied() }
        let rest = Array(args.dropFirst(3))
        var call: ModelCall
        switch method {
        case "execute_kw":
            try arity("execute_kw", [args[0], args[1]] + rest, names: ["db", "uid", "obj", "method", "args", "kw"], optional: 1)
            guard case .array(let positional) = rest[2] else {
                throw OdooError.typeError("odoo.service.model.execute_kw() argument after * must be an iterable, not \(rest[2])")
            }
            call = ModelCall(model: rest[0].stringValue ?? "", method: rest[1].stringValue ?? "", channel: .jsonrpc)
            call.positional = positional
            if rest.count > 3, case .object(let keywords) = rest[3] { call.keywords = keywords }
        case "execute":
            try arity("execute", [args[0], args[1]] + Array(rest.prefix(2)), names: ["db", "uid", "obj", "method"])
            call = ModelCall(model: rest[0].stringValue ?? "", method: rest[1].stringValue ?? "", channel: .jsonrpc)
            call.positional = Array(rest.dropFirst(2))
        default:
            throw OdooError(name: "builtins.NameError", message: "Method not available \(method)", httpStatus: 500)
        }
        call.dryRun = dryRun
        return try execute(call, caller: caller(for: user))
    }
}

/// Python's "f() missing 2 required positional arguments: 'a' and 'b'".
func pythonMissingArguments(_ callee: String, _ names: [String]) -> String {
    let quoted = names.map { "'\($0)'" }
    let list: String
    switch quoted.count {
    case 0: list = ""
    case 1: list = quoted[0]
    case 2: list = quoted[0] + " and " + quoted[1]
    default: list = quoted.dropLast().joined(separator: ", ") + ", and " + (quoted.last ?? "")
    }
    return "\(callee) missing \(names.count) required positional argument\(names.count == 1 ? "" : "s"): \(list)"
}
