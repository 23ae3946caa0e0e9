import Foundation
import NotebookCore
import Progress
import TUI

/// Connects the notebook to the progress store: what the lesson list shows and what each
/// lesson restores, and a recorder for what the learner does.
struct TUIProgress {
    let store: ProgressStore
    let catalog: LessonCatalog
    /// Warnings from opening the store, for the status bar.
    var notes: [String]

    init(store: ProgressStore, catalog: LessonCatalog, warnings: [String]) {
        self.store = store
        self.catalog = catalog
        notes = warnings
    }

    /// The lesson to resume: the one with the latest activity that still exists.
    var resumeLessonID: String? {
        store.lastLesson(among: Set(catalog.headers.map(\.id)))
    }

    /// Entries for the list. Saved overrides are checked against the lesson when it opens;
    /// those that no longer apply are dropped then, with a note.
    func entries() -> [LessonEntry] {
        let outlines = catalog.headers.map(LessonOutline.init)
        let summary = store.summary(for: outlines)
        let states = store.resumeStates(for: outlines)
        return catalog.headers.map { header in
            let state = states[header.id] ?? ResumeState()
            return LessonEntry(header: header, progress: summary[lesson: header.id], savedOverrides: state.overrides,
                               lastCell: state.lastCell, ranCells: state.ranCells, answers: state.answers)
        }
    }

    /// Records one event; returns a warning when the store could not write.
    func record(_ event: RecordEvent) -> String? {
        switch event {
        case .opened(let lessonID):
            _ = store.setPosition(lesson: lessonID, cell: store.position(lesson: lessonID)?.cell, scroll: 0)
        case .position(let lessonID, let cellID):
            _ = store.setPosition(lesson: lessonID, cell: cellID, scroll: 0)
        case .ran(let lessonID, let trigger, let runs):
            // Opening a lesson runs its cells for display; only what the learner runs counts.
            guard trigger != .open else { break }
            _ = store.recordRuns(runs, lessonCells: catalog.header(lessonID)?.cellIDs)
        case .overrides(let lessonID, let cellID, let sources):
            _ = store.replaceOverrides(lesson: lessonID, cell: cellID, sources: sources)
        case .answered(let lessonID, let questionID, let typed, let correct, let attempt, let revealed):
            _ = store.recordAnswer(AnswerRecord(lesson: lessonID, question: questionID, typed: typed, correct: correct,
                                                attempt: attempt, revealed: revealed, answeredAt: Date()))
        }
        return store.drainWarnings().last
    }
}
