// swift-tools-version: 6.0
import PackageDescription

// One module per layer (README.md, "Layout"); dependencies point downward only.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5), .unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "tlens",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tlens", targets: ["tlens"]),
        // `.load .build/release/libtlensvec` in stock sqlite3; load_extension in Python.
        .library(name: "tlensvec", type: .dynamic, targets: ["TLensVecExtension"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CVecSQL", cSettings: [.define("SQLITE_CORE"), .unsafeFlags(["-O2"])]),
        .target(name: "TLensVecExtension", cSettings: [.unsafeFlags(["-O2"])]),
        .executableTarget(name: "EmbedResourcesTool", swiftSettings: v5),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["EmbedResourcesTool"]),

        // "Did you mean …?": one closeness rule for every name tlens rejects (no dependencies).
        .target(name: "Spelling", swiftSettings: v5),
        .target(name: "Store", dependencies: ["CSQLite", "CVecSQL", "Spelling"], swiftSettings: v5, plugins: ["EmbedResources"]),
        .target(name: "Linalg", dependencies: ["CDNNL"], swiftSettings: v5),
        .target(name: "Learning", dependencies: ["Linalg"], swiftSettings: v5),
        .target(name: "Nets", dependencies: ["Linalg", "Learning"], swiftSettings: v5),
        // Gradient-boosted trees: a KernelLearner with its own exact step kernel (docs/lens.md §9).
        .target(name: "Boost", dependencies: ["Linalg", "Learning"], swiftSettings: v5),
        .target(name: "Data", dependencies: ["Linalg", "CZlib", "Spelling"], swiftSettings: v5, plugins: ["EmbedResources"]),
        .target(name: "Lens", dependencies: ["Learning", "Nets", "Linalg", "Data"], swiftSettings: v5),
        // Derived metrics, comparisons, named queries, saved analyses, plots and reports: reads
        // what Store wrote; never trains (docs/query.md).
        .target(name: "Query", dependencies: ["Store", "Spelling"], swiftSettings: v5, plugins: ["EmbedResources"]),
        .target(name: "Runner", dependencies: ["Learning", "Lens", "Nets", "Boost", "Data", "Store", "Spelling", .product(name: "Yams", package: "Yams")], swiftSettings: v5, plugins: ["EmbedResources"]),
        // The paper's case studies: shipped sweeps, findings with their verdict rules, reports.
        .target(name: "Studies", dependencies: ["Runner", "Query", "Store", "Spelling", "Nets", "Boost", "Data", "Linalg"], swiftSettings: v5),
        // A recording process the Store tests SIGKILL and run two at a time on one file.
        .executableTarget(name: "StoreChild", dependencies: ["Store"], swiftSettings: v5),
        .executableTarget(name: "tlens", dependencies: [
            "Runner", "Query", "Studies", "Store", "Linalg", "Learning", "Nets", "Boost", "Lens", "Spelling",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        .testTarget(name: "VecSQLTests", dependencies: ["CSQLite", "CVecSQL"], exclude: ["check_extension.py"], swiftSettings: v5),
        .testTarget(name: "StoreTests", dependencies: ["Store", "StoreChild"], swiftSettings: v5),
        .testTarget(name: "NetsTests", dependencies: ["Learning", "Nets", "Linalg", "Data"], swiftSettings: v5),
        .testTarget(name: "BoostTests", dependencies: ["Boost", "Learning", "Lens", "Linalg", "Data", "Runner", "Store"], swiftSettings: v5),
        .testTarget(name: "DataTests", dependencies: ["Data", "Linalg"], swiftSettings: v5),
        .testTarget(name: "LensTests", dependencies: ["Learning", "Lens", "Nets", "Linalg", "Data", "Runner", "Store"], swiftSettings: v5),
        .testTarget(name: "QueryTests", dependencies: ["Query", "Store", "CZlib"], swiftSettings: v5),
        .testTarget(name: "StudyTests", dependencies: ["Studies", "Query", "Runner", "Store", "Nets", "Linalg", "Data"], swiftSettings: v5),
        .testTarget(name: "CLITests", dependencies: ["Studies", "Store", "Spelling", "tlens"], swiftSettings: v5),
    ]
)
