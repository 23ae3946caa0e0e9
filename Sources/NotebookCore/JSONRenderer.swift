/// The JSON documents of docs/json.md.
public enum JSONRenderer {
    /// `{"lesson": ..., "cells": [...]}`; `onlyCell` limits the cells listed.
    public static func lesson(_ notebook: Notebook, onlyCell: String? = nil, answers: [String: AnswerState] = [:]) -> JSON {
        let cells = notebook.lesson.cells.filter { onlyCell == nil || $0.id == onlyCell }
        let questions = notebook.lesson.questions.filter { onlyCell == nil || $0.cell == onlyCell }
        return .object([
            ("lesson", .string(notebook.lesson.id)),
            ("cells", .array(cells.map { cell(id: $0.id, compute: $0.compute, notebook.result($0.id)) })),
            ("questions", .array(questions.map { question($0, notebook, state: answers[$0.id]) })),
        ])
    }

    /// One question: id, text, cell, answer, tolerance, choices, hint, and the learner's state
    /// when one is recorded.
    public static func question(_ question: Question, _ notebook: Notebook, state: AnswerState?) -> JSON {
        let answer: JSON
        switch notebook.answer(to: question) {
        case .success(let value): answer = value.json
        case .failure(let error): answer = .object([("error", .string(error.message))])
        }
        let tolerance: JSON
        switch question.tolerance {
        case .standard: tolerance = .object([("kind", .string("standard"))])
        case .absolute(let t): tolerance = .object([("kind", .string("absolute")), ("value", .number(t))])
        case .relative(let r): tolerance = .object([("kind", .string("relative")), ("value", .number(r))])
        }
        var pairs: [(String, JSON)] = [
            ("id", .string(question.id)),
            ("text", .string(question.plainText)),
            ("cell", .string(question.cell)),
            ("answer", answer),
            ("tolerance", tolerance),
            ("choices", .array(question.choices.map { .string($0) })),
            ("hint", question.hint.map { .string($0) } ?? .null),
        ]
        if let state {
            pairs.append(("state", .object([
                ("attempts", .integer(state.attempts)), ("correct", .bool(state.correct)),
                ("revealed", .bool(state.revealed)), ("right_first_try", .bool(state.rightFirstTry)),
            ])))
        }
        return .object(pairs)
    }

    /// One cell object: id, compute, params, outputs, ok, status, error, expectations, duration_us.
    public static func cell(id: String, compute: String, _ result: CellResult) -> JSON {
        let error: JSON
        switch result.status {
        case .ok, .notRun: error = .null
        default: error = .string(result.status.summary)
        }
        let params = result.inputs?.entries.map { ($0.name, $0.value.json) } ?? []
        let outputs = result.outputs?.entries.map { ($0.name, $0.value.json) } ?? []
        return .object([
            ("id", .string(id)),
            ("compute", .string(compute)),
            ("params", .object(params)),
            ("outputs", .object(outputs)),
            ("ok", .bool(result.passed)),
            ("status", .string(statusWord(result.status))),
            ("error", error),
            ("expectations", .array(result.expectations.map { verdict in
                var pairs: [(String, JSON)] = [("text", .string(verdict.expectation.text)), ("ok", .bool(verdict.passed))]
                if !verdict.passed {
                    if let left = verdict.left { pairs.append(("left", left.json)) }
                    if let right = verdict.right { pairs.append(("right", right.json)) }
                    if let message = verdict.message { pairs.append(("message", .string(message))) }
                }
                return .object(pairs)
            })),
            ("duration_us", .integer(Int((result.duration * 1e6).rounded()))),
        ])
    }

    static func statusWord(_ status: CellStatus) -> String {
        switch status {
        case .notRun: "not_run"
        case .ok: "ok"
        case .failed: "failed"
        case .blocked: "blocked"
        case .stale: "stale"
        case .skippedHeavy: "skipped"
        }
    }
}
