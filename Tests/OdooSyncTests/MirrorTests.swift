import Foundation
import GRDB
import Testing
@testable import OdooSyncEngine
@testable import OdooSyncMirror
@testable import OdooSyncCore

@Suite struct MirrorTests {
    @Test func createsAPrivateWALFileWithEveryTableGroup() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("m.sqlite").path
        let mirror = try Mirror(path: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let mode = try mirror.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let tables = try mirror.read { db in try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table','view')")) }
        for name in ["sync_mappings", "sync_queue", "sync_config", "sync_log", "events", "runs", "leads", "customers", "contacts",
                     "odoo_records", "plane_records", "pull_cursors", "local_edits", "conflicts", "webhook_deliveries",
                     "webhook_delivery_bodies", "export_watermarks", "v_active_syncs", "v_pending_queue", "v_sync_stats", "sync_pairs", "state_map"] {
            #expect(tables.contains(name), "missing \(name)")
        }
        // The two rows of the Supabase setup plus the design's other four entity types.
        let entities = try mirror.read { db in
            try Set(String.fetchAll(db, sql: "SELECT plane_type || ':' || odoo_model FROM sync_config"))
        }
        #expect(entities == Set(SyncEntities.all))
    }

    @Test func upgradesAnOlderFileInPlace() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("old.sqlite").path
        // A file as the first migration alone left it, with a lead in it.
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        let first = EmbeddedSchema.files[0]
        migrator.registerMigration(String(first.name.dropLast(4))) { db in try db.execute(sql: first.sql) }
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO leads (id, title, created_at, updated_at) VALUES ('x', 'kept', 'now', 'now')")
        }
        try queue.close()
        let mirror = try Mirror(path: path)
        let applied = try mirror.read { db in try Mirror.migrator.appliedIdentifiers(db) }
        #expect(applied.count == EmbeddedSchema.files.count)
        #expect(try mirror.read { db in try String.fetchOne(db, sql: "SELECT title FROM leads") } == "kept")
        #expect(try mirror.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stage_map") } ?? 0 > 20)
    }

    /// Migration 009 rewrote the hot tables' CHECK constraints in place: they refuse what the
    /// old ones refused, and none of them still builds an IN-list b-tree or parses JSON per row.
    @Test func theLighterChecksRefuseWhatTheOldOnesRefused() throws {
        let dir = try TestPaths.temporaryDirectory()
        let mirror = try Mirror(path: dir.appendingPathComponent("m.sqlite").path)
        let hot = ["leads", "odoo_records", "plane_records", "sync_mappings", "sync_queue", "sync_log", "events", "sync_pairs",
                   "webhook_deliveries"]
        let definitions = try mirror.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'table'")
                .map { ($0["name"] as String, $0["sql"] as String) })
        }
        for table in hot {
            let sql = try #require(definitions[table]).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            // Two-value lists such as IN (0, 1) compile to two comparisons and may stay.
            let lists = sql.components(separatedBy: " IN (").dropFirst().filter { $0.prefix(while: { $0 != ")" }).split(separator: ",").count > 2 }
            #expect(lists.isEmpty, "\(table) still checks a list with IN")
            let jsonColumns = MirrorJSON.columns.filter { $0.table == table }.map(\.column)
            for column in jsonColumns { #expect(!sql.contains("json_valid(\(column))"), "\(table).\(column) still checked per row") }
        }
        // Low-volume JSON columns keep their checks.
        #expect(definitions["local_edits"]?.contains("json_valid(changes)") == true)

        let refused: [String] = [
            "INSERT INTO leads (id, title, priority, created_at, updated_at) VALUES ('a', 't', 'urgent', 'now', 'now')",
            "INSERT INTO leads (id, title, priority, created_at, updated_at) VALUES ('b', 't', 'High', 'now', 'now')",
            "INSERT INTO sync_queue (id, operation, created_at) VALUES ('q', 'upsert', 'now')",
            "INSERT INTO sync_queue (id, status, created_at) VALUES ('q', 'done', 'now')",
            "INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, sync_direction, created_at, updated_at) VALUES ('m', 'plane', '1', 'issue', '2', 'project.task', 'now', 'both', 'now', 'now')",
            "INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, status, created_at, updated_at) VALUES ('m', 'plane', '1', 'issue', '2', 'project.task', 'now', 'gone', 'now', 'now')",
            "INSERT INTO events (id, seq, level, message, timestamp, created_at) VALUES ('e', 1, 'notice', 'm', 'now', 'now')",
            "INSERT INTO events (id, seq, system, message, timestamp, created_at) VALUES ('e', 1, 'plane', 'm', 'now', 'now')",
            "INSERT INTO webhook_deliveries (source, delivery_id, status, received_at) VALUES ('plane', 'd', 'queued', 'now')",
        ]
        for sql in refused {
            #expect(throws: DatabaseError.self, "\(sql)") { try mirror.write { db in try db.execute(sql: sql) } }
        }
        let accepted: [String] = [
            "INSERT INTO leads (id, title, priority, created_at, updated_at) VALUES ('a', 't', NULL, 'now', 'now')",
            "INSERT INTO leads (id, title, priority, created_at, updated_at) VALUES ('b', 't', 'low', 'now', 'now')",
            "INSERT INTO sync_queue (id, operation, status, created_at) VALUES ('q', 'archive', 'cancelled', 'now')",
            "INSERT INTO sync_queue (id, operation, created_at) VALUES ('r', NULL, 'now')",
            "INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, sync_direction, status, created_at, updated_at) VALUES ('m', 'plane', '1', 'issue', '2', 'project.task', 'now', 'odoo_to_plane', 'archived', 'now', 'now')",
            "INSERT INTO events (id, seq, level, system, message, timestamp, created_at) VALUES ('e', 1, 'fatal', 'custom', 'm', 'now', 'now')",
            "INSERT INTO events (id, seq, message, timestamp, created_at) VALUES ('f', 2, 'm', 'now', 'now')",
            "INSERT INTO webhook_deliveries (source, delivery_id, status, received_at) VALUES ('plane', 'd', 'processed', 'now')",
        ]
        for sql in accepted {
            #expect(throws: Never.self, "\(sql)") { try mirror.write { db in try db.execute(sql: sql) } }
        }
        #expect(try mirror.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("notes.sqlite").path
        try String(repeating: "this is a text file, not a database\n", count: 200).write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: MirrorError.self) { try Mirror(path: path) }
        #expect(error == .notSQLite(path: path))
        #expect(error?.exitStatus == .mirror)
    }

    @Test func refusesAFileFromANewerVersion() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("new.sqlite").path
        _ = try Mirror(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('999_future')") }
        try queue.close()
        #expect(throws: MirrorError.newerSchema(path: path, unknown: ["999_future"])) { try Mirror(path: path) }
    }

    @Test func embeddedSchemaMatchesTheSQLFiles() throws {
        let dir = TestPaths.repoRoot.appendingPathComponent("schema/mirror")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(names == EmbeddedSchema.files.map(\.name))
        for file in EmbeddedSchema.files {
            let text = try String(contentsOf: dir.appendingPathComponent(file.name), encoding: .utf8)
            #expect(text.trimmingCharacters(in: .newlines) == file.sql.trimmingCharacters(in: .newlines), "run scripts/embed-schema")
        }
    }
}

