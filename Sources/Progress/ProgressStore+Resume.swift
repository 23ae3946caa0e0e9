import Foundation
import GRDB
import NotebookCore

/// What the notebook restores when a lesson opens: the learner's values, where they were,
/// the cells they ran and their answers.
public struct ResumeState: Sendable, Equatable {
    /// Saved values by cell, then parameter, as the source text typed.
    public var overrides: [String: [String: String]] = [:]
    /// The cell the learner was at.
    public var lastCell: String?
    /// Cells that ran successfully at least once (with a last run whose time can be read, as
    /// ``ProgressStore/cellHistory(lesson:)`` counts them).
    public var ranCells: Set<String> = []
    public var answers: [String: AnswerState] = [:]

    public init() {}
}

extension ProgressStore {
    // MARK: Resume

    /// Every lesson's ``ResumeState``, by lesson id, in one read, where asking lesson by lesson
    /// took four queries per lesson (the list of a hundred lessons starts with this). Lessons
    /// with nothing recorded are absent; `ranCells` names only the outlines' current cells.
    public func resumeStates(for lessons: [LessonOutline]) -> [String: ResumeState] {
        read([:]) { db in
            var states: [String: ResumeState] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, cell, parameter, source, updated_at FROM override
                WHERE \(StoredValue.readable("override")) ORDER BY rowid
                """) {
                try skippingUnreadable {
                    let saved = try Self.storedOverride(row)
                    states[try row.decode(String.self, forColumn: "lesson"), default: ResumeState()]
                        .overrides[saved.cell, default: [:]][saved.parameter] = saved.source
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM position WHERE \(StoredValue.readable("position"))") {
                try skippingUnreadable {
                    let position = try Self.position(row)
                    states[position.lesson, default: ResumeState()].lastCell = position.cell
                }
            }
            for (lesson, cells) in try ranCells(db, lessons) {
                states[lesson, default: ResumeState()].ranCells = cells
            }
            for (lesson, answers) in try Self.answerStates(db, skipping: skippingUnreadable) {
                states[lesson, default: ResumeState()].answers = answers
            }
            return states
        }
    }
}

extension ProgressStore {
    /// The current cells of each lesson that ran successfully at least once, with a run whose
    /// time can be read (as ``cellHistory(lesson:)`` counts them).
    ///
    /// When no run holds an unreadable value (the index of those, v4, is empty), a cell ran
    /// exactly when it has a successful run: one index seek per cell, whatever the number of
    /// runs recorded. Otherwise every run is looked at, leaving out the unreadable ones.
    func ranCells(_ db: Database, _ lessons: [LessonOutline]) throws -> [String: Set<String>] {
        var ran: [String: Set<String>] = [:]
        guard try StoredValue.allRunsReadable(db) else {
            let current = Dictionary(lessons.map { ($0.id, Set($0.cellIDs)) }, uniquingKeysWith: { $0.union($1) })
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, cell FROM run GROUP BY lesson, cell
                HAVING SUM(ok = 1) > 0 AND MAX(CASE WHEN \(StoredValue.date("started_at")) THEN id END) IS NOT NULL
                """) {
                _ = try skippingUnreadable {
                    let lesson = try row.decode(String.self, forColumn: "lesson")
                    let cell = try row.decode(String.self, forColumn: "cell")
                    if current[lesson]?.contains(cell) == true { ran[lesson, default: []].insert(cell) }
                }
            }
            return ran
        }
        let anyRun = try db.cachedStatement(sql: Self.anyRunSQL)
        let succeeded = try db.cachedStatement(sql: Self.anySuccessSQL)
        for lesson in lessons where try Bool.fetchOne(anyRun, arguments: [lesson.id]) != nil {
            for cell in Set(lesson.cellIDs) where try Bool.fetchOne(succeeded, arguments: [lesson.id, cell]) != nil {
                ran[lesson.id, default: []].insert(cell)
            }
        }
        return ran
    }

    static let anyRunSQL = "SELECT 1 FROM run WHERE lesson = ? LIMIT 1"
    static let anySuccessSQL = "SELECT 1 FROM run WHERE lesson = ? AND ok = 1 AND cell = ? LIMIT 1"
}
