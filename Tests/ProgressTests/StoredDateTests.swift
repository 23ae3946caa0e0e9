import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress

/// The store's own date text against GRDB's `Date` conversion (Foundation's `DateFormatter`
/// and `Calendar`), which wrote every database before it and stays the reference.
final class StoredDateTests: XCTestCase {
    func testTheTextIsGRDBsForDatesAcrossTwoCenturies() {
        var random = TestRandom(seed: 2026)
        // 1901 to 2099 at random milliseconds, and the edges that catch off-by-ones.
        var dates = (0..<3000).map { _ in
            Date(timeIntervalSince1970: Double(Int64.random(in: -2_177_452_800_000...4_102_444_799_999, using: &random)) / 1000)
        }
        dates += ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2100-03-01T00:00:00Z", "1969-12-31T23:59:59Z",
                  "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z"].map(utc)
        for date in dates {
            let mine = StoredDate(date).databaseValue
            XCTAssertEqual(mine, date.databaseValue, "\(date.timeIntervalSince1970)")
            XCTAssertEqual(StoredDate.fromDatabaseValue(mine)?.date, Date.fromDatabaseValue(mine), "\(mine)")
        }
    }

    func testMillisecondsAreRoundedAsBefore() throws {
        let date = utc("2026-12-02T08:15:30Z").addingTimeInterval(0.1239)
        XCTAssertEqual(StoredDate(date).text, "2026-12-02 08:15:30.124")
        XCTAssertEqual(StoredDate(date).text, String.fromDatabaseValue(date.databaseValue))
        XCTAssertEqual(StoredDate(utc("2026-12-02T08:15:30Z").addingTimeInterval(0.9996)).text, "2026-12-02 08:15:31.000")
        let back = try XCTUnwrap(StoredDate(text: "2026-12-02 08:15:30.123")).date
        XCTAssertEqual(back.timeIntervalSince1970, utc("2026-12-02T08:15:30Z").timeIntervalSince1970 + 0.123, accuracy: 1e-6)
    }

    func testOnlyTheStoredFormatReads() {
        for bad in ["", "2026-12-02", "2026-12-02 08:15:30", "2026-12-02T08:15:30.123", "2026-13-02 08:15:30.123",
                    "2026-12-00 08:15:30.123", "2026-12-02 24:00:00.000", "2026-12-02 08:60:00.000",
                    "yesterday at noon xx", "2026-12-02 08:15:30.12x", "+026-12-02 08:15:30.123"] {
            XCTAssertNil(StoredDate(text: bad), bad)
        }
        // A day past the month's end rolls over, as SQLite's julianday reads it.
        XCTAssertEqual(StoredDate(text: "2026-02-30 00:00:00.000")?.text, "2026-03-02 00:00:00.000")
    }
}
