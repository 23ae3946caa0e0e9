import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
    // MARK: Reset

    /// Clears everything recorded for one lesson, or for all when `lesson` is `nil`: runs,
    /// position, completion, overrides, answers and time spent.
    @discardableResult
    public func reset(lesson: String?) -> Bool {
        write("the reset of \(lesson ?? "all progress")") { db -> Void in
            // Every table references `lesson` with ON DELETE CASCADE.
            if let lesson {
                try db.execute(sql: "DELETE FROM lesson WHERE id = ?", arguments: [lesson])
            } else {
                try db.execute(sql: "DELETE FROM lesson")
            }
        } != nil
    }

    /// Whether anything is recorded for the lesson.
    public func hasProgress(lesson: String) -> Bool {
        read(false) { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM lesson WHERE id = ?", arguments: [lesson]) != nil
        }
    }
}
