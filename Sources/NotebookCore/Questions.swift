import Foundation

/// Where the learner stands on one question.
public struct AnswerState: Sendable, Equatable {
    /// Answers given so far (a reveal is not an attempt).
    public var attempts = 0
    public var correct = false
    /// The answer was shown: asked for, or after the second wrong try.
    public var revealed = false
    /// Whether the first answer was right.
    public var rightFirstTry = false

    public init(attempts: Int = 0, correct: Bool = false, revealed: Bool = false, rightFirstTry: Bool = false) {
        self.attempts = attempts
        self.correct = correct
        self.revealed = revealed
        self.rightFirstTry = rightFirstTry
    }

    /// Answered right or shown: the cell's numbers may appear.
    public var isSettled: Bool { correct || revealed }

    /// Wrong tries allowed before the answer is shown.
    public static let triesBeforeReveal = 2

    /// The state after an answer was checked.
    public mutating func record(_ check: AnswerCheck) {
        guard case .unreadable = check.outcome else {
            attempts += 1
            if check.isRight {
                correct = true
                if attempts == 1 { rightFirstTry = true }
            } else if attempts >= Self.triesBeforeReveal {
                revealed = true
            }
            return
        }
    }
}

/// What stays hidden until the learner answers: the outputs of each cell a question not yet
/// settled asks about, and every placeholder that reads such a cell, directly or through cells
/// downstream of it.
public struct QuestionMask: Sendable, Equatable {
    /// Cell id → the question that hides it (the first, when several ask about one cell).
    public let hidden: [String: String]

    public init(lesson: Lesson, answers: [String: AnswerState]) {
        var hidden: [String: String] = [:]
        for question in lesson.questions where !(answers[question.id]?.isSettled ?? false) && hidden[question.cell] == nil {
            hidden[question.cell] = question.id
        }
        self.hidden = hidden
    }

    /// The question to answer before this placeholder shows, or nil when it may show now.
    public func question(hiding placeholder: Placeholder, in notebook: Notebook) -> String? {
        guard !hidden.isEmpty else { return nil }
        for reference in placeholder.expression.references {
            for cell in notebook.upstream(of: reference.cell) {
                if let question = hidden[cell] { return question }
            }
        }
        return nil
    }

    /// The marker shown in place of a hidden value.
    public static func marker(_ question: String) -> String { "⟨answer “\(question)” first⟩" }
}

/// The verdict on a typed answer.
public struct AnswerCheck: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case right
        /// With a word on how far off it is: "too high by 12%".
        case wrong(String)
        /// The text could not be read as an answer; no attempt is counted.
        case unreadable(String)
    }

    public var outcome: Outcome
    /// What the learner typed.
    public var typed: String

    public init(outcome: Outcome, typed: String) {
        self.outcome = outcome
        self.typed = typed
    }

    public var isRight: Bool { outcome == .right }
}

