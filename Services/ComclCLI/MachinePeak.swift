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
            let start = Date()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                var w: Int32 = 0
                _ = comcl_fma_flops(iterations, &w)
            }
            let flops = Double(threads) * comcl_flops_per_run(iterations, width)
            best = max(best, flops / Date().timeIntervalSince(start) / 1e9)
        }
        return (best, Int(width))
    }

    /// FLOPs one `comcl_fma_flops(iterations)` call does (12 chains of `width`-float FMAs, 2 FLOPs each).
    private static func comcl_flops_per_run(_ iterations: Int, _ width: Int32) -> Double {
        Double(iterations) * 12 * Double(width) * 2
    }
}
