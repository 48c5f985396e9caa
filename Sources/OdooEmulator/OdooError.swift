import Foundation

/// A server-side exception as Odoo serializes it: `name` is the Python exception path,
/// `httpStatus` is what JSON-2 answers with, `rpcCode` is JSON-RPC's `error.code`.
struct OdooError: Error, Sendable {
    var name: String
    var message: String
    var arguments: [EmulatorJSON]
    var debug: String
    var httpStatus: Int
    var rpcCode = 0
    var rpcMessage = "Odoo Server Error"
    /// Errors raised before the JSON-RPC request id is known (session expiry, 404) carry `"id": null`.
    var nullRequestID = false
    var extraHeaders: [(String, String)] = []

    init(name: String, message: String, arguments: [EmulatorJSON]? = nil, httpStatus: Int, debug: String? = nil) {
        self.name = name
        self.message = message
        self.arguments = arguments ?? [.string(message)]
        self.httpStatus = httpStatus
        self.debug = debug ?? OdooError.traceback(name: name, line: message)
    }

    /// A short traceback shaped like the real ones; clients only ever display it.
    static func traceback(name: String, line: String) -> String {
        let shortName = name.hasPrefix("builtins.") ? String(name.dropFirst("builtins.".count)) : name
        return """
            Traceback (most recent call last):
              File "/opt/odoo/odoo/http.py", line 2273, in _serve_db
                return service_model.retrying(serve_func, env=self.env)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              File "/opt/odoo/odoo/service/model.py", line 184, in retrying
                result = func()
                         ^^^^^^
            \(shortName): \(line)

            """
    }

    /// The five keys, in the order Odoo writes them.
    var dataJSON: EmulatorJSON {
        .object([
            ("name", .string(name)),
            ("message", .string(message)),
            ("arguments", .array(arguments)),
            ("context", .object([])),
            ("debug", .string(debug)),
        ])
    }

    // MARK: odoo.exceptions

    static func accessDenied() -> OdooError {
        // Odoo hides the traceback of a failed login; the debug text is just the exception line.
        OdooError(
            name: "odoo.exceptions.AccessDenied", message: "Access Denied", httpStatus: 401,
            debug: "odoo.exceptions.AccessDenied: Access Denied\n")
    }

    static func userError(_ message: String) -> OdooError {
        OdooError(name: "odoo.exceptions.UserError", message: message, httpStatus: 422)
    }

    static func accessError(_ message: String) -> OdooError {
        OdooError(name: "odoo.exceptions.AccessError", message: message, httpStatus: 403)
    }

    static func missingError(_ message: String) -> OdooError {
        OdooError(name: "odoo.exceptions.MissingError", message: message, httpStatus: 404)
    }

    static func validationError(_ message: String) -> OdooError {
        OdooError(name: "odoo.exceptions.ValidationError", message: message, httpStatus: 422)
    }

    // MARK: Python builtins

    static func valueError(_ message: String) -> OdooError {
        OdooError(name: "builtins.ValueError", message: message, httpStatus: 500)
    }

    static func typeError(_ message: String) -> OdooError {
        OdooError(name: "builtins.TypeError", message: message, httpStatus: 500)
    }

    static func attributeError(_ message: String) -> OdooError {
        OdooError(name: "builtins.AttributeError", message: message, httpStatus: 500)
    }

    static func keyError(_ key: String) -> OdooError {
        OdooError(name: "builtins.KeyError", message: pythonRepr(key), arguments: [.string(key)], httpStatus: 500)
    }

    static func indexError(_ message: String) -> OdooError {
        OdooError(name: "builtins.IndexError", message: message, httpStatus: 500)
    }

    static func assertionError(_ message: String) -> OdooError {
        OdooError(name: "builtins.AssertionError", message: message, httpStatus: 500)
    }

    // MARK: database

    static func psycopg(_ name: String, _ message: String) -> OdooError {
        OdooError(name: name, message: message, httpStatus: 500)
    }

