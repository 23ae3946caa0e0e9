// swift-tools-version:6.0
import PackageDescription

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
        .target(name: "NotebookCore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // The CPU's float32 -> FP16 instruction, as an independent reference for fp.sweep.
        .target(name: "CF16C"),
        .target(name: "Lessons", dependencies: ["NotebookCore", "CF16C"], path: "Sources/lessons"),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses", providers: [.apt(["libncurses-dev"])]),
        .target(name: "CTerminalSignals"),
        .target(name: "TUI", dependencies: ["NotebookCore", "CNCurses", "CTerminalSignals"]),
        .executableTarget(
            name: "derive",
            dependencies: [
                "NotebookCore", "Lessons", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "NotebookCoreTests",
            dependencies: ["NotebookCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "NotebookCore", "CF16C"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["NotebookCore"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "NotebookCore", "Lessons"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
