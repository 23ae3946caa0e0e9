import ArgumentParser
import XCTest
@testable import derive

/// The quick start reads the notebook's command lines without ArgumentParser; every line it
/// reads must mean what ArgumentParser makes of it, and everything else must go to ArgumentParser.
final class QuickStartTests: XCTestCase {
    /// What ArgumentParser makes of `arguments`, in the quick start's terms: the notebook it
    /// would open, the version it would print, or `nil` for anything else (another command, an error).
    private func argumentParserReading(_ arguments: [String], interactive: Bool) -> QuickStart? {
        do {
            switch try Derive.parseAsRoot(arguments) {
            case let tui as TUICommand:
                return .notebook(NotebookLaunch(tui.global, lesson: tui.lesson, resume: false))
            case let root as Derive:
                return interactive ? .notebook(NotebookLaunch(root.global, lesson: nil, resume: true)) : nil
            default:
                return nil
            }
        } catch {
            let version = Derive.exitCode(for: error) == .success && Derive.fullMessage(for: error) == "0.1.0"
            return version ? .version : nil
        }
    }

    func testTheUsualLinesAreReadQuickly() {
        let dir = "--lessons"
        XCTAssertEqual(QuickStart(arguments: [], interactive: true), .notebook(NotebookLaunch(resume: true)))
        XCTAssertEqual(QuickStart(arguments: ["tui"], interactive: false), .notebook(NotebookLaunch()))
        XCTAssertEqual(QuickStart(arguments: [dir, "l", "tui", "online-softmax"], interactive: true),
                       .notebook(NotebookLaunch(lessons: "l", lesson: "online-softmax")))
        XCTAssertEqual(QuickStart(arguments: ["tui", "--db=p.db", "--no-color", "x"], interactive: true),
                       .notebook(NotebookLaunch(db: "p.db", noColor: true, lesson: "x")))
        XCTAssertEqual(QuickStart(arguments: ["--version"], interactive: false), .version)
    }

    func testAnythingElseIsLeftToArgumentParser() {
        for arguments in [["--help"], ["tui", "-h"], ["list"], [], ["tui", "--", "x"], ["--db", "a", "--db", "b", "tui"],
                          ["--lessons"], ["--lessons="], ["tui", "a", "b"], ["--no-color=yes", "tui"], ["tui", "--version"]] {
            XCTAssertNil(QuickStart(arguments: arguments, interactive: false), "\(arguments)")
        }
    }

    /// Every line of up to four words from a vocabulary of options, values, commands and
    /// mistakes: where the quick start reads one, ArgumentParser reads it the same.
    func testEveryLineTheQuickStartReadsArgumentParserReadsTheSame() {
        let words = ["tui", "online-softmax", "--lessons", "dir", "--lessons=dir", "--db", "p.db", "--db=", "--no-color",
                     "--version", "-h", "--", "list", "-x", "--no-color=1"]
        var lines: [[String]] = [[]]
        var frontier: [[String]] = [[]]
        for _ in 1...4 {
            frontier = frontier.flatMap { line in words.map { line + [$0] } }
            lines += frontier
        }
        var read = 0
        for line in lines {
            for interactive in [false, true] {
                guard let quick = QuickStart(arguments: line, interactive: interactive) else { continue }
                read += 1
                XCTAssertEqual(quick, argumentParserReading(line, interactive: interactive), "\(line), interactive: \(interactive)")
            }
        }
        // The comparison is not vacuous: a good share of the lines are the notebook's.
        XCTAssertGreaterThan(read, 500)
    }
}
