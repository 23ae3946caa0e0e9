import Foundation
import NotebookCore

// The bridge between notebooks and the progress store, so that the CLI and the TUI record
// and restore the same way.

extension LessonOutline {
    /// The outline of a loaded lesson.
    public init(_ lesson: Lesson) {
        self.init(id: lesson.id, title: lesson.title, cellIDs: lesson.cells.map(\.id),
                  questionIDs: lesson.questions.map(\.id))
    }

    /// The outline of a lesson as the list knows it, before it is opened.
    public init(_ header: LessonHeader) {
        self.init(id: header.id, title: header.title, cellIDs: header.cellIDs, questionIDs: header.questionIDs)
    }
}

extension CellRunRecord {
    /// The record of a cell's result, or `nil` when its module did not run (not run yet,
    /// blocked by an upstream cell, stale, a heavy cell skipped). A run is ok when the module
    /// ran without error; failed expectations do not make it an error (an edited parameter
    /// rightly changes the numbers the lesson expects).
    public init?(lesson: String, cell: String, result: CellResult, startedAt: Date) {
        let error: String?
        switch result.status {
        case .ok: error = nil
        case .failed(let failure): error = failure.description
        case .notRun, .blocked, .stale, .skippedHeavy: return nil
        }
        let parameters = result.inputs?.entries.map { (name: $0.name, value: $0.value) } ?? []
        let micros = result.duration.isFinite ? Int((max(0, result.duration) * 1e6).rounded()) : 0
        self.init(lesson: lesson, cell: cell, parameters: parameters, startedAt: startedAt,
                  durationMicroseconds: micros, error: error)
    }
}

extension Notebook {
    /// Records for the given cells (every cell by default) whose modules ran, in lesson order.
    /// The results carry durations but no clock times: the runs are laid end to end from
    /// `startedAt`, the moment the caller started running them.
    public func progressRecords(cells: [String]? = nil, startedAt: Date) -> [CellRunRecord] {
        let wanted = cells.map(Set.init)
        var clock = startedAt
        var records: [CellRunRecord] = []
        for cell in lesson.cells where wanted?.contains(cell.id) ?? true {
            guard let record = CellRunRecord(lesson: lesson.id, cell: cell.id, result: result(cell.id),
                                             startedAt: clock) else { continue }
            records.append(record)
            clock = clock.addingTimeInterval(Double(record.durationMicroseconds) / 1e6)
        }
        return records
    }

    /// Applies the learner's saved parameter overrides without running anything (run the
    /// notebook afterwards). One that no longer applies (its cell or parameter is gone from the
    /// lesson, or its value no longer parses or validates) is dropped from the store; the
    /// returned notes say which and why.
    public mutating func restoreOverrides(from store: ProgressStore) -> [String] {
        var notes: [String] = []
        for saved in store.overrides(lesson: lesson.id) {
            let name = "\(saved.cell).\(saved.parameter)"
            var problem: String?
            if lesson.cell(saved.cell) == nil {
                problem = "the lesson has no cell '\(saved.cell)' any more"
            } else {
                do {
                    try restoreOverride(cell: saved.cell, parameter: saved.parameter, source: saved.source)
                } catch {
                    problem = error.description
                }
            }
            if let problem {
                store.removeOverride(lesson: lesson.id, cell: saved.cell, parameter: saved.parameter)
                notes.append("dropped your value \(name) = \(saved.source) in \(lesson.id): \(problem)")
            }
        }
        return notes
    }
}