/// The default stage map against the table and spelling variants of reference/stage-map.md.
@Suite struct StageMapTests {
    static func referenceRows() throws -> [(String, String)] {
        let url = TestPaths.samples.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("stage-map.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var rows: [(String, String)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| ") && !line.contains("---") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, cells[0] != "Odoo stage" else { continue }
            rows.append((cells[0], cells[1]))
        }
        // "Spelling variants ...: "Telephonic" -> telephonic_enquiries; ..."
        if let variants = text.range(of: "Spelling variants") {
            let para = text[variants.lowerBound...].prefix { $0 != "\n" || true }.split(separator: "\n\n").first ?? ""
            let pattern = try NSRegularExpression(pattern: #"((?:"[^"]+",?\s*)+)->\s*([a-z_]+)"#)
            let ns = String(para) as NSString
            for match in pattern.matches(in: String(para), range: NSRange(location: 0, length: ns.length)) {
                let names = ns.substring(with: match.range(at: 1))
                let slug = ns.substring(with: match.range(at: 2))
                for piece in names.split(separator: "\"") {
                    // The markdown wraps lines inside quoted names; separators are commas and spaces.
                    let name = piece.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    if !name.isEmpty && name != "," { rows.append((name, slug)) }
                }
            }
        }
        return rows
    }

    @Test func everyReferenceRowMaps() throws {
        let rows = try StageMapTests.referenceRows()
        #expect(rows.count >= 30, "read \(rows.count) rows from stage-map.md")
        let dir = try TestPaths.temporaryDirectory()
        let map = try Mirror(path: dir.appendingPathComponent("m.sqlite").path).stageMap()
        for (odoo, slug) in rows {
            #expect(map.slug(forOdooStage: odoo) == slug, "\(odoo.debugDescription)")
            #expect(map.slug(forOdooStage: "  " + odoo.uppercased() + " ") == slug, "case and spaces: \(odoo)")
        }
        #expect(map.slug(forOdooStage: "Some New Stage") == nil)
    }

    @Test(arguments: [("3", "high"), ("2", "high"), ("1", "medium"), ("0", "low")])
    func defaultPriorityMap(_ odoo: String, _ priority: String) throws {
        let dir = try TestPaths.temporaryDirectory()
        let map = try Mirror(path: dir.appendingPathComponent("m.sqlite").path).priorityMap()
        #expect(map[odoo] == priority)
    }

