import Foundation
import NotebookCore
import TestSupport
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

