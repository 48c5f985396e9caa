import Foundation
import Testing
@testable import OdooSyncCore

@Suite struct ConfigTests {
    @Test func parsesTheTOMLSubset() throws {
        let file = try ConfigFile.parse("""
            # connection
            [odoo]
            url = "https://erp.example.com"   # trailing comment
            database = 'prod'
            retries = 7
            protocol = "json2"
            [pull]
            overlap_seconds = 600
            note = "a # inside a string \\"quoted\\""
            """)
        #expect(file["odoo.url"] == "https://erp.example.com")
        #expect(file["odoo.database"] == "prod")
        #expect(file["odoo.retries"] == "7")
        #expect(file["pull.note"] == "a # inside a string \"quoted\"")
    }

    @Test(arguments: ["url = https://x", "[odoo", "= 3", "key = 'unterminated"])
    func rejectsMalformedLines(_ line: String) {
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse(line, path: "odoosync.toml") }
    }

    @Test func refusesAReadableFileThatHoldsASecret() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("odoosync.toml").path
        try "[odoo]\napi_key = \"0123456789abcdef\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let error = #expect(throws: ConfigurationError.self) { try ConfigFile.load(path: path) }
        #expect(error?.message.contains("chmod 600") == true)
        #expect(error?.message.contains("0123456789abcdef") == false)
        chmod(path, 0o600)
        #expect(try ConfigFile.load(path: path)["odoo.api_key"] == "0123456789abcdef")
    }

    @Test func acceptsAReadableFileWithoutSecrets() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("odoosync.toml").path
        try "[odoo]\nurl = \"https://erp.example.com\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(try ConfigFile.load(path: path)["odoo.url"] == "https://erp.example.com")
    }

    @Test(arguments: ["not a url", "ftp://erp.example.com", "https://", "erp.example.com", "https://user:pw@erp.example.com"])
    func rejectsBadServerURLs(_ text: String) {
        let error = #expect(throws: ConfigurationError.self) { try OdooSettings.parseServerURL(text, name: "ODOO_URL") }
        #expect(error?.message.contains("ODOO_URL") == true)
        #expect(error?.message.contains("pw@") == false)
    }

    @Test func environmentWinsOverTheFileAndValidatesTheProtocol() throws {
        let file = ConfigFile(values: ["odoo.url": "https://file.example.com", "odoo.database": "filedb", "odoo.username": "u",
                                       "odoo.api_key": "k"])
        let settings = try OdooSettings.resolve(environment: ["ODOO_URL": "https://env.example.com"], file: file)
        #expect(settings.url.host == "env.example.com")
        #expect(settings.database == "filedb")
        #expect(settings.description.contains("k") == false || !settings.description.contains("api"))
        let error = #expect(throws: ConfigurationError.self) {
            try OdooSettings.resolve(environment: ["ODOO_PROTOCOL": "jsonrcp"], file: file)
        }
        #expect(error?.message.contains("auto, json2, jsonrpc, session") == true)
    }

    @Test func sessionNeedsAPassword() {
        let file = ConfigFile(values: ["odoo.url": "https://x.example.com", "odoo.database": "d", "odoo.username": "u", "odoo.api_key": "k"])
        #expect(throws: ConfigurationError.self) { try OdooSettings.resolve(environment: ["ODOO_PROTOCOL": "session"], file: file) }
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [("2026-11-21 04:18:41", 1), ("2026-12-31 23:59:59", 1), ("2026-02-28 10:00:00", -3600)])
    func shiftsOdooDatetimes(_ text: String, _ seconds: Int) throws {
        let shifted = try #require(Timestamp.odoo(text, plusSeconds: seconds))
        let back = try #require(Timestamp.odoo(shifted, plusSeconds: -seconds))
        #expect(back == text)
    }

    @Test func rollsOverTheYear() {
        #expect(Timestamp.odoo("2026-12-31 23:59:59", plusSeconds: 1) == "2027-01-01 00:00:00")
    }

    @Test(arguments: [(0.0, "1970-01-01T00:00:00.000Z"), (1_795_247_921.0625, "2026-11-21T07:58:41.062Z"),
                      (951_782_399.25, "2000-02-28T23:59:59.250Z"), (-1.5, "1969-12-31T23:59:58.500Z")])
    func writesISOTimesWithMilliseconds(_ seconds: Double, _ text: String) {
        #expect(Timestamp.iso(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test(arguments: [("2026-02-29", false), ("2028-02-29", true), ("2026-13-01", false), ("2026-12-31", true), ("26-12-31", false)])
    func validatesDates(_ text: String, _ valid: Bool) {
        #expect(Timestamp.isDate(text) == valid)
    }
}
