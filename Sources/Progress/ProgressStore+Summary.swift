import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
    // MARK: Summary

    /// Progress per lesson, in the order given. Runs of cells no longer in a lesson count in
    /// `runs` and time spent (they happened) but not in `cellsRun` or `done`.
    public func summary(for lessons: [LessonOutline]) -> ProgressSummary {
        let today = clock()
        let empty = ProgressSummary(lessons: lessons.map { .init(outline: $0) }, streakDays: 0, longestStreakDays: 0)
        return read(empty) { db in
            var runCounts: [String: Int] = [:]
            // Each query leaves out the rows whose values it needs cannot be read: a run whose
            // time is unreadable still counts as a run, but not as the first success of its cell.
            for row in try Row.fetchAll(db, sql: "SELECT lesson, runs AS n FROM run_count WHERE runs > 0") {
                try skippingUnreadable {
                    runCounts[try row.decode(String.self, forColumn: "lesson")] = try row.decode(Int.self, forColumn: "n")
                }
            }
            // The first readable success of each current cell: one index seek per cell, so the
            // cost follows the lessons' cells, not the runs recorded over months.
            var firstOK: [String: [String: Date]] = [:]
            let first = try db.cachedStatement(sql: Self.firstSuccessSQL)
            for outline in lessons where runCounts[outline.id] != nil {
                for cell in Set(outline.cellIDs) {
                    try skippingUnreadable {
                        if let at = try StoredDate.fetchOne(first, arguments: [outline.id, cell]) {
                            firstOK[outline.id, default: [:]][cell] = at.date
                        }
                    }
                }
            }
            var spent: [String: Double] = [:]
            var lastVisit: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, SUM((julianday(last_active_at) - julianday(started_at)) * 86400.0) AS seconds,
                       MAX(last_active_at) AS last
                FROM sitting WHERE \(StoredValue.readable("sitting")) GROUP BY lesson
                """) {
                try skippingUnreadable {
                    let lesson = try row.decode(String.self, forColumn: "lesson")
                    spent[lesson] = try row.decode(Double.self, forColumn: "seconds")
                    lastVisit[lesson] = try row.decode(StoredDate.self, forColumn: "last").date
                }
            }
            var completions: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, completed_at FROM completion WHERE \(StoredValue.readable("completion"))
                """) {
                try skippingUnreadable {
                    completions[try row.decode(String.self, forColumn: "lesson")] = try row.decode(StoredDate.self, forColumn: "completed_at").date
                }
            }
            let answers = try Self.answerStates(db, skipping: skippingUnreadable)
            let progress = lessons.map { outline -> LessonProgress in
                let okCells = firstOK[outline.id] ?? [:]
                let current = Set(outline.cellIDs)
                let runCells = current.filter { okCells[$0] != nil }
                let done = !current.isEmpty && runCells.count == current.count
                var item = LessonProgress(outline: outline)
                item.cellsRun = runCells.count
                item.runs = runCounts[outline.id] ?? 0
                item.done = done
                item.lastVisited = lastVisit[outline.id]
                item.secondsSpent = Int((spent[outline.id] ?? 0).rounded())
                item.completedAt = done ? (completions[outline.id] ?? runCells.compactMap { okCells[$0] }.max()) : nil
                let states = Set(outline.questionIDs).compactMap { answers[outline.id]?[$0] }
                item.answered = states.filter(\.isSettled).count
                item.rightFirstTry = states.filter(\.rightFirstTry).count
                return item
            }
            let days = try activeDays(db)
            let streaks = Streak.compute(days: days, today: Streak.day(today))
            return ProgressSummary(lessons: progress, streakDays: streaks.current, longestStreakDays: streaks.longest)
        }
    }

    /// The time of a cell's first success with a readable time: an index seek that stops at the
    /// first readable row (so a run of unreadable ones costs only itself).
    static let firstSuccessSQL = """
        SELECT started_at FROM run
        WHERE lesson = ? AND ok = 1 AND cell = ? AND \(StoredValue.date("started_at"))
        ORDER BY started_at LIMIT 1
        """

    /// Consecutive UTC days with activity ending today, or yesterday when nothing happened yet
    /// today (a streak is not broken before the day is over).
    public func streakDays() -> Int {
        let today = Streak.day(clock())
        return read(0) { db in Streak.compute(days: try activeDays(db), today: today).current }
    }

    private func activeDays(_ db: Database) throws -> Set<Int> {
        var days: Set<Int> = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT started_at, last_active_at FROM sitting WHERE \(StoredValue.readable("sitting"))
            """)
        while let row = try rows.next() {
            guard let (first, last) = try skippingUnreadable({
                (Streak.day(try row.decode(StoredDate.self, forColumn: "started_at").date),
                 Streak.day(try row.decode(StoredDate.self, forColumn: "last_active_at").date))
            }), first <= last else { continue }
            // A sitting is at most a few hours in practice; the cap guards against a clock gone wild.
            for day in first...min(last, first + 366) { days.insert(day) }
        }
        return days
    }
}
