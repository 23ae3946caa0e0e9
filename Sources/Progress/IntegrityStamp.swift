import Foundation
import NotebookCore

/// How the database file looked when derive last closed it intact, kept beside it as
/// `NAME-checked`: while the file still looks exactly so (device, inode, size, and the times
/// of its last write and last change), nothing has written to it since, and the page-by-page
/// `quick_check` at opening, whose cost grows with the learner's history (35 ms for a hundred
/// thousand runs), can be skipped.
///
/// It is written only by a clean close that leaves no WAL behind (this process was the last
/// connection and checkpointed), and removed before a session can write. A crash, a kill, or a
/// write by another program (which changes the change time, whatever it does to the others)
/// therefore always leads to the full check at the next start. derive owns `NAME-checked` as
/// SQLite owns `NAME-wal` and `NAME-shm`.
struct IntegrityStamp: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: [Int]
    var changed: [Int]

    /// The stamp of the regular file at `path`, or `nil` when there is none.
    init?(fileAt path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = [info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
        changed = [info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
    }

    private init?(line: String) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int($0) }
        guard fields.count == 7, fields.allSatisfy({ $0 != nil }) else { return nil }
        let values = fields.map { $0! }
        device = UInt64(bitPattern: Int64(values[0]))
        inode = UInt64(bitPattern: Int64(values[1]))
        size = Int64(values[2])
        modified = [values[3], values[4]]
        changed = [values[5], values[6]]
    }

    private var line: String {
        ([Int(Int64(bitPattern: device)), Int(Int64(bitPattern: inode)), Int(size)] + modified + changed)
            .map(String.init).joined(separator: " ") + "\n"
    }

    static func file(for database: URL) -> String { database.path + "-checked" }

    /// Whether `database` is exactly as derive last closed it, with no WAL beside it.
    static func isIntact(_ database: URL) -> Bool {
        guard !ProgressStoreLocation.exists(database.path + "-wal"),
              case .success(let bytes) = FileBytes.read(file(for: database), limit: 255),
              let saved = IntegrityStamp(line: String(decoding: bytes, as: UTF8.self)) else { return false }
        return saved == IntegrityStamp(fileAt: database.path)
    }

    /// Forgets the stamp: from here on the file may change.
    static func remove(for database: URL) {
        unlink(file(for: database))
    }

    /// Stamps `database` as it is now, unless a WAL is still beside it (another connection is
    /// open, or the checkpoint did not finish). Failing to write only costs the next start a check.
    static func save(for database: URL) {
        guard !ProgressStoreLocation.exists(database.path + "-wal"),
              let stamp = IntegrityStamp(fileAt: database.path) else { return }
        let fd = open(file(for: database), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(stamp.line.utf8)
        if write(fd, bytes, bytes.count) != bytes.count { unlink(file(for: database)) }
    }
}
