import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the lesson list needs of a lesson: its front matter and the ids of its cells and
/// questions, read without parsing or checking the body. A folder of a hundred lessons lists
/// in the time it takes to read the files; a lesson is parsed in full when it is opened.
public struct LessonHeader: Sendable, Equatable {
    public var id: String
    public var title: String
    public var order: Int
    public var summary: String
    /// The file as shown in messages, and where to read it again when the lesson is opened.
    public var file: String
    public var url: URL?
    public var cellIDs: [String] = []
    public var questionIDs: [String] = []

    public init(id: String, title: String, order: Int = Lesson.unordered, summary: String = "",
                file: String, url: URL? = nil, cellIDs: [String] = [], questionIDs: [String] = []) {
        self.id = id
        self.title = title
        self.order = order
        self.summary = summary
        self.file = file
        self.url = url
        self.cellIDs = cellIDs
        self.questionIDs = questionIDs
    }

    /// The header of a parsed lesson.
    public init(_ lesson: Lesson, url: URL? = nil) {
        self.init(id: lesson.id, title: lesson.title, order: lesson.order, summary: lesson.summary,
                  file: lesson.file, url: url, cellIDs: lesson.cells.map(\.id), questionIDs: lesson.questions.map(\.id))
    }

    /// The `order` from the front matter, or nil when it gave none.
    public var explicitOrder: Int? { order == Lesson.unordered ? nil : order }
}

/// The headers of a folder's lessons, in `order`, and the problems of the files whose front
/// matter did not read.
public struct LessonCatalog: Sendable {
    public var headers: [LessonHeader]
    public var errors: [LessonError]

    public init(headers: [LessonHeader], errors: [LessonError]) {
        self.headers = headers
        self.errors = errors
    }

    public func header(_ id: String) -> LessonHeader? {
        headers.first { $0.id == id }
    }
}

/// The `*.md` files of a folder by name, size and modification time: what `check --watch`
/// and the notebook's lesson list poll to see lessons added, removed, renamed or edited.
public struct LessonFolderSignature: Sendable {
    private let directory: URL
    private var last: [String: FileSignature]

    public init(_ directory: URL) {
        self.directory = directory
        last = Self.read(directory)
    }

    /// Whether any lesson file was added, removed or changed since the last call.
    public mutating func changed() -> Bool {
        let now = Self.read(directory)
        defer { last = now }
        return now != last
    }

    private static func read(_ directory: URL) -> [String: FileSignature] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var signature: [String: FileSignature] = [:]
        for name in names where name.hasSuffix(".md") {
            signature[name] = FileSignature(directory.appendingPathComponent(name))
        }
        return signature
    }
}

/// What says a file changed without reading it: its size, modification and change times (to
/// the nanosecond) and inode (a new inode is an editor's save by renaming a temporary file over
/// it). Read with one `stat`, so the lesson list can ask it of a hundred files in a blink.
public struct FileSignature: Sendable, Equatable {
    public let size: Int64
    public let modifiedNanoseconds: Int64
    public let changedNanoseconds: Int64
    public let inode: UInt64

    /// Nil when the file cannot be read (missing for a moment, during such a save).
    public init?(_ url: URL) {
        self.init(path: url.path)
    }

    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if os(Linux)
        let (modified, changed) = (info.st_mtim, info.st_ctim)
        #else
        let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
        #endif
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec)
        changedNanoseconds = Int64(changed.tv_sec) * 1_000_000_000 + Int64(changed.tv_nsec)
        inode = UInt64(info.st_ino)
    }

    init(size: Int64, modifiedNanoseconds: Int64, changedNanoseconds: Int64, inode: UInt64) {
        self.size = size
        self.modifiedNanoseconds = modifiedNanoseconds
        self.changedNanoseconds = changedNanoseconds
        self.inode = inode
    }
}
