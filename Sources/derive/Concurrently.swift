import Dispatch
import Glibc
import Synchronization

/// A value worked out on another core while the caller goes on: start-up opens the progress
/// database and parses the lesson it opens at while it reads the lesson list. `value` waits
/// for the work to finish.
final class Concurrently<Value: Sendable>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let done = Atomic<Bool>(false)
    /// Written once, before `done` is set and `finished` signalled; read only after either.
    private var result: Value?

    init(_ work: @escaping @Sendable () -> Value) {
        // A plain thread: Dispatch's first worker took longer to start, and to hand back.
        let body = Box { [self] in
            result = work()
            done.store(true, ordering: .releasing)
            finished.signal()
        }
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(body).toOpaque())
        if started == 0 {
            pthread_detach(thread)
        } else {
            body.run()
        }
    }

    /// The work's value, once it is done.
    ///
    /// The work is usually a millisecond or two from done when asked. A thread asleep on the
    /// semaphore took about a millisecond more to wake once signalled (measured on this
    /// project's virtual machines, where an idle core goes back to the host), so the caller
    /// first waits awake, yielding its core, for at most 20 ms.
    var value: Value {
        let until = DispatchTime.now().uptimeNanoseconds + 20_000_000
        while !done.load(ordering: .acquiring), DispatchTime.now().uptimeNanoseconds < until {
            sched_yield()
        }
        finished.wait()
        defer { finished.signal() }
        return result!
    }
}

/// A closure a new thread runs.
private final class Box {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
