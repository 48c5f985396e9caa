import Foundation
import Hummingbird

/// A request reduced to what the emulated endpoints look at.
struct IncomingRequest {
    let method: String
    let path: String
    /// Lower-cased names.
    let headers: [(String, String)]
    let body: [UInt8]
    /// Set for a truncated-body fault: writes are evaluated but not applied.
    var dryRunWrites = false

    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.last { $0.0 == lowered }?.1
    }

    /// The mimetype werkzeug derives from Content-Type (parameters dropped, lower-cased).
    var mimetype: String {
        guard let value = header("content-type") else { return "" }
        return value.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
    }

    var cookies: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in headers where name == "cookie" {
            for part in value.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { result[pair[0]] = pair[1] }
            }
        }
        return result
    }
}

/// A response before it becomes a Hummingbird `Response`.
struct OutgoingResponse {
    var status: Int
    var headers: [(String, String)]
    var body: ByteBuffer

    static let jsonType = ("Content-Type", "application/json; charset=utf-8")
    static let htmlType = ("Content-Type", "text/html; charset=utf-8")

    static func json(status: Int = 200, _ buffer: ByteBuffer, headers: [(String, String)] = []) -> OutgoingResponse {
        OutgoingResponse(status: status, headers: [jsonType] + headers, body: buffer)
    }

    static func json(status: Int = 200, _ value: EmulatorJSON, headers: [(String, String)] = []) -> OutgoingResponse {
        json(status: status, ByteBuffer(bytes: value.serializedBytes), headers: headers)
    }

    static func html(status: Int, _ text: String, headers: [(String, String)] = []) -> OutgoingResponse {
        OutgoingResponse(status: status, headers: [htmlType] + headers, body: ByteBuffer(string: text))
    }

    static func werkzeugPage(status: Int, description: String, headers: [(String, String)] = []) -> OutgoingResponse {
        html(status: status, ErrorPages.werkzeug(status: status, description: description), headers: headers)
    }

    static let notFoundPage = werkzeugPage(status: 404, description: ErrorPages.notFoundDescription)

    /// Odoo's answer when the Content-Type does not fit the route's dispatcher.
    static func unsupportedMediaType(route: String, type: String, accept: String) -> OutgoingResponse {
        let description =
            "Request inferred type is compatible with ['http'] but '\(route)' is type='\(type)'.\n\n"
            + "Please verify the Content-Type request header and try again."
        return werkzeugPage(status: 415, description: description, headers: [("Accept", accept)])
    }
}

/// Writes protocol envelopes straight into a ByteBuffer; record rows are copied in as-is.
enum Envelope {
    static func write(_ result: MethodResult, into buffer: inout ByteBuffer) {
        switch result {
        case .value(let value):
            buffer.writeBytes(value.serializedBytes)
        case .ids(let ids):
            var out = JSONBytes(capacity: ids.count * 7 + 2)
            out.intList(ids)
            buffer.writeBytes(out.bytes)
        case .rows(let rows):
            buffer.writeInteger(UInt8(ascii: "["))
            for (n, row) in rows.enumerated() {
                if n > 0 { buffer.writeStaticString(", ") }
                buffer.writeBytes(row)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .none:
            buffer.writeStaticString("null")
        }
    }

    static func estimatedSize(_ result: MethodResult) -> Int {
        switch result {
        case .rows(let rows): return rows.reduce(64) { $0 + $1.count + 2 }
        case .ids(let ids): return ids.count * 8 + 64
        default: return 256
        }
    }

    /// `{"jsonrpc": "2.0", "id": ..., "result": ...}`; a None result has no `result` key.
    static func rpcSuccess(id: EmulatorJSON, _ result: MethodResult) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: estimatedSize(result))
        buffer.writeStaticString("{\"jsonrpc\": \"2.0\", \"id\": ")
        buffer.writeBytes(id.serializedBytes)
        if case .none = result {
            buffer.writeStaticString("}")
            return buffer
        }
        buffer.writeStaticString(", \"result\": ")
        write(result, into: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    static func rpcError(id: EmulatorJSON, _ error: OdooError) -> ByteBuffer {
        let body: EmulatorJSON = .object([
            ("jsonrpc", "2.0"),
            ("id", error.nullRequestID ? .null : id),
            (
                "error",
                .object([
                    ("code", .int(error.rpcCode)), ("message", .string(error.rpcMessage)), ("data", error.dataJSON),
                ])
            ),
        ])
        return ByteBuffer(bytes: body.serializedBytes)
    }

    static func json2(_ result: MethodResult) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: estimatedSize(result))
        write(result, into: &buffer)
        return buffer
    }

    static func json2Error(_ error: OdooError) -> OutgoingResponse {
        .json(status: error.httpStatus, error.dataJSON, headers: error.extraHeaders)
    }
}
