// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way (see README's Layout): NotebookCore depends on nothing;
// Lessons, Progress and TUI depend on NotebookCore (Progress also on GRDB, the only SQLite
// code); derive wires them together.
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
        .target(name: "Lessons", dependencies: ["NotebookCore", "CF16C"], path: "Sources/lessons"),
        .target(name: "Progress", dependencies: ["NotebookCore", .product(name: "GRDB", package: "GRDB.swift")]),
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
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "NotebookCore", "CF16C", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["NotebookCore", "Progress", "TestSupport"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "NotebookCore", "Lessons", "Progress", "TestSupport"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
