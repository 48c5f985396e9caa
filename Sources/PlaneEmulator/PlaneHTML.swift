import Foundation

/// What Plane does to `description_html` on the way in (lxml parse, then nh3), reduced to the
/// effects a client sees: scripts and `on*` attributes go, links get `rel`, plain text is
/// wrapped in `<span>`, several top-level elements in a `<div>`, and empty becomes `<p></p>`.
enum PlaneHTML {
    static func sanitize(_ input: String) -> String {
        var html = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if html.isEmpty { return "<p></p>" }
        if !html.contains("<") { return "<span>\(html)</span>" }
        for tag in ["script", "style"] {
            html = html.replacingOccurrences(of: "<\(tag)\\b[^>]*>[\\s\\S]*?</\(tag)\\s*>", with: "", options: [.regularExpression, .caseInsensitive])
            html = html.replacingOccurrences(of: "<\(tag)\\b[^>]*/?>", with: "", options: [.regularExpression, .caseInsensitive])
        }
        html = html.replacingOccurrences(of: "\\s+on[a-zA-Z]+\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s>]+)", with: "",
                                         options: [.regularExpression, .caseInsensitive])
        html = html.replacingOccurrences(of: "\\s+rel\\s*=\\s*(\"[^\"]*\"|'[^']*')", with: "", options: [.regularExpression, .caseInsensitive])
        html = html.replacingOccurrences(of: "<a\\b([^>]*)>", with: "<a$1 rel=\"noopener noreferrer\">",
                                         options: [.regularExpression, .caseInsensitive])
        if topLevelNodes(html) > 1 { html = "<div>\(html)</div>" }
        return html.isEmpty ? "<p></p>" : html
    }

    /// Counts top-level elements and non-blank text runs.
    static func topLevelNodes(_ html: String) -> Int {
        let voids: Set<String> = ["br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"]
        var depth = 0
        var count = 0
        var index = html.startIndex
        var text = ""
        while index < html.endIndex {
            if html[index] == "<", let close = html[index...].firstIndex(of: ">") {
                if depth == 0, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { count += 1 }
                text = ""
                let inner = html[html.index(after: index)..<close]
                let name = inner.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
                if inner.hasPrefix("/") {
                    depth = max(0, depth - 1)
                } else if !inner.hasPrefix("!") {
                    if depth == 0 { count += 1 }
                    if !inner.hasSuffix("/"), !voids.contains(name) { depth += 1 }
                }
                index = html.index(after: close)
            } else {
                if depth == 0 { text.append(html[index]) }
                index = html.index(after: index)
            }
        }
        if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { count += 1 }
        return count
    }
}
