import NotebookCore
import Progress

/// The lesson table shown by `derive list` and by `derive` without a terminal.
enum LessonListing {
    /// Progress per lesson; creates no database when there is none yet.
    static func progress(_ catalog: LessonCatalog, _ global: some CommonOptions) -> ProgressSummary {
        let store = global.openProgress(createIfMissing: false)
        let summary = store.summary(for: catalog.headers.map(LessonOutline.init))
        global.flushWarnings(store)
        return summary
    }

    static func text(_ catalog: LessonCatalog, progress: ProgressSummary) -> String {
        guard !catalog.headers.isEmpty else { return "No lessons found." }
        let idWidth = catalog.headers.map(\.id.count).max() ?? 0
        return catalog.headers.map { lesson in
            let id = lesson.id + String(repeating: " ", count: idWidth - lesson.id.count)
            let p = progress[lesson: lesson.id] ?? LessonProgress(outline: LessonOutline(lesson))
            var status = "\(p.cellsRun)/\(p.cells) cells run"
            if let last = p.lastVisited { status += ", last visited \(ProgressFormat.day(last))" }
            return "\(p.done ? "✓" : " ") \(id)  \(lesson.title)  (\(status))\n"
                + String(repeating: " ", count: idWidth + 4) + lesson.summary
        }.joined(separator: "\n").escapingControls
    }
}
