import CMalloc

/// glibc serves every allocation above 32 MB with a fresh mmap and unmaps it on free, so each
/// large message the coordinator and the embedding workers build or decode (shard inputs,
/// weights, gradients: 45-85 MB apiece at ResNet-18, batch 400) pays a page fault and a page
/// zeroing per 4 KiB, every step. Measured with `perf` on the coordinator: 55 % of its CPU was
/// page faults and first-touch copies. Serving them from the heap and keeping freed memory
/// there reuses the same pages each step: the coordinator's share of a ResNet-18 step fell from
/// 4.7 % to 2.6 % (README, `comcl bench train`). The cost: the resident size stays at its peak, which
/// for a service that repeats the same step is its working size anyway. (PyTorch's tuning guide
/// gives the same advice, through jemalloc or tcmalloc, for the same reason.)
public enum HeapTuning {
    public static func keepLargeAllocations() {
        _ = mallopt(M_MMAP_MAX, 0)  // no mmap: large blocks come from the heap and are reused
        // One arena: another thread's arena lives in 64 MB mmapped heaps, and glibc serves a larger
        // block there by mmap whatever M_MMAP_MAX says. libzmq receives each large message on its
        // I/O thread, so those were mapped, zeroed and unmapped again every step (`perf`: 7.5 % of
        // the coordinator's samples zeroing pages on that thread; none with one arena).
        _ = mallopt(M_ARENA_MAX, 1)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)  // never hand the heap's top back to the kernel
        _ = mallopt(M_TOP_PAD, 64 << 20)  // grow the heap in 64 MB steps: fewer brk calls
    }
}
