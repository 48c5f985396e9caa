import Foundation

/// Renders a `PipelineReport` as one self-contained HTML page: inline CSS, inline SVG, one
/// small inline script for sorting tables, no fetch of anything.
///
/// Figures that scripts and tests read are also carried as data attributes (`data-leads`,
/// `data-revenue`, ...) with their exact values, next to the rounded text people read.
public enum ReportHTML {
    public static func render(_ report: PipelineReport, mirrorPath: String) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en" data-generated-at="\(report.generatedAt)" data-today="\(report.today)" \
            data-stale-days="\(report.options.staleDays)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="odoosync report">
            <title>Pipeline report · \(HTMLText.escape(HTMLText.time(report.generatedAt)))</title>
            <style>\(ReportAssets.css)</style>
            </head>
            <body>
            <a class="skip" href="#main">Skip to the report</a>

            """
        page += header(report, mirrorPath: mirrorPath)
        page += "<main id=\"main\" class=\"wrap\">\n"
        page += keyFigures(report)
        page += funnel(report)
        page += revenue(report)
        page += stale(report)
        page += syncHealth(report)
        page += planeSide(report)
        page += definitions(report)
        page += "</main>\n"
        page += """
            <footer class="wrap"><p>Written by <code>odoosync report</code> from \(HTMLText.escape(mirrorPath)) \
            (schema \(HTMLText.escape(report.schemaVersion))) at \(HTMLText.escape(HTMLText.time(report.generatedAt))). \
            Expected revenue is in the Odoo company currency.</p></footer>
            <script>\(ReportAssets.script)</script>
            </body>
            </html>

            """
        return page
    }

    // MARK: - Sections

    static func header(_ r: PipelineReport, mirrorPath: String) -> String {
        var freshness = "No pull has run yet: run <code>odoosync pull odoo</code> to fill the mirror."
        if let pull = r.lastPull {
            let when = HTMLText.before(pull.startedAt, now: r.options.now).map { " (\($0))" } ?? ""
            freshness = "Data as of the last pull, \(HTMLText.escape(HTMLText.time(pull.startedAt)))\(when)."
        }
        return """
            <header class="top"><div class="wrap">
            <h1>Pipeline report</h1>
            <p class="sub">\(freshness) Generated \(HTMLText.escape(HTMLText.time(r.generatedAt))) from \
            <span class="path">\(HTMLText.escape(mirrorPath))</span>.</p>
            <nav aria-label="Sections"><ul>
            <li><a href="#funnel">Funnel</a></li><li><a href="#revenue">Revenue</a></li>\
            <li><a href="#stale">Stale leads</a></li><li><a href="#health">Sync health</a></li>\
            <li><a href="#plane">Plane ↔ Odoo</a></li><li><a href="#definitions">Definitions</a></li>
            </ul></nav>
            </div></header>

