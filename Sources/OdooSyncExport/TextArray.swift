import NIOCore
import PostgresNIO

/// One column of a batch as a `text[]` bind parameter, NULLs included (PostgresNIO's own
/// array encoding has no optional elements). A batch travels as one such array per column and
/// `unnest` turns them back into rows on the server: one statement per table per batch,
/// whatever the batch size, and no statement text that grows with the data.
struct TextArray: PostgresNonThrowingEncodable {
    var values: [String?]

    static var psqlType: PostgresDataType { .textArray }
    static var psqlFormat: PostgresFormat { .binary }

    /// The binary array layout: dimensions, null flag, element type, then each element as a
    /// length (-1 for NULL) and its bytes.
    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        guard !values.isEmpty else {
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(PostgresDataType.text.rawValue)
            return
        }
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(values.contains { $0 == nil } ? 1 : 0))
        buffer.writeInteger(PostgresDataType.text.rawValue)
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))
        for value in values {
            guard let value else {
                buffer.writeInteger(Int32(-1))
                continue
            }
            // PostgreSQL text cannot hold NUL, which SQLite text can.
            let text = value.utf8.contains(0) ? value.replacingOccurrences(of: "\0", with: "") : value
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            let written = buffer.writeString(text)
            buffer.setInteger(Int32(written), at: lengthIndex)
        }
    }
}
