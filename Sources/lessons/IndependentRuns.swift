import Dispatch
import NotebookCore
import Synchronization

/// Runs `count` independent runs (run k uses seed + k in the modules that call this) on all
/// cores and returns their results in run order, so a cell gives the same numbers on any
/// machine. Stops starting runs once the cell is cancelled (then throws `.cancelled`) or a run
/// fails (then throws the first failure).
func independentRuns<Result: Sendable>(
    _ count: Int, context: RunContext, _ run: @Sendable (Int) throws(ComputeError) -> Result
) throws(ComputeError) -> [Result] {
    let results = Mutex([Result?](repeating: nil, count: count))
    let failure = Mutex<ComputeError?>(nil)
    DispatchQueue.concurrentPerform(iterations: count) { k in
        guard failure.withLock({ $0 == nil }) else { return }
        do throws(ComputeError) {
            try context.checkCancelled()
            let result = try run(k)
            results.withLock { $0[k] = result }
        } catch {
            failure.withLock { $0 = $0 ?? error }
        }
    }
    if let error = failure.withLock({ $0 }) { throw error }
    try context.checkCancelled()
    // With no failure every run stored its result.
    return results.withLock { $0 }.compactMap { $0 }
}
