import Foundation

/// Inline SVG charts. Each one is an image with a title and a description that say in words
/// what it draws; the data table next to it holds the exact figures.
enum ReportCharts {
    struct Bar {
        var label: String
        var value: Double
        var valueText: String
        var tooltip: String
        var style: String = "c-bar"
    }

    struct Segment {
        var value: Double
        var style: String
    }

    struct Column {
        var label: String
        var segments: [Segment]
        var tooltip: String
        var total: Double { segments.reduce(0) { $0 + $1.value } }
    }

    /// Charts are drawn in CSS pixels at `width` and never scaled up, so their text keeps the
    /// page's size; a narrower window scales them down.
    private static func open(id: String, width: Double, height: Double, title: String, description: String) -> String {
        let t = HTMLText.escape(title), d = HTMLText.escape(description)
        return """
            <svg id="\(id)" class="chart" viewBox="0 0 \(Int(width)) \(Int(height.rounded(.up)))" style="max-width:\(Int(width))px" \
            role="img" aria-labelledby="\(id)-title \(id)-desc" preserveAspectRatio="xMinYMin meet">\
            <title id="\(id)-title">\(t)</title><desc id="\(id)-desc">\(d)</desc>
            """
    }

    private static func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    /// Open stages as centred bars, widest at the stage with the most leads, in pipeline order.
    static func funnel(id: String, bars: [Bar], description: String) -> String {
        let width = 760.0, pitch = 30.0, barHeight = 24.0, labelRight = 212.0, barLeft = 222.0, barSpan = 400.0
        let height = max(pitch, Double(bars.count) * pitch)
        var svg = open(id: id, width: width, height: height, title: "Pipeline funnel: open leads per stage", description: description)
        let largest = bars.map(\.value).max() ?? 0
        for (i, bar) in bars.enumerated() {
            let y = Double(i) * pitch
            let w = largest > 0 ? max(bar.value > 0 ? 3 : 0, barSpan * bar.value / largest) : 0
            let x = barLeft + (barSpan - w) / 2
            let shade = bars.count > 1 ? 1.0 - 0.5 * Double(i) / Double(bars.count - 1) : 1.0
            svg += "<g><title>\(HTMLText.escape(bar.tooltip))</title>"
            svg += "<text class=\"c-label\" x=\"\(number(labelRight))\" y=\"\(number(y + barHeight / 2))\" text-anchor=\"end\" dominant-baseline=\"central\">\(HTMLText.escape(clip(bar.label, 30)))</text>"
            svg += "<rect class=\"c-track\" x=\"\(number(barLeft))\" y=\"\(number(y))\" width=\"\(number(barSpan))\" height=\"\(number(barHeight))\" rx=\"3\"/>"
            if w > 0 {
                svg += "<rect class=\"\(bar.style)\" fill-opacity=\"\(String(format: "%.2f", shade))\" x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(w))\" height=\"\(number(barHeight))\" rx=\"3\"/>"
            }
            svg += "<text class=\"c-value\" x=\"\(number(barLeft + barSpan + 10))\" y=\"\(number(y + barHeight / 2))\" dominant-baseline=\"central\">\(HTMLText.escape(bar.valueText))</text></g>"
        }
        return svg + "</svg>"
    }

