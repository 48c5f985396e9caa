import Foundation

/// The sync side of the page: health of the runs, the queue, conflicts and errors, the
/// Plane ↔ Odoo mappings, and how every number is computed.
extension ReportHTML {
    static func syncHealth(_ r: PipelineReport) -> String {
        var html = """
            <section id="health" aria-labelledby="health-h" class="card">
            <h2 id="health-h">Sync health</h2>
            <div class="runs">
            """
        func runBox(_ title: String, _ key: String, _ run: PipelineReport.Run?, fallback: String) -> String {
            guard let run else {
                return "<div class=\"run\" data-run=\"\(key)\" data-status=\"never\"><h3>\(title)</h3><p class=\"big muted\">never</p><p>\(fallback)</p></div>"
            }
            let tone = run.status == "success" ? "good" : run.status == "running" ? "" : "bad"
            let ago = HTMLText.before(run.startedAt, now: r.options.now).map { ", \($0)" } ?? ""
            return """
                <div class="run" data-run="\(key)" data-status="\(HTMLText.escape(run.status))"><h3>\(title)</h3>\
                <p><span class="badge \(tone)">\(HTMLText.escape(run.status))</span> <code>\(HTMLText.escape(run.job))</code></p>\
                <p>\(HTMLText.escape(HTMLText.time(run.startedAt)))\(ago)</p>\
                <p>\(HTMLText.plural(run.processed, "record")) processed, \(HTMLText.grouped(run.failed)) failed</p></div>
                """
        }
        html += runBox("Last pull", "pull", r.lastPull, fallback: "Run <code>odoosync pull odoo</code>.")
        html += runBox("Last push", "push", r.lastPush, fallback: "Nothing pushed yet.")
        let exportFallback = r.lastExportWatermark.map { "Watermarks last moved \(HTMLText.escape(HTMLText.time($0)))." }
            ?? "Nothing exported to Supabase yet."
        html += runBox("Last export", "export", r.lastExport, fallback: exportFallback)
        html += "</div>\n<div class=\"triple\">"

        // Queue and local edits: every status, zeros included, so a missing row is never misread.
        func statusTable(_ id: String, _ caption: String, _ statuses: [String], _ counts: [(status: String, count: Int)]) -> String {
            var known = statuses
            for (status, _) in counts where !known.contains(status) { known.append(status) }
            var t = "<table class=\"data compact\" id=\"\(id)\"><caption>\(caption)</caption><thead><tr><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Items</th></tr></thead><tbody>"
            for status in known {
                let n = counts.first { $0.status == status }?.count ?? 0
                t += "<tr data-status=\"\(HTMLText.escape(status))\" data-count=\"\(n)\"><th scope=\"row\">\(HTMLText.escape(status))</th><td class=\"num\">\(HTMLText.grouped(n))</td></tr>"
            }
            return t + "</tbody></table>"
        }
        html += "<div>" + statusTable("queue-table", "Sync queue by status", ["pending", "processing", "completed", "failed", "cancelled"], r.queue) + "</div>"
        html += "<div>" + statusTable("edits-table", "Local lead edits by status", ["pending", "conflict", "pushed", "discarded"], r.localEdits) + "</div>"
        html += "<div class=\"conflicts\" data-open-conflicts=\"\(r.openConflicts)\"><h3>Open conflicts</h3>"
        html += "<p class=\"big\(r.openConflicts > 0 ? " warn-text" : "")\">\(HTMLText.grouped(r.openConflicts))</p>"
        if r.conflicts.isEmpty {
            html += "<p>Nothing waits for a decision.</p>"
        } else {
            html += "<ul class=\"plain\">"
            for c in r.conflicts {
                let what = c.odooID.map { "\(c.entity) odoo \($0)" } ?? "\(c.entity) \(c.entityID)"
                html += "<li>\(HTMLText.escape(what)) <span class=\"muted\">since \(HTMLText.escape(HTMLText.time(c.createdAt)))</span></li>"
            }
            html += "</ul><p>Decide with <code>odoosync conflicts resolve &lt;id&gt; --keep local|odoo</code>.</p>"
        }
        html += "</div></div>\n"

        // Errors over time.
        let totalErrors = r.errorDays.reduce(0) { $0 + $1.total }
        let columns = r.errorDays.map { d in
            ReportCharts.Column(label: dayLabel(d.day),
                                segments: [.init(value: Double(d.errorEvents), style: "c-bad"), .init(value: Double(d.failedSyncs), style: "c-overdue")],
                                tooltip: "\(d.day): \(HTMLText.plural(d.errorEvents, "error event")), \(HTMLText.plural(d.failedSyncs, "failed sync operation"))")
        }
        let worst = r.errorDays.max { $0.total < $1.total }
        let description = totalErrors == 0 ? "No errors in the last \(r.errorDays.count) days."
            : "\(HTMLText.plural(totalErrors, "error")) in the last \(r.errorDays.count) days; the most on \(worst?.day ?? "") (\(worst?.total ?? 0))."
        html += """
            <h3 id="errors-h">Errors over the last \(r.errorDays.count) days</h3>
            <p class="lede" data-errors="\(totalErrors)">\(totalErrors == 0 ? "" : "<span class=\"swatch bad\" aria-hidden=\"true\"></span>error events <span class=\"swatch overdue\" aria-hidden=\"true\"></span>failed sync operations: ")\(HTMLText.escape(description))</p>
            """
        if totalErrors > 0 {
            html += "<figure class=\"chart-box\">\(ReportCharts.columns(id: "errors-chart", title: "Errors per day", columns: columns, description: description, empty: "No errors in this period", counts: true, height: 160))</figure>"
        }

        html += "<div class=\"pair\"><div><table class=\"data compact\" id=\"runs-table\"><caption>Last run of each job</caption>"
        html += "<thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Status</th><th scope=\"col\">Started</th><th scope=\"col\" class=\"num\">Processed</th><th scope=\"col\" class=\"num\">Failed</th></tr></thead><tbody>"
        for run in r.lastRuns {
            html += """
                <tr data-job="\(HTMLText.escape(run.job))"><th scope="row"><code>\(HTMLText.escape(run.job))</code></th>\
                <td><span class="badge \(run.status == "success" ? "good" : run.status == "running" ? "" : "bad")">\(HTMLText.escape(run.status))</span></td>\
                <td>\(HTMLText.escape(HTMLText.time(run.startedAt)))</td><td class="num">\(HTMLText.grouped(run.processed))</td>\
                <td class="num">\(HTMLText.grouped(run.failed))</td></tr>
                """
        }
        if r.lastRuns.isEmpty { html += "<tr><td colspan=\"5\" class=\"empty\">No runs yet.</td></tr>" }
        html += "</tbody></table></div><div><h3>Recent activity</h3>"
        if r.recentActivity.isEmpty {
            html += "<p class=\"empty\">No events yet.</p>"
        } else {
            html += "<ol class=\"events\">"
            for e in r.recentActivity {
                html += """
                    <li class="level-\(HTMLText.escape(e.level))"><span class="badge \(e.level == "error" || e.level == "fatal" ? "bad" : e.level == "warn" ? "warn" : "")">\(HTMLText.escape(e.level))</span> \
                    <time datetime="\(HTMLText.escape(e.timestamp))">\(HTMLText.escape(HTMLText.time(e.timestamp)))</time> \(HTMLText.escape(e.message))</li>
                    """
            }
            html += "</ol>"
        }
        return html + "</div></div></section>\n"
    }

