import CPeakFLOPS
import Dispatch
import Foundation

/// The machine's fp32 peak, measured: every thread runs independent FMA chains at once (best of
/// three runs), so "% of peak" is against this machine today, not a datasheet.
enum MachinePeak {
    static func measure(threads: Int, iterations: Int = 20_000_000) -> (gflops: Double, width: Int) {
        var width: Int32 = 0
        _ = comcl_fma_flops(1000, &width)  // warm-up, and the vector width
        var best = 0.0
        for _ in 0..<3 {
            // Each thread writes its own slot.
            nonisolated(unsafe) let flops = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
            defer { flops.deallocate() }
            let start = Date()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                var w: Int32 = 0
                flops[t] = comcl_fma_flops(iterations, &w)
            }
            best = max(best, flops.reduce(0, +) / Date().timeIntervalSince(start) / 1e9)
        }
        return (best, Int(width))
    }
}