    /// Left-aligned horizontal bars, longest first as given.
    static func bars(id: String, title: String, bars: [Bar], description: String, width: Double = 900) -> String {
        let pitch = 26.0, barHeight = 18.0, labelRight = 200.0, barLeft = 210.0, barSpan = width - 210 - 70
        let height = max(pitch, Double(bars.count) * pitch)
        var svg = open(id: id, width: width, height: height, title: title, description: description)
        let largest = bars.map(\.value).max() ?? 0
        for (i, bar) in bars.enumerated() {
            let y = Double(i) * pitch
            let w = largest > 0 ? max(bar.value > 0 ? 2 : 0, barSpan * bar.value / largest) : 0
            svg += "<g><title>\(HTMLText.escape(bar.tooltip))</title>"
            svg += "<text class=\"c-label\" x=\"\(number(labelRight))\" y=\"\(number(y + barHeight / 2))\" text-anchor=\"end\" dominant-baseline=\"central\">\(HTMLText.escape(clip(bar.label, 26)))</text>"
            if w > 0 {
                svg += "<rect class=\"\(bar.style)\" x=\"\(number(barLeft))\" y=\"\(number(y))\" width=\"\(number(w))\" height=\"\(number(barHeight))\" rx=\"2\"/>"
            }
            svg += "<text class=\"c-value\" x=\"\(number(barLeft + w + 8))\" y=\"\(number(y + barHeight / 2))\" dominant-baseline=\"central\">\(HTMLText.escape(bar.valueText))</text></g>"
        }
        return svg + "</svg>"
    }

    /// Stacked columns over a category axis (months, days), with a value axis on the left.
    static func columns(id: String, title: String, columns: [Column], description: String, empty: String,
                        counts: Bool = false, width: Double = 1130, height: Double = 220) -> String {
        let left = 58.0, right = 8.0, top = 12.0, bottom = 30.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var svg = open(id: id, width: width, height: height, title: title, description: description)
        // Four gridline steps of a round size; counts step by whole numbers.
        var step = niceCeiling((columns.map(\.total).max() ?? 0) / 4)
        if counts { step = max(1, step.rounded(.up)) }
        let top_ = step * 4
        func format(_ value: Double) -> String { counts ? HTMLText.grouped(Int(value)) : HTMLText.compact(value) }
        for tick in 0...4 {
            let value = top_ * Double(tick) / 4
            let y = top + plotHeight - plotHeight * Double(tick) / 4
            svg += "<line class=\"c-grid\" x1=\"\(number(left))\" x2=\"\(number(width - right))\" y1=\"\(number(y))\" y2=\"\(number(y))\"/>"
            svg += "<text class=\"c-axis\" x=\"\(number(left - 6))\" y=\"\(number(y))\" text-anchor=\"end\" dominant-baseline=\"central\">\(HTMLText.escape(format(value)))</text>"
        }
        guard !columns.isEmpty, columns.contains(where: { $0.total > 0 }) else {
            svg += "<text class=\"c-empty\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(top + plotHeight / 2))\" text-anchor=\"middle\" dominant-baseline=\"central\">\(HTMLText.escape(empty))</text>"
            return svg + "</svg>"
        }
        let band = plotWidth / Double(columns.count)
        let barWidth = max(1, band * 0.72)
        // Label every k-th column so that labels (about 6.5 px a character) never overlap.
        let labelWidth = Double(columns.map(\.label.count).max() ?? 1) * 6.5 + 12
        let every = max(1, Int((labelWidth / band).rounded(.up)))
        for (i, column) in columns.enumerated() {
            let x = left + band * Double(i) + (band - barWidth) / 2
            var base = top + plotHeight
            svg += "<g><title>\(HTMLText.escape(column.tooltip))</title>"
            // An invisible full-height target keeps the tooltip reachable on short columns.
            svg += "<rect class=\"c-hit\" x=\"\(number(left + band * Double(i)))\" y=\"\(number(top))\" width=\"\(number(band))\" height=\"\(number(plotHeight))\"/>"
            for segment in column.segments where segment.value > 0 {
                let h = max(1, plotHeight * segment.value / top_)
                base -= h
                svg += "<rect class=\"\(segment.style)\" x=\"\(number(x))\" y=\"\(number(base))\" width=\"\(number(barWidth))\" height=\"\(number(h))\"/>"
            }
            if i % every == 0 {
                svg += "<text class=\"c-axis\" x=\"\(number(x + barWidth / 2))\" y=\"\(number(top + plotHeight + 16))\" text-anchor=\"middle\">\(HTMLText.escape(column.label))</text>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    /// The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value * 0.999_999 {
            return step * magnitude
        }
        return 10 * magnitude
    }

    private static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
