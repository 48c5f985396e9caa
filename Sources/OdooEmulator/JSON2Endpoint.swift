import Foundation
import Hummingbird

/// `POST /json/2/<model>/<method>` (Odoo 19): bearer API key, keyword arguments by name,
/// the bare result as body, and meaningful HTTP statuses.
extension EmulatorCore {
    func handleJSON2(_ request: IncomingRequest) -> OutgoingResponse {
        guard configuration.majorVersion >= 19 else { return .notFoundPage }
        if let db = request.header("x-odoo-database"), db != configuration.database {
            return .html(status: 404, ErrorPages.noDatabase)
        }
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(3)
        guard request.method == "POST", segments.count == 2, let model = segments.first, let method = segments.last,
            !model.isEmpty, !method.isEmpty
        else {
            return Envelope.json2Error(.werkzeug(404, "Did you mean POST /json/2/<model>/<method>?"))
        }
        guard request.mimetype == "application/json" else {
            return .unsupportedMediaType(route: "/json/2/<model>/<method>", type: "json2", accept: "application/json")
        }
        do {
            let user = try bearerUser(request)
            var body: [(String, EmulatorJSON)] = []
            if !request.body.isEmpty {
                let parsed: EmulatorJSON
                do {
                    parsed = try EmulatorJSON.parse(Data(request.body))
                } catch let syntax as JSONSyntaxError {
                    throw OdooError.werkzeug(400, "could not parse the body as json: \(syntax)")
                }
                guard case .object(let pairs) = parsed else {
                    throw OdooError.werkzeug(400, "could not parse the body, expecting a json object")
                }
                body = pairs
            }
            let modelName = String(model)
            let methodName = String(method)
            switch resolve(model: modelName, method: methodName) {
            case .unknownModel:
                throw OdooError.werkzeug(404, "the model \(pythonRepr(modelName)) does not exist")
            case .privateMethod:
                throw OdooError.accessError(
                    "Private methods (such as '\(modelName).\(methodName)') cannot be called remotely.")
            case .unknownMethod:
                throw OdooError.werkzeug(404, "The method '\(modelName).\(methodName)' does not exist")
            case .ok:
                break
            }
            var call = ModelCall(model: modelName, method: methodName, isJSON2: true, channel: .json2)
            // Later duplicates win, as in a Python dict.
            var keywords: [(String, EmulatorJSON)] = []
            for (key, value) in body {
                switch key {
                case "ids": call.json2IDs = value
                case "context": call.json2Context = value
                default:
                    keywords.removeAll { $0.0 == key }
                    keywords.append((key, value))
                }
            }
            call.keywords = keywords
            call.dryRun = request.dryRunWrites
            let result = try execute(call, caller: caller(for: user))
            return .json(Envelope.json2(result))
        } catch let error as OdooError {
            return Envelope.json2Error(error)
        } catch {
            return Envelope.json2Error(.werkzeug(500, "internal server error"))
        }
    }

    /// `Authorization: bearer <key>`; the scheme is case-insensitive.
    private func bearerUser(_ request: IncomingRequest) throws -> EmulatorUser {
        guard let header = request.header("authorization") else {
            if request.cookies["session_id"] != nil {
                throw OdooError.unauthorized("Missing \"Authorization\" or Sec-headers for interactive usage.")
            }
            throw OdooError.unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
        }
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw OdooError.unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
        }
        guard let user = user(apiKey: parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw OdooError.unauthorized("Invalid apikey")
        }
        return user
    }
}
