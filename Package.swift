// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "odoosync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "odoosync", targets: ["odoosync"]),
        .library(name: "OdooEmulator", targets: ["OdooEmulator"]),
        .library(name: "PlaneEmulator", targets: ["PlaneEmulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Already in the graph through Hummingbird; named here for ServiceGroup and graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Values, maps, errors and configuration shared by every other target.
        .target(
            name: "OdooSyncCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Process-wide options of SQLite and glibc's malloc, through C APIs Swift cannot call.
        .target(name: "CTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The SQLite mirror: schema, migrations and the writes named after intent.
        .target(
            name: "OdooSyncMirror",
            dependencies: [
                "OdooSyncCore", "CTuning", .product(name: "GRDB", package: "GRDB.swift"),
                // FastStatement binds through SQLite's C API.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // The Odoo client: three protocols, typed errors, retries, the streaming page decoder.
        .target(
            name: "OdooClient",
            dependencies: ["OdooSyncCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // An Odoo stand-in over real HTTP for tests, benchmarks and `demo`.
        .target(
            name: "OdooEmulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The Plane REST client: X-API-Key, pagination, the rate limit, typed errors, idempotent creates.
        // It sends through OdooClient's HTTP transport.
        .target(
            name: "PlaneClient",
            dependencies: ["OdooSyncCore", "OdooClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // A Plane CE stand-in over real HTTP for tests, benchmarks, `demo` and `emulator plane`.
        .target(
            name: "PlaneEmulator",
            dependencies: [
                "OdooSyncCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Pull, push and conflict handling: the mirror and the clients brought together.
        .target(
            name: "OdooSyncEngine",
            dependencies: [
                "OdooSyncCore", "OdooSyncMirror", "OdooClient", "PlaneClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The pull's hot path binds values straight into SQLite's C API.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The HTML pipeline report: queries on the mirror, rendered to one self-contained page.
        .target(
            name: "OdooSyncReport",
            dependencies: ["OdooSyncCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // Export to Supabase Postgres: target schema, batches, watermarks.
        .target(
            name: "OdooSyncExport",
            dependencies: [
                "OdooSyncCore", "OdooSyncMirror",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // `serve`: the webhook receiver, its stored-delivery worker, the status and sync endpoints, alerts.
        .target(
            name: "OdooSyncServe",
            dependencies: [
                "OdooSyncCore", "OdooSyncMirror", "OdooClient", "OdooSyncEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "OdooSyncCLI",
            dependencies: [
                "OdooSyncCore", "OdooSyncMirror", "OdooClient", "OdooSyncEngine", "OdooEmulator", "OdooSyncExport",
                "PlaneClient", "PlaneEmulator",
                "OdooSyncReport", "OdooSyncServe", "CTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "odoosync",
            dependencies: ["OdooSyncCLI"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OdooSyncTests",
            dependencies: [
                "OdooSyncCore", "OdooSyncMirror", "OdooClient", "OdooEmulator", "OdooSyncEngine", "OdooSyncCLI",
                "PlaneClient", "PlaneEmulator",
                "OdooSyncReport", "OdooSyncExport", "OdooSyncServe",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
