import Foundation
import GRDB
import NotebookCore

/// One answer to a question, or a reveal, as recorded.
public struct AnswerRecord: Sendable, Equatable {
    public var lesson: String
    public var question: String
    /// What the learner typed (empty for a reveal asked for with `s`).
    public var typed: String
    public var correct: Bool
    /// 1 for the first answer, 2 for the second…; a reveal carries the attempts made before it.
    public var attempt: Int
    public var revealed: Bool
    public var answeredAt: Date

    public init(lesson: String, question: String, typed: String, correct: Bool, attempt: Int,
                revealed: Bool, answeredAt: Date) {
        self.lesson = lesson
        self.question = question
        self.typed = typed
        self.correct = correct
        self.attempt = attempt
        self.revealed = revealed
        self.answeredAt = answeredAt
    }
}

extension ProgressStore {
    // MARK: Answers

    /// Records an answer or a reveal. Returns `false` when nothing was written; the reason is in
    /// ``drainWarnings()``.
    @discardableResult
    public func recordAnswer(_ answer: AnswerRecord) -> Bool {
        write("the answer to \(answer.lesson).\(answer.question)") { db -> Void in
            try Self.ensureLesson(db, answer.lesson, at: answer.answeredAt)
            try db.execute(sql: """
                INSERT INTO answer (lesson, question, typed, correct, attempt, revealed, answered_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [answer.lesson, answer.question, answer.typed, answer.correct, answer.attempt,
                                 answer.revealed, StoredDate(answer.answeredAt)])
            try Sittings.note(db, lesson: answer.lesson, from: answer.answeredAt, to: answer.answeredAt)
        } != nil
    }

    /// Every recorded answer of a lesson, oldest first.
    public func answers(lesson: String) -> [AnswerRecord] {
        read([]) { db in
            try Row.fetchAll(db, sql: """
                SELECT question, typed, correct, attempt, revealed, answered_at FROM answer
                WHERE lesson = ? ORDER BY id
                """, arguments: [lesson]).compactMap { row in
                try skippingUnreadable {
                    AnswerRecord(lesson: lesson, question: try row.decode(String.self, forColumn: "question"),
                                 typed: try row.decode(String.self, forColumn: "typed"),
                                 correct: try row.decode(Bool.self, forColumn: "correct"),
                                 attempt: try row.decode(Int.self, forColumn: "attempt"),
                                 revealed: try row.decode(Bool.self, forColumn: "revealed"),
                                 answeredAt: try row.decode(StoredDate.self, forColumn: "answered_at").date)
                }
            }
        }
    }

    /// Where the learner stands on each question of a lesson that has any answer.
    public func answerStates(lesson: String) -> [String: AnswerState] {
        AnswerState.fold(answers(lesson: lesson))
    }

    /// Per lesson, per question, from every answer row that can be read.
    static func answerStates(_ db: Database, skipping: (() throws -> Void) throws -> Void?) throws -> [String: [String: AnswerState]] {
        var records: [String: [AnswerRecord]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT lesson, question, typed, correct, attempt, revealed, answered_at FROM answer ORDER BY id
            """) {
            _ = try skipping {
                let lesson = try row.decode(String.self, forColumn: "lesson")
                records[lesson, default: []].append(AnswerRecord(
                    lesson: lesson, question: try row.decode(String.self, forColumn: "question"),
                    typed: try row.decode(String.self, forColumn: "typed"),
                    correct: try row.decode(Bool.self, forColumn: "correct"),
                    attempt: try row.decode(Int.self, forColumn: "attempt"),
                    revealed: try row.decode(Bool.self, forColumn: "revealed"),
                    answeredAt: try row.decode(StoredDate.self, forColumn: "answered_at").date))
            }
        }
        return records.mapValues(AnswerState.fold)
    }
}

extension AnswerState {
    /// The state each question's answers add up to, in the order they were given.
    static func fold(_ records: [AnswerRecord]) -> [String: AnswerState] {
        var states: [String: AnswerState] = [:]
        for record in records {
            var state = states[record.question] ?? AnswerState()
            state.attempts = max(state.attempts, record.attempt)
            if record.correct {
                state.correct = true
                if record.attempt == 1 { state.rightFirstTry = true }
            }
            if record.revealed { state.revealed = true }
            states[record.question] = state
        }
        return states
    }
}