    /// The run lock keeps one descriptor of the mirror for the process (closing one would drop
    /// SQLite's POSIX locks) and still excludes a second holder in the same process.
    @Test func theRunLockExcludesASecondHolderAndKeepsItsDescriptor() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("m.sqlite").path
        _ = try Mirror(path: path)
        var first: RunLock? = try RunLock(path: path, timeout: 0.1)
        #expect(throws: MirrorError.self) { _ = try RunLock(path: path, timeout: 0.2) }
        first = nil
        _ = first
        let second = try RunLock(path: path, timeout: 0.2)
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)) == path
        }
        #expect(open.count >= 1, "the lock's descriptor stays open")
        withExtendedLifetime(second) {}
    }
}

/// Odoo html descriptions as the plain text of the ERP's `description` column.
@Suite struct DescriptionTextTests {
    @Test(arguments: [
        ("", nil),
        (" \n\t ", nil),
        ("\u{00A0}Call back Monday\n", "Call back Monday"),
        ("already plain", "already plain"),
        ("<p>Quote sent</p><p>Fish &amp; chips</p>", "Quote sent\nFish & chips"),
        ("<p>\u{00A0}</p>", nil),
        ("<p>A&nbsp;B</p>\n", "A B"),
    ] as [(String, String?)])
    func plainText(_ html: String, _ expected: String?) {
        #expect(HTMLText.plain(html) == expected)
    }

    @Test(arguments: [
        ("<BR>line<Br/>two< br >three<p class=\"x\">four</P>", "line\ntwo\nthreefour"),
        ("<h1>Title</h1><ul><li>é one</li><li>漢字</li></ul>", "Title\né one\n漢字"),
        ("&lt;b&gt; &quot;q&quot; &#39;a&apos; &amp;amp; &copy; &;", "<b> \"q\" 'a' &amp; &copy; &;"),
        ("fish &chips and more", "fish &chips and more"),
        ("&abcdefgh;x &abcdefghi;y", "&abcdefgh;x &abcdefghi;y"),
        ("&ééééééééé;<p>z</p>", "&ééééééééé;z"),
        ("unclosed <b tail", "unclosed"),
        ("ends in &amp", "ends in &amp"),
        ("\u{2003}<p>wide space\u{00A0}</p>\u{3000}", "wide space"),
        ("<p>\u{00A0}é\u{00A0}</p>", "é"),
        ("🚀 <b>launch</b> 🚀", "🚀 launch 🚀"),
    ] as [(String, String?)])
    func tagsEntitiesAndUnicode(_ html: String, _ expected: String?) {
        #expect(HTMLText.plain(html) == expected)
    }

