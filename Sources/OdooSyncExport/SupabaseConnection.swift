import Foundation
import Logging
import NIOSSL
import OdooSyncCore
import PostgresNIO

/// One PostgresNIO connection to the export target.
///
/// Every statement goes through `PostgresConnection.query`, which sends Parse/Bind/Execute
/// with the unnamed statement and portal: nothing outlives its transaction, which is what a
/// transaction-mode pooler (Supabase's Supavisor on port 6543, PgBouncer) requires. For the
/// same reason settings are `SET LOCAL` and locks are transaction-scoped.
public final class SupabaseConnection: Sendable {
    public let target: PostgresTarget
    let connection: PostgresConnection
    let logger: Logger
    /// Fails what still waits 5 s after the connection closed (see `failingWhenClosed`).
    private let stranded: StrandedWork

    private init(target: PostgresTarget, connection: PostgresConnection, logger: Logger) {
        self.target = target
        self.connection = connection
        stranded = StrandedWork(closed: connection.closeFuture, target: target.description)
        self.logger = logger
    }

    public static func connect(_ target: PostgresTarget, logger: Logger) async throws -> SupabaseConnection {
        var configuration = PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password,
            database: target.database, tls: try tls(for: target))
        configuration.options.connectTimeout = .milliseconds(Int64(target.connectTimeout * 1000))
        configuration.options.additionalStartupParameters = [("application_name", target.applicationName)]
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return SupabaseConnection(target: target, connection: connection, logger: logger)
        } catch {
            throw SupabaseConnection.translate(error, target: target, during: "the login", connected: false)
        }
    }

    /// libpq's sslmode in NIOSSL terms: `prefer` and `require` encrypt without checking the
    /// certificate (as libpq does), `verify-ca` checks the chain, `verify-full` the host name too.
    static func tls(for target: PostgresTarget) throws -> PostgresConnection.Configuration.TLS {
        if target.sslMode == .disable { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch target.sslMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        if let root = target.sslRootCert {
            guard FileManager.default.isReadableFile(atPath: root) else {
                throw ConfigurationError("sslrootcert \(root) in SUPABASE_DB_URL cannot be read. Point it at the CA certificate file (PEM).")
            }
            tls.trustRoots = .file(root)
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigurationError("Cannot set up TLS for \(target.hostPort): \(error). Check sslrootcert in SUPABASE_DB_URL.")
        }
        return target.sslMode.requiresTLS ? .require(context) : .prefer(context)
    }

    /// Runs one statement and collects its rows; `during` names it in errors.
    @discardableResult
    public func query(_ query: PostgresQuery, during: String) async throws -> [PostgresRow] {
        let connection = self.connection, logger = self.logger
        do {
            return try await failingWhenClosed(during: during) { try await connection.query(query, logger: logger).collect() }
        } catch {
            throw SupabaseConnection.translate(error, target: target, during: during, connected: true)
        }
    }

    /// Runs `body` in one transaction, in UTC, with only pg_catalog on the search path (every
    /// name export uses is schema-qualified, so no other schema's objects can stand in for
    /// them), serialised with any other odoosync export to the same database. A failure rolls
    /// back; when the connection itself broke, the server has already discarded the transaction.
    public func transaction<T: Sendable>(during: String, _ body: (SupabaseConnection) async throws -> T) async throws -> T {
        try await query("BEGIN", during: during)
        do {
            // Two exports interleaving batches would still converge, but their counts would not.
            try await query("SET LOCAL TIME ZONE 'UTC'", during: during)
            try await query("SET LOCAL search_path TO pg_catalog, pg_temp", during: during)
            try await query("SELECT pg_advisory_xact_lock(hashtext('odoosync.export'))", during: during)
            let value = try await body(self)
            try await query("COMMIT", during: during)
            return value
        } catch {
            if !connection.isClosed {
                _ = try? await query("ROLLBACK", during: during)
            }
            throw error
        }
    }

    /// Streams `data` (COPY text format) into `schema.table` inside the caller's transaction.
    /// PostgresNIO's COPY names the table as one quoted identifier, so the schema comes from
    /// the search path for the length of the statement.
    func copy(into schema: String, _ table: String, columns: [String], data: ByteBuffer, during: String) async throws {
        try await query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(TableWriter.quote(schema)), pg_catalog, pg_temp"), during: during)
        do {
            let connection = self.connection, logger = self.logger
            try await failingWhenClosed(during: during) {
                try await connection.copyFrom(table: table, columns: columns, format: .text(.init()), logger: logger) { writer in
                    var rest = data
                    while rest.readableBytes > 0, let chunk = rest.readSlice(length: min(1 << 20, rest.readableBytes)) {
                        try await writer.write(chunk)
                    }
                }
            }
        } catch {
            throw SupabaseConnection.translate(error, target: target, during: during, connected: true)
        }
        try await query("SET LOCAL search_path TO pg_catalog, pg_temp", during: during)
    }

    /// Runs `body`, but gives up on it when the connection closes and `body` has not ended
    /// 5 s later (at once when it was closed already): PostgresNIO was seen to leave a COPY, and
    /// a query sent just after the server ended the session, waiting forever (in a test that
    /// ends the session mid-export, about one run in four). The abandoned work ends with the
    /// process.
    private func failingWhenClosed<T: Sendable>(during: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if connection.isClosed {
            throw ExportError.connectionLost(target: target.description, cause: "the server closed the connection")
        }
        let settled = OnceFlag()
        let stranded = self.stranded
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let ticket = stranded.add { error in
                if settled.claim() { continuation.resume(throwing: error) }
            }
            Task {
                do {
                    let value = try await body()
                    if settled.claim() { continuation.resume(returning: value) }
                } catch {
                    if settled.claim() { continuation.resume(throwing: error) }
                }
                stranded.remove(ticket)
            }
        }
    }

    /// Whether the session is encrypted, as the server sees it.
    public func usesTLS() async -> Bool {
        guard let rows = try? await query("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)", during: "a TLS check"),
              let ssl = try? rows.first?.decode(Bool.self) else { return false }
        return ssl
    }

    public func close() async {
        guard !connection.isClosed else { return }
        let connection = self.connection
        try? await failingWhenClosed(during: "closing the connection") { try await connection.close() }
    }

    // MARK: - Errors

    /// Maps whatever PostgresNIO or NIO threw to one `ExportError`. PSQLError's own
    /// description hides everything on purpose; the server's message and SQLSTATE are safe to
    /// show (they never carry the password) and say what is wrong.
    static func translate(_ error: any Error, target: PostgresTarget, during: String, connected: Bool) -> any Error {
        if error is ExportError || error is ConfigurationError || error is CancellationError { return error }
        let name = target.description
        guard let psql = error as? PSQLError else {
            return connected ? ExportError.connectionLost(target: name, cause: cause(of: error, target: target))
                : ExportError.unreachable(target: name, cause: cause(of: error, target: target))
        }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? ""
            var message = psql.serverInfo?[.message] ?? "unknown error"
            if let detail = psql.serverInfo?[.detail] { message += " (\(detail))" }
            switch state {
            case "28000", "28P01", "3D000":
                return ExportError.refused(target: name, cause: message)
            case "53300", "57P03":
                return ExportError.unreachable(target: name, cause: message)
            case "42501":
                return ExportError.permissionDenied(target: name, cause: message)
            case "57P01", "57P02", "57P05":
                return ExportError.connectionLost(target: name, cause: message)
            default:
                if !connected { return ExportError.refused(target: name, cause: "\(message) [SQLSTATE \(state)]") }
                return ExportError.server(target: name, during: during, cause: "\(message) [SQLSTATE \(state)]")
            }
        case .sslUnsupported:
            return ExportError.unreachable(target: name, cause: "the server does not offer TLS, and sslmode=\(target.sslMode.rawValue) requires it")
        case .failedToAddSSLHandler:
            return ExportError.unreachable(target: name, cause: "TLS could not be set up")
        case .unsupportedAuthMechanism, .saslError:
            return ExportError.refused(target: name, cause: "the login failed (\(psql.underlying.map { cause(of: $0, target: target) } ?? psql.code.description))")
        case .authMechanismRequiresPassword:
            return ExportError.refused(target: name, cause: "the server asks for a password and SUPABASE_DB_URL has none")
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            let text = psql.underlying.map { cause(of: $0, target: target) } ?? "the server closed the connection"
            return connected ? ExportError.connectionLost(target: name, cause: text) : ExportError.unreachable(target: name, cause: text)
        default:
            return ExportError.server(target: name, during: during, cause: psql.code.description)
        }
    }

    static func cause(of error: any Error, target: PostgresTarget) -> String {
        if let e = error as? NIOConnectionError {
            if let failure = e.connectionErrors.first { return cause(of: failure.error, target: target) }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "the host name \(target.host) does not resolve" }
            return "the host name \(target.host) has no address"
        }
        if let e = error as? IOError {
            return String(cString: strerror(e.errnoCode)).lowercased()
        }
        if let e = error as? ChannelError {
            if case .connectTimeout = e { return "no answer within \(JSONValue.format(target.connectTimeout).replacingOccurrences(of: ".0", with: "")) s" }
            return "\(e)"
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            let text = "\(error)"
            if text.localizedCaseInsensitiveContains("hostname") {
                return "the server's TLS certificate is not for \(target.host) (sslmode=verify-full checks the host name)"
            }
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's TLS certificate is not trusted (for a private CA add sslrootcert=/path/to/ca.pem to the URL; sslmode=require encrypts without verifying)"
            }
            return "the TLS handshake failed"
        }
        if let e = error as? PSQLError, let underlying = e.underlying { return cause(of: underlying, target: target) }
        return "\(error)"
    }
}

