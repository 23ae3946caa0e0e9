@testable import NotebookCore
import XCTest

/// One chart model for the notebook and the text output.
final class ChartScaleTests: XCTestCase {
    func testNonNegativeDataRisesFromZero() throws {
        let scale = try XCTUnwrap(ChartScale([0.77, 0.91, 0.85]))
        XCTAssertEqual(scale.floor, 0, "probabilities start at 0: a narrow band is not exaggerated")
        XCTAssertEqual(scale.top, 0.91)
        XCTAssertTrue(scale.isBars)
        XCTAssertEqual(scale.eighths(0.455, row: 0, height: 1), 4, "half the top fills half a row")
    }

    func testAConstantVectorDraws() throws {
        let half = try XCTUnwrap(ChartScale([0.5, 0.5]))
        XCTAssertEqual(half.position(0.5), 1)
        XCTAssertEqual(TextChart.columns([0.5, 0.5], height: 2, width: 1), ["0.5 ┤██", "  0 ┤██"])
        let zeros = try XCTUnwrap(ChartScale([0, 0]))
        XCTAssertEqual(zeros.top, 1, "all zeros: an empty chart with an axis, not a division by zero")
        let negative = try XCTUnwrap(ChartScale([-3, -3]))
        XCTAssertLessThan(negative.floor, negative.top)
    }

    func testNegativeDataSpansItsRange() throws {
        let mixed = try XCTUnwrap(ChartScale([-2, 1, 3]))
        XCTAssertEqual(mixed.floor, -2)
        XCTAssertEqual(mixed.top, 3)
        XCTAssertFalse(mixed.isBars)
        let below = try XCTUnwrap(ChartScale([-4, -1]))
        XCTAssertEqual(below.top, 0, "all negative: the axis reaches 0")
        XCTAssertEqual(below.position(-2), 0.5)
    }

    func testHeatmapScaleSpansMinToMax() throws {
        let scale = try XCTUnwrap(ChartScale(spanning: [2, 4, 6]))
        XCTAssertEqual(scale.floor, 2)
        XCTAssertEqual(scale.position(4), 0.5)
        XCTAssertNil(ChartScale([.nan, .infinity]))
    }

    func testExtremesStayFinite() throws {
        let scale = try XCTUnwrap(ChartScale([-1e308, 1e308]))
        XCTAssertEqual(scale.position(0), 0.5)
        XCTAssertEqual(try XCTUnwrap(ChartScale([1e300])).position(1e300), 1)
        XCTAssertEqual(try XCTUnwrap(ChartScale([-1e17])).position(-1e17), 0)
    }

    func testBarsFillInEighths() {
        XCTAssertEqual(BlockGlyphs.bar(fraction: 0.5, width: 4).filled, "██")
        XCTAssertEqual(BlockGlyphs.bar(fraction: 0.5, width: 4).empty, 2)
        XCTAssertEqual(BlockGlyphs.bar(fraction: 1 / 16, width: 2).filled, "▏")
        XCTAssertEqual(BlockGlyphs.bar(fraction: .nan, width: 3).empty, 3)
        XCTAssertEqual(BlockGlyphs.bar(fraction: 7, width: 3).filled, "███")
    }
}
