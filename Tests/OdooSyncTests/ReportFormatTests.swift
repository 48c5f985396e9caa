import Foundation
import Testing
@testable import OdooSyncReport

/// The report's text formats and chart scales, as tables of cases.
struct ReportFormatTests {
    @Test(arguments: [
        (0.0, "0"), (949.6, "950"), (1_000, "1k"), (12_345, "12.3k"), (999_499, "999k"), (999_500, "1M"),
        (4_560_000, "4.56M"), (12_300_000, "12.3M"), (2_500_000_000, "2.5B"), (-1_500, "-1.5k"),
    ])
    func compactNumbers(_ value: Double, _ text: String) {
        #expect(HTMLText.compact(value) == text)
    }

    @Test(arguments: [(0, "0"), (999, "999"), (1_000, "1,000"), (1_234_567, "1,234,567"), (-98_765, "-98,765")])
    func groupedNumbers(_ value: Int, _ text: String) {
        #expect(HTMLText.grouped(value) == text)
    }

    @Test(arguments: [
        ("<b>\"Tom & Jerry's\"</b>", "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"),
        ("bell\u{07}and tab\t", "belland tab\t"),
        ("Estimation-Karthick(Mavericks)", "Estimation-Karthick(Mavericks)"),
    ])
    func escaping(_ text: String, _ escaped: String) {
        #expect(HTMLText.escape(text) == escaped)
    }

    @Test(arguments: [(0.0, 1.0), (0.8, 1), (3, 5), (7.5, 10), (12, 20), (2_400, 2_500), (310_000, 500_000)])
    func chartScalesEndOnRoundNumbers(_ value: Double, _ ceiling: Double) {
        #expect(ReportCharts.niceCeiling(value) == ceiling)
    }

    @Test(arguments: [
        ("qc_ben", ["QC - Ben"], "QC - Ben"),
        ("won", ["Won", "Delivered/Pickup Done"], "Won"),
        ("lost", ["Loss"], "Lost"),
        ("hot_enquiries", ["Hot", "Hot Enquiries"], "Hot Enquiries"),
        ("shop_drawing_approval", [], "Shop drawing approval"),
    ])
    func stageLabelsPreferTheOdooName(_ slug: String, _ names: [String], _ label: String) {
        let firstRow = ["qc_ben": "qc - ben", "won": "delivered/pickup done", "hot_enquiries": "hot enquiries",
                        "shop_drawing_approval": "shop drawing sent for approval"]
        #expect(PipelineReport.label(slug, names, firstRow) == label)
    }

    @Test func monthsAndDaysReadAsWords() {
        #expect(ReportHTML.monthLabel("2026-03") == "Mar 2026")
        #expect(ReportHTML.monthLabel("garbage") == "garbage")
        #expect(ReportHTML.dayLabel("2026-11-09") == "Nov 9")
    }
}
