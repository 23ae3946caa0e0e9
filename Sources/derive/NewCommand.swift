import ArgumentParser
import Foundation
import Lessons
import NotebookCore

/// `derive new ID`: starts a lesson file that already passes `derive check`, with one of each
/// thing a lesson has (front matter, prose, a question, a cell with claims, a placeholder).
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Start a new lesson file, lessons/ID.md, that passes `derive check` as written.",
        discussion: "Refuses an id that is taken or not [a-z0-9-]+. Open the notebook on it and edit the file: see README, “Writing a lesson”."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The lesson's id, also its file name: [a-z0-9-]+.", valueName: "id"))
    var id: String

    @Option(help: ArgumentHelp("The lesson's title.", valueName: "title"))
    var title: String?

    func validate() throws {
        guard LessonParser.isValidLessonID(id) else {
            throw ValidationError("lesson id '\(id.escapingControls)' must match [a-z0-9-]+")
        }
        if let title, title.contains(where: { $0.isNewline }) {
            throw ValidationError("the title must be one line")
        }
    }

    func run() throws {
        // The folder named by --lessons or DERIVE_LESSONS, else ./lessons (never the install's).
        let named = global.lessons ?? EnvironmentVariables.value("DERIVE_LESSONS")
        let directory = URL(fileURLWithPath: named ?? "lessons")
        let file = directory.appendingPathComponent("\(id).md")
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(directory)
        if let taken = catalog.header(id) {
            throw ValidationError("lesson '\(id)' already exists in \(taken.file)")
        }
        guard !FileManager.default.fileExists(atPath: file.path) else {
            throw ValidationError("\(file.path) already exists")
        }
        let text = LessonTemplate.text(id: id, title: title ?? LessonTemplate.title(from: id))
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // .withoutOverwriting: a file that appeared since the check above is kept.
            try Data(text.utf8).write(to: file, options: .withoutOverwriting)
        } catch {
            throw ValidationError("cannot write \(file.path): \(error.localizedDescription)")
        }
        Terminal.print("Wrote \(file.path). Open it with `derive tui \(id)` beside your editor; `derive check \(id)` verifies it.")
    }
}

/// The text `derive new` writes.
enum LessonTemplate {
    /// `my-new-lesson` → `My new lesson`.
    static func title(from id: String) -> String {
        let words = id.split(separator: "-").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func text(id: String, title: String) -> String {
        """
        ---
        id: \(id)
        title: \(title)
        order: 100
        summary: One sentence on what this lesson derives.
        sources:
          - Author, Author & Author (Year), Title of the paper
        ---

        # \(title)

        Say what problem the lesson solves and why the reader should care. Every number in the
        text comes from a cell, through a placeholder, so it follows the learner's edits.

        Before a cell shows its numbers, a question can ask the learner to predict one:

        ```question id=largest-share cell=scores answer="softmax[2]" tolerance=0.01
        A softmax turns the scores 1, 2 and 3 into probabilities. About how much goes to the 3?
        ```

        ```cell id=scores compute=softmax.safe title="A softmax of three scores"
        x = [1, 2, 3]
        expect sum(softmax) ≈ 1 ± 1e-12
        expect softmax[2] > softmax[1]
        ```

        The largest score takes {{scores.softmax[2]:.3f}} of the mass. Claims (`expect`) state
        what the prose says — sums, bounds, orderings across cells — and `derive check` verifies
        them. See docs/lesson-format.md for everything a lesson can hold, and `derive modules`
        for the compute modules a cell can call.

        """
    }
}
