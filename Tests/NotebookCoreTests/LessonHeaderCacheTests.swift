import Foundation
@testable import NotebookCore
import TestSupport
import XCTest

/// The header cache lists unchanged files without reading them, and is never the reason a
/// list is wrong: stale entries are read again, a corrupt file counts as empty, and a place
/// that cannot be written only costs speed.
final class LessonHeaderCacheTests: XCTestCase {
    var folder: URL!
    var cacheFile: URL!
    let loader = LessonLoader(registry: testRegistry)

    override func setUpWithError() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("derive-cache-\(UUID().uuidString)")
        folder = root.appendingPathComponent("lessons")
        cacheFile = root.appendingPathComponent("cache/derive/lesson-headers.tsv")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder.deletingLastPathComponent())
    }

    let body = """
        # Demo

        ```cell id=first compute=test.add
        a = [1, 2]
        ```

        ```question id=guess cell=first answer=total
        What is the total?
        ```
        """

    /// Writes a lesson whose file was last changed `age` seconds ago (set explicitly: a file
    /// written this instant is too fresh for the cache to keep).
    /// `inPlace` keeps the file's inode, as an editor that overwrites does.
    func write(_ name: String, id: String, title: String = "Demo", age: TimeInterval = 60, inPlace: Bool = false) throws {
        let url = folder.appendingPathComponent(name)
        let text = lessonText(body, id: id).replacingOccurrences(of: "title: Demo", with: "title: \(title)")
        try text.write(to: url, atomically: !inPlace, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: url.path)
    }

    /// Lists the folder through the cache file, as `derive list` does, and returns the catalog
    /// with how many headers came from the cache and how many from their files.
    func list() -> (catalog: LessonCatalog, hits: Int, misses: Int) {
        var cache = LessonHeaderCache(location: cacheFile)
        let catalog = loader.loadHeaders(folder, cache: &cache)
        cache.save()
        return (catalog, cache.hits, cache.misses)
    }

    func testAnUnchangedFileIsListedFromTheCacheWithTheSameHeader() throws {
        try write("a.md", id: "alpha")
        try write("b.md", id: "beta")
        let first = list()
        XCTAssertEqual([first.hits, first.misses], [0, 2])
        XCTAssertTrue(FileManager.default.fileExists(atPath: cacheFile.path), "the cache was written")
        let second = list()
        XCTAssertEqual([second.hits, second.misses], [2, 0])
        XCTAssertEqual(second.catalog.headers, first.catalog.headers, "the same headers, urls and display names")
        XCTAssertEqual(second.catalog.header("alpha")?.cellIDs, ["first"])
        XCTAssertEqual(second.catalog.header("alpha")?.questionIDs, ["guess"])
        XCTAssertEqual(second.catalog.errors.count, 0)
    }

    func testAnEditedFileIsReadAgainEvenWithTheSameSize() throws {
        try write("a.md", id: "alpha", title: "Old title", age: 120)
        XCTAssertEqual(list().catalog.header("alpha")?.title, "Old title")
        let before = try XCTUnwrap(FileSignature(folder.appendingPathComponent("a.md")))
        // Same length and the same inode, so neither would tell.
        try write("a.md", id: "alpha", title: "New title", age: 60, inPlace: true)
        let now = try XCTUnwrap(FileSignature(folder.appendingPathComponent("a.md")))
        XCTAssertEqual([now.size, Int64(now.inode)], [before.size, Int64(before.inode)])
        let after = list()
        XCTAssertEqual(after.catalog.header("alpha")?.title, "New title")
        XCTAssertEqual([after.hits, after.misses], [0, 1])
        XCTAssertEqual(list().hits, 1, "and the new header is kept")
    }

    func testAFileChangedAMomentAgoIsNotKept() throws {
        try write("a.md", id: "alpha", age: 0)
        _ = list()
        let again = list()
        XCTAssertEqual([again.hits, again.misses], [0, 1], "a second change within the clock's tick would not show")
    }

    func testACorruptOrForeignCacheCountsAsEmptyAndIsRewritten() throws {
        try write("a.md", id: "alpha")
        let header = "derive lesson headers 1\n"
        for garbage in ["{not json", "", "derive lesson headers 999\n", header + "/x\t1\t2\n",
                        header + "/x\t1\t2\t3\t4\t5\tid\ttitle\tnot-a-number\tsummary\tc\tq\n",
                        header + "/x\t1\t2\t3\t4\t5\tid\tbad \\q escape\t1\tsummary\tc\tq\n"] {
            try FileManager.default.createDirectory(at: cacheFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            try garbage.write(to: cacheFile, atomically: true, encoding: .utf8)
            let listed = list()
            XCTAssertEqual(listed.catalog.headers.map(\.id), ["alpha"], garbage)
            XCTAssertEqual(listed.catalog.errors.count, 0, garbage)
            XCTAssertEqual(list().hits, 1, "rewritten after \(garbage.debugDescription)")
        }
    }

    func testACacheThatCannotBeWrittenOnlyCostsSpeed() throws {
        try write("a.md", id: "alpha")
        // Its folder would have to be made inside a regular file: refused even for root.
        let blocker = folder.deletingLastPathComponent().appendingPathComponent("cache")
        try "a file".write(to: blocker, atomically: true, encoding: .utf8)
        var cache = LessonHeaderCache(location: cacheFile)
        XCTAssertEqual(loader.loadHeaders(folder, cache: &cache).headers.map(\.id), ["alpha"])
        XCTAssertFalse(cache.save())
        let again = list()
        XCTAssertEqual(again.catalog.headers.map(\.id), ["alpha"])
        XCTAssertEqual([again.hits, again.misses], [0, 1])
    }

    func testErrorsAreNeverCachedAndGoneFilesAreForgotten() throws {
        try write("a.md", id: "alpha")
        try "---\ntitle: No id\n---\n".write(to: folder.appendingPathComponent("b.md"), atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let listed = list()
            XCTAssertEqual(listed.catalog.headers.map(\.id), ["alpha"])
            XCTAssertEqual(listed.catalog.errors.count, 1, "the front matter's error shows every time")
        }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("a.md"))
        XCTAssertEqual(list().catalog.headers.count, 0)
        let stored = try String(contentsOf: cacheFile, encoding: .utf8)
        XCTAssertFalse(stored.contains("alpha"), stored)
    }

    func testAFileRenamedOverAnotherIsReadAgain() throws {
        try write("a.md", id: "alpha", age: 120)
        try write("b.md", id: "beta", age: 120)
        _ = list()
        // b.md's content moves to a.md: a new inode under a known name.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("a.md"))
        try FileManager.default.moveItem(at: folder.appendingPathComponent("b.md"), to: folder.appendingPathComponent("a.md"))
        let after = list()
        XCTAssertEqual(after.catalog.headers.map(\.id), ["beta"])
        XCTAssertEqual(after.catalog.headers.first?.url?.lastPathComponent, "a.md")
    }

    func testAnEntryReadsBackWhateverItsTextHolds() throws {
        let signature = try XCTUnwrap(FileSignature(path: "/"))
        for text in ["plain", "", "tab\there", "back\\slash\\t not a tab", "line\nfeed", "cr\r\nlf", "π ≈ 3.14 · 日本", "\\"] {
            let entry = LessonHeaderCache.Entry(signature: signature, id: "id-\(text)", title: text, order: -3, summary: text,
                                                cellIDs: text.isEmpty ? [] : [text, "b"], questionIDs: [], readAt: 42)
            let line = entry.line(path: "/lessons/\(text).md")
            XCTAssertFalse(line.contains("\n"), text.debugDescription)
            let read = try XCTUnwrap(LessonHeaderCache.Entry.read(Data(line.utf8)[...]), text.debugDescription)
            XCTAssertEqual(read.path, "/lessons/\(text).md")
            XCTAssertEqual(read.entry, entry, text.debugDescription)
        }
    }

    func testTheDefaultLocationFollowsXDG() {
        XCTAssertEqual(LessonHeaderCache.defaultLocation(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])?.path,
                       "/c/derive/lesson-headers.tsv")
        XCTAssertEqual(LessonHeaderCache.defaultLocation(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/h"])?.path,
                       "/h/.cache/derive/lesson-headers.tsv", "a relative XDG_CACHE_HOME is ignored")
        XCTAssertNil(LessonHeaderCache.defaultLocation(environment: [:]))
    }
}
