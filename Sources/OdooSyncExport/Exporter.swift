import Foundation
import Logging
import OdooSyncCore
import OdooSyncMirror
import PostgresNIO

public struct ExportOptions: Sendable {
    /// Create the target schema where it is missing.
    public var initSchema = false
    /// Change entries (or appended rows) per batch, each batch one target transaction.
    public var batchSize = 5000
    /// Send every row again, not just what changed since the last export.
    public var full = false

    public init(initSchema: Bool = false, batchSize: Int = 5000, full: Bool = false) {
        self.initSchema = initSchema
        self.batchSize = batchSize
        self.full = full
    }
}

/// What an export did.
public struct ExportReport: Sendable {
    public var target = ""
    public var tls = false
    public var created: [String] = []
    public var notCreated: [String] = []
    /// Reference columns the target tables lack, whose values were not sent.
    public var missingColumns: [(table: String, columns: [String])] = []
    public var tables: [(table: String, stats: TableStats)] = ExportTable.all.map { ($0.target, TableStats()) }
    public var batches = 0
    public var seconds = 0.0
    public var warnings: [String] = []
    /// The batch that failed, which stopped the export; everything before it is committed.
    public var error: String?

    public var rowsSent: Int { tables.reduce(0) { $0 + $1.stats.sent } }

    mutating func add(_ table: String, _ stats: TableStats) {
        if let index = tables.firstIndex(where: { $0.table == table }) { tables[index].stats += stats }
    }

    public var json: JSONValue {
        .object([
            ("target", .string(target)),
            ("tls", .bool(tls)),
            ("created", .array(created.map(JSONValue.string))),
            ("not_created", .array(notCreated.map(JSONValue.string))),
            ("missing_columns", .object(missingColumns.map { ($0.table, .array($0.columns.map(JSONValue.string))) })),
            ("tables", .object(tables.map { name, s in
                (name, .object([
                    ("sent", .int(s.sent)), ("inserted", .int(s.inserted)), ("updated", .int(s.updated)),
                    ("unchanged", .int(s.unchanged)), ("skipped_edited", .int(s.skippedEdited)),
                    ("skipped_foreign", .int(s.skippedForeign)), ("skipped_no_key", .int(s.skippedNoKey)),
                    ("skipped_keys", .array(s.skippedKeys.map(JSONValue.string))),
                ]))
            })),
            ("rows_sent", .int(rowsSent)),
            ("batches", .int(batches)),
            ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ("rows_per_second", .int(seconds > 0 ? Int(Double(rowsSent) / seconds) : 0)),
            ("warnings", .array(warnings.map(JSONValue.string))),
            ("error", error.map(JSONValue.string) ?? .null),
        ])
    }
}

/// Publishes the mirror to the target: the changed rows first (runs, config, mappings, queue,
/// customers, contacts, leads, in that order inside each batch so that what a row points to
/// is there before it), then the appended sync log and events.
public struct Exporter: Sendable {
    let ledger: ExportLedger
    let connection: SupabaseConnection
    let options: ExportOptions
    let logger: Logger
    let progress: (@Sendable (_ rowsSent: Int) -> Void)?

