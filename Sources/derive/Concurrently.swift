import Dispatch

/// A value worked out on another core while the caller goes on: start-up opens the progress
/// database and parses the lesson it opens at while it reads the lesson list. `value` waits
/// for the work to finish.
final class Concurrently<Value: Sendable>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    /// Written once, before `finished` is signalled; read only after waiting for it.
    private var result: Value?

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = work()
            finished.signal()
        }
    }

    /// The work's value, once it is done.
    var value: Value {
        finished.wait()
        defer { finished.signal() }
        return result!
    }
}
