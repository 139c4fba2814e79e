// swift-tools-version: 6.0
import PackageDescription

// Dependencies point downward only; a target can use only what its entry lists (see DESIGN.md).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "kopru",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kopru", targets: ["kopru"]),
        .library(name: "KopruCore", targets: ["KopruCore"]),
        .library(name: "KopruStore", targets: ["KopruStore"]),
        .library(name: "KopruEngine", targets: ["KopruEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "KopruCore", swiftSettings: swiftSettings),
        .target(
            name: "KopruStore",
            dependencies: [
                "KopruCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruStoreSQLite",
            dependencies: [
                "KopruCore", "KopruStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruStorePostgres",
            dependencies: [
                "KopruCore", "KopruStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruStoreContract",
            dependencies: ["KopruCore", "KopruStore"],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruHTTPClient",
            dependencies: [
                "KopruCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruConnectors",
            dependencies: [
                "KopruCore", "KopruHTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "ConnectorMagento2",
            dependencies: [
                "KopruCore", "KopruConnectors", "KopruHTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings),
        .target(
            name: "ConnectorERPRest",
            dependencies: [
                "KopruCore", "KopruConnectors", "KopruHTTPClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings),
        .target(
            name: "ConnectorHoroz",
            dependencies: [
                "KopruCore", "KopruConnectors", "KopruHTTPClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruSandbox",
            dependencies: [
                "KopruCore", "KopruHTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruEngine",
            dependencies: [
                "KopruCore", "KopruStore", "KopruConnectors", "KopruHTTPClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "KopruServer",
            dependencies: [
                "KopruCore", "KopruStore", "KopruConnectors", "KopruEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // Compiled into the binary as `PackageResources.openapi_json`: the hub is one file,
            // with no resource folder beside it.
            resources: [
                .embedInCode("openapi.json"), .embedInCode("Dashboard/Assets/dashboard.css"), .embedInCode("Dashboard/Assets/live.js"),
            ],
            swiftSettings: swiftSettings),
        // The installed kinds (the one list naming every connector), configuration, runtime
        // wiring and the sandbox worlds: what the executable and the tests share.
        .target(
            name: "KopruApp",
            dependencies: [
                "KopruCore", "KopruStore", "KopruStoreSQLite", "KopruStorePostgres", "KopruEngine", "KopruConnectors",
                "KopruHTTPClient", "KopruSandbox", "ConnectorMagento2", "ConnectorERPRest", "ConnectorHoroz",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "kopru",
            dependencies: [
                "KopruApp", "KopruCore", "KopruStore", "KopruStoreSQLite", "KopruStorePostgres", "KopruEngine", "KopruServer",
                "KopruConnectors", "KopruHTTPClient", "KopruSandbox", "ConnectorMagento2",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "KopruCoreTests", dependencies: ["KopruCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruStoreTests",
            dependencies: ["KopruCore", "KopruStore", "KopruStoreSQLite", "KopruStorePostgres", "KopruStoreContract"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruEngineTests",
            dependencies: ["KopruCore", "KopruStore", "KopruEngine", "KopruConnectors", "KopruStoreSQLite", "KopruStorePostgres"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruHTTPClientTests",
            dependencies: [
                "KopruHTTPClient", "KopruConnectors",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruServerTests",
            dependencies: [
                "KopruCore", "KopruStore", "KopruStoreSQLite", "KopruStorePostgres", "KopruServer", "KopruEngine",
                "KopruConnectors", "KopruApp",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruFlowTests",
            dependencies: [
                "KopruCore", "KopruStore", "KopruStoreSQLite", "KopruEngine", "KopruConnectors", "KopruHTTPClient",
                "KopruSandbox", "ConnectorMagento2", "ConnectorERPRest", "ConnectorHoroz", "KopruApp",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KopruCLITests",
            dependencies: [
                "kopru", "KopruApp", "KopruCore", "KopruEngine", "KopruStore", "KopruStoreSQLite", "KopruStorePostgres", "KopruSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                // chromedriver's answers trip Foundation's URLSession on Linux ("Failed writing header").
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
    ]
)