    static func unknownDatabase(_ db: String) -> OdooError {
        psycopg(
            "psycopg2.OperationalError",
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"\(db)\" does not exist\n")
    }

    // MARK: werkzeug

    static let reasonPhrases: [Int: String] = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
        405: "Method Not Allowed", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
        500: "Internal Server Error",
    ]

    static let werkzeugNames: [Int: String] = [
        400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
        415: "UnsupportedMediaType", 422: "UnprocessableEntity", 500: "InternalServerError",
    ]

    /// A werkzeug HTTPException raised with a description: its arguments are `[description, code]`.
    static func werkzeug(_ status: Int, _ description: String) -> OdooError {
        let className = werkzeugNames[status] ?? "HTTPException"
        let reason = reasonPhrases[status] ?? "Error"
        return OdooError(
            name: "werkzeug.exceptions.\(className)", message: description,
            arguments: [.string(description), .int(status)], httpStatus: status,
            debug: traceback(name: "werkzeug.exceptions.\(className)", line: "\(status) \(reason): \(description)"))
    }

    static func unauthorized(_ description: String) -> OdooError {
        var error = werkzeug(401, description)
        error.extraHeaders = [("WWW-Authenticate", "Bearer ")]
        return error
    }

    // MARK: session endpoints

    static func sessionExpired() -> OdooError {
        var error = OdooError(name: "odoo.http.SessionExpiredException", message: "Session expired", httpStatus: 403)
        error.rpcCode = 100
        error.rpcMessage = "Odoo Session Expired"
        error.nullRequestID = true
        return error
    }

    /// What `/web/dataset/call_kw` answers for a model the registry does not know.
    static func sessionNotFound() -> OdooError {
        let message =
            "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
        var error = OdooError(
            name: "werkzeug.exceptions.NotFound", message: message, arguments: [], httpStatus: 404,
            debug: traceback(name: "werkzeug.exceptions.NotFound", line: message))
        error.rpcCode = 404
        error.rpcMessage = "404: Not Found"
        error.nullRequestID = true
        return error
    }

    // MARK: messages shared by several call sites

    static func missingRecords(model: String, ids: [Int], uid: Int) -> OdooError {
        let shown = Array(ids.prefix(6))
        let tuple = shown.count == 1 ? "(\(shown[0]),)" : "(" + shown.map(String.init).joined(separator: ", ") + ")"
        return missingError("Record does not exist or has been deleted.\n(Record: \(model)\(tuple), User: \(uid))")
    }

    static func missingRequired(field: FieldDef, schema: ModelSchema) -> OdooError {
        validationError(
            "The operation cannot be completed: Missing required value for the field '\(field.label)' (\(field.name)).\n"
                + "Model: '\(schema.description)' (\(schema.name))\n"
                + "- create/update: a mandatory field is not set\n"
                + "- delete: another model requires the record being deleted, you can archive it instead\n")
    }

    static func recordRuleDenied(operation: String, schema: ModelSchema, caller: Caller) -> OdooError {
        accessError(
            "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
                + "Sorry, \(caller.name) (id=\(caller.uid)) doesn't have '\(operation)' access to:\n"
                + "- \(schema.description) (\(schema.name))\n\n"
                + "If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies."
        )
    }

    static func aclDenied(operation: String, schema: ModelSchema) -> OdooError {
        let verb: String
        switch operation {
        case "write": verb = "modify"
        case "create": verb = "create"
        case "unlink": verb = "delete"
        default: verb = "access"
        }
        var groups = "\t- Sales/Administrator"
        if verb == "access" && schema.name == "crm.lead" { groups += "\n\t- Sales/User: Own Documents Only" }
        return accessError(
            "You are not allowed to \(verb) '\(schema.description)' (\(schema.name)) records.\n\n"
                + "This operation is allowed for the following groups:\n\(groups)\n\n"
                + "Contact your administrator to request access if necessary.")
    }
}
