import Foundation
import Hummingbird

/// The web client's endpoints: cookie sessions and `/web/dataset/call_kw`.
extension EmulatorCore {
    private func jsonRPCRoute(_ request: IncomingRequest, route: String) -> OutgoingResponse? {
        guard ["application/json", "application/json-rpc"].contains(request.mimetype) else {
            return .unsupportedMediaType(route: route, type: "jsonrpc", accept: "application/json, application/json-rpc")
        }
        return nil
    }

    private func currentSession(_ request: IncomingRequest) -> (WebSession, EmulatorUser)? {
        guard let id = request.cookies["session_id"], let session = session(id: id), let user = user(uid: session.uid)
        else { return nil }
        return (session, user)
    }

    /// Runs a JSON-RPC-enveloped handler, turning thrown Odoo errors into error bodies.
    private func rpcRoute(
        _ request: IncomingRequest, route: String,
        _ body: (EmulatorJSON) throws -> (MethodResult, [(String, String)])
    ) -> OutgoingResponse {
        if let rejected = jsonRPCRoute(request, route: route) { return rejected }
        guard let (id, params) = rpcEnvelope(request) else { return EmulatorCore.invalidJSONResponse(request) }
        do {
            let (result, headers) = try body(params)
            return .json(Envelope.rpcSuccess(id: id, result), headers: headers)
        } catch let error as OdooError {
            return .json(Envelope.rpcError(id: id, error))
        } catch {
            return .json(Envelope.rpcError(id: id, .typeError("\(error)")))
        }
    }

    func handleSessionAuthenticate(_ request: IncomingRequest) -> OutgoingResponse {
        rpcRoute(request, route: "/web/session/authenticate") { params in
            let missing = ["db", "login", "password"].filter { params[$0] == nil }
            if !missing.isEmpty { throw OdooError.typeError(pythonMissingArguments("Session.authenticate()", missing)) }
            guard params["db"]?.stringValue == configuration.database else {
                throw OdooError.accessError("Database not found.")
            }
            // Sessions need the real password; an API key is refused here.
            guard let login = params["login"]?.stringValue, let password = params["password"]?.stringValue,
                let user = user(login: login), checkCredentials(user, secret: password, allowAPIKey: false)
            else { throw OdooError.accessDenied() }
            let session = openSession(user: user)
            let cookie = sessionCookie(session.id)
            // Odoo sends the cookie twice (once from the login, once when saving the session).
            return (.value(sessionInfo(user: user)), [("Set-Cookie", cookie), ("Set-Cookie", cookie)])
        }
    }

    func handleSessionInfo(_ request: IncomingRequest) -> OutgoingResponse {
        rpcRoute(request, route: "/web/session/get_session_info") { _ in
            guard let (_, user) = currentSession(request) else { throw OdooError.sessionExpired() }
            return (.value(sessionInfo(user: user)), [])
        }
    }

    func handleSessionDestroy(_ request: IncomingRequest) -> OutgoingResponse {
        rpcRoute(request, route: "/web/session/destroy") { _ in
            guard let (session, _) = currentSession(request) else { throw OdooError.sessionExpired() }
            closeSession(id: session.id)
            return (.none, [])
        }
    }

    func handleVersionInfo(_ request: IncomingRequest) -> OutgoingResponse {
        rpcRoute(request, route: "/web/webclient/version_info") { _ in (.value(configuration.versionDict), []) }
    }

    func handleWebVersion() -> OutgoingResponse {
        .json(["version_info": configuration.versionInfo, "version": .string(configuration.serverVersion)])
    }

    func handleCallKw(_ request: IncomingRequest) -> OutgoingResponse {
        rpcRoute(request, route: "/web/dataset/call_kw") { params in
            guard let (_, user) = currentSession(request) else { throw OdooError.sessionExpired() }
            let missing = ["model", "method", "args", "kwargs"].filter { params[$0] == nil }
            if !missing.isEmpty { throw OdooError.typeError(pythonMissingArguments("DataSet.call_kw()", missing)) }
            let model = params["model"]?.stringValue ?? ""
            let method = params["method"]?.stringValue ?? ""
            if case .unknownModel = resolve(model: model, method: method) { throw OdooError.sessionNotFound() }
            var call = ModelCall(model: model, method: method, channel: .session)
            call.positional = params["args"]?.arrayValue ?? []
            call.keywords = params["kwargs"]?.objectValue ?? []
            call.dryRun = request.dryRunWrites
            return (try execute(call, caller: caller(for: user)), [])
        }
    }

    private func sessionCookie(_ id: String) -> String {
        let expiry = Date().addingTimeInterval(604_800)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return "session_id=\(id); Expires=\(formatter.string(from: expiry)); Max-Age=604800; HttpOnly; Path=/"
    }