    static func planeSide(_ r: PipelineReport) -> String {
        let totalMappings = r.entityPairs.reduce(0) { $0 + $1.mappings }
        var html = """
            <section id="plane" aria-labelledby="plane-h" class="card" data-mappings="\(totalMappings)">
            <h2 id="plane-h">Plane ↔ Odoo</h2>
            <p class="lede">\(HTMLText.plural(totalMappings, "mapped pair")) across \(HTMLText.plural(r.entityPairs.count, "entity type")).</p>
            <table class="data" id="pairs-table"><caption>Mapped pairs per entity type</caption>
            <thead><tr><th scope="col">Plane</th><th scope="col">Odoo</th><th scope="col">Direction</th><th scope="col">Conflicts</th>\
            <th scope="col">Sync</th><th scope="col" class="num">Mapped pairs</th><th scope="col" class="num">Active</th>\
            <th scope="col" class="num">In error</th><th scope="col">Last synced</th></tr></thead><tbody>
            """
        for p in r.entityPairs {
            let sync = !p.configured ? "<span class=\"badge warn\">not configured</span>" : p.enabled ? "enabled" : "<span class=\"badge\">disabled</span>"
            html += """
                <tr data-pair="\(HTMLText.escape(p.planeType))/\(HTMLText.escape(p.odooModel))" data-mappings="\(p.mappings)" data-active="\(p.active)" data-errors="\(p.errors)">\
                <th scope="row">\(HTMLText.escape(p.planeType))</th><td><code>\(HTMLText.escape(p.odooModel))</code></td>\
                <td>\(HTMLText.escape(p.direction.map(directionLabel) ?? "–"))</td><td>\(HTMLText.escape(p.strategy ?? "–"))</td><td>\(sync)</td>\
                <td class="num">\(HTMLText.grouped(p.mappings))</td><td class="num">\(HTMLText.grouped(p.active))</td>\
                <td class="num\(p.errors > 0 ? " overdue" : "")">\(HTMLText.grouped(p.errors))</td>\
                <td>\(p.lastSyncedAt.map { HTMLText.escape(HTMLText.time($0)) } ?? "never")</td></tr>
                """
        }
        if r.entityPairs.isEmpty { html += "<tr><td colspan=\"9\" class=\"empty\">No entity types configured.</td></tr>" }
        html += "</tbody></table>\n"
        if !r.planeRecords.isEmpty {
            html += "<p>Plane records in the mirror: " + r.planeRecords.map { "\(HTMLText.escape($0.kind)) \(HTMLText.grouped($0.count))" }.joined(separator: ", ") + ".</p>"
        }

        let ok = r.activityDays.reduce(0) { $0 + $1.succeeded }, failed = r.activityDays.reduce(0) { $0 + $1.failed }
        let description = ok + failed == 0 ? "No sync operations in the last \(r.activityDays.count) days."
            : "\(HTMLText.plural(ok + failed, "sync operation")) in the last \(r.activityDays.count) days: \(HTMLText.grouped(ok)) succeeded, \(HTMLText.grouped(failed)) failed."
        let columns = r.activityDays.map { d in
            ReportCharts.Column(label: dayLabel(d.day),
                                segments: [.init(value: Double(d.succeeded), style: "c-good"), .init(value: Double(d.failed), style: "c-bad")],
                                tooltip: "\(d.day): \(HTMLText.grouped(d.succeeded)) succeeded, \(HTMLText.grouped(d.failed)) failed")
        }
        html += """
            <h3 id="activity-h">Recent sync activity</h3>
            <p class="lede">Every operation in <code>sync_log</code>, the Odoo CRM pulls and pushes included. \(ok + failed == 0 ? "" : "<span class=\"swatch good\" aria-hidden=\"true\"></span>succeeded <span class=\"swatch bad\" aria-hidden=\"true\"></span>failed: ")\(HTMLText.escape(description))</p>
            """
        if ok + failed > 0 {
            html += "<figure class=\"chart-box\">\(ReportCharts.columns(id: "activity-chart", title: "Sync operations per day", columns: columns, description: description, empty: "No sync operations in this period", counts: true, height: 160))</figure>"
        }
        if !r.recentOperations.isEmpty {
            html += """
                <div class="scroll"><table class="data compact" id="operations-table"><caption>Latest sync operations</caption>
                <thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">Operation</th><th scope="col">Source → target</th>\
                <th scope="col">Result</th><th scope="col" class="num">ms</th></tr></thead><tbody>
                """
            for op in r.recentOperations {
                let result = op.success ? "<span class=\"badge good\">ok</span>"
                    : "<span class=\"badge bad\">failed</span> \(HTMLText.escape(String((op.error ?? "").prefix(160))))"
                html += """
                    <tr><td>\(HTMLText.escape(HTMLText.time(op.createdAt)))</td><td>\(HTMLText.escape(op.sourceSystem))</td>\
                    <td>\(HTMLText.escape(op.operation))</td><td><code>\(HTMLText.escape(op.sourceID))</code> → <code>\(HTMLText.escape(op.targetID ?? "–"))</code></td>\
                    <td>\(result)</td><td class="num">\(op.durationMs.map(HTMLText.grouped) ?? "–")</td></tr>
                    """
            }
            html += "</tbody></table></div>"
        }
        return html + "</section>\n"
    }