            """
    }

    static func keyFigures(_ r: PipelineReport) -> String {
        func figure(_ key: String, _ label: String, _ value: String, _ exact: String, _ note: String, tone: String = "") -> String {
            """
            <div class="kpi \(tone)" data-kpi="\(key)" data-value="\(exact)"><dt>\(label)</dt>\
            <dd><span class="big">\(value)</span><span class="note">\(note)</span></dd></div>
            """
        }
        let won = r.won, lost = r.lost
        var html = "<section aria-labelledby=\"kpi-title\" class=\"kpis\"><h2 id=\"kpi-title\" class=\"vh\">Key figures</h2><dl>"
        html += figure("open-leads", "Open leads", HTMLText.grouped(r.openLeads), String(r.openLeads),
                       "of \(HTMLText.grouped(r.activeLeads + r.archivedLeads)) in the mirror")
        html += figure("open-revenue", "Open pipeline", HTMLText.compact(r.openRevenue), HTMLText.attribute(r.openRevenue),
                       "weighted \(HTMLText.compact(r.openWeighted))")
        html += figure("won", "Won", HTMLText.compact(won?.revenue ?? 0), HTMLText.attribute(won?.revenue ?? 0),
                       HTMLText.plural(won?.leads ?? 0, "lead"), tone: "good")
        html += figure("win-rate", "Win rate", r.winRate.map(HTMLText.percent) ?? "–",
                       r.winRate.map { String(format: "%.4f", $0) } ?? "",
                       "\(HTMLText.grouped(won?.leads ?? 0)) won, \(HTMLText.grouped(lost?.leads ?? 0)) lost")
        html += figure("overdue", "Overdue", HTMLText.grouped(r.overdueLeads), String(r.overdueLeads),
                       "open leads past their deadline · \(HTMLText.compact(r.overdueRevenue))", tone: r.overdueLeads > 0 ? "warn" : "")
        html += figure("stale", "Stale", HTMLText.grouped(r.staleCount), String(r.staleCount),
                       "open leads unchanged for over \(HTMLText.plural(r.options.staleDays, "day"))", tone: r.staleCount > 0 ? "warn" : "")
        return html + "</dl></section>\n"
    }

    static func funnel(_ r: PipelineReport) -> String {
        let open = r.openStages
        let bars = open.map { stage in
            ReportCharts.Bar(label: stage.label, value: Double(stage.leads),
                             valueText: "\(HTMLText.grouped(stage.leads)) · \(HTMLText.compact(stage.revenue))",
                             tooltip: "\(stage.label): \(HTMLText.plural(stage.leads, "lead")), expected revenue \(HTMLText.money(stage.revenue))")
        }
        let description = open.isEmpty ? "No open stages."
            : open.map { "\($0.label): \(HTMLText.plural($0.leads, "lead")), \(HTMLText.money($0.revenue))" }.joined(separator: "; ") + "."
        var html = """
            <section id="funnel" aria-labelledby="funnel-h" class="card">
            <h2 id="funnel-h">Pipeline funnel</h2>
            <p class="lede">Leads and expected revenue per stage in pipeline order; won and lost apart. \
            Archived leads count in their stage, as in <code>odoosync status</code>.</p>
            <div class="split">
            <figure class="chart-box">\(ReportCharts.funnel(id: "funnel-chart", bars: bars, description: description))</figure>
            <div class="closed">
            """
        for (stage, tone, blurb) in [(r.won, "good", "closed as won"), (r.lost, "muted", "closed as lost")] {
            let s = stage ?? PipelineReport.Stage(slug: nil, label: "", leads: 0, archived: 0, revenue: 0, weighted: 0, odooStages: [])
            let name = tone == "good" ? "Won" : "Lost"
            html += """
                <div class="closed-box \(tone)"><h3>\(name)</h3><p class="big">\(HTMLText.grouped(s.leads))</p>\
                <p>leads \(blurb)</p><p class="money">\(HTMLText.money(s.revenue))</p><p>expected revenue</p></div>
                """
        }
        if let rate = r.winRate {
            html += "<p class=\"rate\">Win rate <strong>\(HTMLText.percent(rate))</strong> of closed leads.</p>"
        }
        if let unmapped = r.unmapped, unmapped.leads > 0 {
            html += """
                <p class="alert" role="note"><strong>\(HTMLText.plural(unmapped.leads, "lead")) in Odoo stages the stage map \
                does not know</strong> (\(HTMLText.escape(unmapped.odooStages.joined(separator: ", ")))). Map them with \
                <code>odoosync config set stage "&lt;Odoo stage&gt;" &lt;slug&gt;</code>.</p>
                """
        }
        html += "</div></div>\n"
        html += """
            <table class="data" id="funnel-table"><caption>Leads per stage</caption>
            <thead><tr><th scope="col">Stage</th><th scope="col">Odoo stages</th><th scope="col" class="num">Leads</th>\
            <th scope="col" class="num">Archived</th><th scope="col" class="num">Expected revenue</th>\
            <th scope="col" class="num">Weighted</th></tr></thead>
            """
        let groups: [(String, [PipelineReport.Stage])] = [
            ("Open stages", open),
            ("Closed", r.stages.filter { $0.kind == .won || $0.kind == .lost }),
            ("Not mapped", r.stages.filter { $0.kind == .unmapped }),
        ]
        for (title, stages) in groups where !stages.isEmpty {
            html += "<tbody><tr class=\"group\"><th scope=\"rowgroup\" colspan=\"6\">\(title)</th></tr>"
            for stage in stages {
                let key = stage.slug ?? "(unmapped)"
                html += """
                    <tr data-stage="\(HTMLText.escape(key))" data-leads="\(stage.leads)" data-archived="\(stage.archived)" \
                    data-revenue="\(HTMLText.attribute(stage.revenue))" data-weighted="\(HTMLText.attribute(stage.weighted))">\
                    <th scope="row">\(HTMLText.escape(stage.label)) <span class="slug">\(HTMLText.escape(key))</span></th>\
                    <td class="odoo-names">\(HTMLText.escape(stage.odooStages.joined(separator: ", ")))</td>\
                    <td class="num">\(HTMLText.grouped(stage.leads))</td><td class="num">\(HTMLText.grouped(stage.archived))</td>\
                    <td class="num">\(HTMLText.money(stage.revenue))</td><td class="num">\(HTMLText.money(stage.weighted))</td></tr>
                    """
            }
            html += "</tbody>\n"
        }
        let all = r.stages
        let leads = all.reduce(0) { $0 + $1.leads }, archived = all.reduce(0) { $0 + $1.archived }
        let revenue = all.reduce(0) { $0 + $1.revenue }, weighted = all.reduce(0) { $0 + $1.weighted }
        html += """
            <tfoot><tr data-total-leads="\(leads)"><th scope="row" colspan="2">All leads</th>\
            <td class="num">\(HTMLText.grouped(leads))</td><td class="num">\(HTMLText.grouped(archived))</td>\
            <td class="num">\(HTMLText.money(revenue))</td><td class="num">\(HTMLText.money(weighted))</td></tr></tfoot>
            </table>
            </section>

