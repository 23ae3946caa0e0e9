import XCTest

/// Asserts |a − b| ≤ tol elementwise, with the index of the first difference in the message.
public func assertClose(_ a: [Double], _ b: [Double], tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(abs(x - y) <= tol) && !(x == y) {
        XCTFail("[\(i)] \(x) vs \(y) differ by more than \(tol) \(message)", file: file, line: line)
        return
    }
}

public func assertClose(_ a: Double, _ b: Double, tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose([a], [b], tol: tol, message, file: file, line: line)
}

public func assertClose(_ a: [[Double]], _ b: [[Double]], tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "row count differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        assertClose(x, y, tol: tol, "row \(i) \(message)", file: file, line: line)
    }
}

/// Central finite-difference gradient of `f` at `x`.
public func numericalGradient(_ x: [Double], step h: Double = 1e-6, _ f: ([Double]) throws -> Double) rethrows -> [Double] {
    try x.indices.map { i in
        var plus = x, minus = x
        plus[i] += h
        minus[i] -= h
        return (try f(plus) - f(minus)) / (2 * h)
    }
}
