#pragma once
/// Runs `iterations` rounds of independent fused multiply-adds in the widest vectors this CPU has
/// (AVX-512, else AVX2+FMA, else SSE) and returns the floating-point operations done; `width` gets
/// the vector width in floats. One thread's share of the machine's fp32 peak, for benchmarks.
double comcl_fma_flops(long iterations, int *width);
