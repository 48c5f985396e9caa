import Testing
@testable import OdooSyncEngine

/// The pull reads some models side by side; the one progress line must show them all and
/// must not go blank while one is still being read.
@Suite struct ProgressLineTests {
    @Test func modelsReadSideBySideShareTheLineUntilEachFinishes() {
        var line = ProgressLine()
        line.update(model: "crm.stage", done: 0, total: 20)
        line.update(model: "res.users", done: 7, total: nil)
        line.update(model: "crm.stage", done: 20, total: 20)
        #expect(line.text == "crm.stage: 20/20 records · res.users: 7 records")
        line.finish(model: "crm.stage")
        #expect(line.text == "res.users: 7 records")
        line.finish(model: "res.users")
        #expect(line.text.isEmpty)
    }
}
