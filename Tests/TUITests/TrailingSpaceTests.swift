import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// Markdown lines with trailing spaces keep their first characters.
final class TrailingSpaceTests: XCTestCase {
    func testHeadingsItemsAndQuotesWithTrailingSpaces() throws {
        let s = try stateWithLesson("""
        ---
        id: spaces
        title: Spaces
        order: 1
        ---

        ## Heading with trailing spaces   

        - Item with trailing spaces   
          continued here   

        > Quote with trailing spaces   
        """)
        let lines = s.documentLayout(s.session!).lines.map { $0.plainText.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains("Heading with trailing spaces"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("• Item with trailing spaces continued here"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("│ Quote with trailing spaces"), lines.joined(separator: "\n"))
        XCTAssertEqual(Document.leadingWhitespace("  \tx  "), 3)
        XCTAssertEqual(Document.leadingWhitespace("x   "), 0)
    }

    /// The layout's own trim against Foundation's, which it replaced for speed.
    func testBlanksAreWhatFoundationCallsWhitespace() {
        let blanks = ["", " ", "\t", "\u{00A0}", "\u{2003}", "\u{3000}", "\u{202F}", " \t\u{00A0}"]
        let words = ["x", "a b", "π·x", "$$", "\u{200B}", "\n", "日本"]
        for left in blanks {
            for word in words {
                for right in blanks {
                    let text = left + word + right
                    XCTAssertEqual(text.trimmingBlanks, text.trimmingCharacters(in: .whitespaces), text.debugDescription)
                    let foundationLeading = text.prefix { $0.unicodeScalars.allSatisfy(CharacterSet.whitespaces.contains) }.count
                    XCTAssertEqual(Document.leadingWhitespace(text), foundationLeading, text.debugDescription)
                }
            }
        }
        XCTAssertEqual(" \u{2003} ".trimmingBlanks, "")
    }
}