/// Reads a learner's answer with the lesson-file value rules (`0.0999755859375`, `1/3`,
/// `2^-24`; a choice by its number or its text) and compares it with the true answer.
public enum QuestionJudge {
    public static func check(_ typed: String, against answer: Value, question: Question) -> AnswerCheck {
        let text = LineEndings.lines(of: typed).joined(separator: " ").trimmingSpace
        func verdict(_ outcome: AnswerCheck.Outcome) -> AnswerCheck { AnswerCheck(outcome: outcome, typed: text) }
        guard !text.isEmpty else { return verdict(.unreadable("type an answer")) }
        if !question.choices.isEmpty {
            let choices = question.choices
            let chosen: String
            if let n = Int(text), (1...choices.count).contains(n) {
                chosen = choices[n - 1]
            } else if let match = choices.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) {
                chosen = match
            } else {
                let listed = choices.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "  ")
                return verdict(.unreadable("choose one of: \(listed)"))
            }
            return verdict(answer == .text(chosen) ? .right : .wrong("not \(chosen)"))
        }
        let value: Value
        do {
            let expression = try ExpressionParser.parse(text)
            guard expression.references.isEmpty else {
                return verdict(.unreadable("type a value, not a reference to a cell"))
            }
            value = try expression.evaluate(in: .empty)
        } catch {
            return verdict(.unreadable("\(error.message) (at column \(error.offset + 1))"))
        }
        return verdict(compare(value, answer, question.tolerance))
    }

    /// Right, or wrong with how far off, under the question's tolerance.
    static func compare(_ typed: Value, _ answer: Value, _ tolerance: AnswerTolerance) -> AnswerCheck.Outcome {
        switch (typed, answer) {
        case (.text(let a), .text(let b)):
            return a == b ? .right : .wrong("the answer is a different word")
        case (.bool(let a), .bool(let b)):
            return a == b ? .right : .wrong("it is \(b)")
        default: break
        }
        guard let ys = answer.numbers else { return .wrong("the answer is \(answer.kind.article) \(answer.kind.rawValue)") }
        guard let xs = typed.numbers, xs.count == ys.count else {
            return .unreadable("the answer is \(answer.kind == .vector ? "a vector of \(ys.count)" : answer.kind == .matrix ? "a matrix" : "a number")")
        }
        let exact = tolerance == .standard && (answer.kind == .integer || answer.kind == .bool)
        for (x, y) in zip(xs, ys) {
            let ok: Bool
            if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite {
                ok = x == y || (x.isNaN && y.isNaN)
            } else if exact {
                ok = x == y
            } else {
                switch tolerance {
                case .standard: ok = abs(x - y) <= 1e-9 * abs(y)
                case .absolute(let t): ok = abs(x - y) <= t
                case .relative(let r): ok = abs(x - y) <= r * abs(y)
                }
            }
            if !ok { return .wrong(howFar(x, y, vector: xs.count > 1)) }
        }
        return .right
    }

    /// "too high by 12%", "too low by 0.05", without giving the answer away.
    static func howFar(_ typed: Double, _ answer: Double, vector: Bool) -> String {
        let prefix = vector ? "an element is " : ""
        guard typed.isFinite, answer.isFinite else { return prefix + "not it" }
        let direction = typed > answer ? "too high" : "too low"
        let gap = abs(typed - answer)
        if answer != 0 {
            let relative = gap / abs(answer)
            let percent = relative >= 0.1 ? String(format: "%.0f%%", relative * 100)
                : relative >= 0.001 ? String(format: "%.2g%%", relative * 100) : String(format: "%.1e", relative) + " relative"
            return prefix + "\(direction) by \(percent)"
        }
        return prefix + "\(direction) by \(NumberText.format(gap, spec: ".3g"))"
    }
}

extension Notebook {
    /// The answer as a reader sees it: the value, or why there is none.
    public func answerText(_ question: Question) -> String {
        switch answer(to: question) {
        case .success(let value): return value.displayText
        case .failure(let error): return "⟨\(error.message)⟩"
        }
    }

    /// The true answer of a question on the current values: over its cell's outputs by bare
    /// name, or any cell's by reference; a word among the choices stands for itself.
    public func answer(to question: Question) -> Result<Value, ExpressionError> {
        let outputs = result(question.cell).outputs
        let scope = ExpressionScope(
            reference: { cell, output in
                switch self.resolveReference(OutputReference(cell: cell, output: output)) {
                case .success(let v): .success(v)
                case .failure(let e): .failure(ExpressionError(e.kind == .blocked ? .unavailable : .invalid, at: 0, e.message))
                }
            },
            name: { name in outputs?[name] })
        if outputs == nil, question.answer.names.contains(where: { !question.choices.contains($0.name) }) {
            return .failure(ExpressionError(.unavailable, at: 0, "cell '\(question.cell)' has not run"))
        }
        return Result { () throws(ExpressionError) in try question.answer.evaluate(in: scope) }
    }
}
