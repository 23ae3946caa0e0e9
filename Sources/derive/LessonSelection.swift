import ArgumentParser
import NotebookCore

/// Lesson ids from the command line, checked against the library.
enum LessonSelection {
    static func resolve(_ ids: [String], all: Bool, in library: LessonLibrary) throws -> [Lesson] {
        if all { return library.lessons }
        return try ids.map { id in
            if let lesson = library.lesson(id) { return lesson }
            if library.unloadedIDs.contains(id) {
                throw ValidationError("lesson '\(id)' did not load; see the errors above")
            }
            throw unknownLesson(id, known: library.lessons.map(\.id))
        }
    }

    /// The one message for a lesson id that names no lesson.
    static func unknownLesson(_ id: String, known: [String]) -> ValidationError {
        ValidationError("no lesson '\(id)'; the lessons are \(known.isEmpty ? "(none)" : known.joined(separator: ", "))")
    }

    /// The one message for a cell id the lesson does not have.
    static func unknownCell(_ cell: String, in lesson: Lesson, prefix: String = "") -> ValidationError {
        ValidationError("\(prefix)lesson '\(lesson.id)' has no cell '\(cell)'; it has \(lesson.cells.map(\.id).joined(separator: ", "))")
    }
}
