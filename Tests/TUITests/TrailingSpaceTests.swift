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
}
