import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// The screen escapes what the command line escapes, plus newline and tab.
final class SanitizeAgreesWithTerminalTextTests: XCTestCase {
    func testSameScalarsAsTerminalTextPlusNewlineAndTab() {
        for v in Array(0...0x3FF) + Array(0x2000...0x206F) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let expected = scalar == "\n" || scalar == "\t" || TerminalText.needsEscape(scalar)
            XCTAssertEqual(Sanitize.needsEscape(scalar), expected, "U+\(String(v, radix: 16))")
        }
        XCTAssertEqual(Sanitize.visible("a\u{2067}b\u{202A}c"), "a⟨U+2067⟩b⟨U+202A⟩c")
        XCTAssertEqual(Sanitize.visible("x\ny"), "x␊y")
    }
}
