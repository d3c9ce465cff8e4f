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
    ],
    targets: [
        // libyaml instead of Yams: Yams imports all of Foundation (+7 MiB resident
        // on a database host) and hides the parser's marks we need for errors.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The few calls that need _GNU_SOURCE (posix_spawn extras, SO_PEERCRED).
        .target(name: "CAgentShims"),
        .target(
            name: "CassandraAgent",
            dependencies: ["CYAML", "COpenSSL", "CAgentShims"]
        ),
        .executableTarget(
            name: "cassandra-agent",
            dependencies: [
                "CassandraAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "cassandra-sim",
            dependencies: [
                "CassandraAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "CassandraAgentTests",
            dependencies: ["CassandraAgent", "cassandra-agent", "cassandra-sim"],
            exclude: ["Fixtures", "Golden"]
        ),
    ]
)
