// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way (see README's Layout): NotebookCore depends on nothing;
// Lessons, Progress and TUI depend on NotebookCore (Progress also on GRDB, the only SQLite
// code); derive wires them together.
// Haswell's instruction set (AVX2) for FloatLanesAVX2 alone; where the build machine is not x86,
// the module compiles for the baseline and is never chosen.
#if arch(x86_64)
let avx2: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let avx2: [SwiftSetting] = []
#endif

let package = Package(
    name: "derive",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "derive", targets: ["derive"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .target(name: "NotebookCore"),
        // The CPU's float32 -> FP16 instruction, as an independent reference for fp.sweep.
        .target(name: "CF16C"),
        // fp.sweep's SIMD loops, compiled twice: for any x86-64, and for AVX2 (chosen at run time).
        .target(name: "FloatLanes"),
        .target(name: "FloatLanesAVX2", dependencies: ["FloatLanes"], swiftSettings: avx2),
        .target(name: "Lessons", dependencies: ["NotebookCore", "CF16C", "FloatLanes", "FloatLanesAVX2"], path: "Sources/lessons"),
        .target(name: "Progress", dependencies: ["NotebookCore", .product(name: "GRDB", package: "GRDB.swift"),
                                                 .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses", providers: [.apt(["libncurses-dev"])]),
        .target(name: "CTerminalSignals"),
        .target(name: "TUI", dependencies: ["NotebookCore", "Progress", "CNCurses", "CTerminalSignals"]),
        .executableTarget(
            name: "derive",
            dependencies: [
                "NotebookCore", "Lessons", "Progress", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers every test target shares: a seeded generator, numeric assertions, test modules.
        .target(name: "TestSupport", dependencies: ["NotebookCore"], path: "Tests/TestSupport"),
        .testTarget(name: "NotebookCoreTests", dependencies: ["NotebookCore", "TestSupport"]),
        .testTarget(name: "ProgressTests",
                    dependencies: ["Progress", "NotebookCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "NotebookCore", "CF16C", "FloatLanes", "FloatLanesAVX2", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["NotebookCore", "Progress", "TestSupport"]),
        // The command line as the executable reads it (its quick start beside ArgumentParser).
        .testTarget(name: "DeriveTests", dependencies: ["derive", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "NotebookCore", "Lessons", "Progress", "TestSupport"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
