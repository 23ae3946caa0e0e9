import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
    // MARK: Runs and completion

    /// Records one cell run. With `lessonCells` (the lesson's current cell ids) it also records
    /// the lesson as completed the first time every one of them has run successfully.
    @discardableResult
    public func recordRun(_ run: CellRunRecord, lessonCells: [String]? = nil) -> RecordOutcome {
        recordRuns([run], lessonCells: lessonCells)
    }

    /// Records several runs in one transaction (a batch `derive run`). `lessonCells` applies to
    /// every lesson the runs belong to only when they all belong to one lesson.
    @discardableResult
    public func recordRuns(_ runs: [CellRunRecord], lessonCells: [String]? = nil) -> RecordOutcome {
        guard !runs.isEmpty else { return RecordOutcome(recorded: mode == .recording, completedLesson: false) }
        let lessons = Set(runs.map(\.lesson))
        let what = runs.count == 1 ? "the run of \(runs[0].lesson).\(runs[0].cell)" : "\(runs.count) cell runs"
        let completed = write(what) { db -> Bool in
            for run in runs {
                try Self.ensureLesson(db, run.lesson, at: run.startedAt)
                let end = run.startedAt.addingTimeInterval(Double(run.durationMicroseconds) / 1e6)
                try db.execute(sql: """
                    INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [run.lesson, run.cell, run.parametersJSON, StoredDate(run.startedAt),
                                     run.durationMicroseconds, run.ok, run.error])
                try Sittings.note(db, lesson: run.lesson, from: run.startedAt, to: end)
            }
            // Only a successful run can complete a lesson.
            guard let cells = lessonCells, lessons.count == 1, let lesson = lessons.first,
                  runs.contains(where: \.ok) else { return false }
            let at = runs.map { $0.startedAt.addingTimeInterval(Double($0.durationMicroseconds) / 1e6) }.max()!
            return try Self.completeIfDone(db, lesson: lesson, cells: cells, at: at)
        }
        return RecordOutcome(recorded: completed != nil, completedLesson: completed ?? false)
    }

    private static func completeIfDone(_ db: Database, lesson: String, cells: [String], at: Date) throws -> Bool {
        let wanted = Set(cells)
        guard !wanted.isEmpty else { return false }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM completion WHERE lesson = ?", arguments: [lesson]) != nil {
            return false
        }
        // One index seek per cell, so the cost does not grow with the number of runs.
        for cell in wanted {
            let ran = try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE lesson = ? AND ok = 1 AND cell = ? LIMIT 1",
                                        arguments: [lesson, cell]) != nil
            if !ran { return false }
        }
        try db.execute(sql: "INSERT INTO completion (lesson, completed_at) VALUES (?, ?)", arguments: [lesson, StoredDate(at)])
        return true
    }

    /// Records the lesson as completed at `at` unless it already is; returns whether it wrote.
    @discardableResult
    public func markCompleted(lesson: String, at: Date? = nil) -> Bool {
        let at = at ?? clock()
        return write("the completion of \(lesson)") { db -> Bool in
            try Self.ensureLesson(db, lesson, at: at)
            try db.execute(sql: "INSERT OR IGNORE INTO completion (lesson, completed_at) VALUES (?, ?)",
                           arguments: [lesson, StoredDate(at)])
            return db.changesCount > 0
        } ?? false
    }

    /// When the lesson was first recorded as completed.
    public func completedAt(lesson: String) -> Date? {
        read(nil) { db in
            try StoredDate.fetchOne(db, sql: """
                SELECT completed_at FROM completion WHERE lesson = ? AND \(StoredValue.readable("completion"))
                """, arguments: [lesson])?.date
        }
    }

    /// Per cell of the lesson: how often it ran and how the last run went. Cells that are no
    /// longer in the lesson may appear; callers look up only the cells they have.
    public func cellHistory(lesson: String) -> [String: CellHistory] {
        read([:]) { db in
            // The last run is the latest one whose time can be read; a cell with none is left out.
            let rows = try Row.fetchAll(db, sql: """
                SELECT cell, COUNT(*) AS runs, SUM(ok = 1) AS ok_runs,
                       MAX(CASE WHEN \(StoredValue.date("started_at")) THEN id END) AS last_id
                FROM run WHERE lesson = ? GROUP BY cell
                """, arguments: [lesson])
            var result: [String: CellHistory] = [:]
            for row in rows {
                guard let lastID = try skippingUnreadable({ try row.decode(Int64?.self, forColumn: "last_id") }) ?? nil,
                      let last = try Row.fetchOne(db, sql: "SELECT started_at, ok = 1 AS ok FROM run WHERE id = ?",
                                                  arguments: [lastID]) else { continue }
                try skippingUnreadable {
                    let cell = try row.decode(String.self, forColumn: "cell")
                    result[cell] = CellHistory(cell: cell, runs: try row.decode(forColumn: "runs"),
                                               okRuns: try row.decode(forColumn: "ok_runs"),
                                               lastRunAt: try last.decode(StoredDate.self, forColumn: "started_at").date,
                                               lastRunOK: try last.decode(forColumn: "ok"))
                }
            }
            return result
        }
    }

    /// Every recorded run of a lesson (or of all lessons), oldest first.
    public func runs(lesson: String? = nil) -> [CellRunRecord] {
        read([]) { db in
            let sql = """
                SELECT lesson, cell, parameters, started_at, duration_us, error FROM run
                WHERE \(StoredValue.readable("run"))
                """
            let rows = if let lesson {
                try Row.fetchAll(db, sql: sql + " AND lesson = ? ORDER BY id", arguments: [lesson])
            } else {
                try Row.fetchAll(db, sql: sql + " ORDER BY id")
            }
            return try rows.compactMap { row in
                try skippingUnreadable {
                    CellRunRecord(lesson: try row.decode(forColumn: "lesson"), cell: try row.decode(forColumn: "cell"),
                                  parametersJSON: try row.decode(forColumn: "parameters"),
                                  startedAt: try row.decode(StoredDate.self, forColumn: "started_at").date,
                                  durationMicroseconds: try row.decode(forColumn: "duration_us"),
                                  error: try row.decode(forColumn: "error"))
                }
            }
        }
    }
}
