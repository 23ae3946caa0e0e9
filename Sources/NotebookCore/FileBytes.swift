#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole small file read with one `open`, `fstat` and `read`: lesson files, the header
/// cache and the progress store's check stamp are read at every start, where FileManager's
/// attribute dictionary and `Data`'s URL handling cost more than the reading.
public enum FileBytes {
    /// Why a file was not read.
    public enum Failure: Error, Equatable {
        /// The file holds more than the limit: its size in bytes.
        case tooLarge(Int)
        /// The system refused: its message ("No such file or directory").
        case system(String)
    }

    /// The bytes of the file at `path`, refusing files over `limit` bytes (also one that grew
    /// past it while being read).
    public static func read(_ path: String, limit: Int) -> Result<[UInt8], Failure> {
        // Non-blocking: opening a FIFO with no writer would wait for one.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(.system(errorMessage())) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(.system(errorMessage())) }
        // A FIFO or a device would block or never end: only regular files are read.
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(.system(String(cString: strerror(EISDIR))))
        default: return .failure(.system("not a regular file"))
        }
        guard Int(info.st_size) <= limit else { return .failure(.tooLarge(Int(info.st_size))) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let got = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return .failure(.system(errorMessage())) }
            if got == 0 { break }
            bytes += chunk[..<got]
            // A file that grew past the limit while being read.
            guard bytes.count <= limit else { return .failure(.tooLarge(bytes.count)) }
        }
        return .success(bytes)
    }

    private static func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
        #else
        Darwin.read(descriptor, buffer, count)
        #endif
    }

    private static func errorMessage() -> String {
        String(cString: strerror(errno))
    }
}
