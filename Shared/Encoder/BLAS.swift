import COpenBLAS

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

/// Configuration of the library OpenBLAS loaded, for logs and benchmarks.
public enum BLASInfo {
    public static var summary: String {
        "\(String(cString: openblas_get_config())), core \(String(cString: openblas_get_corename())), \(openblas_get_num_threads()) threads"
    }
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