    /// The byte-level pass gives what the Character-level one it replaced gave, on random
    /// markup (no combining marks, where Characters and bytes see a `<` differently).
    @Test func bytePassMatchesTheCharacterPass() {
        let pieces = ["<", ">", "&", ";", " ", "\n", "\t", "p", "/p", "br", "BR/", "div", "li", "nbsp", "amp", "lt", "#39",
                      "quot", "x", "é", "漢", "🚀", "\u{00A0}", "\u{2003}", "\"", "abcdefghij"]
        var rng = SplitMix64(seed: 20261207)
        for _ in 0..<5000 {
            let text = (0..<Int(rng.next() % 24)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            #expect(HTMLText.plain(text) == CharacterHTMLText.plain(text), "\(text.debugDescription)")
        }
    }
}

@Suite struct ContactNameTests {
    @Test(arguments: [
        ("Jacques Dunagan", "Jacques", "Dunagan"),
        ("Cher", "Cher", nil),
        ("  Ana   María  de la  Cruz ", "Ana", "María de la Cruz"),
        ("", nil, nil),
        ("   ", nil, nil),
        ("Saeed\tAl Mazrouei", "Saeed\tAl", "Mazrouei"),
        ("李 小龍", "李", "小龍"),
    ] as [(String, String?, String?)])
    func splitsOnRunsOfSpaces(_ name: String, _ first: String?, _ last: String?) {
        let split = Contacts.split(name)
        #expect(split.0 == first)
        #expect(split.1 == last)
    }
}

/// The Character-by-Character HTML pass that `HTMLText` replaced, kept as the reference the
/// byte-level one is compared with.
private enum CharacterHTMLText {
    static func plain(_ html: String) -> String? {
        if html.isEmpty { return nil }
        guard html.contains(where: { $0 == "<" || $0 == "&" }) else { return HTMLText.trimmedOrNil(html) }
        var out = ""
        var tag = ""
        var inTag = false
        var entity = ""
        var inEntity = false
        for c in html {
            if inTag {
                if c == ">" {
                    inTag = false
                    let name = tag.lowercased().split(separator: " ").first.map(String.init) ?? ""
                    if ["br", "br/", "/p", "/div", "/li", "/h1", "/h2", "/h3", "/tr"].contains(name) { out.append("\n") }
                    tag = ""
                } else {
                    tag.append(c)
                }
                continue
            }
            if inEntity {
                if c == ";" {
                    inEntity = false
                    switch entity {
                    case "nbsp": out.append(" ")
                    case "lt": out.append("<")
                    case "gt": out.append(">")
                    case "quot": out.append("\"")
                    case "#39", "apos": out.append("'")
                    case "amp": out.append("&")
                    default: out.append("&" + entity + ";")
                    }
                    entity = ""
                } else if entity.count < 8 {
                    entity.append(c)
                } else {
                    inEntity = false
                    out.append("&" + entity)
                    out.append(c)
                    entity = ""
                }
                continue
            }
            if c == "<" { inTag = true } else if c == "&" { inEntity = true } else { out.append(c) }
        }
        if inEntity { out.append("&" + entity) }
        return HTMLText.trimmedOrNil(out)
    }
}

@Suite struct JSONTextTests {
    /// Snapshots, sync_log rows and queue items are written with JSONValue's serializer: each
    /// escape must give back the same string through a stock parser and ours.
    @Test(arguments: [
        "plain text",
        "<p class=\"lead\">Quote \"this\" and a back\\slash</p>",
        "tab\there, line\nbreak, cr\r, bell\u{07}, nul\u{00}, unit sep\u{1F}",
        "accents é ü, CJK 漢字, emoji 🚀 after a \"quote\"",
        "\"",
        "\\",
    ])
    func escapedStringsRoundTrip(text: String) throws {
        let value: JSONValue = ["s": .string(text)]
        let serialized = value.serialized
        #expect(try JSONValue.parse(serialized)["s"]?.stringValue == text)
        let stock = try JSONSerialization.jsonObject(with: Data(serialized.utf8)) as? [String: Any]
        #expect(stock?["s"] as? String == text)
        #expect(!serialized.utf8.contains { $0 < 0x20 }, "control characters must be escaped")
    }

    @Test func controlCharactersUseLowercaseUnicodeEscapes() {
        #expect(JSONValue.string("a\u{01}b\u{1F}").serialized == "\"a\\u0001b\\u001f\"")
        #expect(JSONValue.string("say \"hi\"\n").serialized == "\"say \\\"hi\\\"\\n\"")
    }
}

extension MirrorTests {
    /// Migration 012 tells the pairs that ended before it which side went, from their completed
    /// archive items, so that they too come back when that record returns.
    @Test func pairsEndedBeforeMigration012LearnWhichSideWent() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for file in EmbeddedSchema.files where file.name < "012" {
            migrator.registerMigration(String(file.name.dropLast(4))) { db in try db.execute(sql: file.sql) }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            // (mapping, entity, status, source of its completed archive item or nil)
            let rows: [(String, String, String, String?)] = [
                ("m-task", "issue:project.task", "archived", "odoo"),
                ("m-cycle", "cycle:project.milestone", "archived", "plane"),
                ("m-both", "issue:project.task", "archived", nil),
                ("m-live", "issue:project.task", "active", nil),
            ]
            for (index, (id, entity, status, archivedFrom)) in rows.enumerated() {
                try db.execute(sql: """
                    INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at,
                                               sync_version, sync_direction, status, created_at, updated_at)
                    VALUES (?, 'plane', ?, 'issue', ?, 'project.task', 'now', 1, 'bidirectional', ?, 'now', 'now')
                    """, arguments: [id, "p\(index)", "\(index)", status])
                try db.execute(sql: """
                    INSERT INTO sync_pairs (mapping_id, entity, plane_id, plane_project, odoo_id, plane_fields, odoo_fields)
                    VALUES (?, ?, ?, 'proj', ?, '{}', '{}')
                    """, arguments: [id, entity, "p\(index)", index])
                if let archivedFrom {
                    try db.execute(sql: """
                        INSERT INTO sync_queue (id, source_system, source_id, source_type, operation, payload, status, created_at, completed_at)
                        VALUES (?, ?, 'x', 'issue', 'archive', ?, 'completed', 'now', 'now')
                        """, arguments: ["q\(index)", archivedFrom, #"{"mapping_id": "\#(id)"}"#])
                }
            }
        }
        try queue.close()
        let mirror = try Mirror(path: path)
        let ended = try mirror.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT mapping_id, ended_by, archived_other FROM sync_pairs").map {
                ($0[0] as String, "\(($0[1] as String?) ?? "-"):\($0[2] as Int)")
            })
        }
        #expect(ended == ["m-task": "odoo:1", "m-cycle": "plane:0", "m-both": "-:0", "m-live": "-:0"])
    }
}
