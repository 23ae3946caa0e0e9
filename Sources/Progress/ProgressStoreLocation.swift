import Foundation
import NotebookCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the progress database lives, and the file-system chores around it.
public enum ProgressStoreLocation {
    /// The database path: `--db PATH`, then `DERIVE_DB`, then
    /// `$XDG_DATA_HOME/derive/progress.sqlite`, then `~/.local/share/derive/progress.sqlite`.
    ///
    /// Empty values count as unset. `XDG_DATA_HOME` must be absolute (the XDG rule: a relative
    /// one is ignored). A relative `--db` or `DERIVE_DB` is taken from the current directory.
    /// Returns `nil` only when no home directory is known either.
    public static func resolve(
        flag: String?,
        environment: [String: String] = EnvironmentVariables.named("DERIVE_DB", "XDG_DATA_HOME", "HOME"),
        homeDirectory: String? = nil
    ) -> URL? {
        if let flag, !flag.isEmpty { return URL(fileURLWithPath: flag).standardizedFileURL }
        if let env = environment["DERIVE_DB"], !env.isEmpty {
            return URL(fileURLWithPath: env).standardizedFileURL
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("derive/progress.sqlite")
        }
        let home = homeDirectory
            ?? environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory()
        guard !home.isEmpty else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/derive/progress.sqlite")
    }

    /// Creates the folder that holds `database` and any missing parents, each with mode 0700
    /// (the progress of a learner is nobody else's business). Existing folders are left as
    /// they are.
    static func createFolder(for database: URL) throws(LocationError) {
        let folder = database.deletingLastPathComponent().path
        var missing: [String] = []
        var path = folder
        while !path.isEmpty, path != "/", !isDirectory(path) {
            missing.append(path)
            path = (path as NSString).deletingLastPathComponent
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw LocationError(path: dir, errno: errno)
            }
        }
        guard isDirectory(folder) else { throw LocationError(path: folder, errno: ENOTDIR) }
    }

    /// Creates the database file empty with mode 0600 when it does not exist (SQLite takes an
    /// empty file for a new database and gives its `-wal` and `-shm` files the same mode). A
    /// failure is left for SQLite to report.
    static func createPrivateFile(_ database: URL) {
        let fd = open(database.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Moves `database` and its `-wal`/`-shm` companions aside as
    /// `NAME.corrupt-<UTC timestamp>` (then `-2`, `-3`... if taken). Nothing is deleted: a
    /// stale WAL left next to a fresh database could be replayed into it, so it goes too.
    /// Returns the new path of the database file.
    static func moveAside(_ database: URL, now: Date) throws(LocationError) -> URL {
        let stamp = corruptStamp(now)
        let base = database.path + ".corrupt-" + stamp
        var target = base
        var n = 2
        while exists(target) || exists(target + "-wal") || exists(target + "-shm") {
            target = "\(base)-\(n)"
            n += 1
        }
        for suffix in ["-wal", "-shm", ""] where exists(database.path + suffix) {
            if rename(database.path + suffix, target + suffix) != 0 {
                throw LocationError(path: database.path + suffix, errno: errno)
            }
        }
        return URL(fileURLWithPath: target)
    }

    static func corruptStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Runs `body` holding an exclusive `flock` on the database's folder, so that two derive
    /// processes starting at once do not both create the schema or both move a corrupt file
    /// aside (the second would move the first one's fresh database). Without a lock (a file
    /// system that has none) the body runs anyway.
    static func withFolderLock<T>(for database: URL, _ body: () throws -> T) rethrows -> T {
        let fd = open(database.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        var locked = false
        while true {
            if flock(fd, LOCK_EX) == 0 { locked = true; break }
            if errno != EINTR { break }
        }
        defer { if locked { flock(fd, LOCK_UN) } }
        return try body()
    }
}

/// A file-system failure around the progress database, with the path it concerns.
struct LocationError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
