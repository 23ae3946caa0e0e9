import Foundation
import GRDB

/// A time as the database keeps it: UTC text `yyyy-MM-dd HH:mm:ss.SSS`, which is GRDB's
/// format for `Date`, so databases written before read the same. The conversion is plain
/// arithmetic on the proleptic Gregorian calendar; GRDB's own goes through Foundation's
/// `DateFormatter` and `Calendar`, whose ICU set-up cost every start of the notebook more
/// than all of its queries.
struct StoredDate: DatabaseValueConvertible, Equatable {
    var date: Date

    init(_ date: Date) {
        self.date = date
    }

    var databaseValue: DatabaseValue { text.databaseValue }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        String.fromDatabaseValue(dbValue).flatMap(StoredDate.init(text:))
    }

    /// The stored text, to the nearest millisecond, as `DateFormatter` rounds.
    var text: String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.toNearestOrEven))
        let (days, inDay) = milliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = Self.civil(fromDays: days)
        let digits: [(Int64, Int)] = [(year, 4), (month, 2), (day, 2), (inDay / 3_600_000, 2),
                                      (inDay / 60_000 % 60, 2), (inDay / 1000 % 60, 2), (inDay % 1000, 3)]
        var text = ""
        for (index, (value, width)) in digits.enumerated() {
            text += ["", "-", "-", " ", ":", ":", "."][index]
            let number = String(value)
            text += String(repeating: "0", count: max(0, width - number.count)) + number
        }
        return text
    }

    /// Reads exactly `yyyy-MM-dd HH:mm:ss.SSS` (what ``StoredValue/date(_:)`` accepts); a day
    /// past the month's end rolls over, as SQLite's `julianday` and a lenient `Calendar` do.
    init?(text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 23 else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard bytes[i] >= 0x30, bytes[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(bytes[i] - 0x30)
            }
            return value
        }
        let separators: [(Int, UInt8)] = [(4, 0x2D), (7, 0x2D), (10, 0x20), (13, 0x3A), (16, 0x3A), (19, 0x2E)]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1 }),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let millisecond = number(20..<23),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        let days = Self.days(fromCivil: year, month, 1) + day - 1
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
        // Whole seconds from Foundation's reference date, then the fraction: the same Double
        // as `Calendar` gives, so times read back compare equal to the ones GRDB read.
        date = Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(millisecond) / 1000)
    }

    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400).quotient
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The Gregorian date of a day counted from 1970-01-01 (Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

private extension Int64 {
    /// Division rounding toward minus infinity, with the remainder that goes with it.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
