import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C API, for the hot paths (a pull's pages, a
/// sync's journal rows): binding bytes from the response body directly avoids building a
/// `DatabaseValue` per column.
public struct FastStatement {
    public let statement: Statement
    @usableFromInline var handle: OpaquePointer { statement.sqliteStatement }

    public init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    @usableFromInline static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @inlinable @inline(__always) public func bind(_ index: Int32, _ value: Int?) {
        if let value { sqlite3_bind_int64(handle, index, Int64(value)) } else { sqlite3_bind_null(handle, index) }
    }

    @inlinable @inline(__always) public func bind(_ index: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    @inlinable @inline(__always) public func bind(_ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        var copy = value
        copy.withUTF8 { buffer in bind(index, utf8: buffer) }
    }

    /// Binds UTF-8 bytes (nil binds NULL).
    @inlinable @inline(__always) public func bind(_ index: Int32, utf8 buffer: UnsafeBufferPointer<UInt8>?) {
        guard let buffer else { sqlite3_bind_null(handle, index); return }
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            sqlite3_bind_text(handle, index, "", 0, nil)
            return
        }
        sqlite3_bind_text(handle, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buffer.count),
                          FastStatement.transient)
    }

    /// Binds UTF-8 bytes without a copy (nil binds NULL): they must stay valid and unchanged
    /// until `reset`, which clears the binding.
    @inlinable @inline(__always) public func bind(_ index: Int32, static buffer: UnsafeBufferPointer<UInt8>?) {
        guard let buffer else { sqlite3_bind_null(handle, index); return }
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            sqlite3_bind_text(handle, index, "", 0, nil)
            return
        }
        sqlite3_bind_text(handle, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buffer.count), nil)
    }

    /// Binds bytes of a response body without a copy, as `bind(_:static:)`.
    @inlinable @inline(__always) public func bind(_ index: Int32, raw buffer: UnsafeRawBufferPointer) {
        bind(index, static: buffer.assumingMemoryBound(to: UInt8.self))
    }

    /// Runs the statement to completion; returns whether it produced a row (for SELECTs the
    /// caller reads that row before the next `reset`).
    @discardableResult
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)  // no binding may outlive the bytes it points to
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    public func columnInt(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }
    public func columnIsNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
    public func columnText(_ index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        return String(cString: text)
    }
}

extension FastStatement {
    /// Binds the parameters in order with `bind`, runs the statement once and resets it.
    public func execute(_ bind: (inout RowBinder) -> Void) throws {
        var binder = RowBinder(statement: self)
        bind(&binder)
        defer { reset() }
        try step()
    }

    /// `execute` for a query: the first column of its first row, as text (nil without a row).
    public func text(_ bind: (inout RowBinder) -> Void) throws -> String? {
        var binder = RowBinder(statement: self)
        bind(&binder)
        defer { reset() }
        return try step() ? columnText(0) : nil
    }
}

/// Binds the values of consecutive rows, parameter after parameter, into one statement.
public struct RowBinder {
    let statement: FastStatement
    var index: Int32 = 0

    public mutating func add(_ value: String?) {
        index += 1
        statement.bind(index, value)
    }

    public mutating func add(_ value: Int?) {
        index += 1
        statement.bind(index, value)
    }

    public mutating func add(_ value: Double?) {
        index += 1
        statement.bind(index, value)
    }

    public mutating func add(_ value: Bool) { add(value ? 1 : 0) }
}
