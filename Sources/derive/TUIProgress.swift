import Foundation
import NotebookCore
import Progress
import TUI

/// Connects the notebook to the progress store: what the lesson list shows and what each
/// lesson restores, and a recorder for what the learner does.
struct TUIProgress {
    let store: ProgressStore
    let library: LessonLibrary
    /// Warnings from opening the store and from dropping stale overrides, for the status bar.
    var notes: [String]

    init(store: ProgressStore, library: LessonLibrary, warnings: [String]) {
        self.store = store
        self.library = library
        notes = warnings
    }

    /// The lesson to resume: the one with the latest activity that still exists.
    var resumeLessonID: String? {
        store.lastLesson(among: Set(library.lessons.map(\.id)))
    }

    /// Entries for the list, with saved overrides checked against the lessons as they are now:
    /// those that no longer apply are removed from the store, with a note.
    mutating func entries(registry: ModuleRegistry) -> [LessonEntry] {
        let summary = store.summary(for: library.lessons.map(LessonOutline.init))
        return library.lessons.map { lesson in
            var saved: [String: [String: String]] = [:]
            if !store.overrides(lesson: lesson.id).isEmpty {
                var notebook = Notebook(lesson: lesson, registry: registry)
                notes += notebook.restoreOverrides(from: store)
                for (cell, parameters) in notebook.overrides { saved[cell] = parameters.mapValues(\.source) }
            }
            let history = store.cellHistory(lesson: lesson.id)
            return LessonEntry(lesson: lesson,
                               progress: summary[lesson: lesson.id],
                               savedOverrides: saved,
                               lastCell: store.position(lesson: lesson.id)?.cell,
                               ranCells: Set(history.values.filter(\.hasRunOK).map(\.cell)),
                               answers: store.answerStates(lesson: lesson.id))
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
            _ = store.recordRuns(runs, lessonCells: library.lesson(lessonID)?.cells.map(\.id))
        case .overrides(let lessonID, let cellID, let sources):
            _ = store.replaceOverrides(lesson: lessonID, cell: cellID, sources: sources)
        case .answered(let lessonID, let questionID, let typed, let correct, let attempt, let revealed):
            _ = store.recordAnswer(AnswerRecord(lesson: lessonID, question: questionID, typed: typed, correct: correct,
                                                attempt: attempt, revealed: revealed, answeredAt: Date()))
        }
        return store.drainWarnings().last
    }
}
