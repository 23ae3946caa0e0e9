import Foundation
import NotebookCore
import Progress

/// Where things go on the lesson screen for a terminal size.
struct LessonGeometry {
    var content: Rect
    /// Where the text is drawn (inside margins).
    var text: Rect
    /// The side panel, on wide terminals.
    var panel: Rect?
    var separatorX: Int?

    /// Side panel beside the text at this many columns and more; below, outputs flow in the text.
    static let panelMinimumWidth = 100

    init(width: Int, height: Int) {
        content = Rect(x: 0, y: 1, width: width, height: height - 2)
        if width >= Self.panelMinimumWidth {
            let panelWidth = min(72, max(40, width * 2 / 5))
            let proseWidth = width - panelWidth - 1
            separatorX = proseWidth
            panel = Rect(x: proseWidth + 2, y: content.y, width: panelWidth - 3, height: content.height)
            text = Rect(x: 1, y: content.y, width: min(100, proseWidth - 2), height: content.height)
        } else {
            text = Rect(x: 1, y: content.y, width: width - 2, height: content.height)
        }
    }

    var inlineCells: Bool { panel == nil }
}

/// What the lesson's views draw with besides the lesson itself: the colours, the running job,
/// the cells the learner has run, the modules (for their outputs' docs) and the math renderer.
/// Views take this, not the whole `AppState`, so one cell's lines can be made and tested alone.
struct ViewContext {
    var theme: Theme
    var job: RunningJob?
    var ranCells: Set<String>
    var registry: ModuleRegistry
    var renderMath: @Sendable (String, Bool) -> String
}

extension AppState {
    func geometry() -> LessonGeometry { LessonGeometry(width: width, height: height) }

    /// The context the views of `session` draw with.
    func viewContext(_ session: LessonSession) -> ViewContext {
        ViewContext(theme: theme, job: job,
                    ranCells: lessons.first { $0.header.id == session.lesson.id }?.ranCells ?? [],
                    registry: registry, renderMath: renderMath)
    }

    /// The open lesson laid out for the text area; computed once per change of what it shows.
    func documentLayout(_ session: LessonSession) -> DocumentLayout {
        let (key, g) = layoutKey(session)
        return layoutCache.layout(for: key) {
            Document.layout(viewContext(session), session, width: g.text.width, inlineCells: g.inlineCells,
                            proseLayouts: layoutCache.proseLayouts)
        }
    }

    /// At least the first `count` lines of the layout: the whole one when it is made already,
    /// else only the blocks that reach that far (neither kept nor counted). The first frame
    /// of a lesson shows its top, and laying out the rest can wait until after it is drawn.
    func documentLayout(_ session: LessonSession, firstLines count: Int) -> DocumentLayout {
        let (key, g) = layoutKey(session)
        return layoutCache.cached(for: key)
            ?? Document.layout(viewContext(session), session, width: g.text.width, inlineCells: g.inlineCells, lineBudget: count,
                               proseLayouts: layoutCache.proseLayouts)
    }

    private func layoutKey(_ session: LessonSession) -> (LayoutCache.Key, LessonGeometry) {
        let g = geometry()
        // Beside a panel the text shows no parameter list and no editor: typing in the editor
        // there leaves the text as it is.
        let key = LayoutCache.Key(
            notebook: session.notebookVersion, width: g.text.width, inlineCells: g.inlineCells,
            focusedCell: session.focusedCell, selectedParameter: g.inlineCells ? session.selectedParameter : 0,
            editor: g.inlineCells ? session.editor : nil, job: job,
            ranCells: lessons.first { $0.header.id == session.lesson.id }?.ranCells ?? [],
            focusedQuestion: session.focusedQuestion, questions: session.questions)
        return (key, g)
    }

    /// The panel lines of the focused cell (wide layout).
    func panelDetail(_ session: LessonSession) -> CellView.Detail? {
        guard let panel = geometry().panel, session.focusedCellSpec != nil else { return nil }
        return CellView.detail(viewContext(session), session, session.focusedCell, width: panel.width, includeHeader: true)
    }
}
