// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cassandra-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cassandra-agent", targets: ["cassandra-agent"]),
        .executable(name: "cassandra-sim", targets: ["cassandra-sim"]),
        .library(name: "CassandraAgent", targets: ["CassandraAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libyaml instead of Yams: Yams imports all of Foundation (+7 MiB resident
        // on a database host) and hides the parser's marks we need for errors.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The few calls that need _GNU_SOURCE (posix_spawn extras, SO_PEERCRED).
        .target(name: "CAgentShims"),
        .target(
            name: "CassandraAgent",
            dependencies: [
                "CYAML", "COpenSSL", "CAgentShims", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The simulated cluster behind cassandra-sim and the tests; the product never links it.
        .target(name: "CassandraSimulation", dependencies: ["CassandraAgent"]),
        .executableTarget(
            name: "cassandra-agent",
            dependencies: [
                "CassandraAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // --static-swift-stdlib (what the package ships) links with -export-dynamic:
                // all 18,000 symbols of the agent in its dynamic symbol table, which the
                // dynamic linker searches first for every symbol libc, libcrypto and the
                // rest bind: 7 M cycles at every start and 1.2 MiB of the binary resident.
                // Nothing looks the agent's own symbols up at run time.
                .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux])),
                .unsafeFlags([
                    "-use-ld=lld",
                    "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/packaging/symbol-order.txt",
                    "-Xlinker", "--no-warn-symbol-ordering",
                ], .when(platforms: [.linux])),
            ]
        ),
        .executableTarget(
            name: "cassandra-sim",
            dependencies: [
                "CassandraAgent", "CassandraSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fakes for the clock and the process runner, for in-process tests of the jobs.
        .target(name: "CassandraAgentTestSupport", dependencies: ["CassandraAgent"], path: "Tests/CassandraAgentTestSupport"),
        .testTarget(
            name: "CassandraAgentTests",
            dependencies: ["CassandraAgent", "CassandraAgentTestSupport", "CassandraSimulation", "cassandra-agent", "cassandra-sim", "CAgentShims"],
            exclude: ["Fixtures", "Golden"]
        ),
    ]
)
