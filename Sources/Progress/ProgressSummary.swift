import Foundation
import NotebookCore

/// Progress in one lesson, measured against the lesson as it is now.
public struct LessonProgress: Sendable, Equatable {
    public var id: String
    public var title: String
    /// Cells in the lesson now.
    public var cells: Int
    /// Cells of the lesson now that ran successfully at least once.
    public var cellsRun: Int = 0
    /// Every recorded run of the lesson, including runs of cells since removed.
    public var runs: Int = 0
    /// Every cell of the lesson now has run successfully at least once.
    public var done: Bool = false
    /// The last activity in the lesson (a run or a move in the TUI).
    public var lastVisited: Date?
    /// Time spent: the summed length of the lesson's sittings (see `derive progress --help`).
    public var secondsSpent: Int = 0
    /// When the lesson was first completed; `nil` unless `done`.
    public var completedAt: Date?
    /// Questions in the lesson now.
    public var questions: Int
    /// Questions answered right or revealed.
    public var answered: Int = 0
    /// Questions answered right at the first try.
    public var rightFirstTry: Int = 0

    public init(outline: LessonOutline) {
        id = outline.id
        title = outline.title
        cells = Set(outline.cellIDs).count
        questions = Set(outline.questionIDs).count
    }

    /// The fraction of cells run, 0...1, for progress bars.
    public var fraction: Double { cells == 0 ? 0 : Double(cellsRun) / Double(cells) }

    /// Short form for lesson lists: `5/7`, `7/7 ✓`.
    public var compactText: String { "\(cellsRun)/\(cells)" + (done ? " ✓" : "") }
}

/// Progress over all lessons.
public struct ProgressSummary: Sendable, Equatable {
    public var lessons: [LessonProgress]
    /// Consecutive UTC days with activity up to today (or yesterday).
    public var streakDays: Int
    public var longestStreakDays: Int

    public var totalRuns: Int { lessons.reduce(0) { $0 + $1.runs } }
    public var lessonsDone: Int { lessons.filter(\.done).count }
    public var secondsSpent: Int { lessons.reduce(0) { $0 + $1.secondsSpent } }

    public subscript(lesson id: String) -> LessonProgress? { lessons.first { $0.id == id } }

    /// The JSON of `derive progress --format json` (docs/json.md).
    public var json: JSON {
        .object([
            ("total_runs", .integer(totalRuns)),
            ("lessons_done", .integer(lessonsDone)),
            ("streak_days", .integer(streakDays)),
            ("longest_streak_days", .integer(longestStreakDays)),
            ("lessons", .array(lessons.map { lesson in
                .object([
                    ("id", .string(lesson.id)),
                    ("title", .string(lesson.title)),
                    ("cells", .integer(lesson.cells)),
                    ("cells_run", .integer(lesson.cellsRun)),
                    ("runs", .integer(lesson.runs)),
                    ("done", .bool(lesson.done)),
                    ("last_visited", lesson.lastVisited.map { .string(ProgressFormat.iso8601($0)) } ?? .null),
                    ("seconds_spent", .integer(lesson.secondsSpent)),
                    ("completed_at", lesson.completedAt.map { .string(ProgressFormat.iso8601($0)) } ?? .null),
                    ("questions", .integer(lesson.questions)),
                    ("answered", .integer(lesson.answered)),
                    ("right_first_try", .integer(lesson.rightFirstTry)),
                ])
            })),
        ])
    }

    /// The text of `derive progress`: one line per lesson, then the totals.
    public func text(database: String?) -> String {
        var lines: [String] = []
        let idWidth = min(28, lessons.map(\.id.count).max() ?? 0)
        let fracWidth = lessons.map { "\($0.cellsRun)/\($0.cells)".count }.max() ?? 0
        for lesson in lessons {
            let mark = lesson.done ? "✓" : " "
            let id = lesson.id.padding(toLength: max(idWidth, lesson.id.count), withPad: " ", startingAt: 0)
            let frac = "\(lesson.cellsRun)/\(lesson.cells)"
            var line = "\(mark) \(id)  \(String(repeating: " ", count: fracWidth - frac.count))\(frac) cells"
            line += "  \(ProgressFormat.bar(lesson.fraction, width: 10))"
            line += "  \(lesson.runs) run\(lesson.runs == 1 ? "" : "s")"
            if lesson.questions > 0 {
                line += ", \(lesson.answered)/\(lesson.questions) questions (\(lesson.rightFirstTry) first try)"
            }
            if lesson.secondsSpent > 0 { line += ", \(ProgressFormat.duration(lesson.secondsSpent))" }
            if let last = lesson.lastVisited { line += ", last \(ProgressFormat.day(last))" }
            lines.append(line)
        }
        if !lessons.isEmpty { lines.append("") }
        var total = "\(lessonsDone) of \(lessons.count) lesson\(lessons.count == 1 ? "" : "s") done"
        total += ", \(lessons.reduce(0) { $0 + $1.cellsRun }) of \(lessons.reduce(0) { $0 + $1.cells }) cells run"
        total += ", \(totalRuns) run\(totalRuns == 1 ? "" : "s")"
        total += ", \(ProgressFormat.duration(secondsSpent)) spent"
        lines.append(total)
        var streak = "Streak: \(streakDays) day\(streakDays == 1 ? "" : "s")"
        if longestStreakDays > streakDays { streak += " (longest \(longestStreakDays))" }
        lines.append(streak)
        if let database { lines.append("Progress kept in \(database)") }
        return lines.joined(separator: "\n")
    }
}

/// How progress prints.
public enum ProgressFormat {
    /// `2026-11-28T10:15:00Z`
    public static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `2026-11-28` (UTC).
    public static func day(_ date: Date) -> String {
        String(iso8601(date).prefix(10))
    }

    /// `0s`, `45s`, `10m 40s`, `1h 02m`.
    public static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(pad(s % 60))s" }
        return "\(s / 3600)h \(pad(s % 3600 / 60))m"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `█████▌░░░░` for a fraction in 0...1.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let (filled, empty) = BlockGlyphs.bar(fraction: fraction, width: width)
        return filled + String(repeating: "░", count: empty)
    }
}