    /// The session info dictionary, with the keys the real 19.0 answer has (web-client-only
    /// data such as `storeData` trimmed to its skeleton).
    func sessionInfo(user: EmulatorUser) -> EmulatorJSON {
        let state = snapshot()
        let caller = caller(for: user, in: state)
        var partnerID: EmulatorJSON = false
        var partnerName: EmulatorJSON = .string(caller.name)
        var partnerWriteDate: EmulatorJSON = false
        var companyID = 1
        if let users = state.tables["res.users"], let record = users.record(id: user.uid) {
            if let index = users.schema.fieldIndex["partner_id"], case .ref(let partner) = record.values[index] {
                partnerID = .int(partner)
                if let partners = state.tables["res.partner"], let row = partners.record(id: partner) {
                    partnerName = .string(ModelTable.displayName(of: row, schema: partners.schema))
                    if let wd = partners.schema.writeDateField, case .datetime(let micros) = row.values[wd] {
                        partnerWriteDate = .string(TimeUtil.formatDateTime(micros))
                    }
                }
            }
            if let index = users.schema.fieldIndex["company_id"], case .ref(let company) = record.values[index] {
                companyID = company
            }
        }
        var companies: [(String, EmulatorJSON)] = []
        var currencies: [(String, EmulatorJSON)] = []
        if let table = state.tables["res.company"] {
            for company in table.idsAscending.compactMap(table.record(id:)) {
                var currency: EmulatorJSON = false
                if let index = table.schema.fieldIndex["currency_id"], case .ref(let id) = company.values[index] {
                    currency = .int(id)
                    let symbol = state.tables["res.currency"].flatMap { currencies in
                        currencies.schema.fieldIndex["symbol"].flatMap { symbolIndex in
                            currencies.record(id: id).flatMap { row -> String? in
                                if case .text(let s) = row.values[symbolIndex] { return s }
                                return nil
                            }
                        }
                    }
                    let name = state.tables["res.currency"]?.displayName(id: id) ?? "USD"
                    currencies.append((
                        String(id),
                        .object([("name", .string(name)), ("symbol", .string(symbol ?? "$")), ("position", "before"),
                            ("digits", [69, 2])])
                    ))
                }
                companies.append((
                    String(company.id),
                    .object([
                        ("id", .int(company.id)), ("name", .string(ModelTable.displayName(of: company, schema: table.schema))),
                        ("sequence", .int(company.id == 1 ? 0 : 10)), ("child_ids", []), ("parent_id", false),
                        ("currency_id", currency),
                    ])
                ))
            }
        }
        let context: EmulatorJSON = .object([("lang", "en_US"), ("tz", .string(caller.tz)), ("uid", .int(user.uid))])
        return .object([
            ("uid", .int(user.uid)), ("is_system", .bool(user.isAdmin)), ("is_admin", .bool(user.isAdmin)),
            ("is_public", false), ("is_internal_user", true), ("user_context", context),
            ("db", .string(configuration.database)),
            ("registry_hash", "e86d0b0e44410bcf7b1c73bae44ebf99e71463dc312cc0c9218850ab2bb833d9"),
            ("user_settings", .object([("id", .int(user.uid)), ("user_id", .object([("id", .int(user.uid))]))])),
            ("server_version", .string(configuration.serverVersion)),
            ("server_version_info", configuration.versionInfo), ("support_url", "https://www.odoo.com/buy"),
            ("name", .string(caller.name)), ("username", .string(user.login)), ("quick_login", true),
            ("partner_write_date", partnerWriteDate), ("partner_display_name", partnerName), ("partner_id", partnerID),
            ("web.base.url", .string(baseURL)), ("active_ids_limit", 20000), ("profile_session", .null),
            ("profile_collectors", .null), ("profile_params", .null), ("max_file_upload_size", 134_217_728),
            ("home_action_id", false), ("currencies", .object(currencies)), ("bundle_params", ["lang": "en_US"]),
            ("test_mode", false), ("view_info", .object([])), ("groups", ["base.group_allow_export": true]),
            (
                "user_companies",
                .object([
                    ("current_company", .int(companyID)), ("allowed_companies", .object(companies)),
                    ("disallowed_ancestor_companies", .object([])),
                ])
            ),
            ("show_effect", true), ("websocket_worker_version", .string(configuration.serverVersion + "-2")),
            ("tour_enabled", false), ("current_tour", .null), ("storeData", .object([("Store", .object([]))])),
            ("iap_company_enrich", true), ("can_insert_in_spreadsheet", false),
        ])
    }
}