            """
        return html
    }

    static func revenue(_ r: PipelineReport) -> String {
        var html = """
            <section id="revenue" aria-labelledby="revenue-h">
            <h2 id="revenue-h" class="section-title">Revenue</h2>

            """
        // By salesperson.
        let shown = r.salespeople.filter { $0.openRevenue > 0 || $0.openLeads > 0 }.prefix(12)
        let bars = shown.map { p in
            ReportCharts.Bar(label: p.name ?? "Unassigned", value: p.openRevenue,
                             valueText: HTMLText.compact(p.openRevenue),
                             tooltip: "\(p.name ?? "Unassigned"): \(HTMLText.plural(p.openLeads, "open lead")), \(HTMLText.money(p.openRevenue))")
        }
        let sDescription = bars.isEmpty ? "No open leads."
            : "Open pipeline revenue per salesperson: " + shown.map { "\($0.name ?? "Unassigned") \(HTMLText.money($0.openRevenue))" }.joined(separator: "; ") + "."
        html += """
            <div class="card"><h3 id="people-h">By salesperson</h3>
            <p class="lede">Open pipeline per salesperson\(r.salespeople.count > shown.count ? " (the chart shows the top \(shown.count))" : ""); \
            won revenue counts leads in the won stage.</p>
            \(bars.isEmpty ? "" : "<figure class=\"chart-box\">" + ReportCharts.bars(id: "people-chart", title: "Open pipeline by salesperson", bars: Array(bars), description: sDescription) + "</figure>")
            <div class="scroll"><table class="data sortable" id="people-table"><caption>Revenue by salesperson</caption>
            <thead><tr><th scope="col">Salesperson</th><th scope="col" class="num" data-type="number">Open leads</th>\
            <th scope="col" class="num" data-type="number" aria-sort="descending">Open revenue</th>\
            <th scope="col" class="num" data-type="number">Weighted</th><th scope="col" class="num" data-type="number">Overdue leads</th>\
            <th scope="col" class="num" data-type="number">Won leads</th><th scope="col" class="num" data-type="number">Won revenue</th></tr></thead><tbody>
            """
        for p in r.salespeople {
            html += """
                <tr data-salesperson="\(HTMLText.escape(p.name ?? ""))" data-open-leads="\(p.openLeads)" \
                data-open-revenue="\(HTMLText.attribute(p.openRevenue))" data-won-revenue="\(HTMLText.attribute(p.wonRevenue))">\
                <th scope="row">\(HTMLText.escape(p.name ?? "Unassigned"))</th>\
                <td class="num" data-sort="\(p.openLeads)">\(HTMLText.grouped(p.openLeads))</td>\
                <td class="num" data-sort="\(HTMLText.attribute(p.openRevenue))">\(HTMLText.money(p.openRevenue))</td>\
                <td class="num" data-sort="\(HTMLText.attribute(p.weighted))">\(HTMLText.money(p.weighted))</td>\
                <td class="num\(p.overdueLeads > 0 ? " overdue" : "")" data-sort="\(p.overdueLeads)">\(HTMLText.grouped(p.overdueLeads))</td>\
                <td class="num" data-sort="\(p.wonLeads)">\(HTMLText.grouped(p.wonLeads))</td>\
                <td class="num" data-sort="\(HTMLText.attribute(p.wonRevenue))">\(HTMLText.money(p.wonRevenue))</td></tr>
                """
        }
        if r.salespeople.isEmpty { html += "<tr><td colspan=\"7\" class=\"empty\">No leads yet.</td></tr>" }
        html += "</tbody></table></div></div>\n"

        // By expected close month; leads without a date are in the table, not on the time axis.
        let dated = r.closeMonths.filter { $0.month != nil }
        let undated = r.closeMonths.first { $0.month == nil }
        let columns = continuousMonths(dated).map { m in
            ReportCharts.Column(
                label: m.month.map(monthLabel) ?? "",
                segments: [.init(value: m.overdueRevenue, style: "c-overdue"), .init(value: m.revenue - m.overdueRevenue, style: "c-bar")],
                tooltip: "\(m.month.map(monthLabel) ?? ""): \(HTMLText.plural(m.leads, "open lead")), \(HTMLText.money(m.revenue))"
                    + (m.overdueLeads > 0 ? ", \(HTMLText.grouped(m.overdueLeads)) overdue (\(HTMLText.money(m.overdueRevenue)))" : ""))
        }
        let overdueMonths = dated.filter { $0.overdueLeads > 0 }.count
        var mDescription = dated.isEmpty ? "No open lead has an expected close date."
            : "Open pipeline revenue by expected close month, \(monthLabel(dated.first?.month ?? "")) to \(monthLabel(dated.last?.month ?? "")). "
            + "\(HTMLText.plural(r.overdueLeads, "lead")) worth \(HTMLText.money(r.overdueRevenue)) are overdue"
            + (overdueMonths == 0 ? "." : ", in \(overdueMonths) month\(overdueMonths == 1 ? "" : "s"), drawn in orange.")
        if let undated { mDescription += " \(HTMLText.plural(undated.leads, "open lead")) (\(HTMLText.money(undated.revenue))) have no date." }
        html += """
            <div class="card"><h3 id="months-h">By expected close month</h3>
            <p class="lede">Open pipeline by the month its deadline falls in. <span class="swatch overdue" aria-hidden="true"></span>\
            <strong>Overdue</strong>: deadline before today (\(r.today)), \(HTMLText.plural(r.overdueLeads, "lead")), \(HTMLText.money(r.overdueRevenue)).\
            \(undated.map { " \(HTMLText.plural($0.leads, "open lead")) (\(HTMLText.money($0.revenue))) have no expected close date." } ?? "")</p>
            \(dated.isEmpty ? "" : "<figure class=\"chart-box\">" + ReportCharts.columns(id: "months-chart", title: "Open pipeline by expected close month", columns: columns, description: mDescription, empty: "No open lead has an expected close date") + "</figure>")
            <div class="scroll"><table class="data" id="months-table"><caption>Open pipeline by expected close month</caption>
            <thead><tr><th scope="col">Month</th><th scope="col" class="num">Leads</th><th scope="col" class="num">Expected revenue</th>\
            <th scope="col" class="num">Overdue leads</th><th scope="col" class="num">Overdue revenue</th></tr></thead><tbody>
            """
        for m in r.closeMonths {
            html += """
                <tr data-month="\(HTMLText.escape(m.month ?? ""))" data-leads="\(m.leads)" data-revenue="\(HTMLText.attribute(m.revenue))" \
                data-overdue-leads="\(m.overdueLeads)"\(m.overdueLeads > 0 ? " class=\"overdue-row\"" : "")>\
                <th scope="row">\(HTMLText.escape(m.month.map(monthLabel) ?? "No date"))</th><td class="num">\(HTMLText.grouped(m.leads))</td>\
                <td class="num">\(HTMLText.money(m.revenue))</td>\
                <td class="num">\(m.overdueLeads > 0 ? "<span class=\"badge warn\">\(HTMLText.grouped(m.overdueLeads)) overdue</span>" : "0")</td>\
                <td class="num">\(HTMLText.money(m.overdueRevenue))</td></tr>
                """
        }
        if r.closeMonths.isEmpty { html += "<tr><td colspan=\"5\" class=\"empty\">No open leads.</td></tr>" }
        html += "</tbody></table></div></div>\n</section>\n"
        return html
    }

    static func stale(_ r: PipelineReport) -> String {
        let days = r.options.staleDays
        var html = """
            <section id="stale" aria-labelledby="stale-h" class="card" data-stale-count="\(r.staleCount)" \
            data-stale-revenue="\(HTMLText.attribute(r.staleRevenue))">
            <h2 id="stale-h">Stale leads</h2>
            <p class="lede"><strong>\(HTMLText.plural(r.staleCount, "open lead"))</strong> worth \(HTMLText.money(r.staleRevenue)) \
            \(r.staleCount == 1 ? "has" : "have") not changed for more than \(HTMLText.plural(days, "day")) (in Odoo, or by a local edit).
            """
        guard !r.staleLeads.isEmpty else {
            let note = r.staleCount == 0 ? "No stale leads." : "The table is left out (<code>--stale-limit 0</code>)."
            return html + "</p>\n<p class=\"empty\">\(note)</p></section>\n"
        }
        if r.staleCount > r.staleLeads.count {
            html += " The table lists the \(HTMLText.grouped(r.staleLeads.count)) untouched the longest; <code>--stale-limit</code> shows more."
        }
        html += "<span class=\"screen-only\"> Click a column heading to sort.</span></p>\n"
        html += """
            <div class="scroll tall"><table class="data sortable" id="stale-table"><caption>Open leads unchanged for more than \(days) days</caption>
            <thead><tr><th scope="col" class="num" data-type="number">Odoo id</th><th scope="col">Lead</th><th scope="col">Stage</th>\
            <th scope="col">Salesperson</th><th scope="col" class="num" data-type="number">Revenue</th><th scope="col">Deadline</th>\
            <th scope="col">Last change</th><th scope="col" class="num" data-type="number" aria-sort="descending">Days idle</th></tr></thead><tbody>
            """
        let labels = Dictionary(r.stages.compactMap { s in s.slug.map { ($0, s.label) } }, uniquingKeysWith: { a, _ in a })
        for lead in r.staleLeads {
            let deadline: String
            if let d = lead.deadline {
                deadline = lead.overdue ? "<span class=\"overdue\">\(HTMLText.escape(d))</span> <span class=\"badge warn\">overdue</span>" : HTMLText.escape(d)
            } else {
                deadline = "<span class=\"none\">none</span>"
            }
            html += """
                <tr data-odoo-id="\(lead.odooID.map(String.init) ?? "")" data-idle-days="\(lead.idleDays)">\
                <td class="num" data-sort="\(lead.odooID ?? 0)">\(lead.odooID.map(String.init) ?? "–")</td>\
                <td class="title">\(HTMLText.escape(lead.title))</td>\
                <td>\(HTMLText.escape(lead.stage.map { labels[$0] ?? $0 } ?? "Unmapped"))</td>\
                <td>\(HTMLText.escape(lead.salesperson ?? "Unassigned"))</td>\
                <td class="num" data-sort="\(HTMLText.attribute(lead.revenue ?? 0))">\(lead.revenue.map(HTMLText.money) ?? "–")</td>\
                <td class="date" data-sort="\(HTMLText.escape(lead.deadline ?? "9999"))">\(deadline)</td>\
                <td class="date">\(HTMLText.escape(lead.lastChange))</td>\
                <td class="num" data-sort="\(lead.idleDays)">\(HTMLText.grouped(lead.idleDays))</td></tr>
                """
        }
        return html + "</tbody></table></div></section>\n"
    }

    /// The dated months with the empty months between them filled in, so the time axis is even.
    static func continuousMonths(_ months: [PipelineReport.CloseMonth]) -> [PipelineReport.CloseMonth] {
        func parts(_ m: String?) -> (Int, Int)? {
            guard let m, m.count == 7, let y = Int(m.prefix(4)), let mo = Int(m.suffix(2)), (1...12).contains(mo) else { return nil }
            return (y, mo)
        }
        guard let first = parts(months.first?.month), let last = parts(months.last?.month),
              (last.0 - first.0) * 12 + last.1 - first.1 < 1_200 else { return months }
        let byMonth = Dictionary(months.compactMap { m in m.month.map { ($0, m) } }, uniquingKeysWith: { a, _ in a })
        var out: [PipelineReport.CloseMonth] = []
        var (y, mo) = first
        while (y, mo) <= last {
            let key = String(format: "%04d-%02d", y, mo)
            out.append(byMonth[key] ?? PipelineReport.CloseMonth(month: key, leads: 0, revenue: 0, overdueLeads: 0, overdueRevenue: 0))
            (y, mo) = mo == 12 ? (y + 1, 1) : (y, mo + 1)
        }
        return out
    }

    static func monthLabel(_ month: String) -> String {
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = month.split(separator: "-")
        guard parts.count == 2, let m = Int(parts[1]), (1...12).contains(m) else { return month }
        return "\(names[m - 1]) \(parts[0])"
    }
}
