import COpenBLAS
import Dispatch

/// Row-major single-precision GEMM, `C = alpha * op(A) * op(B) + beta * C`, on OpenBLAS.
@inline(__always)
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// How many threads the engine uses: OpenBLAS's for GEMM, the same count for the loops around it
/// (batch norm, im2col, pooling), split into fixed, ordered parts so results depend only on the
/// thread count, never on scheduling.
public enum EngineThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
}

/// Runs `body(part, range)` over `total` items split into at most `EngineThreads.count` contiguous
/// parts (fewer when there is too little work to be worth a thread).
func parallelParts(_ total: Int, minPerPart: Int = 4096, _ body: (Int, Range<Int>) -> Void) {
    let parts = max(1, min(EngineThreads.count, total / max(minPerPart, 1)))
    if parts == 1 { body(0, 0..<total); return }
    parallelFixed(parts) { p in body(p, partRange(p, of: parts, total: total)) }
}

/// Runs `body(0..<parts)` concurrently and returns when all are done. The parts touch disjoint
/// memory by construction (the callers split rows, channels or images), which the compiler cannot
/// see through raw pointers: hence the unchecked hand-over to Dispatch.
func parallelFixed(_ parts: Int, _ body: (Int) -> Void) {
    if parts == 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let run = body
        DispatchQueue.concurrentPerform(iterations: parts) { run($0) }
    }
}

func partRange(_ p: Int, of parts: Int, total: Int) -> Range<Int> {
    let base = total / parts, extra = total % parts
    let start = p * base + min(p, extra)
    return start..<(start + base + (p < extra ? 1 : 0))
}

/// Configuration of the library OpenBLAS loaded, for logs and benchmarks.
public enum BLASInfo {
    public static var summary: String {
        "\(String(cString: openblas_get_config())), core \(String(cString: openblas_get_corename())), \(openblas_get_num_threads()) threads"
    }
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
