import Foundation

/// Independent work items spread over a few threads, results in index order. Item i runs on
/// thread i % threads, so the split does not depend on timing; what each item computes must not
/// depend on the thread either (seed it from its index), and then results are the same for any
/// thread count.
public enum Parallel {
    /// `body(0) ... body(count - 1)`; throws the error of the lowest failing index, after every
    /// item has run. `progress` hears the number of items done, from whichever thread finished one.
    public static func map<T>(
        _ count: Int, threads: Int, progress: (@Sendable (Int) -> Void)? = nil, _ body: @Sendable (Int) throws -> T
    ) throws -> [T] {
        // Each slot is written once, under the lock.
        nonisolated(unsafe) var results = [Result<T, Error>?](repeating: nil, count: count)
        nonisolated(unsafe) var done = 0
        let lock = NSLock()
        let parts = max(1, min(threads, count))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for index in stride(from: part, to: count, by: parts) {
                let result = Result { try body(index) }
                lock.lock()
                results[index] = result
                done += 1
                let finished = done
                lock.unlock()
                progress?(finished)
            }
        }
        return try results.map { try $0!.get() }
    }
}
