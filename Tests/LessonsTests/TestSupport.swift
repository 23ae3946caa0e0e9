import Foundation
import NotebookCore
import XCTest

@testable import Lessons

/// Runs a module with the given parameters; fails the test on a thrown error.
func evaluate(_ module: some ComputeModule, _ values: [String: Value] = [:],
              file: StaticString = #filePath, line: UInt = #line) throws -> Outputs {
    do {
        return try module.evaluate(values).outputs
    } catch {
        XCTFail("\(module.name) failed: \(error)", file: file, line: line)
        throw error
    }
}

/// The error a module reports for these parameters, or a test failure when it succeeds.
func evaluationError(_ module: some ComputeModule, _ values: [String: Value],
                     file: StaticString = #filePath, line: UInt = #line) -> ComputeError? {
    do {
        _ = try module.evaluate(values)
        XCTFail("\(module.name) accepted \(values)", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

extension Outputs {
    func number(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let x = self[name]?.scalar else {
            XCTFail("output \(name) is not a number: \(String(describing: self[name]))", file: file, line: line)
            return .nan
        }
        return x
    }

    func vector(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> [Double] {
        guard case .vector(let xs)? = self[name] else {
            XCTFail("output \(name) is not a vector: \(String(describing: self[name]))", file: file, line: line)
            return []
        }
        return xs
    }

    func matrix(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> [[Double]] {
        guard case .matrix(let rows)? = self[name] else {
            XCTFail("output \(name) is not a matrix: \(String(describing: self[name]))", file: file, line: line)
            return []
        }
        return rows
    }
}

/// Asserts |a − b| ≤ tol elementwise, with the index of the first difference in the message.
func assertClose(_ a: [Double], _ b: [Double], tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(abs(x - y) <= tol) && !(x == y) {
        XCTFail("[\(i)] \(x) vs \(y) differ by more than \(tol) \(message)", file: file, line: line)
        return
    }
}

func assertClose(_ a: Double, _ b: Double, tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose([a], [b], tol: tol, message, file: file, line: line)
}

func assertClose(_ a: [[Double]], _ b: [[Double]], tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "row count differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        assertClose(x, y, tol: tol, "row \(i) \(message)", file: file, line: line)
    }
}

/// Central finite-difference gradient of `f` at `x`.
func numericalGradient(_ x: [Double], step h: Double = 1e-6, _ f: ([Double]) throws -> Double) rethrows -> [Double] {
    try x.indices.map { i in
        var plus = x, minus = x
        plus[i] += h
        minus[i] -= h
        return (try f(plus) - f(minus)) / (2 * h)
    }
}

/// Reads `Tests/LessonsTests/Fixtures/<name>` (JSON written by the script beside it).
func loadFixture(_ name: String) throws -> Any {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
}

/// Reads JSON numbers, including the strings "NaN", "Infinity" and "-Infinity".
func fixtureNumber(_ any: Any?) -> Double? {
    switch any {
    case let n as NSNumber: return n.doubleValue
    case let s as String:
        switch s {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(s)
        }
    default: return nil
    }
}

func fixtureVector(_ any: Any?) -> [Double] {
    (any as? [Any] ?? []).compactMap(fixtureNumber)
}

func fixtureMatrix(_ any: Any?) -> [[Double]] {
    (any as? [Any] ?? []).map(fixtureVector)
}

/// A small deterministic generator for randomised tests (SplitMix64), so failures reproduce.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func vector(_ count: Int, in range: ClosedRange<Double>) -> [Double] {
        (0..<count).map { _ in Double.random(in: range, using: &self) }
    }
}