    public init(mirror: Mirror, connection: SupabaseConnection, options: ExportOptions, logger: Logger,
                progress: (@Sendable (Int) -> Void)? = nil) {
        ledger = ExportLedger(mirror: mirror)
        self.connection = connection
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Connects, exports and disconnects, recording the attempt for `status` whatever
    /// happens. Errors that stop the export before any batch (connection, login, schema,
    /// permissions) are thrown; a batch the target rejects ends the export with
    /// `report.error` set, everything committed before it kept.
    public static func run(mirror: Mirror, target: PostgresTarget, options: ExportOptions, logger: Logger,
                           progress: (@Sendable (Int) -> Void)? = nil) async throws -> ExportReport {
        let ledger = ExportLedger(mirror: mirror)
        let runID = try ledger.startRun(target: target.description)
        do {
            let connection = try await SupabaseConnection.connect(target, logger: logger)
            let report: ExportReport
            do {
                report = try await Exporter(mirror: mirror, connection: connection, options: options, logger: logger,
                                            progress: progress).export()
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            try ledger.finishRun(id: runID, status: report.error == nil ? "success" : "failed", summary: report.json, error: report.error)
            return report
        } catch {
            try? ledger.finishRun(id: runID, status: "failed", summary: [:], error: "\(error)")
            throw error
        }
    }

    private func export() async throws -> ExportReport {
        let started = Date()
        var report = ExportReport()
        report.target = connection.target.description
        report.tls = await connection.usesTLS()
        if let previous = try ledger.lastSuccessfulTarget(), previous != report.target, !options.full {
            report.warnings.append("The mirror was last exported to \(previous); this export sends only what changed since then. Run `odoosync export --full` to send everything to \(report.target).")
        }

        var catalog = try await TargetCatalog.read(connection)
        if options.initSchema {
            let (created, skipped) = try await SchemaInitializer.run(connection, catalog: catalog)
            report.created = created
            report.notCreated = skipped
            if !created.isEmpty { catalog = try await TargetCatalog.read(connection) }
        }
        let missingTables = ExportTable.all.map(\.target).filter { !catalog.hasTable($0) }
        if !missingTables.isEmpty {
            throw ExportError.schemaMissing(target: report.target, missing: missingTables)
        }
        for table in ExportTable.all {
            let missing = catalog.missingColumns(table)
            let missingKeys = table.key.filter(missing.contains)
            if !missingKeys.isEmpty {
                throw ExportError.keyColumnsMissing(target: report.target, table: table.target, columns: missingKeys)
            }
            if !missing.isEmpty { report.missingColumns.append((table.target, missing)) }
        }
        var writers: [String: TableWriter] = [:]
        for table in ExportTable.all { writers[table.target] = TableWriter(table: table, catalog: catalog) }
        if options.full { try ledger.oweEverything() }

        do {
            try await sendChanges(writers, &report)
            for table in ExportTable.appended {
                try await sendAppended(table, writers, &report)
            }
        } catch let error as ExportError {
            guard case .server = error else { throw error }
            report.error = error.description
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// A batch read and encoded, ready for its transaction.
    struct PreparedBatch: Sendable {
        var lastSeq: Int64
        var tables: [(target: String, prepared: TableWriter.Prepared)]
    }

    static func prepare(_ batch: ExportLedger.Batch?, _ tables: [ExportTable], _ writers: [String: TableWriter]) -> PreparedBatch? {
        guard let batch else { return nil }
        return PreparedBatch(lastSeq: batch.lastSeq, tables: tables.compactMap { table in
            guard let rows = batch.rows[table.mirror], !rows.isEmpty, let writer = writers[table.target] else { return nil }
            return (table.target, writer.prepare(rows))
        })
    }

    /// The next batch is read from the mirror and encoded while the current one is in the
    /// target's hands, so that the two sides work at the same time (its entries follow the
    /// current batch's, whatever becomes of the current batch's commit).
    private func sendChanges(_ writers: [String: TableWriter], _ report: inout ExportReport) async throws {
        let ledger = self.ledger
        let limit = options.batchSize
        let start = try ledger.watermark(ExportLedger.changesWatermark)
        var next = Task { Exporter.prepare(try ledger.changeBatch(after: start, limit: limit), ExportTable.changed, writers) }
        while let batch = try await next.value {
            next = Task { Exporter.prepare(try ledger.changeBatch(after: batch.lastSeq, limit: limit), ExportTable.changed, writers) }
            try await send(batch, writers, watermark: ExportLedger.changesWatermark, &report)
        }
    }

    private func sendAppended(_ table: ExportTable, _ writers: [String: TableWriter], _ report: inout ExportReport) async throws {
        guard case .appended(let key) = table.feed else { return }
        let ledger = self.ledger
        let limit = options.batchSize
        let start = try ledger.watermark(key)
        var next = Task { Exporter.prepare(try ledger.appendedBatch(table, after: start, limit: limit), [table], writers) }
        while let batch = try await next.value {
            next = Task { Exporter.prepare(try ledger.appendedBatch(table, after: batch.lastSeq, limit: limit), [table], writers) }
            try await send(batch, writers, watermark: key, &report)
        }
    }

    /// One batch, one transaction; the watermark moves once it has committed.
    private func send(_ batch: PreparedBatch, _ writers: [String: TableWriter], watermark: String,
                      _ report: inout ExportReport) async throws {
        let stats = try await connection.transaction(during: "a batch of \(batch.tables.map(\.target).joined(separator: ", "))") { conn in
            var stats: [(String, TableStats)] = []
            for (target, prepared) in batch.tables {
                guard let writer = writers[target] else { continue }
                stats.append((target, try await writer.write(prepared, on: conn)))
            }
            return stats
        }
        try ledger.advance(watermark, to: batch.lastSeq)
        record(stats, &report)
    }

    private func record(_ stats: [(String, TableStats)], _ report: inout ExportReport) {
        report.batches += 1
        for (table, s) in stats { report.add(table, s) }
        logger.info("export batch committed", metadata: ["export.batch": "\(report.batches)", "export.rows": "\(report.rowsSent)"])
        progress?(report.rowsSent)
    }
}
