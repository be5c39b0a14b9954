import CDNNL
import COpenBLAS

/// How many threads the engine uses, and the one pool they come from: OpenMP's (libgomp), which
/// oneDNN runs its primitives on, so the engine's own loops (batch norm, pooling, Adam) run on
/// the same threads instead of a second pool fighting them for the cores. Loops split into fixed,
/// ordered parts, so results depend on the thread count only, never on scheduling.
public enum EngineThreads {
    /// OpenMP's own default until `set` (OMP_NUM_THREADS, else every core).
    nonisolated(unsafe) private static var configured = Int(omp_get_max_threads())

    public static var count: Int { configured }

    /// Sets the threads of oneDNN and of the engine's loops, and makes OpenBLAS (the heads' small
    /// GEMMs) single-threaded: Debian's default OpenBLAS runs its own pthreads, which spin after
    /// each call against OpenMP's team. Measured side by side (ResNet-50 batch 32, 2 cores):
    /// 1203 / 1169 ms a step with OpenBLAS on one thread, 1260 / 1215 ms on two pthreads, and
    /// 1195 / 1167 ms with Debian's OpenMP build of OpenBLAS (`libopenblas0-openmp`), which would
    /// mean switching the system's `libopenblas.so.0` alternative for no gain (docs/encoder.md).
    public static func set(_ n: Int) {
        configured = max(1, n)
        applyToThisThread()
        openblas_set_num_threads(1)
    }

    /// OpenMP keeps its thread count per thread (an ICV of each thread's data environment), and a
    /// service runs the engine on a thread of its own, not the one that called `set`: every oneDNN
    /// call applies ours first (two workers on two cores each ran two threads, and the demo's step
    /// took 1.5 s instead of 0.28 s).
    @inline(__always)
    static func applyToThisThread() {
        if omp_get_max_threads() != Int32(configured) { omp_set_num_threads(Int32(configured)) }
    }
}

/// Runs `body(part, range)` over `total` items split into at most `EngineThreads.count` contiguous
/// parts (fewer when there is too little work to be worth a thread).
func parallelParts(_ total: Int, minPerPart: Int = 4096, _ body: (Int, Range<Int>) -> Void) {
    let parts = max(1, min(EngineThreads.count, total / max(minPerPart, 1)))
    if parts == 1 { body(0, 0..<total); return }
    parallelFixed(parts) { p in body(p, partRange(p, of: parts, total: total)) }
}

/// Runs `body(0..<parts)` on an OpenMP team of `parts` threads (the caller is part 0) and returns
/// when all are done. The parts touch disjoint memory by construction (the callers split rows,
/// channels or images), which the compiler cannot see through raw pointers.
func parallelFixed(_ parts: Int, _ body: (Int) -> Void) {
    if parts == 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        var job = ParallelJob(body: body)
        withUnsafeMutablePointer(to: &job) { pointer in
            GOMP_parallel(
                { raw in
                    let job = raw!.assumingMemoryBound(to: ParallelJob.self)
                    job.pointee.body(Int(omp_get_thread_num()))
                }, pointer, UInt32(parts), 0)
        }
    }
}

private struct ParallelJob {
    let body: (Int) -> Void
}

func partRange(_ p: Int, of parts: Int, total: Int) -> Range<Int> {
    let base = total / parts, extra = total % parts
    let start = p * base + min(p, extra)
    return start..<(start + base + (p < extra ? 1 : 0))
}