    static func definitions(_ r: PipelineReport) -> String {
        typealias D = PipelineReport.Definition
        return """
            <section id="definitions" aria-labelledby="definitions-h" class="card small">
            <h2 id="definitions-h">How these numbers are computed</h2>
            <p>Every figure is a query on the mirror; <code>odoosync sql</code> gives the same numbers for the same file.</p>
            <dl class="defs">
            <dt>Funnel</dt><dd>Leads that have not vanished from Odoo (<code>\(HTMLText.escape(D.counted))</code>), grouped by \
            <code>stage</code>: the same counts as <code>leads_by_stage</code> in <code>odoosync status --json</code>. \
            Stages follow the stage map's order (<code>odoosync config show</code>).</dd>
            <dt>Open pipeline</dt><dd><code>\(HTMLText.escape(D.open))</code>; weighted revenue is \
            <code>expected_value × probability / 100</code>.</dd>
            <dt>Overdue</dt><dd>An open lead whose <code>expected_close_date</code> is before \(r.today) (UTC).</dd>
            <dt>Stale</dt><dd>An open lead whose last change is more than \(r.options.staleDays) days before \
            \(HTMLText.escape(HTMLText.time(r.generatedAt))); last change is <code>\(HTMLText.escape(D.lastChange))</code> \
            (as a Julian day, over <code>leads l</code>). Set the days with <code>--stale-days</code> or \
            <code>odoosync config set report.stale_days N</code>.</dd>
            <dt>Errors</dt><dd><code>events</code> with level error or fatal, and <code>sync_log</code> rows with \
            <code>success = 0</code>, per UTC day.</dd>
            <dt>Mapped pairs</dt><dd><code>sync_mappings</code> per Plane type and Odoo model, whichever side they started from.</dd>
            </dl>
            <p>Example: <code>odoosync sql "select stage, count(*), total(expected_value) from leads where deleted_at is null group by stage"</code></p>
            </section>

            """
    }

    static func dayLabel(_ day: String) -> String {
        let parts = day.split(separator: "-")
        guard parts.count == 3 else { return day }
        return monthLabel(parts[0] + "-" + parts[1]).prefix(3) + " " + String(Int(parts[2]) ?? 0)
    }

    static func directionLabel(_ direction: String) -> String {
        switch direction {
        case "plane_to_odoo": return "Plane → Odoo"
        case "odoo_to_plane": return "Odoo → Plane"
        case "bidirectional": return "both ways"
        default: return direction
        }
    }
}
