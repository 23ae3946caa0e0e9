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

    /// Every lesson's ``ResumeState``, by lesson id, in one read of four queries, where asking
    /// lesson by lesson took four per lesson (the list of a hundred lessons starts with this).
    /// Lessons with nothing recorded are absent.
    public func resumeStates() -> [String: ResumeState] {
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
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, cell FROM run GROUP BY lesson, cell
                HAVING SUM(ok = 1) > 0 AND MAX(CASE WHEN \(StoredValue.date("started_at")) THEN id END) IS NOT NULL
                """) {
                try skippingUnreadable {
                    states[try row.decode(String.self, forColumn: "lesson"), default: ResumeState()]
                        .ranCells.insert(try row.decode(String.self, forColumn: "cell"))
                }
            }
            for (lesson, answers) in try Self.answerStates(db, skipping: skippingUnreadable) {
                states[lesson, default: ResumeState()].answers = answers
            }
            return states
        }
    }
}
