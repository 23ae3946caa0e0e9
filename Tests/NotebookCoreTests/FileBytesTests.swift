import Foundation
@testable import NotebookCore
import TestSupport
import XCTest

/// Lesson files and the header cache are read with `FileBytes`: every byte, in order, at any
/// size up to the limit; larger files and unreadable paths refused with a reason; and a
/// lesson file over the limit reported at its line 1.
final class FileBytesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder(self, prefix: "derive-bytes")
    }

    private func file(_ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent("f-\(bytes.count)")
        try Data(bytes).write(to: url)
        return url.path
    }

    func testEveryByteIsReadAtSizesAroundTheChunk() throws {
        var generator = TestRandom(seed: 7)
        for size in [0, 1, 4095, 65_535, 65_536, 65_537, 200_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertEqual(FileBytes.read(try file(bytes), limit: 1 << 20), .success(bytes), "size \(size)")
        }
    }

    func testTheLimitIsInclusiveAndALargerFileIsRefusedWithItsSize() throws {
        let path = try file([UInt8](repeating: 65, count: 100))
        XCTAssertEqual(FileBytes.read(path, limit: 100).map(\.count), .success(100))
        XCTAssertEqual(FileBytes.read(path, limit: 99), .failure(.tooLarge(100)))
    }

    func testAMissingFileAndAFolderGiveTheSystemsReason() {
        XCTAssertEqual(FileBytes.read(folder.appendingPathComponent("none").path, limit: 10),
                       .failure(.system("No such file or directory")))
        XCTAssertEqual(FileBytes.read(folder.path, limit: 10), .failure(.system("Is a directory")))
    }

    /// A FIFO named like a lesson would block a read for ever; it is refused without opening
    /// it for long (opening a FIFO with no writer blocks too, so it is opened non-blocking).
    func testAFIFOIsRefusedWithoutBlocking() throws {
        let path = folder.appendingPathComponent("pipe.md").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertEqual(FileBytes.read(path, limit: 10), .failure(.system("not a regular file")))
    }

    func testALessonOverTheLimitIsReportedAtItsFirstLine() throws {
        let url = folder.appendingPathComponent("huge.md")
        try Data(repeating: 0x61, count: LessonLoader.maxFileBytes + 1).write(to: url)
        let loaded = LessonLoader(registry: testRegistry).loadFile(url, displayName: "huge.md")
        guard case .failure(let failure) = loaded else { return XCTFail("a lesson over the limit loaded") }
        XCTAssertEqual(failure.errors.map(\.description),
                       ["huge.md:1:1: file is \(LessonLoader.maxFileBytes + 1) bytes; lessons are limited to \(LessonLoader.maxFileBytes)"])
    }
}
