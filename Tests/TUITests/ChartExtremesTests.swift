import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// Charts never convert a NaN to `Int`, whatever the values.
final class ChartExtremesTests: XCTestCase {
    static let extremes: [[Double]] = [
        [1e308, -1e308], [-1e308, 1e308, 0], [-1e17, -1e17], [-1e300, -1e300], [.greatestFiniteMagnitude, -.greatestFiniteMagnitude],
        [.nan, 1, .infinity, -2], [.nan, .nan], [.infinity, -.infinity], [5, 5], [0, 1.7e308], [-.leastNonzeroMagnitude, .leastNonzeroMagnitude],
    ]

    func testLineAndBarChartsOfExtremeValues() {
        for values in Self.extremes {
            let lines = Chart(values: values, height: 4).lines(width: 30).map(\.plainText)
            XCTAssertFalse(lines.isEmpty, "\(values)")
            for line in lines { XCTAssertLessThanOrEqual(TextWidth.of(line), 30, "\(values)") }
            if values.contains(where: \.isFinite) {
                let marks = lines.joined().unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) || (0x2581...0x2588).contains($0.value) }
                XCTAssertFalse(marks.isEmpty && values.contains { $0.isFinite && $0 != 0 }, "something is plotted for \(values): \(lines)")
            }
        }
        // The span ±1e308 overflows a Double: the extremes still land on the top and bottom rows.
        let lines = Chart(values: [1e308, -1e308], height: 4).lines(width: 30).map(\.plainText)
        XCTAssertTrue(lines[0].hasPrefix(" 1.00e+308┤"), lines[0])
        XCTAssertTrue(lines[3].hasPrefix("-1.00e+308┤"), lines[3])
        XCTAssertTrue(lines[0].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        XCTAssertTrue(lines[3].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
    }

    func testHeatmapsOfExtremeValues() {
        for values in Self.extremes {
            let lines = Heatmap(matrix: [values, values.reversed()]).lines(width: 30).map(\.plainText)
            XCTAssertEqual(lines.count, values.contains(where: \.isFinite) ? 3 : 1, "\(values)")
        }
        let lines = Heatmap(matrix: [[1e308, -1e308], [0, .nan]]).lines(width: 20).map(\.plainText)
        XCTAssertEqual(lines[0], "0 ██··")
        XCTAssertEqual(lines[1], "1 ▒▒??", "0 is halfway between ±1e308; NaN is ?")
    }

    func testPositionIsFiniteAndClamped() {
        XCTAssertEqual(ChartScale([-1e308, 1e308])!.position(1e308), 1)
        XCTAssertEqual(ChartScale([-1e308, 1e308])!.position(0), 0.5)
        XCTAssertEqual(ChartScale([-1e17])!.position(-1e17), 0)
        XCTAssertEqual(ChartScale([0, 1])!.position(.nan), 0)
        XCTAssertEqual(ChartScale([0, 1])!.position(2), 1)
        XCTAssertEqual(ChartScale([0, 1])!.position(0.25), 0.25)
    }
}