/// True for the first caller only: whichever of two racing paths settles a continuation.
private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}

/// Work waiting on a connection, failed with "connection lost" 5 s after the connection
/// closes if it has not ended by then (one watch per connection, not one per statement).
private final class StrandedWork: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [Int: @Sendable (Error) -> Void] = [:]
    private var next = 0
    private var expired = false
    private let target: String

    init(closed: EventLoopFuture<Void>, target: String) {
        self.target = target
        closed.whenComplete { [self] _ in
            Task {
                try? await Task.sleep(nanoseconds: 5_000_000_000)
                self.expire()
            }
        }
    }

    /// Registers `fail`; it is called at once when the grace period is already over.
    func add(_ fail: @escaping @Sendable (Error) -> Void) -> Int {
        lock.lock()
        if expired {
            lock.unlock()
            fail(lost)
            return -1
        }
        next += 1
        waiting[next] = fail
        let ticket = next
        lock.unlock()
        return ticket
    }

    func remove(_ ticket: Int) {
        lock.lock()
        waiting[ticket] = nil
        lock.unlock()
    }

    private var lost: Error { ExportError.connectionLost(target: target, cause: "the server closed the connection") }

    private func expire() {
        lock.lock()
        expired = true
        let failing = waiting.values
        waiting = [:]
        lock.unlock()
        for fail in failing { fail(lost) }
    }
}
